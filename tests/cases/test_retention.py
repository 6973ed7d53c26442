"""Retention: a closed case's personal data is purged after CASE_RETENTION_DAYS, unless held."""

import io
import logging
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError
from django.db import connection
from django.utils import timezone
from pypdf import PdfWriter

from cases.errors import CaseError, CaseNotFound
from cases.models import (
    Bond,
    BondEvent,
    Case,
    CaseEvent,
    Disbursement,
    DisbursementEvent,
    Document,
    Hearing,
    Payee,
    TimelineEntry,
)
from cases.services.bonds import cancel_bond, post_bond, record_bond_refund
from cases.services.cases import add_note, change_status, open_case
from cases.services.disbursements import (
    approve_disbursement,
    pay_disbursement,
    request_disbursement,
)
from cases.services.documents import upload_document
from cases.services.hearings import add_hearing, record_outcome
from cases.services.payees import create_payee
from cases.services.retention import PURGED_TEXT, purge_expired, set_legal_hold
from fund.errors import NotAllowed
from fund.ledger.services import create_fund
from fund.ledger.verify import verify_fund
from fund.models import Fund, Transaction
from fund.security.fields import EncryptedTextField
from tests.cases.test_need_to_know import text_in_table
from tests.conftest import run
from tests.fund.conftest import give_check, today

CANARY_NAME = "Zyxwvut Canaryname"
CANARY_A_NUMBER = "A246813579"
CANARY_DIGITS = "246813579"
NEEDLES = (CANARY_NAME, "Canaryname", CANARY_DIGITS)
HOLD_REFUSED = "Only a legal director or an admin can place or lift a legal hold."


def purge_day() -> date:
    """The default CASE_RETENTION_DAYS is 365: a case closed today is purged from day 366 on."""
    return today() + timedelta(days=366)


def exactly(message: str) -> str:
    """Return the pattern that matches this message and nothing more."""
    return f"^{re.escape(message)}$"


@pytest.fixture(autouse=True)
def root(settings, tmp_path) -> Path:
    settings.CASE_DOCUMENT_ROOT = tmp_path / "documents"
    return settings.CASE_DOCUMENT_ROOT


@pytest.fixture
def fund(db) -> Fund:
    fund = create_fund(
        actor=None,
        opened_on=date(2024, 1, 1),
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=15_000_000,
    )
    give_check(fund, 10_000_000, key="gift:retention", on=today() - timedelta(days=1))
    return fund


def closed_case(actor, name: str = "Ana Invented", *, closed_on: date | None = None) -> Case:
    case = open_case(actor=actor, legal_name=name).case
    change_status(actor=actor, case=case, to=Case.Status.CLOSED)
    Case.objects.filter(pk=case.pk).update(closed_on=closed_on or today())
    return Case.objects.get(pk=case.pk)


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def canary_case(fund, coordinator, treasurer, other_treasurer, root) -> Case:
    """A case whose person is the canary everywhere a coordinator can type: person, notes, a
    hearing's outcome, a bond's obligor and receipt, a disbursement's memo, a document's name;
    its money paid and refunded; then closed."""
    case = open_case(
        actor=coordinator,
        legal_name=CANARY_NAME,
        other_names=CANARY_NAME,
        a_number=CANARY_A_NUMBER,
        date_of_birth="1990-01-01",
        phone="+1 555 0100",
        family_contact=f"{CANARY_NAME}'s sister",
        employer=f"{CANARY_NAME} Farms",
    ).case
    change_status(actor=coordinator, case=case, to=Case.Status.DETAINED, note=CANARY_NAME)
    add_note(actor=coordinator, case=case, text=f"Met {CANARY_NAME}, {CANARY_A_NUMBER}.")
    hearing = add_hearing(
        actor=coordinator,
        case=case,
        at=timezone.now() - timedelta(days=3),
        court="Invented Immigration Court",
        kind=Hearing.Kind.BOND,
    )
    record_outcome(actor=coordinator, hearing=hearing, outcome=f"Bond set for {CANARY_NAME}")
    bond = post_bond(
        actor=coordinator,
        case=case,
        fund=fund,
        amount_cents=150_000,
        obligor_name=f"{CANARY_NAME} Senior",
        obligor_relationship="father",
        obligor_contact=f"{CANARY_NAME}@example.org",
        obligor_attested=True,
        receipt_number=f"EAZ-{CANARY_DIGITS}",
        posted_on=today(),
        idempotency_key="bond-1",
    )
    cancel_bond(actor=treasurer, bond=bond, cancelled_on=today())
    record_bond_refund(
        actor=treasurer, bond=bond, principal_cents=150_000, interest_cents=120, received_on=today()
    )
    attorney = create_payee(actor=coordinator, kind=Payee.Kind.ATTORNEY, name="Ana Abogada")
    asked = request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category=Disbursement.Category.ATTORNEY_FEE,
        payee=attorney,
        amount_cents=50_000,
        memo=f"Retainer for {CANARY_NAME}",
        idempotency_key="req-1",
    )
    approve_disbursement(actor=treasurer, disbursement=asked)
    pay_disbursement(
        actor=other_treasurer, disbursement=asked, method="check", reference="1001", paid_on=today()
    )
    upload_document(
        actor=coordinator,
        case=case,
        kind=Document.Kind.RETAINER,
        uploaded=SimpleUploadedFile(f"{CANARY_NAME}.pdf", pdf_bytes(), "application/pdf"),
    )
    change_status(actor=coordinator, case=case, to=Case.Status.RELEASED)
    change_status(actor=coordinator, case=case, to=Case.Status.CLOSED)
    return Case.objects.get(pk=case.pk)


def plaintexts(case: Case) -> list[str]:
    """Return every encrypted value of the case and of what hangs on it, decrypted."""
    rows = [
        Case.objects.get(pk=case.pk),
        *TimelineEntry.objects.filter(case=case),
        *Hearing.objects.filter(case=case),
        *Bond.objects.filter(case=case),
        *Disbursement.objects.filter(case=case),
        *Document.objects.filter(case=case),
    ]
    return [
        getattr(row, f.name) or ""
        for row in rows
        for f in row._meta.concrete_fields
        if isinstance(f, EncryptedTextField)
    ]


def ciphertexts() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT legal_name, a_number, a_number_index, purged_at FROM cases_case ORDER BY id"
        )
        cases = cursor.fetchall()
        cursor.execute("SELECT text FROM cases_timelineentry ORDER BY id")
        return cases + cursor.fetchall()


def mentions_canary(values: list[str]) -> bool:
    return any(needle.casefold() in value.casefold() for value in values for needle in NEEDLES)


@pytest.mark.django_db
def test_a_dry_run_lists_the_expired_case_with_counts_and_changes_nothing(canary_case, root):
    before = ciphertexts()

    report = purge_expired(today=purge_day())

    assert report.applied is False
    assert report.refs == [canary_case.ref]
    (counts,) = report.cases
    assert (counts.hearings, counts.bonds, counts.disbursements, counts.documents) == (1, 1, 1, 1)
    assert counts.timeline_entries == TimelineEntry.objects.filter(case=canary_case).count()
    assert ciphertexts() == before
    assert mentions_canary(plaintexts(canary_case))
    assert len(list(root.iterdir())) == 1


@pytest.mark.django_db
def test_a_purge_leaves_the_person_nowhere_and_the_books_verify(
    canary_case, fund, root, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.DEBUG)
    assert mentions_canary(plaintexts(canary_case))
    entries = TimelineEntry.objects.filter(case=canary_case).count()

    # The document's file goes when the purge commits.
    with django_capture_on_commit_callbacks(execute=True):
        report = purge_expired(apply=True, today=purge_day())

    assert report.applied is True
    assert report.refs == [canary_case.ref]
    case = Case.objects.get(pk=canary_case.pk)
    assert case.purged_at is not None
    assert (case.ref, case.status, case.a_number_index) == (canary_case.ref, "closed", "")
    assert (case.legal_name, case.a_number, case.family_contact) == ("", "", "")
    assert not mentions_canary(plaintexts(case))
    timeline = list(TimelineEntry.objects.filter(case=case).order_by("pk"))
    assert len(timeline) == entries + 1
    assert [entry.text for entry in timeline] == [""] * entries + [PURGED_TEXT]
    assert Hearing.objects.get(case=case).outcome == ""
    bond = Bond.objects.get(case=case)
    assert (bond.obligor_name, bond.obligor_contact, bond.receipt_number) == ("", "", "")
    assert (bond.amount_cents, bond.status) == (150_000, Bond.Status.REFUNDED)
    assert Disbursement.objects.get(case=case).memo == ""
    assert not Document.objects.filter(case=case).exists()
    assert list(root.iterdir()) == []
    # The payee is the fund's, kept for its other cases and its 1099s.
    assert Payee.objects.get().name == "Ana Abogada"

    # Nothing in clear anywhere, history and ledger included.
    assert CaseEvent.objects.filter(pgh_obj=case).exists()
    assert BondEvent.objects.exists()
    assert DisbursementEvent.objects.exists()
    everywhere = [
        found
        for table in connection.introspection.table_names()
        for found in text_in_table(table, NEEDLES)
    ]
    assert everywhere == []
    assert {t.case_ref for t in Transaction.objects.filter(fund=fund).exclude(case_ref="")} == {
        case.ref
    }
    assert verify_fund(fund).ok
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"purged the personal data of {case.ref}" in logged
    for needle in NEEDLES:
        assert needle not in logged

    assert purge_expired(apply=True, today=purge_day()).refs == []


@pytest.mark.django_db
def test_the_retention_period_and_legal_hold_decide_what_is_purged(coordinator, legal_director):
    day = today()
    expired = closed_case(coordinator, "Ana Invented", closed_on=day - timedelta(days=366))
    just_in = closed_case(coordinator, "Beto Invented", closed_on=day - timedelta(days=365))
    held = closed_case(coordinator, "Cruz Invented", closed_on=day - timedelta(days=900))
    open_case(actor=coordinator, legal_name="Dora Invented")
    set_legal_hold(actor=legal_director, case=held, hold=True, reason="Litigation pending")

    report = purge_expired(apply=True, today=day)

    assert report.refs == [expired.ref]
    assert report.on_hold == [held.ref]
    purged = {c.ref for c in Case.objects.filter(purged_at__isnull=False)}
    assert purged == {expired.ref}
    assert Case.objects.get(pk=just_in.pk).legal_name == "Beto Invented"
    assert Case.objects.get(pk=held.pk).legal_name == "Cruz Invented"

    set_legal_hold(actor=legal_director, case=held, hold=False, reason="Litigation over")
    assert purge_expired(apply=True, today=day).refs == [held.ref]


@pytest.mark.django_db
def test_a_longer_retention_period_keeps_cases_longer(coordinator, settings):
    settings.CASE_RETENTION_DAYS = 730
    case = closed_case(coordinator, closed_on=today() - timedelta(days=400))

    assert purge_expired(apply=True, today=today()).refs == []
    assert purge_expired(apply=True, today=today() + timedelta(days=331)).refs == [case.ref]


@pytest.mark.django_db
def test_a_case_whose_bond_is_not_yet_refunded_is_kept(fund, coordinator):
    case = open_case(actor=coordinator, legal_name=CANARY_NAME).case
    change_status(actor=coordinator, case=case, to=Case.Status.DETAINED)
    post_bond(
        actor=coordinator,
        case=case,
        fund=fund,
        amount_cents=150_000,
        obligor_name="Obligor Invented",
        obligor_attested=True,
        posted_on=today(),
        idempotency_key="bond-open",
    )
    change_status(actor=coordinator, case=case, to=Case.Status.RELEASED)
    change_status(actor=coordinator, case=case, to=Case.Status.CLOSED)

    report = purge_expired(apply=True, today=purge_day())

    assert (report.refs, report.money_open) == ([], [case.ref])
    assert Bond.objects.get(case=case).obligor_name == "Obligor Invented"


@pytest.mark.django_db
def test_only_an_admin_or_the_operator_purges(coordinator, legal_director, treasurer, admin_user):
    case = closed_case(coordinator, closed_on=today() - timedelta(days=400))

    for user in (coordinator, legal_director, treasurer):
        with pytest.raises(NotAllowed, match=exactly("Only an admin can purge expired cases.")):
            purge_expired(actor=user, apply=True)
    assert purge_expired(actor=admin_user, apply=True).refs == [case.ref]
    entry = TimelineEntry.objects.filter(case=case).latest("pk")
    assert (entry.text, entry.by) == (PURGED_TEXT, admin_user)


@pytest.mark.django_db
def test_a_legal_director_or_an_admin_holds_a_case_with_a_reason(
    coordinator, other_coordinator, legal_director, admin_user, treasurer
):
    case = closed_case(coordinator)

    for user in (coordinator, other_coordinator, treasurer):
        with pytest.raises(NotAllowed, match=exactly(HOLD_REFUSED)):
            set_legal_hold(actor=user, case=case, hold=True, reason="Subpoena")
    with pytest.raises(CaseError, match=exactly("Say why the legal hold is placed or lifted.")):
        set_legal_hold(actor=legal_director, case=case, hold=True, reason=" ")

    set_legal_hold(actor=legal_director, case=case, hold=True, reason="Subpoena")
    set_legal_hold(actor=legal_director, case=case, hold=True, reason="Subpoena again")
    set_legal_hold(actor=admin_user, case=case, hold=False, reason="Released by counsel")

    texts = [e.text for e in TimelineEntry.objects.filter(case=case).order_by("pk")[2:]]
    assert texts == ["Legal hold placed: Subpoena", "Legal hold lifted: Released by counsel"]
    assert Case.objects.get(pk=case.pk).legal_hold is False
    assert [e.legal_hold for e in CaseEvent.objects.filter(pgh_obj=case).order_by("pgh_id")][
        -2:
    ] == [True, False]


@pytest.mark.django_db
def test_a_purged_case_takes_no_hold_and_no_hearing(coordinator, legal_director):
    case = closed_case(coordinator, closed_on=today() - timedelta(days=400))
    purge_expired(apply=True)

    with pytest.raises(CaseError, match=f"^{case.ref} was purged: there is nothing left to hold.$"):
        set_legal_hold(actor=legal_director, case=case, hold=True, reason="Too late")
    with pytest.raises(CaseError, match=f"^{case.ref} was purged: it takes no more hearings.$"):
        add_hearing(
            actor=legal_director,
            case=case,
            at=timezone.now(),
            court="Invented Court",
            kind=Hearing.Kind.MASTER,
        )
    with pytest.raises(CaseNotFound):
        set_legal_hold(actor=legal_director, case=Case(pk=case.pk + 100), hold=True, reason="x")


@pytest.mark.django_db
def test_the_command_is_a_dry_run_unless_applied(coordinator, legal_director):
    case = closed_case(coordinator, closed_on=today() - timedelta(days=400))
    held = closed_case(coordinator, "Beto Invented", closed_on=today() - timedelta(days=400))
    set_legal_hold(actor=legal_director, case=held, hold=True, reason="Subpoena")
    cutoff = f"{today() - timedelta(days=365):%Y-%m-%d}"

    dry = run("purge_expired")
    applied = run("purge_expired", "--apply")

    assert dry == (
        f"Would purge {case.ref}: 2 timeline entries, 0 hearings, 0 bonds, 0 disbursements, "
        f"0 documents.\nKept {held.ref}: on legal hold.\n"
        f"Would purge 1 cases closed before {cutoff}. Run with --apply to purge them.\n"
    )
    assert applied == (
        f"Purged {case.ref}: 2 timeline entries, 0 hearings, 0 bonds, 0 disbursements, "
        f"0 documents.\nKept {held.ref}: on legal hold.\n"
        f"Purged 1 cases closed before {cutoff}.\n"
    )
    assert run("purge_expired", "--apply", "--today", f"{today():%Y-%m-%d}").startswith(
        f"Kept {held.ref}"
    )
    with pytest.raises(CommandError, match=re.escape("--today must be a date as YYYY-MM-DD")):
        run("purge_expired", "--today", "yesterday")


def test_a_bad_argument_exits_non_zero_with_one_line():
    done = subprocess.run(
        [sys.executable, "manage.py", "purge_expired", "--bogus"],
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == "purge_expired: unrecognized arguments: --bogus\n"
