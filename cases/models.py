"""Detained workers' cases, their timeline, the people the fund pays, disbursements and bonds.

The people in these records are detained or at risk of it. Everything that says who they are (a
name, an A-number, a date of birth, a phone, a family contact, an obligor) is encrypted and bound to
its row; outside the case, a case is only its reference, `C-2026-0042`. Every query of cases goes
through `Case.objects.for_user(user)` (need-to-know). Money moves only through `cases.services`,
which post through `fund.ledger.posting.post_transaction` with the case's reference.

The change history (pghistory) of cases, disbursements and bonds leaves every encrypted field out,
so a purge really removes them.
"""

import uuid

import pghistory
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from django.db.models import Q

from fund.ledger.models import Fund, Transaction
from fund.security.fields import EncryptedTextField
from fund.security.roles import VIEW_ALL_CASES, StaffRole, roles_of


class Facility(models.Model):
    """A detention facility, from the list admins keep (`manage.py import_facilities FILE`)."""

    name = models.CharField(max_length=200, unique=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return self.name


class CaseQuerySet(models.QuerySet["Case"]):
    def for_user(self, user: User | AnonymousUser) -> "CaseQuerySet":
        """Return the cases this user may open: a coordinator's assigned cases, a legal
        director's and an admin's all; treasurers and auditors all, for refs and amounts only
        (views decide what of a case they show); nobody else any."""
        roles = roles_of(user)
        if not roles or not isinstance(user, User):
            return self.none()
        if roles & {StaffRole.TREASURER, StaffRole.AUDITOR, StaffRole.ADMIN}:
            return self.all()
        if StaffRole.COORDINATOR in roles:
            if user.has_perm(VIEW_ALL_CASES):
                return self.all()
            return self.filter(coordinators=user)
        return self.none()


class CaseCounter(models.Model):
    """The last case number given out in a year: references are gap-free per year."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"cases of {self.year}: {self.last}"


class Case(models.Model):
    """One detained worker's case: who they are (encrypted), where they are held, how it stands."""

    class Status(models.TextChoices):
        INTAKE = "intake", "Intake"
        DETAINED = "detained", "Detained"
        BOND_SET = "bond_set", "Bond set"
        BOND_POSTED = "bond_posted", "Bond posted"
        RELEASED = "released", "Released"
        TRANSFERRED = "transferred", "Transferred"
        REMOVED = "removed", "Removed"
        CLOSED = "closed", "Closed"

    class Consent(models.TextChoices):
        """What the person agreed the fund may do: chosen from a list, never typed, so the
        scope (kept in clear, and in the case's history) can never name anyone."""

        BOND = "bond", "Pay and post an immigration bond"
        ATTORNEY = "attorney", "Pay an attorney and filing fees"
        FAMILY = "family", "Support the family"
        SHARE = "share_attorney", "Share the case with the fund's attorney"

    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ref = models.CharField(max_length=20, unique=True, editable=False)
    year = models.PositiveIntegerField(editable=False)
    number = models.PositiveIntegerField(editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INTAKE)

    legal_name = EncryptedTextField()
    other_names = EncryptedTextField(blank=True)
    a_number = EncryptedTextField(blank=True)
    # Keyed hash of the A-number's digits (fund.security.crypto.a_number_index): finds a case by
    # A-number without decrypting, and warns of a second case for the same person.
    a_number_index = models.CharField(max_length=64, blank=True, db_index=True)
    date_of_birth = EncryptedTextField(blank=True)
    phone = EncryptedTextField(blank=True)
    preferred_language = EncryptedTextField(blank=True)
    family_contact = EncryptedTextField(blank=True)
    employer = EncryptedTextField(blank=True)
    # A union local is the fund's own membership, not the person's: kept in clear for reports.
    # Blank is a normal answer: the fund serves workers in a union or not.
    union_local = models.CharField(max_length=100, blank=True)

    detained_on = models.DateField(null=True, blank=True)
    detained_at = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    coordinators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Assignment",
        through_fields=("case", "coordinator"),
        related_name="assigned_cases",
    )

    consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    consent_at = models.DateTimeField(null=True, blank=True)
    # Consent values (above), comma-separated in the list's order: "bond,attorney".
    consent_scope = models.CharField(max_length=200, blank=True)

    opened_at = models.DateTimeField(auto_now_add=True)
    # The opener's form or API key (fund.ledger.posting.supplied_key): a form sent twice opens one
    # case, and takes one number.
    request_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    legal_hold = models.BooleanField(default=False)
    purged_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        permissions = [(VIEW_ALL_CASES.split(".")[1], "See and assign all cases (legal director)")]
        constraints = [
            models.UniqueConstraint(fields=["year", "number"], name="cases_case_unique_number"),
            models.CheckConstraint(
                condition=Q(status="closed") | Q(closed_on__isnull=True),
                name="cases_case_closed_on_only_when_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.ref

    @property
    def consented_to(self) -> list[str]:
        """Return what the person consented to, as the list's labels say it."""
        labels = dict(Case.Consent.choices)
        return [str(labels.get(value, value)) for value in self.consent_scope.split(",") if value]


class Assignment(models.Model):
    """A coordinator working a case, and who assigned them."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    coordinator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "coordinator"], name="cases_assignment_once")
        ]

    def __str__(self) -> str:
        return f"assignment #{self.pk}"


class TimelineEntry(models.Model):
    """Something that happened on a case, with who and when. A note is editable by its author for
    15 minutes (`cases.services.edit_note`), then never again."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Case opened"
        STATUS = "status", "Status change"
        NOTE = "note", "Note"
        CALL = "call", "Call"
        HEARING = "hearing", "Hearing"
        DOCUMENT = "document", "Document"
        ASSIGNMENT = "assignment", "Assignment"
        CONSENT = "consent", "Consent"
        DISBURSEMENT = "disbursement", "Disbursement"
        BOND = "bond", "Bond"
        NOTE_EDITED = "note_edited", "Note as first written"
        DETAILS = "details", "Details corrected"

    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # What happened, in words a coordinator wrote or the service composed; may name people.
    text = EncryptedTextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["case", "-at"], name="cases_timeline_case_at")]

    def __str__(self) -> str:
        return f"timeline entry #{self.pk}"


class Hearing(models.Model):
    """A hearing in a case's immigration court proceedings."""

    class Kind(models.TextChoices):
        MASTER = "master", "Master calendar"
        BOND = "bond", "Bond hearing"
        INDIVIDUAL = "individual", "Individual (merits)"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="hearings")
    at = models.DateTimeField()
    court = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    judge = models.CharField(max_length=200, blank=True)
    outcome = EncryptedTextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["at"], name="cases_hearing_at")]

    def __str__(self) -> str:
        return f"hearing #{self.pk}"


class CalendarFeed(models.Model):
    """A coordinator's private calendar (ICS) address of their hearings: refs only, revocable.

    Only the token's SHA-256 is stored; the address is shown once, when it is made."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"calendar feed #{self.pk}"


class Document(models.Model):
    """A file on a case (bond receipt, retainer, G-28), kept in private storage under a random
    name and served only through a permission-checked view that logs the download."""

    class Kind(models.TextChoices):
        BOND_RECEIPT = "bond_receipt", "Bond receipt"
        RETAINER = "retainer", "Retainer agreement"
        G28 = "g28", "G-28"
        INVOICE = "invoice", "Invoice"
        OTHER = "other", "Other"

    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The name it was uploaded under may name the person: kept encrypted, shown on download.
    filename = EncryptedTextField(blank=True)
    stored_name = models.CharField(max_length=64, unique=True, editable=False)
    content_type = models.CharField(max_length=32)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"document #{self.pk}"


class Payee(models.Model):
    """Someone the fund pays for a case: an attorney, a family member, a court, ICE for bonds."""

    class Kind(models.TextChoices):
        ATTORNEY = "attorney", "Attorney"
        FAMILY = "family", "Family member"
        COURT = "court", "Court"
        ICE = "ice", "ICE (bonds)"
        OTHER = "other", "Other"

    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = EncryptedTextField()
    firm = models.CharField(max_length=200, blank=True)
    bar_number = models.CharField(max_length=50, blank=True)
    contact = EncryptedTextField(blank=True)
    w9_received = models.BooleanField(default=False, help_text="For 1099 reporting.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Payee #{self.pk}"


# An approved disbursement's commitment in the ledger is "disbursement:<its id>".
COMMITMENT_PREFIX = "disbursement:"


class Disbursement(models.Model):
    """Money requested for a case: requested → approved → paid, or rejected; paid → voided."""

    class Category(models.TextChoices):
        ATTORNEY_FEE = "attorney_fee", "Attorney fee"
        FILING_FEE = "filing_fee", "Filing fee"
        FAMILY_SUPPORT = "family_support", "Family support"
        TRAVEL = "travel", "Travel"
        COMMISSARY = "commissary", "Commissary"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        PAID = "paid", "Paid"
        REJECTED = "rejected", "Rejected"
        VOIDED = "voided", "Voided"

    class Method(models.TextChoices):
        CHECK = "check", "Check"
        ACH = "ach", "ACH"
        WIRE = "wire", "Wire"

    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="disbursements")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="disbursements")
    category = models.CharField(max_length=20, choices=Category.choices)
    payee = models.ForeignKey(Payee, on_delete=models.PROTECT, related_name="disbursements")
    amount_cents = models.BigIntegerField()
    memo = EncryptedTextField(blank=True)
    document = models.ForeignKey(
        "Document", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approvals_needed = models.PositiveSmallIntegerField(default=1)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Why it was rejected or voided, as a treasurer typed it: it may name the person.
    reason = EncryptedTextField(blank=True)
    method = models.CharField(max_length=8, choices=Method.choices, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    request_key = models.CharField(max_length=200, unique=True, null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_cents__gt=0), name="cases_disbursement_positive"
            ),
            models.CheckConstraint(
                condition=Q(approvals_needed__in=[1, 2]), name="cases_disbursement_approvals"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["paid", "voided"]) | Q(transaction__isnull=False),
                name="cases_disbursement_paid_is_booked",
            ),
        ]

    def __str__(self) -> str:
        return f"Disbursement #{self.pk}"

    @property
    def commitment_ref(self) -> str:
        return f"{COMMITMENT_PREFIX}{self.pk}"


class Approval(models.Model):
    """A treasurer's approval of a disbursement. The database refuses the requester's own (a
    trigger in migration 0002), and one treasurer approving twice (a unique constraint)."""

    disbursement = models.ForeignKey(
        Disbursement, on_delete=models.PROTECT, related_name="approvals"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["disbursement", "approver"], name="cases_approval_once_per_treasurer"
            )
        ]

    def __str__(self) -> str:
        return f"approval #{self.pk}"


class Bond(models.Model):
    """An immigration bond the fund posted: posted → cancelled → refunded, or breached →
    forfeited; or voided, a posting recorded by mistake and reversed."""

    class Status(models.TextChoices):
        POSTED = "posted", "Posted"
        CANCELLED = "cancelled", "Cancelled (refund due)"
        REFUNDED = "refunded", "Refunded"
        BREACHED = "breached", "Breached"
        FORFEITED = "forfeited", "Forfeited"
        VOIDED = "voided", "Voided (recorded by mistake)"

    row_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="bonds")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="bonds")
    amount_cents = models.BigIntegerField()
    obligor_name = EncryptedTextField()
    obligor_relationship = EncryptedTextField(blank=True)
    obligor_contact = EncryptedTextField(blank=True)
    obligor_attested = models.BooleanField(
        default=False, help_text="The obligor attested being a US citizen or permanent resident."
    )
    receipt_number = EncryptedTextField(blank=True, help_text="ICE's receipt number.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.POSTED)
    posted_on = models.DateField()
    cancelled_on = models.DateField(null=True, blank=True)
    breached_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    interest_cents = models.BigIntegerField(default=0)
    # Why a bond recorded by mistake was voided: it may name someone, so it is encrypted. Null
    # for the bonds that were never voided (and those recorded before voiding existed).
    void_reason = EncryptedTextField(blank=True, null=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    posted_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, related_name="+"
    )
    closed_transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="cases_bond_positive"),
            models.CheckConstraint(
                condition=Q(interest_cents__gte=0), name="cases_bond_interest_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"Bond #{self.pk}"


def _private_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


# Edits are kept (pghistory) without the encrypted columns or the A-number's index: a copy there
# would outlive the purge of a closed case.
CaseEvent = pghistory.create_event_model(
    Case,
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=[*_private_fields(Case), "a_number_index"],
    model_name="CaseEvent",
    abstract=False,
)
DisbursementEvent = pghistory.create_event_model(
    Disbursement,
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=_private_fields(Disbursement),
    model_name="DisbursementEvent",
    abstract=False,
)
BondEvent = pghistory.create_event_model(
    Bond,
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    exclude=_private_fields(Bond),
    model_name="BondEvent",
    abstract=False,
)
