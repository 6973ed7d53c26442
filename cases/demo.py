"""DEMO DATA ONLY: the demo year's money for cases, recorded as cases (`manage.py seed_demo`).

fund.demo.ledger plays the year and asks this for each month's case payments, each bond and what
is still open at the end. Each is recorded the way real work is, through this app's services: the
demo coordinator opens an invented case and requests the money, the demo treasurer approves it
(above DISBURSEMENT_TWO_APPROVALS_ABOVE the second treasurer too) and pays it on the demo's day;
bonds are posted by the coordinator, cancelled, and refunded by the treasurer. So the coordinator's
and the treasurer's screens show the year, and the ledger's totals are those of
`fund.demo.ledger.LedgerCases` to the cent.

Every person, firm, facility and court here is invented: the names say so ("Example", "Sample",
"Ejemplo", "Muestra"), the A-numbers begin A000 (no real A-number does), phone numbers are in
555-01xx, which is reserved for fiction. A demo case is found again by its A-number's blind index,
so seeding twice opens no second case; requests, bonds and payments are idempotent by key.
"""

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from cases.models import Bond, Case, Disbursement, Document, Facility, Hearing, Payee
from cases.services.bonds import cancel_bond, post_bond, record_bond_refund, void_bond
from cases.services.cases import (
    FacilityRow,
    a_number_index,
    change_status,
    import_facilities,
    move_facility,
    open_case,
    record_consent,
    update_person,
    validate_a_number,
)
from cases.services.disbursements import (
    approve_disbursement,
    pay_disbursement,
    request_disbursement,
    void_disbursement,
)
from cases.services.documents import upload_document
from cases.services.hearings import add_hearing
from cases.services.payees import create_payee
from fund.demo.ledger import (
    BONDS,
    LAST_DAY,
    RETAINER_CENTS,
    UNION_LOCALS,
    CasePayment,
    DemoBooks,
)
from fund.ledger.models import Account

Role = Account.Role
Status = Case.Status
Category = Disbursement.Category

COORDINATOR, TREASURERS = "coordinator", ("treasurer", "treasurer2")
FIRST_NAMES = [
    "Ana", "Luis", "Mei", "Kofi", "Rosa", "Omar", "Hodan", "Tran", "Lucia", "Samuel", "Nadia",
    "Pedro", "Grace", "Diego", "Ruth",
]  # fmt: skip
LAST_NAMES = ["Ejemplo", "Muestra", "Sample", "Example", "Placeholder", "Ficticio", "Demo"]
RELATIVES = ["sister", "brother", "wife", "husband", "mother", "cousin"]
LANGUAGES = ["Spanish", "English", "Vietnamese", "Somali", "Mandarin", "Portuguese"]
EMPLOYERS = ["Example Valley Farms", "Sample General Hospital", "Placeholder Foods", ""]
FACILITIES = (
    FacilityRow("Example County Processing Center", "Exampleville", "CA"),
    FacilityRow("Sample Valley Detention Facility", "Sampleton", "CA"),
    FacilityRow("Placeholder Federal Holding Center", "Demo City", "AZ"),
)
COURT = "Example Immigration Court"
CLOSED_DAYS = frozenset({(12, 25), (1, 1)})
JUDGES = ["Judge A. Example", "Judge B. Sample", "Judge C. Placeholder"]
CONSENT = tuple(Case.Consent.values)  # everything the fund may do


@dataclass(frozen=True)
class DemoPayee:
    """An invented payee, found again by its kind and firm."""

    kind: str
    name: str
    firm: str
    bar_number: str = ""


ATTORNEYS = (
    DemoPayee(Payee.Kind.ATTORNEY, "Jordan Example, Esq.", "Example Immigration Law", "DEMO-0001"),
    DemoPayee(Payee.Kind.ATTORNEY, "Riley Sample, Esq.", "Sample & Placeholder LLP", "DEMO-0002"),
)
PAYEES: dict[str, DemoPayee] = {
    Category.FILING_FEE: DemoPayee(Payee.Kind.COURT, "Example Immigration Court", COURT),
    Category.FAMILY_SUPPORT: DemoPayee(
        Payee.Kind.OTHER, "Example Property Management", "Example Property Management"
    ),
    Category.COMMISSARY: DemoPayee(
        Payee.Kind.OTHER, "Example Commissary Services", "Example Commissary Services"
    ),
}
CATEGORIES: dict[str, str] = {
    Role.ATTORNEY_FEES: Category.ATTORNEY_FEE,
    Role.FILING_FEES: Category.FILING_FEE,
    Role.FAMILY_SUPPORT: Category.FAMILY_SUPPORT,
}
# The request left waiting for a treasurer at the end of the year (it commits nothing).
WAITING = (Category.COMMISSARY, 8_500, "Commissary deposit")
# A filing fee entered and paid a second time on the last day, its invoice on the case; the
# treasurer voids the payment (so the ledger's totals are the year's, as without it).
PAID_TWICE = (Category.FILING_FEE, 14_500, "Filing fee, motion to reopen")
# Monthly cases whose payments are this old are released by the end of the year.
RELEASED_AFTER = timedelta(days=150)


class CasesDemo:
    """Records the demo year's money for cases as cases (fund.demo.ledger.DemoCases)."""

    payment_key_prefix = "disbursement:"

    def __init__(self) -> None:
        users = {
            user.username: user
            for user in get_user_model().objects.filter(username__in=(COORDINATOR, *TREASURERS))
        }
        if set(users) != {COORDINATOR, *TREASURERS}:
            raise ImproperlyConfigured(
                "The demo's cases are worked by the demo staff (coordinator, treasurer, "
                "treasurer2): seed them first (manage.py seed_demo does)."
            )
        self.coordinator: User = users[COORDINATOR]
        self.treasurers: list[User] = [users[name] for name in TREASURERS]
        self.paid_on: dict[str, date] = {}  # each monthly case's payment day, in order
        self.facilities: list[Facility] = []

    def pay_for_case(
        self, books: DemoBooks, day: date, case_ref: str, payments: list[CasePayment]
    ) -> None:
        """Open the case, then request, approve and pay each payment on `day`."""
        case = self._case(case_ref, detained_on=day - timedelta(days=9))
        self.paid_on[case_ref] = day
        for number, payment in enumerate(payments):
            category = CATEGORIES[payment.expense]
            request = request_disbursement(
                actor=self.coordinator,
                case=case,
                fund=books.fund,
                category=category,
                payee=self._payee(self._payee_for(category, case)),
                amount_cents=payment.cents,
                memo=payment.memo,
                idempotency_key=f"demo-{books.fund.slug}-{case_ref}-{category}",
            )
            pay_disbursement(
                actor=self.treasurers[0],
                disbursement=self._approved(request),
                method=Disbursement.Method.CHECK,
                reference=f"{_number(case_ref) * 10 + 3000 + number}",
                paid_on=day,
            )
        books.recorded(postings=len(payments), bank=-sum(p.cents for p in payments))

    def bond_posted(self, books: DemoBooks, day: date, case_ref: str, cents: int) -> None:
        """The coordinator posts the case's bond on `day`; the person is released."""
        case = self._case(case_ref, detained_on=day - timedelta(days=24))
        self._post_bond(books, case, case_ref, cents, day, key="bond")
        case.refresh_from_db()
        if case.status == Status.BOND_POSTED:
            change_status(
                actor=self.coordinator,
                case=case,
                to=Status.RELEASED,
                note="Released on bond.",
            )
        books.recorded(postings=1, bank=-cents)

    def _post_bond(
        self, books: DemoBooks, case: Case, case_ref: str, cents: int, day: date, *, key: str
    ) -> Bond:
        # The obligor and the receipt are the demo case's own (`case_ref`, the ledger-only
        # demo's reference), so that a bond entered twice reads as the same bond.
        return post_bond(
            actor=self.coordinator,
            case=case,
            fund=books.fund,
            amount_cents=cents,
            obligor_name=_relative(case_ref),
            obligor_relationship=_relation(case_ref),
            obligor_contact=_phone(case_ref, 50),
            obligor_attested=True,
            receipt_number=f"DEMO-{_number(case_ref):06d}",
            posted_on=day,
            idempotency_key=f"demo-{books.fund.slug}-{case_ref}-{key}",
        )

    def bond_refunded(
        self, books: DemoBooks, day: date, case_ref: str, cents: int, interest_cents: int
    ) -> None:
        """ICE cancels the bond at the case's end; the treasurer records its refund; it closes."""
        case = self._case(case_ref, detained_on=day)
        bond = Bond.objects.get(case=case, fund=books.fund)
        if bond.status == Bond.Status.POSTED:
            bond = cancel_bond(actor=self.coordinator, bond=bond, cancelled_on=day)
        record_bond_refund(
            actor=self.treasurers[0],
            bond=bond,
            principal_cents=cents,
            interest_cents=interest_cents,
            received_on=day,
        )
        case.refresh_from_db()
        if case.status == Status.RELEASED:
            change_status(
                actor=self.coordinator,
                case=case,
                to=Status.CLOSED,
                note="Proceedings ended; the bond was cancelled and refunded.",
            )
        books.recorded(postings=1, bank=cents + interest_cents)

    def open_business(self, books: DemoBooks) -> None:
        """The approved, unpaid retainer; a request waiting; the cases' statuses; hearings."""
        still_out = self._case(BONDS[-1][0], detained_on=BONDS[-1][2])
        attorney = self._payee(ATTORNEYS[0])
        retainer = request_disbursement(
            actor=self.coordinator,
            case=still_out,
            fund=books.fund,
            category=Category.ATTORNEY_FEE,
            payee=attorney,
            amount_cents=RETAINER_CENTS,
            memo="Attorney retainer for the individual hearing",
            idempotency_key=f"demo-{books.fund.slug}-{still_out.ref}-retainer",
        )
        self._approved(retainer)

        monthly = list(self.paid_on)
        for case_ref in monthly:
            self._move_along(case_ref, first=case_ref == monthly[0], last=case_ref == monthly[-1])
        category, cents, memo = WAITING
        waiting_on = self._case(monthly[-1], detained_on=LAST_DAY)
        request_disbursement(
            actor=self.coordinator,
            case=waiting_on,
            fund=books.fund,
            category=category,
            payee=self._payee(PAYEES[category]),
            amount_cents=cents,
            memo=memo,
            idempotency_key=f"demo-{books.fund.slug}-{waiting_on.ref}-waiting",
        )
        self._hearings([*monthly, *(ref for ref, *_ in BONDS)])
        self._moved_and_corrected(monthly[-2])
        self._mistakes_put_right(books, still_out)

    def _mistakes_put_right(self, books: DemoBooks, case: Case) -> None:
        # Two mistakes a treasurer undoes, so the void pages, the case's timeline and the
        # reports' "voided" sections have something to show: a filing fee paid a second time
        # (the request names its invoice, a document on the case), and the case's bond entered
        # twice. Each void reverses its posting on the first open day; the totals stay the year's.
        category, cents, memo = PAID_TWICE
        invoice = case.documents.filter(kind=Document.Kind.INVOICE).first() or upload_document(
            actor=self.coordinator, case=case, kind=Document.Kind.INVOICE, uploaded=_invoice()
        )
        request = request_disbursement(
            actor=self.coordinator,
            case=case,
            fund=books.fund,
            category=category,
            payee=self._payee(PAYEES[category]),
            amount_cents=cents,
            memo=memo,
            idempotency_key=f"demo-{books.fund.slug}-{case.ref}-paid-twice",
            document=invoice,
        )
        if request.status != Disbursement.Status.VOIDED:  # seeded before: already put right
            paid = pay_disbursement(
                actor=self.treasurers[0],
                disbursement=self._approved(request),
                method=Disbursement.Method.CHECK,
                reference=f"{_number(case.ref) * 10 + 3900}",
                paid_on=LAST_DAY,
            )
            void_disbursement(
                actor=self.treasurers[0],
                disbursement=paid,
                reason="Paid twice: the court's fee had been paid with the motion.",
            )
        ref, cents, posted_on, *_ = BONDS[-1]
        again = self._post_bond(books, case, ref, cents, posted_on, key="bond-again")
        void_bond(
            actor=self.treasurers[0],
            bond=again,
            reason="Entered twice: the same receipt as the bond posted that day.",
        )

    def _moved_and_corrected(self, case_ref: str) -> None:
        # One detained person was moved to another facility, and their family gave a new phone
        # number: a transferred case, and a correction on its timeline. Each is made once.
        case = self._case(case_ref, detained_on=self.paid_on[case_ref])
        if case.status != Status.DETAINED or case.facility is None:
            return
        facilities = self._facilities()
        moved_to = facilities[(facilities.index(case.facility) + 1) % len(facilities)]
        move_facility(
            actor=self.coordinator,
            case=case,
            facility=moved_to,
            note="The family called: moved overnight, no notice given.",
        )
        update_person(actor=self.coordinator, case=case, phone=_phone(case_ref, 70))

    def _move_along(self, case_ref: str, *, first: bool, last: bool) -> None:
        # Where each monthly case stands at the end of the year: the oldest closed, the older ones
        # released, the newest with a bond set; the rest still detained. Each move is made once.
        case = self._case(case_ref, detained_on=self.paid_on[case_ref])
        if last and case.status == Status.DETAINED:
            change_status(actor=self.coordinator, case=case, to=Status.BOND_SET)
        elif LAST_DAY - self.paid_on[case_ref] > RELEASED_AFTER:
            if case.status == Status.DETAINED:
                case = change_status(actor=self.coordinator, case=case, to=Status.RELEASED)
            if first and case.status == Status.RELEASED:
                change_status(
                    actor=self.coordinator,
                    case=case,
                    to=Status.CLOSED,
                    note="Relief granted at the individual hearing.",
                )

    def _hearings(self, case_refs: list[str]) -> None:
        # Each open case has a hearing in the coming weeks (from the day of the first seeding).
        today = timezone.localdate()
        open_cases = [self._case(case_ref, detained_on=today) for case_ref in case_refs]
        open_cases = [case for case in open_cases if case.status != Status.CLOSED]
        for number, case in enumerate(open_cases):
            if case.hearings.exists():
                continue
            if case.status in (Status.DETAINED, Status.BOND_SET):
                kind = Hearing.Kind.BOND if case.status == Status.DETAINED else Hearing.Kind.MASTER
            else:
                kind = Hearing.Kind.INDIVIDUAL if number % 2 else Hearing.Kind.MASTER
            day = _court_day(today + timedelta(days=2 + 2 * number))
            at = timezone.make_aware(datetime.combine(day, time(9 if number % 2 else 13, 30)))
            add_hearing(
                actor=self.coordinator,
                case=case,
                at=at,
                court=f"{COURT}, courtroom {1 + number % 4}",
                kind=kind,
                judge=JUDGES[number % len(JUDGES)],
            )

    def _case(self, case_ref: str, *, detained_on: date) -> Case:
        # The demo's case `case_ref`, opened (detained since `detained_on`) if it is not yet.
        a_number = _a_number(case_ref)
        found = Case.objects.filter(a_number_index=a_number_index(validate_a_number(a_number)))
        case = found.first()
        if case is not None:
            return case
        number = _number(case_ref)
        first, last = _name(case_ref)
        facility = self._facilities()[number % len(FACILITIES)]
        with transaction.atomic():
            case = open_case(
                actor=self.coordinator,
                legal_name=f"{first} {last}",
                a_number=a_number,
                date_of_birth=f"{1968 + number % 30}-{1 + number % 12:02d}-{1 + number % 28:02d}",
                phone=_phone(case_ref, 0),
                preferred_language=LANGUAGES[number % len(LANGUAGES)],
                family_contact=(
                    f"{_relative(case_ref)} ({_relation(case_ref)}), {_phone(case_ref, 50)}"
                ),
                employer=EMPLOYERS[number % len(EMPLOYERS)],
                union_local=UNION_LOCALS[number % len(UNION_LOCALS)],
                detained_on=detained_on,
                facility=facility,
            ).case
            record_consent(actor=self.coordinator, case=case, scope=CONSENT)
            return change_status(actor=self.coordinator, case=case, to=Status.DETAINED)

    def _facilities(self) -> list[Facility]:
        if not self.facilities:
            import_facilities(actor=None, rows=FACILITIES)
            names = [row.name for row in FACILITIES]
            by_name = {f.name: f for f in Facility.objects.filter(name__in=names)}
            self.facilities = [by_name[name] for name in names]
        return self.facilities

    def _payee_for(self, category: str, case: Case) -> DemoPayee:
        if category == Category.ATTORNEY_FEE:
            return ATTORNEYS[case.number % len(ATTORNEYS)]
        return PAYEES[category]

    def _payee(self, demo: DemoPayee) -> Payee:
        found = Payee.objects.filter(kind=demo.kind, firm=demo.firm).order_by("pk").first()
        if found is not None:
            return found
        return create_payee(
            actor=self.treasurers[0],
            kind=demo.kind,
            name=demo.name,
            firm=demo.firm,
            bar_number=demo.bar_number,
            contact="payments@example.org",
            w9_received=demo.kind == Payee.Kind.ATTORNEY,
        )

    def _approved(self, request: Disbursement) -> Disbursement:
        # The treasurer approves, and the second treasurer too when the amount needs two.
        for approver in self.treasurers[: request.approvals_needed]:
            if request.status == Disbursement.Status.REQUESTED and not (
                request.approvals.filter(approver=approver).exists()
            ):
                request = approve_disbursement(actor=approver, disbursement=request)
        return request


def _court_day(day: date) -> date:
    # The court sits on weekdays, and not on Christmas or New Year's Day.
    while day.weekday() >= 5 or (day.month, day.day) in CLOSED_DAYS:
        day += timedelta(days=1)
    return day


def _number(case_ref: str) -> int:
    return int(case_ref.rsplit("-", 1)[1])


def _a_number(case_ref: str) -> str:
    # "C-2025-0001" is A000-025-001: 9 digits, so valid, and beginning A000, so never real.
    _, year, number = case_ref.split("-")
    return f"A000-{int(year) % 1000:03d}-{int(number) % 1000:03d}"


def _name(case_ref: str) -> tuple[str, str]:
    # 15 first names and 7 family names: no two of the demo's cases share both.
    number = _number(case_ref)
    return FIRST_NAMES[number % len(FIRST_NAMES)], LAST_NAMES[number % len(LAST_NAMES)]


def _relative(case_ref: str) -> str:
    # The person's relative (the bond's obligor): another first name, the same family name.
    number = _number(case_ref)
    return f"{FIRST_NAMES[(number + 3) % len(FIRST_NAMES)]} {_name(case_ref)[1]}"


def _relation(case_ref: str) -> str:
    return RELATIVES[_number(case_ref) % len(RELATIVES)]


def _phone(case_ref: str, offset: int) -> str:
    return f"(555) 555-01{(_number(case_ref) + offset) % 100:02d}"


def _invoice() -> SimpleUploadedFile:
    """Return an invented court invoice as a PNG, as a coordinator would photograph one."""
    image = Image.new("RGB", (640, 360), "white")
    draw = ImageDraw.Draw(image)
    lines = (
        "EXAMPLE IMMIGRATION COURT - DEMO DATA",
        "Invoice: filing fee, motion to reopen",
        "Amount due: $145.00",
    )
    for number, line in enumerate(lines):
        draw.text((40, 60 + 60 * number), line, fill="black")
    png = io.BytesIO()
    image.save(png, format="PNG")
    return SimpleUploadedFile("filing-fee-invoice.png", png.getvalue(), "image/png")
