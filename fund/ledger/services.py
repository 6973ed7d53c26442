"""Every change to the books besides posting itself: funds, reversals, corrections, the lock date,
seals and commitments.

Each service checks its actor against the one permission policy (fund.security.roles) before it
changes anything; money reaches the ledger only through fund.ledger.posting.post_transaction.
Funds and lock dates are written by database functions (fund_open, fund_close_books), because the
app's own database role may not write those tables directly.
"""

from collections.abc import Sequence
from datetime import date

from django.contrib.auth.models import User
from django.core.validators import slug_re
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from fund import money
from fund.errors import (
    AlreadyReversed,
    FundError,
    IdempotencyConflict,
    InvalidTransaction,
    LockError,
    NotAllowed,
    OwnedByWorkflow,
)
from fund.ledger import seals
from fund.ledger.dates import OUTSIDE_THE_BOOKS, in_the_books
from fund.ledger.entries import Leg
from fund.ledger.models import CHART, BooksLock, Commitment, Fund, LedgerHead, Seal, Transaction
from fund.ledger.posting import post_transaction, supplied_key
from fund.security.roles import (
    FUND_ADMINS,
    LEDGER_WRITERS,
    PERIOD_CLOSERS,
    PERIOD_REOPENERS,
    SEALERS,
)

Kind = Transaction.Kind

FUND_OPEN_SQL = (
    "SELECT fund_open(%(name)s, %(slug)s, %(goal)s, %(currency)s, %(restricted)s, %(tax)s, "
    "%(public)s, %(summary)s, %(opened_on)s, %(codes)s, %(names)s, %(kinds)s, %(roles)s, "
    "%(floors)s)"
)
CLOSE_BOOKS_SQL = "SELECT * FROM fund_close_books(%s, %s, %s, %s)"
SEAL_STATE_SQL = """
    SELECT h.chain_head, h.closed_through, last.year, last.number,
           (SELECT count(*) FROM fund_transaction WHERE fund_id = h.fund_id)
    FROM fund_ledgerhead h
    LEFT JOIN LATERAL (SELECT year, number FROM fund_transaction
                       WHERE fund_id = h.fund_id ORDER BY id DESC LIMIT 1) last ON true
    WHERE h.fund_id = %s
"""
LOCK_REFUSALS: dict[str, type[FundError]] = {"DF012": NotAllowed, "DF014": LockError}
# Kinds another app keeps a record of: a disbursement marked paid (cases), a bond outstanding or
# closed (cases), a gift, refund, dispute or payout that mirrors Stripe (donations). Reversed in
# the ledger alone, that record would still say the money moved (the disbursement register and
# the 1099s, the outstanding bonds, the reconciliation with Stripe), so only the app's own service
# reverses them, saying so with by_workflow=True. Offline gifts and deposits are kept by the
# donations app too (the undeposited list, pledges, statements): a bounced check is taken back
# from its gift's page, a deposit made by mistake voided from its own. Journal entries and opening
# balances have no such workflow: a treasurer reverses them here.
_BOND = (
    "Record the bond's steps on its case instead (one recorded by mistake is voided there): the "
    "ledger alone would leave the bond's record and the outstanding bonds saying otherwise."
)
_STRIPE = (
    "Correct it in Stripe (a refund, for example), whose event records it here: the ledger alone "
    "would no longer match Stripe or the gift's record."
)
WORKFLOW_KINDS: dict[str, str] = {
    Kind.DISBURSEMENT: (
        "Void it from the disbursement: the ledger alone would leave it marked paid."
    ),
    Kind.BOND_POSTED: _BOND,
    Kind.BOND_REFUNDED: _BOND,
    Kind.BOND_FORFEITED: _BOND,
    Kind.GIFT_ONLINE: _STRIPE,
    Kind.STRIPE_FEE: _STRIPE,
    Kind.REFUND: _STRIPE,
    Kind.DISPUTE: _STRIPE,
    Kind.DISPUTE_WON: _STRIPE,
    Kind.PAYOUT: _STRIPE,
    Kind.GIFT_OFFLINE: (
        "Take the gift back from its page (a check that bounced, one recorded by mistake): the "
        "ledger alone would leave the gift counted, to be deposited and on the donor's statement."
    ),
    Kind.DEPOSIT: (
        "Void the deposit from its page: the ledger alone would leave its checks marked deposited."
    ),
}
# A refund of an offline gift is the donations app's record of a gift taken back, not Stripe's.
_OFFLINE_REFUND = "A gift taken back stays so: if it is paid after all, record it as a new gift."


@transaction.atomic
def create_fund(
    *,
    actor: User | None,
    name: str,
    slug: str,
    goal_cents: int,
    currency: str = "USD",
    restricted: bool = False,
    tax_status: str = Fund.TaxStatus.LABOR,
    is_public: bool = True,
    public_summary: str = "",
    opened_on: date | None = None,
    show_supporters: bool = False,
) -> Fund:
    """Create a fund with its ledger head and its chart of accounts (None: the command line).

    Its books open on `opened_on` (default today): nothing can be dated before it.
    """
    FUND_ADMINS.check(actor)
    if not name.strip():
        raise FundError("A fund needs a name.")
    if not slug_re.fullmatch(slug):
        raise FundError("A fund's slug is lowercase letters, digits and hyphens, e.g. valley-fund.")
    if Fund.objects.filter(slug=slug).exists():
        raise FundError(f"A fund with the slug {slug!r} already exists.")
    if type(goal_cents) is not int or not 0 <= goal_cents <= money.MAX_GOAL_MINOR:
        raise FundError("The goal is a whole, non-negative amount.")
    money.currency(currency)
    if tax_status not in Fund.TaxStatus.values:
        raise FundError(f"Unknown tax status {tax_status!r}.")
    if opened_on is not None and not in_the_books(opened_on):
        raise FundError(OUTSIDE_THE_BOOKS)
    with connection.cursor() as cursor:
        cursor.execute(
            FUND_OPEN_SQL,
            {
                "name": name.strip(),
                "slug": slug,
                "goal": goal_cents,
                "currency": currency.upper(),
                "restricted": restricted,
                "tax": tax_status,
                "public": is_public,
                "summary": public_summary,
                "opened_on": opened_on or timezone.localdate(),
                "codes": [code for code, _, _, _ in CHART],
                "names": [role.label for _, role, _, _ in CHART],
                "kinds": [str(kind) for _, _, kind, _ in CHART],
                "roles": [str(role) for _, role, _, _ in CHART],
                "floors": [floor for _, _, _, floor in CHART],
            },
        )
        (fund_id,) = cursor.fetchone()
    if show_supporters:
        Fund.objects.filter(pk=fund_id).update(show_supporters=True)
    return Fund.objects.get(pk=fund_id)


def update_fund(
    *,
    actor: User | None,
    fund: Fund,
    name: str,
    goal_cents: int,
    tax_status: str,
    is_public: bool,
    public_summary: str,
    show_supporters: bool = False,
) -> Fund:
    """Change what a fund may change: its name, goal, receipt wording and public page (with
    its list of supporting organisations or not).

    Its slug, currency, restriction and opening day are fixed once the fund exists.
    """
    FUND_ADMINS.check(actor)
    if not name.strip():
        raise FundError("A fund needs a name.")
    if type(goal_cents) is not int or not 0 <= goal_cents <= money.MAX_GOAL_MINOR:
        raise FundError("The goal is a whole, non-negative amount.")
    if tax_status not in Fund.TaxStatus.values:
        raise FundError(f"Unknown tax status {tax_status!r}.")
    changes = {
        "name": name.strip(),
        "goal_cents": goal_cents,
        "tax_status": tax_status,
        "is_public": is_public,
        "public_summary": public_summary,
        "show_supporters": show_supporters,
    }
    Fund.objects.filter(pk=fund.pk).update(**changes)
    for field, value in changes.items():
        setattr(fund, field, value)
    return fund


def reversal_refusal(original: Transaction) -> str | None:
    """Return why the ledger alone may not reverse the transaction, or None if it may.

    A kind of WORKFLOW_KINDS is reversed only by the service of the app that keeps its record.
    """
    why = WORKFLOW_KINDS.get(original.kind)
    if original.kind == Kind.REFUND and original.source_ref.startswith("gift:"):
        why = _OFFLINE_REFUND
    if why is None:
        return None
    kind = original.get_kind_display()
    return f"Transaction {original.reference} ({kind}) cannot be reversed here. {why}"


def reverse_transaction(
    *,
    original: Transaction,
    actor: User | None,
    memo: str,
    effective_date: date | None = None,
    by_workflow: bool = False,
) -> Transaction:
    """Post the mirror of a transaction and link it; a transaction is reversed at most once.

    A kind of WORKFLOW_KINDS is refused (OwnedByWorkflow, with reversal_refusal's words) unless
    the app service that keeps its record calls with by_workflow=True, in the same transaction
    as its own change (void_disbursement, void_bond, record_payout_failed).
    """
    LEDGER_WRITERS.check(actor)
    if original.kind == Kind.REVERSAL:
        raise InvalidTransaction("A reversal cannot be reversed: post the entry again instead.")
    if Transaction.objects.filter(reverses=original).exists():
        raise AlreadyReversed(f"Transaction {original.reference} is already reversed.")
    refusal = None if by_workflow else reversal_refusal(original)
    if refusal is not None:
        raise OwnedByWorkflow(refusal)
    legs = [Leg(p.account, -p.amount_cents) for p in original.postings.select_related("account")]
    return post_transaction(
        fund=original.fund,
        legs=legs,
        effective_date=effective_date or timezone.localdate(),
        kind=Kind.REVERSAL,
        memo=memo,
        idempotency_key=f"reversal:{original.pk}",
        actor=actor,
        source_ref=original.source_ref,
        case_ref=original.case_ref,
        reverses=original,
    )


def record_journal_entry(
    *,
    fund: Fund,
    legs: Sequence[Leg],
    effective_date: date,
    memo: str,
    reason: str,
    actor: User,
    idempotency_key: str,
) -> Transaction:
    """Post a treasurer's manual correction; a memo and a reason are required.

    The idempotency key is the one the treasurer's form (or API client) supplied, kept in their own
    namespace (fund.ledger.posting.supplied_key).
    """
    LEDGER_WRITERS.check(actor)
    if not reason.strip():
        raise InvalidTransaction("A manual journal entry needs a reason.")
    key = supplied_key(idempotency_key, supplier=actor)
    return post_transaction(
        fund=fund,
        legs=legs,
        effective_date=effective_date,
        kind=Kind.JOURNAL,
        memo=memo,
        reason=reason.strip(),
        idempotency_key=key,
        actor=actor,
    )


@transaction.atomic
def close_books(*, fund: Fund, through: date, actor: User, reason: str = "") -> BooksLock | None:
    """Close the fund's books through a day: nothing dated on or before it is accepted after.

    A treasurer moves the lock date forward; moving it back reopens days, which needs an admin and
    a reason. Every change is logged and sealed in the same transaction. Returns None when the
    books were already closed through that day.
    """
    current = LedgerHead.objects.values_list("closed_through", flat=True).get(fund=fund)
    moving_back = current is not None and through < current
    (PERIOD_REOPENERS if moving_back else PERIOD_CLOSERS).check(actor)
    if not in_the_books(through):
        raise LockError(OUTSIDE_THE_BOOKS)
    if moving_back and not reason.strip():
        raise LockError("Reopening closed days needs a reason.")
    if through == current:
        return None
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(CLOSE_BOOKS_SQL, [fund.pk, through, actor.pk, reason.strip()])
            (lock_id, *_rest) = cursor.fetchone()
    except DatabaseError as error:
        state = getattr(error.__cause__, "sqlstate", None)
        refusal = LOCK_REFUSALS.get(state or "")
        if refusal is None:
            raise
        message = getattr(getattr(error.__cause__, "diag", None), "message_primary", str(error))
        raise refusal(message) from error
    occasion = f"books {'reopened' if moving_back else 'closed'} through {through.isoformat()}"
    seal_books(fund=fund, actor=actor, occasion=occasion)
    return BooksLock.objects.get(pk=lock_id)


@transaction.atomic
def seal_books(*, fund: Fund, actor: User | None, occasion: str = "on demand") -> Seal:
    """Sign the fund's chain head as it stands and keep the seal (None: the command line)."""
    SEALERS.check(actor)
    # One statement, so one snapshot: the head, the last transaction and the count agree.
    with connection.cursor() as cursor:
        cursor.execute(SEAL_STATE_SQL, [fund.pk])
        head, closed_through, year, number, count = cursor.fetchone()
    statement = seals.Statement(
        fund=fund.slug,
        fund_id=fund.pk,
        currency=fund.currency,
        restricted=fund.restricted,
        opened_on=fund.opened_on,
        chart=seals.chart_digest(fund),
        reference=f"{year}-{number:06d}" if year else "",
        transactions=count,
        chain_head=head,
        closed_through=closed_through,
        occasion=occasion[:200],
        sealed_at=timezone.now(),
    )
    signed = seals.sign(statement)
    return Seal.objects.create(
        fund=fund,
        reference=statement.reference,
        transaction_count=statement.transactions,
        chain_head=statement.chain_head,
        closed_through=statement.closed_through,
        occasion=statement.occasion,
        sealed_at=statement.sealed_at,
        key_id=signed.key_id,
        statement=signed.statement,
        signature=signed.signature,
    )


def record_commitment(
    *, fund: Fund, amount_cents: int, source_ref: str, actor: User | None
) -> Commitment:
    """Set money aside for an approved payment, so it no longer counts as available."""
    LEDGER_WRITERS.check(actor)
    if type(amount_cents) is not int or not 0 < amount_cents <= money.MAX_GOAL_MINOR:
        raise InvalidTransaction("A commitment must be a positive amount.")
    commitment, created = Commitment.objects.get_or_create(
        source_ref=source_ref, defaults={"fund": fund, "amount_cents": amount_cents}
    )
    if not created and (commitment.fund_id != fund.pk or commitment.amount_cents != amount_cents):
        raise IdempotencyConflict(f"Commitment {source_ref} exists with other values.")
    return commitment


def release_commitment(*, source_ref: str, actor: User | None) -> None:
    """Release the commitment made for a payment that was paid, rejected or voided."""
    LEDGER_WRITERS.check(actor)
    Commitment.objects.filter(source_ref=source_ref, released_at__isnull=True).update(
        released_at=timezone.now()
    )
