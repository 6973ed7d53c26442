"""The treasurer's side of giving: gifts that arrive by check, cash, ACH or wire; deposits that take
checks and cash to the bank; organisations' pledges; and corrections to a donor's record.

Each service checks its actor (GIFT_RECORDERS), runs in one database transaction, locks what it
changes, and takes the idempotency key that the treasurer's form or API client supplied, kept in
that person's namespace (fund.ledger.posting.supplied_key): the same submission twice records
once, and the same key with other values is refused (IdempotencyConflict). Money reaches the
ledger through post_transaction, under keys of the `gift:` and `deposit:` namespaces.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from donations.errors import DonationError
from donations.models import Deposit, Donor, Gift, Pledge
from donations.services.common import lock
from donations.services.donors import (
    email_index,
    organisation_donor,
    organisation_key,
    person_donor,
)
from donations.services.receipts import queue_receipt
from fund import money
from fund.errors import IdempotencyConflict
from fund.ledger.dates import OUTSIDE_THE_BOOKS, in_the_books
from fund.ledger.entries import Leg
from fund.ledger.models import Account, Fund, Transaction
from fund.ledger.posting import post_transaction, supplied_key
from fund.ledger.queries import account_for
from fund.ledger.services import reverse_transaction
from fund.security.roles import GIFT_RECORDERS

Method = Gift.Method
Role = Account.Role
# Checks and cash wait in Undeposited funds until a deposit takes them to the bank; a transfer
# (ACH or wire) is in the bank when it arrives.
OFFLINE_METHODS = (Method.CHECK, Method.CASH, Method.ACH, Method.WIRE)
DEPOSITED_BY_HAND = (Method.CHECK, Method.CASH)
LANGUAGES = ("en", "es")
# Derived from the e-mail address or the name: the history names the field typed, not these.
HIDDEN_FIELDS = ("email_index", "organisation_key")
NAME_LIMIT = 200  # Donor.organisation and Donor.organisation_key
REUSED_KEY = (
    "This form was already submitted with other values, so nothing more was recorded. "
    "Check the list, then submit again to record this one as a new entry."
)


@dataclass(frozen=True)
class DonorDetails:
    """Who gave: a person, found by e-mail address, or an organisation, found by name.

    A person needs an e-mail address (one donor record per address); an organisation needs only
    its name. Money collected from many people at once (a rally's bucket) is one gift from the
    group that collected it, recorded as an organisation.
    """

    kind: str
    email: str = ""
    name: str = ""
    organisation: str = ""
    address: str = ""
    employer: str = ""


@transaction.atomic
def record_offline_gift(
    *,
    actor: User,
    fund: Fund,
    method: str,
    amount_cents: int,
    received_on: date,
    donor: DonorDetails | None,
    reference: str = "",
    pledge: Pledge | None = None,
    anonymous: bool = False,
    language: str = "en",
    idempotency_key: str,
) -> Gift:
    """Record a check, cash, ACH or wire gift as paid, book it, and queue its receipt.

    Checks and cash are booked Undeposited funds ← Contributions, transfers Bank ← Contributions,
    on the day received (a closed day is refused). A gift toward a pledge is the pledging
    donor's; `donor` may then be None. Submitted twice with one key, it records one gift.
    """
    GIFT_RECORDERS.check(actor)
    request_key = supplied_key(idempotency_key, supplier=actor)
    lock(f"request:{request_key}")
    earlier = Gift.objects.select_related("donor").filter(request_key=request_key).first()
    if earlier is not None:
        same = (
            earlier.fund_id == fund.pk
            and earlier.method == method
            and earlier.amount_cents == amount_cents
            and earlier.received_on == received_on
            and earlier.reference == reference.strip()
            and earlier.pledge_id == (pledge.pk if pledge is not None else None)
            and earlier.anonymous == anonymous
            and _is_donor(earlier.donor, donor)
        )
        if not same:
            raise IdempotencyConflict(REUSED_KEY)
        return earlier
    if method not in OFFLINE_METHODS:
        raise DonationError("An offline gift is a check, cash, an ACH transfer or a wire.")
    _check_amount(fund, amount_cents)
    _check_day(received_on, "received")
    reference = _checked_reference(reference)
    if method == Method.CHECK and not reference:
        raise DonationError("Enter the check number.")
    if language not in LANGUAGES:
        raise DonationError("Receipts are in English (en) or Spanish (es).")
    if pledge is not None and pledge.fund_id != fund.pk:
        raise DonationError(f"Pledge #{pledge.pk} is to another fund.")
    if pledge is not None and anonymous:
        # A pledge is a named organisation's promise: a gift toward it would name its giver.
        raise DonationError(
            f"A gift toward pledge #{pledge.pk} is the pledging organisation's, which the pledges "
            "list names: it cannot also be anonymous. Choose no pledge to give anonymously."
        )
    if donor is not None:
        giver = _donor(donor, language)
        if pledge is not None and giver.pk != pledge.donor_id:
            raise DonationError(
                f"Pledge #{pledge.pk} is another donor's: leave the donor blank to record the "
                "gift as the pledging donor's, or choose no pledge."
            )
    elif pledge is not None:
        giver = pledge.donor
    else:
        raise DonationError("Say who gave: a person's e-mail address or an organisation's name.")
    gift = Gift.objects.create(
        fund=fund,
        donor=giver,
        method=method,
        status=Gift.Status.PAID,
        amount_cents=amount_cents,
        anonymous=anonymous,
        received_on=received_on,
        reference=reference,
        language=language,
        pledge=pledge,
        recorded_by=actor,
        request_key=request_key,
    )
    held = Role.UNDEPOSITED if method in DEPOSITED_BY_HAND else Role.BANK
    gift.transaction = post_transaction(
        fund=fund,
        legs=[
            Leg(account_for(fund, held), amount_cents),
            Leg(account_for(fund, Role.CONTRIBUTIONS), -amount_cents),
        ],
        effective_date=received_on,
        kind=Transaction.Kind.GIFT_OFFLINE,
        memo=_memo(gift),
        idempotency_key=f"gift:{gift.row_key}",
        actor=actor,
        source_ref=f"gift:{gift.pk}",
    )
    gift.save(update_fields=["transaction"])
    queue_receipt(gift)
    return gift


@transaction.atomic
def record_deposit(
    *,
    actor: User,
    fund: Fund,
    gift_ids: Sequence[int],
    deposited_on: date,
    reference: str = "",
    idempotency_key: str,
) -> Deposit:
    """Take undeposited checks and cash of a fund to the bank: one Deposit, one transaction
    Bank ← Undeposited funds for their total.

    Locks the gifts in id order. Refuses a gift of another fund, a transfer, a gift not yet
    received on the deposit's day, and a gift already in a deposit (each is in at most one).
    """
    GIFT_RECORDERS.check(actor)
    request_key = supplied_key(idempotency_key, supplier=actor)
    lock(f"request:{request_key}")
    ids = sorted(set(gift_ids))
    earlier = Deposit.objects.filter(request_key=request_key).first()
    if earlier is not None:
        same = (
            earlier.fund_id == fund.pk
            and earlier.deposited_on == deposited_on
            and earlier.reference == reference.strip()
            and sorted(earlier.gifts.values_list("pk", flat=True)) == ids
        )
        if not same:
            raise IdempotencyConflict(REUSED_KEY)
        return earlier
    if not ids:
        raise DonationError("Choose the checks and cash to deposit.")
    _check_day(deposited_on, "deposited")
    reference = _checked_reference(reference)
    gifts = list(Gift.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    missing = sorted(set(ids) - {gift.pk for gift in gifts})
    if missing:
        raise DonationError(f"There is no gift #{missing[0]}.")
    for gift in gifts:
        _check_depositable(gift, fund, deposited_on)
    total = sum(gift.amount_cents for gift in gifts)
    deposit = Deposit.objects.create(
        fund=fund,
        deposited_on=deposited_on,
        reference=reference,
        amount_cents=total,
        recorded_by=actor,
        request_key=request_key,
    )
    deposit.transaction = post_transaction(
        fund=fund,
        legs=[
            Leg(account_for(fund, Role.BANK), total),
            Leg(account_for(fund, Role.UNDEPOSITED), -total),
        ],
        effective_date=deposited_on,
        kind=Transaction.Kind.DEPOSIT,
        memo=_deposit_memo(deposit, gifts),
        idempotency_key=f"deposit:{deposit.pk}",
        actor=actor,
        source_ref=(reference or f"deposit:{deposit.pk}")[:100],
    )
    deposit.save(update_fields=["transaction"])
    Gift.objects.filter(pk__in=ids).update(deposit=deposit)
    return deposit


@transaction.atomic
def record_pledge(
    *,
    actor: User,
    fund: Fund,
    organisation: str,
    amount_cents: int,
    due_on: date,
    note: str = "",
    idempotency_key: str,
) -> Pledge:
    """Record an organisation's promise to give an amount by a day; gifts then count toward it."""
    GIFT_RECORDERS.check(actor)
    request_key = supplied_key(idempotency_key, supplier=actor)
    lock(f"request:{request_key}")
    earlier = Pledge.objects.select_related("donor").filter(request_key=request_key).first()
    if earlier is not None:
        same = (
            earlier.fund_id == fund.pk
            and earlier.amount_cents == amount_cents
            and earlier.due_on == due_on
            and earlier.note == note.strip()
            and earlier.donor.organisation_key == organisation_key(organisation)
        )
        if not same:
            raise IdempotencyConflict(REUSED_KEY)
        return earlier
    _check_amount(fund, amount_cents)
    _check_day(due_on, "due")
    if len(note.strip()) > 200:
        raise DonationError("A pledge's note is at most 200 characters.")
    donor = _donor(DonorDetails(kind=Donor.Kind.ORGANISATION, organisation=organisation), "en")
    return Pledge.objects.create(
        fund=fund,
        donor=donor,
        amount_cents=amount_cents,
        due_on=due_on,
        note=note.strip(),
        recorded_by=actor,
        request_key=request_key,
    )


@transaction.atomic
def update_donor(
    *,
    actor: User,
    donor: Donor,
    email: str,
    name: str = "",
    organisation: str = "",
    address: str = "",
    employer: str = "",
    list_as_supporter: bool = False,
    language: str = "en",
) -> Donor:
    """Correct a donor's record (a new address, a misspelt name); return it.

    The history (DonorEvent) keeps who changed which fields and when, never the encrypted values.
    A person keeps an e-mail address no other donor has; an organisation a name no other has.
    """
    GIFT_RECORDERS.check(actor)
    donor = Donor.objects.select_for_update().get(pk=donor.pk)
    if language not in LANGUAGES:
        raise DonationError("Receipts are in English (en) or Spanish (es).")
    changes: dict[str, object] = {
        "email": email.strip(),
        "address": address.strip(),
        "employer": employer.strip(),
        "language": language,
    }
    if donor.kind == Donor.Kind.PERSON:
        index = email_index(email)
        if Donor.objects.filter(email_index=index).exclude(pk=donor.pk).exists():
            raise DonationError("Another donor has this e-mail address.")
        changes |= {"email_index": index, "name": name.strip()}
    else:
        key = _checked_organisation_key(organisation)
        if Donor.objects.filter(organisation_key=key).exclude(pk=donor.pk).exists():
            raise DonationError("Another organisation donor has this name.")
        changes |= {
            "organisation": " ".join(organisation.split()),
            "organisation_key": key,
            "list_as_supporter": list_as_supporter,
        }
        if email.strip():
            email_index(email)  # refuses what is not an e-mail address
    for field in ("name", "address", "employer", "organisation"):
        value = changes.get(field)
        if isinstance(value, str) and len(value) > (NAME_LIMIT if field != "address" else 500):
            raise DonationError(f"The {field} is too long.")
    changed = [field for field, value in changes.items() if getattr(donor, field) != value]
    if not changed:
        return donor
    for field in changed:
        setattr(donor, field, changes[field])
    donor.changed_fields = ", ".join(field for field in changed if field not in HIDDEN_FIELDS)
    donor.changed_at = timezone.now()
    try:
        with transaction.atomic():
            donor.save(update_fields=[*changed, "changed_fields", "changed_at"])
    except IntegrityError:
        # A donor with that address (or name) was created after the check above, a moment ago.
        taken = "e-mail address" if donor.kind == Donor.Kind.PERSON else "name"
        raise DonationError(f"Another donor has this {taken}.") from None
    return donor


def _donor(details: DonorDetails, language: str) -> Donor:
    if details.kind == Donor.Kind.ORGANISATION:
        _checked_organisation_key(details.organisation)
        if details.email.strip():
            email_index(details.email)  # refuses what is not an e-mail address
        return organisation_donor(
            name=details.organisation, email=details.email, address=details.address
        )
    if details.kind != Donor.Kind.PERSON:
        raise DonationError("A donor is a person or an organisation.")
    if len(details.name.strip()) > NAME_LIMIT or len(details.employer.strip()) > NAME_LIMIT:
        raise DonationError(f"A name or employer is at most {NAME_LIMIT} characters.")
    return person_donor(
        email=details.email,
        name=details.name,
        address=details.address,
        employer=details.employer,
        language=language,
    )


def _is_donor(donor: Donor, details: DonorDetails | None) -> bool:
    """Return whether the details name this donor (None: the pledge's donor, compared apart)."""
    if details is None:
        return True
    if details.kind == Donor.Kind.ORGANISATION:
        return donor.organisation_key == organisation_key(details.organisation)
    try:
        return donor.email_index == email_index(details.email)
    except DonationError:
        return False


def _checked_organisation_key(name: str) -> str:
    key = organisation_key(name)
    if not key:
        raise DonationError("Enter the organisation's name.")
    if len(" ".join(name.split())) > NAME_LIMIT or len(key) > NAME_LIMIT:
        raise DonationError(f"An organisation's name is at most {NAME_LIMIT} characters.")
    return key


# Why an offline gift is taken back. A fixed list, not free text: the words reach the ledger's
# memo, which auditors and exports read, and must never name anyone.
ReturnReason = Literal["bounced", "stopped", "mistake", "given_back"]
RETURN_REASONS: dict[ReturnReason, str] = {
    "bounced": "returned unpaid by the bank",
    "stopped": "payment stopped by the donor",
    "mistake": "recorded by mistake",
    "given_back": "given back to the donor",
}


@transaction.atomic
def return_offline_gift(*, actor: User, gift: Gift, returned_on: date, reason: str) -> Gift:
    """Take back an offline gift that did not hold: a check that bounced, one recorded by mistake.

    One entry, Refunds ← the account that holds the money: Undeposited funds for a check or cash
    not yet deposited, else the Bank (a deposited check that bounced, a transfer given back). The
    gift is then refunded in full, so it leaves the undeposited list, its pledge's received and
    the donor's statement. Safe twice: a gift already returned is returned as it is.
    """
    GIFT_RECORDERS.check(actor)
    if reason not in RETURN_REASONS:
        raise DonationError(f"Say why the gift is taken back: {', '.join(RETURN_REASONS)}.")
    _check_day(returned_on, "returned")
    gift = Gift.objects.select_for_update().select_related("fund").get(pk=gift.pk)
    if gift.method not in OFFLINE_METHODS:
        raise DonationError(
            f"Gift #{gift.pk} was given online: refund it in Stripe, whose event records it."
        )
    if gift.status == Gift.Status.REFUNDED:
        return gift
    if gift.transaction_id is None or gift.status != Gift.Status.PAID:
        raise DonationError(f"Gift #{gift.pk} is not a received gift.")
    if gift.received_on is not None and returned_on < gift.received_on:
        raise DonationError(
            f"Gift #{gift.pk} was received on {gift.received_on:%Y-%m-%d}, after that day."
        )
    undeposited = gift.method in DEPOSITED_BY_HAND and gift.deposit_id is None
    held = Role.UNDEPOSITED if undeposited else Role.BANK
    fund = gift.fund
    post_transaction(
        fund=fund,
        legs=[
            Leg(account_for(fund, Role.REFUNDS), gift.amount_cents),
            Leg(account_for(fund, held), -gift.amount_cents),
        ],
        effective_date=returned_on,
        kind=Transaction.Kind.REFUND,
        memo=f"{_memo(gift)}: {RETURN_REASONS[reason]}",
        idempotency_key=f"gift:{gift.row_key}:returned",
        actor=actor,
        source_ref=f"gift:{gift.pk}",
    )
    gift.refunded_cents = gift.amount_cents
    gift.status = Gift.Status.REFUNDED
    gift.save(update_fields=["refunded_cents", "status"])
    return gift


@transaction.atomic
def void_deposit(*, actor: User, deposit: Deposit, voided_on: date) -> Deposit:
    """Undo a deposit recorded by mistake: its money is back in Undeposited funds, and its checks
    and cash are undeposited again, to be deposited anew. Safe twice.

    Refused once one of its gifts was returned (that money already left the Bank): return or
    deposit the others instead.
    """
    GIFT_RECORDERS.check(actor)
    _check_day(voided_on, "voided")
    deposit = Deposit.objects.select_for_update().select_related("fund").get(pk=deposit.pk)
    if deposit.void_transaction_id is not None:
        return deposit
    if deposit.transaction is None:
        raise DonationError(f"Deposit #{deposit.pk} was never booked.")
    gifts = list(deposit.gifts.select_for_update().order_by("pk"))
    returned = [gift.pk for gift in gifts if gift.status != Gift.Status.PAID]
    if returned:
        raise DonationError(
            f"Deposit #{deposit.pk} holds gift #{returned[0]}, which was taken back: its money "
            "already left the bank, so the deposit cannot be undone as a whole."
        )
    if voided_on < deposit.deposited_on:
        raise DonationError(
            f"Deposit #{deposit.pk} was made on {deposit.deposited_on:%Y-%m-%d}, after that day."
        )
    deposit.void_transaction = reverse_transaction(
        original=deposit.transaction,
        actor=actor,
        memo=f"Deposit #{deposit.pk} voided: recorded by mistake",
        effective_date=voided_on,
        by_workflow=True,
    )
    deposit.save(update_fields=["void_transaction"])
    Gift.objects.filter(pk__in=[gift.pk for gift in gifts]).update(deposit=None)
    return deposit


def _check_amount(fund: Fund, amount_cents: int) -> None:
    if type(amount_cents) is not int or amount_cents <= 0:
        raise DonationError("Enter an amount above zero.")
    cap = money.max_amount(fund.currency)
    if amount_cents > cap:
        limit = money.format_amount(cap, fund.currency)
        raise DonationError(f"Enter at most {limit}, the largest amount accepted.")


def _check_day(day: date, what: str) -> None:
    if not in_the_books(day):
        raise DonationError(OUTSIDE_THE_BOOKS)
    if what != "due" and day > timezone.localdate():
        raise DonationError(f"The day {what} cannot be in the future.")


def _checked_reference(reference: str) -> str:
    reference = reference.strip()
    if len(reference) > 100:
        raise DonationError("A reference is at most 100 characters.")
    return reference


def _check_depositable(gift: Gift, fund: Fund, deposited_on: date) -> None:
    if gift.fund_id != fund.pk:
        raise DonationError(f"Gift #{gift.pk} is to another fund.")
    if gift.method == Method.CARD:
        raise DonationError(f"Gift #{gift.pk} was given online: Stripe pays it out to the bank.")
    if gift.method not in DEPOSITED_BY_HAND:
        raise DonationError(f"Gift #{gift.pk} is a transfer: it went to the bank directly.")
    if gift.deposit_id is not None:
        raise DonationError(f"Gift #{gift.pk} is already in deposit #{gift.deposit_id}.")
    if gift.transaction_id is None or gift.status != Gift.Status.PAID:
        raise DonationError(f"Gift #{gift.pk} is not a received gift.")
    if gift.received_on is not None and gift.received_on > deposited_on:
        raise DonationError(
            f"Gift #{gift.pk} was received on {gift.received_on:%Y-%m-%d}, after the deposit's day."
        )


def _deposit_memo(deposit: Deposit, gifts: Sequence[Gift]) -> str:
    checks = sum(1 for gift in gifts if gift.method == Method.CHECK)
    held = [f"{checks} check{'s' if checks != 1 else ''}"] if checks else []
    held += ["cash"] if checks < len(gifts) else []
    return f"Deposit #{deposit.pk}: {' and '.join(held)}"


def _memo(gift: Gift) -> str:
    if gift.method == Method.CHECK:
        return f"Check no. {gift.reference} (gift #{gift.pk})"
    what = {Method.CASH: "Cash", Method.ACH: "ACH transfer", Method.WIRE: "Wire transfer"}
    suffix = f", ref. {gift.reference}" if gift.reference else ""
    return f"{what[Method(gift.method)]} (gift #{gift.pk}{suffix})"
