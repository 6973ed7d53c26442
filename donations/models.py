"""Donors, their gifts (online through Stripe and offline), monthly gifts, deposits, pledges,
Stripe's events and payouts.

A donor is never linked to a case: no foreign key, no shared table. Personal data of donors (e-mail,
name, address, employer, the person a gift honours) is encrypted; an e-mail is found through its
blind index. Amounts are integer minor units of the fund's currency. Money reaches the ledger only
through `donations.services`, which call `fund.ledger.posting.post_transaction`.
"""

import uuid

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q

from fund.ledger.models import Fund, Transaction
from fund.security.fields import EncryptedTextField


class Donor(models.Model):
    """Who gave: a person (one record per e-mail address) or an organisation (by name)."""

    class Kind(models.TextChoices):
        PERSON = "person", "Person"
        ORGANISATION = "organisation", "Organisation"

    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.PERSON)
    email = EncryptedTextField(blank=True)
    # Keyed hash of the lower-cased address (fund.security.crypto.email_index): finds a donor by
    # e-mail without decrypting, and keeps one record per address.
    email_index = models.CharField(max_length=64, null=True, blank=True, unique=True)
    name = EncryptedTextField(blank=True)
    address = EncryptedTextField(blank=True)
    employer = EncryptedTextField(blank=True, help_text="For matching gifts.")
    # An organisation's name is not personal data: a union local may ask to be listed.
    organisation = models.CharField(max_length=200, blank=True)
    organisation_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    list_as_supporter = models.BooleanField(
        default=False, help_text="The organisation asked to be listed on the fund's public page."
    )
    language = models.CharField(max_length=8, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    # What a treasurer's last correction changed, by field name only ("address, name"), and when:
    # the history (DonorEvent) keeps no encrypted value, so this is what it keeps of such an edit.
    changed_fields = models.CharField(max_length=200, blank=True, editable=False)
    changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="organisation") | Q(email_index__isnull=False),
                name="donations_donor_person_has_email",
            ),
            models.CheckConstraint(
                condition=Q(kind="person") | ~Q(organisation=""),
                name="donations_donor_organisation_has_name",
            ),
            models.CheckConstraint(
                condition=Q(kind="organisation") | Q(list_as_supporter=False),
                name="donations_donor_only_organisations_listed",
            ),
        ]

    def __str__(self) -> str:
        return f"Donor #{self.pk}"


class RecurringGift(models.Model):
    """A monthly gift: a Stripe subscription; each paid invoice is a Gift."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Starting"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled", "Cancelled"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="recurring_gifts")
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="recurring_gifts")
    amount_cents = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INCOMPLETE)
    stripe_subscription = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_customer = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="donations_recurring_positive"
            )
        ]

    def __str__(self) -> str:
        return f"Monthly gift #{self.pk}"


class Pledge(models.Model):
    """A promise of money by a date ("Local 26 pledges $10,000 by March"), met by gifts."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="pledges")
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="pledges")
    amount_cents = models.BigIntegerField()
    due_on = models.DateField()
    note = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The idempotency key of the treasurer's form or API call that recorded it, in that person's
    # namespace (fund.ledger.posting.supplied_key): submitted again, it finds this row.
    request_key = models.CharField(
        max_length=200, unique=True, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="donations_pledge_positive"
            )
        ]

    def __str__(self) -> str:
        return f"Pledge #{self.pk}"


class Deposit(models.Model):
    """Checks and cash taken to the bank together: Undeposited funds → Bank, with a slip."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="deposits")
    deposited_on = models.DateField()
    reference = models.CharField(max_length=100, blank=True, help_text="The bank's slip number.")
    amount_cents = models.BigIntegerField()
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="deposit", null=True
    )
    # The reversal of a deposit recorded by mistake (donations.services.offline.void_deposit):
    # its gifts are then undeposited again.
    void_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="voided_deposit", null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The idempotency key of the treasurer's form or API call that recorded it, in that person's
    # namespace (fund.ledger.posting.supplied_key): submitted again, it finds this row.
    request_key = models.CharField(
        max_length=200, unique=True, null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Deposit #{self.pk}"


class Gift(models.Model):
    """One gift to one fund, online (Stripe) or offline (check, cash, ACH, wire)."""

    class Method(models.TextChoices):
        CARD = "card", "Online (card)"
        CHECK = "check", "Check"
        CASH = "cash", "Cash"
        ACH = "ach", "ACH transfer"
        WIRE = "wire", "Wire transfer"

    class Status(models.TextChoices):
        # In the order a gift moves through; it never moves back (see RANK).
        PENDING = "pending", "Checkout started"
        EXPIRED = "expired", "Checkout expired"
        FAILED = "failed", "Payment failed"
        PAID = "paid", "Paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partly refunded"
        REFUNDED = "refunded", "Refunded"

    class Frequency(models.TextChoices):
        ONCE = "once", "One time"
        MONTHLY = "monthly", "Monthly"

    class Tribute(models.TextChoices):
        NONE = "", "None"
        HONOUR = "honour", "In honour of"
        MEMORY = "memory", "In memory of"

    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="gifts")
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="gifts")
    method = models.CharField(max_length=8, choices=Method.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    frequency = models.CharField(max_length=8, choices=Frequency.choices, default=Frequency.ONCE)
    # What the donor gives, fee cover included; the ledger books Stripe's actual fee separately.
    amount_cents = models.BigIntegerField()
    cover_fee_cents = models.BigIntegerField(default=0)
    fee_cents = models.BigIntegerField(default=0)
    refunded_cents = models.BigIntegerField(default=0)
    disputed_cents = models.BigIntegerField(default=0)
    anonymous = models.BooleanField(default=False)
    tribute = models.CharField(max_length=8, choices=Tribute.choices, blank=True, default="")
    tribute_name = EncryptedTextField(blank=True)
    received_on = models.DateField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True, help_text="E.g. the check number.")
    language = models.CharField(max_length=8, default="en")
    stripe_checkout_session = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_payment_intent = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_charge = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_invoice = models.CharField(max_length=255, unique=True, null=True, blank=True)
    recurring = models.ForeignKey(
        RecurringGift, on_delete=models.PROTECT, related_name="gifts", null=True, blank=True
    )
    pledge = models.ForeignKey(
        Pledge, on_delete=models.PROTECT, related_name="gifts", null=True, blank=True
    )
    deposit = models.ForeignKey(
        Deposit, on_delete=models.PROTECT, related_name="gifts", null=True, blank=True
    )
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="gift", null=True, blank=True
    )
    fee_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="fee_of_gift", null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The idempotency key of the treasurer's form or API call that recorded it, in that person's
    # namespace (fund.ledger.posting.supplied_key): submitted again, it finds this row.
    request_key = models.CharField(
        max_length=200, unique=True, null=True, blank=True, editable=False
    )
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    RANK = {
        Status.PENDING: 0,
        Status.EXPIRED: 1,
        Status.FAILED: 1,
        Status.PAID: 2,
        Status.PARTIALLY_REFUNDED: 3,
        Status.REFUNDED: 4,
    }

    class Meta:
        indexes = [models.Index(fields=["fund", "received_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="donations_gift_positive"),
            models.CheckConstraint(
                condition=Q(cover_fee_cents__gte=0)
                & Q(cover_fee_cents__lt=models.F("amount_cents")),
                name="donations_gift_cover_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_cents__gte=0)
                & Q(refunded_cents__lte=models.F("amount_cents")),
                name="donations_gift_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"Gift #{self.pk}"

    @property
    def is_online(self) -> bool:
        return self.method == self.Method.CARD


class Refund(models.Model):
    """Money given back to a donor through Stripe (Refunds → Stripe clearing)."""

    gift = models.ForeignKey(Gift, on_delete=models.PROTECT, related_name="refunds")
    stripe_refund = models.CharField(max_length=255, unique=True)
    amount_cents = models.BigIntegerField()
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="refund")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Refund #{self.pk}"


class Dispute(models.Model):
    """A card dispute: funds withdrawn (with a fee), and reinstated if the fund wins."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    gift = models.ForeignKey(Gift, on_delete=models.PROTECT, related_name="disputes")
    stripe_dispute = models.CharField(max_length=255, unique=True)
    amount_cents = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    withdrawn = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="dispute_withdrawn", null=True
    )
    reinstated = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="dispute_reinstated", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Dispute #{self.pk}"


class Payout(models.Model):
    """Stripe paying the balance out to the bank (Stripe clearing → Bank), and whether it matches
    the ledger."""

    class Status(models.TextChoices):
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    class Reconciliation(models.TextChoices):
        PENDING = "pending", "Not checked yet"
        MATCHED = "matched", "Matches the ledger"
        MISMATCHED = "mismatched", "Differs from the ledger"

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="payouts")
    stripe_payout = models.CharField(max_length=255, unique=True)
    amount_cents = models.BigIntegerField()
    arrival_date = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PAID)
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="payout", null=True
    )
    failed_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="failed_payout", null=True
    )
    reconciliation = models.CharField(
        max_length=12, choices=Reconciliation.choices, default=Reconciliation.PENDING
    )
    # What differed, line by line ("fees: Stripe 1,234, ledger 1,204"): amounts and ids only.
    differences = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Payout #{self.pk}"


class StripeEvent(models.Model):
    """A webhook event from Stripe, stored once (its id is unique) in the transaction that
    applies it. The body holds donors' names and addresses, so it is encrypted."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=255, blank=True)
    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    body = EncryptedTextField()
    created = models.DateTimeField(help_text="When Stripe created the event.")
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Stripe event {self.event_id}"


class AnnualStatement(models.Model):
    """That a donor was sent the statement of a year's gifts: one per donor and year, ever."""

    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="annual_statements")
    year = models.PositiveSmallIntegerField()
    # What the statement listed, for the treasurer: counts and cents, never names.
    gift_count = models.PositiveIntegerField(default=0)
    total_cents = models.BigIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["donor", "year"], name="donations_one_statement_per_donor_year"
            )
        ]

    def __str__(self) -> str:
        return f"Statement {self.year} of donor #{self.donor_id}"


# Edits of donors and gifts are kept (pghistory), without the encrypted columns: a copy of a
# ciphertext would outlive a donor's request to be forgotten.
DonorEvent = pghistory.create_event_model(
    Donor,
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["email", "name", "address", "employer", "email_index"],
    model_name="DonorEvent",
    abstract=False,
)
GiftEvent = pghistory.create_event_model(
    Gift,
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=["tribute_name"],
    model_name="GiftEvent",
    abstract=False,
)
