"""The ledger's models: funds, accounts, transactions and postings, daily balances, locks, seals."""

from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import ExtractYear

from fund.ledger.chain import GENESIS_HASH, canonical_json


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
    show_supporters = models.BooleanField(
        default=False,
        db_default=False,
        help_text="List on the public page the organisations that gave and asked to be listed.",
    )
    opened_on = models.DateField(help_text="The first day of the fund's books.")
    created_at = models.DateTimeField(auto_now_add=True)

    # What may change once a fund exists; the app's database role may update no other column.
    MUTABLE_FIELDS = (
        "name",
        "goal_cents",
        "tax_status",
        "is_public",
        "public_summary",
        "show_supporters",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Funds are created by fund_open() (fund.ledger.services.create_fund); saving an existing
        # one writes only the columns that may change.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = self.MUTABLE_FIELDS
        super().save(*args, **kwargs)


class LedgerHead(models.Model):
    """A fund's chain head, its lock date and O(1) counters; written only by the database's
    fund_post() and fund_close_books(), never by the app's own role.

    Kept apart from Fund so that editing a fund's name or goal can never rewind the chain.
    """

    fund = models.OneToOneField(
        Fund, primary_key=True, on_delete=models.PROTECT, related_name="head"
    )
    chain_head = models.CharField(max_length=64, default=GENESIS_HASH)
    gift_count = models.BigIntegerField(default=0)
    closed_through = models.DateField(
        null=True, blank=True, help_text="Books are closed through this day (null: nothing is)."
    )

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


# The per-fund chart of accounts (docs/ledger.md): code, role, kind, and may it go below zero?
CHART: list[tuple[str, Account.Role, Account.Kind, bool]] = [
    ("1000", Account.Role.STRIPE_CLEARING, Account.Kind.ASSET, False),
    ("1010", Account.Role.BANK, Account.Kind.ASSET, True),
    ("1020", Account.Role.UNDEPOSITED, Account.Kind.ASSET, True),
    ("1100", Account.Role.BOND_DEPOSITS, Account.Kind.ASSET, True),
    ("3000", Account.Role.NET_ASSETS, Account.Kind.NET_ASSETS, False),
    ("4000", Account.Role.CONTRIBUTIONS, Account.Kind.REVENUE, False),
    ("4100", Account.Role.REFUNDS, Account.Kind.CONTRA_REVENUE, False),
    ("4110", Account.Role.DISPUTES, Account.Kind.CONTRA_REVENUE, False),
    ("4200", Account.Role.INTEREST, Account.Kind.REVENUE, False),
    ("5000", Account.Role.ATTORNEY_FEES, Account.Kind.EXPENSE, False),
    ("5010", Account.Role.FILING_FEES, Account.Kind.EXPENSE, False),
    ("5020", Account.Role.FAMILY_SUPPORT, Account.Kind.EXPENSE, False),
    ("5090", Account.Role.OTHER_PROGRAM, Account.Kind.EXPENSE, False),
    ("5100", Account.Role.PROCESSING_FEES, Account.Kind.EXPENSE, False),
    ("5200", Account.Role.BOND_FORFEITURE, Account.Kind.EXPENSE, False),
]


class TransactionKind(models.TextChoices):
    """What a transaction records; the database refuses any other kind."""

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


class Transaction(models.Model):
    """A journal entry: postings that sum to zero. Append-only; corrected by a reversal."""

    Kind = TransactionKind

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
            models.CheckConstraint(
                condition=Q(year=ExtractYear("effective_date")), name="fund_transaction_year"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="fund_transaction_number"),
            models.CheckConstraint(
                condition=Q(kind__in=TransactionKind.values), name="fund_transaction_known_kind"
            ),
            models.CheckConstraint(
                condition=~Q(memo__regex=r"^\s*$"), name="fund_transaction_has_memo"
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="fund_transaction_reversal_links",
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
    # The balance in recording order, as the row was written; registers show it by effective date.
    balance_after_cents = models.BigIntegerField(default=0, editable=False)
    # The transaction's effective date, copied by the posting trigger so registers read by date.
    effective_date = models.DateField(editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="fund_posting_not_zero"),
        ]
        indexes = [
            models.Index(fields=["account", "id"]),
            models.Index(fields=["account", "effective_date", "id"], name="fund_posting_by_date"),
        ]

    def __str__(self) -> str:
        return f"posting #{self.pk} {self.amount_cents:+d}"


class AccountDay(models.Model):
    """An account on one day, by effective date: what was debited and credited, and the balance
    at the end of the day. Kept by the posting trigger; a backdated entry moves every later day.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="days")
    day = models.DateField()
    debit_cents = models.BigIntegerField(default=0)
    credit_cents = models.BigIntegerField(default=0)
    balance_cents = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["account", "day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="fund_accountday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day:%Y-%m-%d}"


class BooksLock(models.Model):
    """One change of a fund's lock date: who moved it, from what to what, when and why."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="locks")
    closed_through = models.DateField(null=True, blank=True)
    previous = models.DateField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"books of fund #{self.fund_id} closed through {self.closed_through}"

    @property
    def moved_back(self) -> bool:
        """Return whether this change reopened days that were closed."""
        return self.previous is not None and (
            self.closed_through is None or self.closed_through < self.previous
        )


class Seal(models.Model):
    """A signed statement of a fund's chain head (Ed25519; the key is never in the database).

    `statement` is the exact text that was signed; anyone holding the public key can check it and,
    with `manage.py verify_ledger --seal`, that the books still extend it.
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="seals")
    reference = models.CharField(max_length=20, blank=True)
    transaction_count = models.BigIntegerField()
    chain_head = models.CharField(max_length=64)
    closed_through = models.DateField(null=True, blank=True)
    occasion = models.CharField(max_length=200)
    sealed_at = models.DateTimeField()
    key_id = models.CharField(max_length=16)
    statement = models.TextField()
    signature = models.CharField(max_length=100)

    class Meta:
        ordering = ["-sealed_at", "-id"]

    def __str__(self) -> str:
        return f"seal of fund #{self.fund_id} at {self.reference or 'the start'}"

    def line(self) -> str:
        """Return the seal as the one line of JSON that `verify_ledger --seal` reads."""
        return canonical_json(
            {"statement": self.statement, "signature": self.signature, "key_id": self.key_id}
        )


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
