"""A bond recorded by mistake (the wrong case, amount or fund) is voided by a treasurer, with a
reason: its posting is reversed, the money is back in the bank, and the case returns to bond set.
The ledger's own Reverse refuses a bond's posting, so this is the way to undo one."""

import json
import re
from datetime import date

import pytest
from django.utils import timezone

from cases.errors import CaseError, CaseNotFound, TransitionRefused
from cases.models import Bond, BondEvent, Case, TimelineEntry
from cases.queries import outstanding_bonds
from cases.reports import bond_rows
from cases.services.bonds import cancel_bond, void_bond
from fund.errors import NotAllowed, OwnedByWorkflow
from fund.ledger.progress import fund_progress
from fund.ledger.services import reverse_transaction
from fund.ledger.verify import verify_fund
from fund.reports.registry import Period
from fund.security.tokens import issue_api_token
from tests.cases import test_bonds
from tests.cases.test_bonds import AS_OF, BANK_CENTS, OBLIGOR, Kind, Role, balances, post
from tests.conftest import bearer

pytestmark = pytest.mark.django_db

# The fund with $100,000 in the bank, and a case in bond set assigned to the coordinator.
fund = test_bonds.fund
case = test_bonds.case

REASON = "Recorded on the wrong case: Rosa's bond is on C-2026-0002"


def test_a_treasurer_voids_a_bond_recorded_by_mistake(fund, case, coordinator, treasurer):
    bond = post(coordinator, case, fund, 750_000)

    voided = void_bond(actor=treasurer, bond=bond, reason=f"  {REASON} ")

    today = timezone.localdate()
    assert (voided.status, voided.void_reason, voided.closed_on) == (
        Bond.Status.VOIDED,
        REASON,
        today,
    )
    reversal = voided.closed_transaction
    assert (reversal.kind, reversal.reverses, reversal.case_ref) == (
        Kind.REVERSAL,
        bond.posted_transaction,
        case.ref,
    )
    assert reversal.memo == f"Void of bond #{bond.pk}"
    assert balances(fund) == {Role.BANK: BANK_CENTS, Role.CONTRIBUTIONS: -BANK_CENTS}
    assert fund_progress(fund).in_bonds == 0
    assert outstanding_bonds(fund, today) == []
    # On the days between, the money was out, as the ledger says.
    assert [b.bond_id for b in outstanding_bonds(fund, AS_OF)] == [bond.pk]
    case.refresh_from_db()
    assert case.status == Case.Status.BOND_SET
    texts = list(case.timeline.order_by("pk").values_list("kind", flat=True))
    assert texts[-2:] == [TimelineEntry.Kind.BOND, TimelineEntry.Kind.STATUS]
    assert case.timeline.order_by("pk").last().text == (
        "Status changed from bond posted to bond set: the bond was voided."
    )
    # The reason may name someone: in the bond's encrypted field, never in the ledger or history.
    assert "Rosa" not in reversal.memo
    assert not any("Rosa" in str(row) for row in BondEvent.objects.values_list())
    assert verify_fund(fund).ok


def test_voiding_twice_reverses_once_and_only_a_posted_bond_is_voided(
    fund, case, coordinator, treasurer
):
    bond = post(coordinator, case, fund, 100_000)
    void_bond(actor=treasurer, bond=bond, reason=REASON)
    again = void_bond(actor=treasurer, bond=bond, reason="Another reason")

    assert again.void_reason == REASON
    assert fund.transactions.filter(kind=Kind.REVERSAL).count() == 1

    other = post(coordinator, case, fund, 200_000, key="b2")
    cancel_bond(actor=coordinator, bond=other, cancelled_on=AS_OF)
    with pytest.raises(TransitionRefused, match="Only a posted bond can be voided"):
        void_bond(actor=treasurer, bond=other, reason=REASON)
    assert Bond.objects.get(pk=other.pk).status == Bond.Status.CANCELLED


def test_a_void_needs_a_reason_and_a_treasurer(fund, case, coordinator, legal_director, treasurer):
    bond = post(coordinator, case, fund, 100_000)

    with pytest.raises(CaseError, match="The reason is required"):
        void_bond(actor=treasurer, bond=bond, reason="  ")
    for who in (coordinator, legal_director):
        with pytest.raises(NotAllowed):
            void_bond(actor=who, bond=bond, reason=REASON)

    assert Bond.objects.get(pk=bond.pk).status == Bond.Status.POSTED
    assert fund_progress(fund).in_bonds == 100_000


def test_the_case_stays_bond_posted_while_another_of_its_bonds_stands(
    fund, case, coordinator, treasurer
):
    first = post(coordinator, case, fund, 100_000)
    post(coordinator, case, fund, 150_000, key="b2")

    void_bond(actor=treasurer, bond=first, reason=REASON)

    case.refresh_from_db()
    assert case.status == Case.Status.BOND_POSTED
    assert fund_progress(fund).in_bonds == 150_000


def test_the_ledgers_reverse_still_refuses_a_bonds_posting(fund, case, coordinator, treasurer):
    bond = post(coordinator, case, fund, 100_000)

    with pytest.raises(OwnedByWorkflow, match="one recorded by mistake is voided there"):
        reverse_transaction(original=bond.posted_transaction, actor=treasurer, memo="oops")


def test_the_bond_report_lists_the_void_in_its_period(fund, case, coordinator, treasurer):
    bond = post(coordinator, case, fund, 100_000)
    void_bond(actor=treasurer, bond=bond, reason=REASON)
    today = timezone.localdate()

    rows = [row.values for row in bond_rows(fund, Period(date(today.year, 1, 1), today))]

    heading = rows.index(
        ("Voided in the period (recorded by mistake, posting reversed)", *(None,) * 6)
    )
    assert rows[heading + 1][:2] == (case.ref, "Voided (recorded by mistake)")
    assert rows[heading + 1][5] == 100_000
    assert ("Voided", None, None, None, None, 100_000, None) in rows
    assert not any(REASON in str(row) or OBLIGOR in str(row) for row in rows)


# The page and the API


def test_a_treasurer_voids_a_bond_on_its_page(client, fund, case, coordinator, treasurer):
    bond = post(coordinator, case, fund, 100_000)
    client.force_login(treasurer)
    url = f"/cases/bonds/{bond.pk}/void/"

    case_page = client.get(f"/cases/{case.ref}/").content.decode()
    page = client.get(url)
    empty = client.post(url, {"reason": ""})
    done = client.post(url, {"reason": REASON})

    assert f'href="{url}">Void this bond (recorded by mistake)</a>' in case_page
    assert page.status_code == 200
    assert "Void the bond of $1,000.00" in page.content.decode()
    assert OBLIGOR not in page.content.decode()
    assert empty.status_code == 400
    assert "Say why the bond is voided." in empty.content.decode()
    assert done.status_code == 302
    assert done["Location"] == f"/cases/{case.ref}/#bonds"
    shown = re.sub(r"<[^>]+>", " ", client.get(done["Location"]).content.decode())
    assert f"Voided bond #{bond.pk} of $1,000.00 for {case.ref}" in shown
    assert "Void this bond" not in shown
    assert Bond.objects.get(pk=bond.pk).status == Bond.Status.VOIDED


def test_only_treasurers_reach_the_void_page(
    client, fund, case, coordinator, other_coordinator, auditor
):
    bond = post(coordinator, case, fund, 100_000)
    url = f"/cases/bonds/{bond.pk}/void/"

    for who in (coordinator, other_coordinator, auditor):
        client.force_login(who)
        assert client.get(url).status_code == 403
        assert client.post(url, {"reason": REASON}).status_code == 403
        assert "Void this bond" not in client.get(f"/cases/{case.ref}/").content.decode()
    assert Bond.objects.get(pk=bond.pk).status == Bond.Status.POSTED


def test_the_api_voids_a_bond_for_treasurers_only(client, fund, case, coordinator, treasurer):
    bond = post(coordinator, case, fund, 100_000)

    def void(user):
        return client.post(
            f"/api/v1/bonds/{bond.pk}/void",
            data=json.dumps({"reason": REASON}),
            content_type="application/json",
            **bearer(issue_api_token(actor=None, user=user)[1]),
        )

    refused = void(coordinator)
    done = void(treasurer)
    missing = client.post(
        "/api/v1/bonds/999999/void",
        data=json.dumps({"reason": REASON}),
        content_type="application/json",
        **bearer(issue_api_token(actor=None, user=treasurer)[1]),
    )

    assert refused.status_code == 403
    assert done.status_code == 200
    body = done.json()
    assert (body["status"], body["closed_on"]) == ("voided", timezone.localdate().isoformat())
    assert body["closed_transaction"] == Bond.objects.get(pk=bond.pk).closed_transaction.reference
    assert REASON not in done.content.decode()
    assert missing.status_code == 404
    with pytest.raises(CaseNotFound):
        void_bond(actor=treasurer, bond=Bond(pk=999999), reason=REASON)
