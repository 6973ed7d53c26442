"""The ledger's models: funds, their accounts, transactions and postings, periods, counters."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from fund.ledger.chain import GENESIS_HASH


class Fund(models.Model):
    """A legal defense fund: its goal, currency, receipt wording and public page."""

    class TaxStatus(models.TextChoices):
        CHARITY = "501c3", "501(c)(3) charity: gifts are tax-deductible"
        LABOR = "501c5", "501(c)(5) labor organization: gifts are not tax-deductible"
        OTHER = "other", "Other: gifts are not tax-deductible"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    goal_cents = models.BigIntegerField(validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default="USD")
    restricted = models.BooleanField(
        default=False, help_text="Donor-restricted: the fund's assets may never go negative."
    )
    tax_status = models.CharField(max_length=8, choices=TaxStatus.choices, default=TaxStatus.LABOR)
    is_public = models.BooleanField(default=True, help_text="Show the public fund page.")
    public_summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LedgerHead(models.Model):
    """A fund's chain head and O(1) counters, written only inside the posting service.

    Kept apart from Fund so that editing a fund's name or goal can never rewind the chain.
    """

    fund = models.OneToOneField(
        Fund, primary_key=True, on_delete=models.PROTECT, related_name="head"
    )
    chain_head = models.CharField(max_length=64, default=GENESIS_HASH)
    gift_count = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"ledger head of fund #{self.pk}"


class Account(models.Model):
    """One account of a fund's chart; its balance is kept by the posting service."""

    class Kind(models.TextChoices):
        ASSET = "asset", "Asset"
        NET_ASSETS = "net_assets", "Net assets"
        REVENUE = "revenue", "Revenue"
        CONTRA_REVENUE = "contra_revenue", "Contra-revenue"
        EXPENSE = "expense", "Expense"

    class Role(models.TextChoices):
        STRIPE_CLEARING = "stripe_clearing", "Stripe clearing"
        BANK = "bank", "Bank"
        UNDEPOSITED = "undeposited", "Undeposited funds"
        BOND_DEPOSITS = "bond_deposits", "Bond deposits receivable"
        NET_ASSETS = "net_assets", "Net assets"
        CONTRIBUTIONS = "contributions", "Contributions"
        REFUNDS = "refunds", "Refunds"
        DISPUTES = "disputes", "Disputes"
        INTEREST = "interest", "Interest income"
        ATTORNEY_FEES = "attorney_fees", "Attorney fees"
        FILING_FEES = "filing_fees", "Filing fees"
        FAMILY_SUPPORT = "family_support", "Family support"
        OTHER_PROGRAM = "other_program", "Other program costs"
        PROCESSING_FEES = "processing_fees", "Processing fees"
        BOND_FORFEITURE = "bond_forfeiture", "Bond forfeiture loss"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="accounts")
    code = models.CharField(max_length=10)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    role = models.CharField(max_length=20, choices=Role.choices)
    no_overdraft = models.BooleanField(
        default=False, help_text="The balance may never go below zero (cash the fund really holds)."
    )
    # Signed: debits positive, credits negative. Maintained by the posting trigger/service only.
    balance_cents = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["fund", "code"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "role"], name="fund_account_one_per_role"),
            models.UniqueConstraint(fields=["fund", "code"], name="fund_account_unique_code"),
            models.CheckConstraint(
                condition=Q(no_overdraft=False) | Q(balance_cents__gte=0),
                name="fund_account_no_overdraft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Transaction(models.Model):
    """A journal entry: postings that sum to zero. Append-only; corrected by a reversal."""

    class Kind(models.TextChoices):
        GIFT_ONLINE = "gift_online", "Online gift"
        GIFT_OFFLINE = "gift_offline", "Offline gift"
        STRIPE_FEE = "stripe_fee", "Stripe fee"
        REFUND = "refund", "Refund"
        DISPUTE = "dispute", "Dispute"
        DISPUTE_WON = "dispute_won", "Dispute won"
        PAYOUT = "payout", "Payout to bank"
        DEPOSIT = "deposit", "Bank deposit"
        DISBURSEMENT = "disbursement", "Program payment"
        BOND_POSTED = "bond_posted", "Bond posted"
        BOND_REFUNDED = "bond_refunded", "Bond refunded"
        BOND_FORFEITED = "bond_forfeited", "Bond forfeited"
        OPENING_BALANCE = "opening_balance", "Opening balance"
        JOURNAL = "journal", "Manual journal entry"
        REVERSAL = "reversal", "Reversal"

    # Indexed by the composite indexes below, which all start with the fund.
    fund = models.ForeignKey(
        Fund, on_delete=models.PROTECT, related_name="transactions", db_index=False
    )
    year = models.PositiveSmallIntegerField(editable=False)
    number = models.PositiveIntegerField(editable=False, help_text="Gap-free per fund and year.")
    effective_date = models.DateField()
    recorded_at = models.DateTimeField(editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    memo = models.CharField(max_length=500)
    reason = models.CharField(max_length=500, blank=True)
    source_ref = models.CharField(max_length=100, blank=True, db_index=True)
    case_ref = models.CharField(
        max_length=20, blank=True, help_text="Pseudonymous case reference, never a name."
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    payload_hash = models.CharField(max_length=64)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["fund", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fund", "year", "number"], name="fund_transaction_gap_free_number"
            ),
        ]
        indexes = [models.Index(fields=["fund", "effective_date"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.get_kind_display()}"

    @property
    def reference(self) -> str:
        """Return the human reference, e.g. 2026-000042."""
        return f"{self.year}-{self.number:06d}"


class Posting(models.Model):
    """One leg of a transaction: signed amount (debit +, credit -) and the balance after it."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="postings")
    # Indexed by (account, id) below.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="postings", db_index=False
    )
    amount_cents = models.BigIntegerField()
    balance_after_cents = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="fund_posting_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "id"])]

    def __str__(self) -> str:
        return f"posting #{self.pk} {self.amount_cents:+d}"


class AccountMonth(models.Model):
    """Monthly checkpoint of an account: debits and credits dated in that month."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="months")
    month = models.DateField(help_text="First day of the month.")
    debit_cents = models.BigIntegerField(default=0)
    credit_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["account", "month"]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="fund_accountmonth_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}"


class Period(models.Model):
    """A month of a fund's books; a closed period refuses transactions dated inside it."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="periods")
    month = models.DateField(help_text="First day of the month.")
    is_closed = models.BooleanField(default=False)

    class Meta:
        ordering = ["fund", "month"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "month"], name="fund_period_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} ({'closed' if self.is_closed else 'open'})"


class PeriodChange(models.Model):
    """Who closed or reopened a period, when and why."""

    class Action(models.TextChoices):
        CLOSE = "close", "closed"
        REOPEN = "reopen", "reopened"

    period = models.ForeignKey(Period, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=8, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.period} {self.action} at {self.at:%Y-%m-%d %H:%M}"


class Commitment(models.Model):
    """Money approved for a payment but not yet paid: it is no longer available to spend."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="commitments")
    amount_cents = models.BigIntegerField(validators=[MinValueValidator(1)])
    source_ref = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["fund"], condition=Q(released_at__isnull=True), name="fund_commitment_open"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="fund_commitment_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"commitment {self.source_ref}"


class SupportedCase(models.Model):
    """A case the fund has paid for, by pseudonymous reference; counts the workers helped."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="supported_cases")
    case_ref = models.CharField(max_length=20)
    payments = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["fund", "case_ref"], name="fund_supportedcase_unique"),
        ]

    def __str__(self) -> str:
        return self.case_ref
