"""Receipts: an e-mail with a PDF for each paid gift, and each donor's statement of a year's gifts.

Each is sent once. The gift (or the donor's statement row) is marked sent in the transaction that
decides to send, so two runs of the task send one e-mail; the PDF is rendered and the e-mail sent
after that transaction, never inside it, and if sending fails the mark is taken back so a later
run can try again. Everything a donor reads is in their language (the gift's, or the donor's).
The subject names the fund, never the donor.
"""

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q, QuerySet, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, pgettext

from donations.links import manage_path
from donations.models import AnnualStatement, Donor, Gift
from fund.ledger.models import Fund
from fund.reports.pdf import render_pdf
from fund.tasks import enqueue_on_commit

# A fully refunded gift is no contribution: it gets no receipt, and a statement shows it as zero.
RECEIPTED = (Gift.Status.PAID, Gift.Status.PARTIALLY_REFUNDED)
COUNTED = (Gift.Status.PAID, Gift.Status.PARTIALLY_REFUNDED, Gift.Status.REFUNDED)
FIRST_YEAR, LAST_YEAR = 2000, 2999


@dataclass(frozen=True)
class Line:
    """One gift as a receipt or statement shows it."""

    gift_id: int
    fund: str
    currency: str
    received_on: date
    method: str
    amount_cents: int
    refunded_cents: int

    @property
    def net_cents(self) -> int:
        return self.amount_cents - self.refunded_cents


@dataclass(frozen=True)
class Receipt:
    """What a gift's receipt says, read from the database before anything is rendered."""

    to: str
    language: str
    fund: str
    tax_status: str
    line: Line
    donor: str
    address: str
    cover_fee_cents: int
    monthly: bool
    manage_url: str
    anonymous: bool
    tribute: str
    tribute_name: str


@dataclass(frozen=True)
class Statement:
    """What a donor's annual statement says."""

    to: str
    language: str
    year: int
    donor: str
    address: str
    lines: list[Line]
    # Each fund's name and tax status, in the order its gifts first appear.
    funds: list[tuple[str, str]] = field(default_factory=list)

    @property
    def totals(self) -> list[tuple[str, int]]:
        """Return the total given, net of refunds, per currency."""
        found: dict[str, int] = defaultdict(int)
        for line in self.lines:
            found[line.currency] += line.net_cents
        return sorted(found.items())


# Receipts of gifts


def queue_receipt(gift: Gift) -> None:
    """Have the task worker e-mail the gift's receipt once the current transaction commits.

    Call it when a gift becomes paid (online or offline); calling it twice sends one receipt.
    """
    from donations.tasks import send_gift_receipt

    enqueue_on_commit(send_gift_receipt, gift.pk)


def send_receipt(*, gift: Gift) -> bool:
    """E-mail the donor a paid gift's receipt with its PDF, once; return whether it was sent.

    Nothing is sent for a gift not paid (or refunded in full), already receipted, or whose donor
    has no e-mail address (an organisation recorded by name only).
    """
    with transaction.atomic():
        locked = (
            Gift.objects.select_for_update(of=("self",))
            .select_related("fund", "donor", "recurring")
            .get(pk=gift.pk)
        )
        if (
            locked.receipt_sent_at is not None
            or locked.status not in RECEIPTED
            or not locked.donor.email
        ):
            return False
        locked.receipt_sent_at = timezone.now()
        locked.save(update_fields=["receipt_sent_at"])
        receipt = receipt_of(locked)
    try:
        receipt_message(receipt).send()
    except Exception:
        Gift.objects.filter(pk=locked.pk, receipt_sent_at=locked.receipt_sent_at).update(
            receipt_sent_at=None
        )
        raise
    return True


def receipt_of(gift: Gift) -> Receipt:
    """Return what the receipt of a gift says (decrypting the donor's details)."""
    donor = gift.donor
    with donor_language(gift.language) as language:
        line = _line(gift)
    manage_url = ""
    if gift.recurring is not None:
        manage_url = settings.SITE_URL + manage_path(gift.recurring)
    return Receipt(
        to=donor.email or "",
        language=language,
        fund=gift.fund.name,
        tax_status=gift.fund.tax_status,
        line=line,
        donor=_donor_name(donor),
        address=donor.address or "",
        cover_fee_cents=gift.cover_fee_cents,
        monthly=gift.frequency == Gift.Frequency.MONTHLY,
        manage_url=manage_url,
        anonymous=gift.anonymous,
        tribute=gift.tribute,
        tribute_name=(gift.tribute_name or "") if gift.tribute else "",
    )


def receipt_pdf(receipt: Receipt) -> bytes:
    """Render a receipt to PDF, in the receipt's language."""
    with donor_language(receipt.language):
        return render_pdf("donations/receipt.html", _receipt_context(receipt))


def receipt_message(receipt: Receipt) -> EmailMessage:
    """Return the receipt's e-mail, its PDF attached."""
    with donor_language(receipt.language):
        context = _receipt_context(receipt)
        message = _message("donations/email/receipt", context, receipt.to)
        name = pgettext("file name of a receipt", "receipt-%(number)s.pdf") % {
            "number": receipt.line.gift_id
        }
        message.attach(name, render_pdf("donations/receipt.html", context), "application/pdf")
    return message


def _receipt_context(receipt: Receipt) -> dict[str, object]:
    return {
        "receipt": receipt,
        "line": receipt.line,
        "tax_lines": tax_wording(receipt.fund, receipt.tax_status, several=False),
        "tribute": _tribute(receipt.tribute, receipt.tribute_name),
    }


# Annual statements


def year_in_range(year: int) -> bool:
    """Return whether a statement can be asked for this year."""
    return FIRST_YEAR <= year <= LAST_YEAR


def statement_donors(*, year: int, fund: Fund | None = None) -> QuerySet[Donor]:
    """Return the donors who gave that year (to the fund, if one is named), refunds and
    charge-backs deducted."""
    gifts = _statement_gifts(year=year, fund=fund)
    return (
        Donor.objects.filter(pk__in=gifts.values("donor"))
        .annotate(
            given=Sum(
                F("gifts__amount_cents") - F("gifts__refunded_cents") - F("gifts__disputed_cents"),
                filter=_gift_filter(year, fund, prefix="gifts__"),
            )
        )
        .filter(given__gt=0)
        .order_by("pk")
    )


def send_statement(*, donor: Donor, year: int, fund: Fund | None = None) -> bool:
    """E-mail a donor the statement of a year's gifts, once per donor and year; return whether
    it was sent. Nothing is sent to a donor with no e-mail address or nothing given that year."""
    with transaction.atomic():
        # Two runs for one donor queue up here; the second finds the first one's record.
        donor = Donor.objects.select_for_update().get(pk=donor.pk)
        if not donor.email or AnnualStatement.objects.filter(donor=donor, year=year).exists():
            return False
        statement = statement_of(donor=donor, year=year, fund=fund)
        total = sum(line.net_cents for line in statement.lines)
        if total <= 0:
            return False
        record = AnnualStatement.objects.create(
            donor=donor, year=year, gift_count=len(statement.lines), total_cents=total
        )
    try:
        statement_message(statement).send()
    except Exception:
        AnnualStatement.objects.filter(pk=record.pk).delete()
        raise
    return True


def statement_of(*, donor: Donor, year: int, fund: Fund | None = None) -> Statement:
    """Return what a donor's statement of a year says: each gift, refunds deducted."""
    gifts = list(
        _statement_gifts(year=year, fund=fund)
        .filter(donor=donor)
        .select_related("fund")
        .order_by("received_on", "pk")
    )
    with donor_language(donor.language) as language:
        lines = [_line(gift) for gift in gifts]
    funds: dict[str, str] = {}
    for gift in gifts:
        funds.setdefault(gift.fund.name, gift.fund.tax_status)
    return Statement(
        to=donor.email or "",
        language=language,
        year=year,
        donor=_donor_name(donor),
        address=donor.address or "",
        lines=lines,
        funds=list(funds.items()),
    )


def statement_pdf(statement: Statement) -> bytes:
    """Render a statement to PDF, in the donor's language."""
    with donor_language(statement.language):
        return render_pdf("donations/statement.html", _statement_context(statement))


def statement_message(statement: Statement) -> EmailMessage:
    """Return the statement's e-mail, its PDF attached."""
    with donor_language(statement.language):
        context = _statement_context(statement)
        message = _message("donations/email/statement", context, statement.to)
        name = pgettext("file name of an annual statement", "statement-%(year)s.pdf") % {
            "year": statement.year
        }
        message.attach(name, render_pdf("donations/statement.html", context), "application/pdf")
    return message


def _statement_context(statement: Statement) -> dict[str, object]:
    return {
        "statement": statement,
        "funds": [
            (name, tax_wording(name, status, several=True)) for name, status in statement.funds
        ],
        "fund_names": ", ".join(name for name, _ in statement.funds),
    }


def _statement_gifts(*, year: int, fund: Fund | None) -> QuerySet[Gift]:
    return Gift.objects.filter(_gift_filter(year, fund, prefix=""))


def _gift_filter(year: int, fund: Fund | None, *, prefix: str) -> Q:
    found = Q(
        **{
            f"{prefix}received_on__year": year,
            f"{prefix}status__in": COUNTED,
            f"{prefix}transaction__isnull": False,
        }
    )
    return found & Q(**{f"{prefix}fund": fund}) if fund is not None else found


# Wording


def tax_wording(fund: str, tax_status: str, *, several: bool) -> list[str]:
    """Return what a receipt (or, with several, a statement) says about tax, by the fund's status.

    A 501(c)(3) charity gives the IRS's written acknowledgment (required from $250, printed on
    every receipt): its name, and that no goods or services were given for the gift. A 501(c)(5)
    labor organization must say its gifts are not deductible as charitable contributions.
    """
    values = {"fund": fund}
    if tax_status == Fund.TaxStatus.CHARITY:
        return [
            gettext(
                "%(fund)s is a tax-exempt organization under section 501(c)(3) of the Internal "
                "Revenue Code. Contributions are tax-deductible to the extent allowed by law."
            )
            % values,
            gettext("No goods or services were provided in exchange for these contributions.")
            if several
            else gettext("No goods or services were provided in exchange for this contribution."),
            gettext("Please keep this document for your tax records."),
        ]
    if tax_status == Fund.TaxStatus.LABOR:
        return [
            gettext(
                "Contributions to %(fund)s are not deductible as charitable contributions for "
                "federal income tax purposes."
            )
            % values
        ]
    return [gettext("Contributions to %(fund)s are not tax-deductible.") % values]


def method_of(gift: Gift) -> str:
    """Return how a gift was given, in the active language: "Check no. 1042", "Online (card)"."""
    reference = gift.reference.strip()
    if gift.method == Gift.Method.CHECK:
        if reference:
            return gettext("Check no. %(number)s") % {"number": reference}
        return gettext("Check")
    label = {
        Gift.Method.CARD: gettext("Online (card)"),
        Gift.Method.CASH: gettext("Cash"),
        Gift.Method.ACH: gettext("ACH transfer"),
        Gift.Method.WIRE: gettext("Wire transfer"),
    }.get(Gift.Method(gift.method), gift.get_method_display())
    if reference and not gift.is_online:
        return gettext("%(method)s, reference %(reference)s") % {
            "method": label,
            "reference": reference,
        }
    return label


def _tribute(kind: str, name: str) -> str:
    if kind == Gift.Tribute.HONOUR and name:
        return gettext("In honour of %(name)s") % {"name": name}
    if kind == Gift.Tribute.MEMORY and name:
        return gettext("In memory of %(name)s") % {"name": name}
    return ""


def _line(gift: Gift) -> Line:
    return Line(
        gift_id=gift.pk,
        fund=gift.fund.name,
        currency=gift.fund.currency,
        received_on=gift.received_on or timezone.localdate(gift.created_at),
        method=method_of(gift),
        amount_cents=gift.amount_cents,
        # To the donor a charge-back is money given back like a refund (by their bank): it is no
        # contribution, and the fund's acknowledgment must not count it.
        refunded_cents=gift.refunded_cents + gift.disputed_cents,
    )


def _donor_name(donor: Donor) -> str:
    if donor.kind == Donor.Kind.ORGANISATION:
        return donor.organisation
    return donor.name or donor.email or ""


def _message(template: str, context: dict[str, object], to: str) -> EmailMessage:
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    body = render_to_string(f"{template}_body.txt", context)
    return EmailMessage(subject=subject, body=body, to=[to])


@contextmanager
def donor_language(code: str) -> Iterator[str]:
    """Switch to a donor's language (English if the site does not offer theirs)."""
    try:
        language = translation.get_supported_language_variant(code or "en")
    except LookupError:
        language = "en"
    with translation.override(language):
        yield language
