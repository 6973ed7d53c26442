"""The cases API: every operation for every role (in scope, out of scope 404, forbidden 403), the
person never in a treasurer's or an auditor's answer, a disbursement and a bond through their
lives with their exact ledger effect, idempotent posts, and refusals with their messages."""

import json
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from cases.errors import CaseError
from cases.models import Assignment, Bond, Case, Disbursement, Document, Payee, TimelineEntry
from cases.services.bonds import cancel_bond, post_bond, record_bond_breach
from cases.services.cases import open_case
from cases.services.disbursements import (
    REUSED_KEY,
    SELF_APPROVAL,
    approve_disbursement,
    pay_disbursement,
    request_disbursement,
)
from cases.services.hearings import add_hearing
from cases.services.payees import create_payee
from fund.errors import IdempotencyConflict
from fund.ledger.progress import fund_progress
from fund.ledger.verify import verify_fund
from fund.models import Account, Commitment, Fund, Transaction
from fund.security.models import AccessLog
from fund.security.roles import StaffRole
from fund.security.tokens import issue_api_token
from tests.cases.test_documents import pdf_bytes, upload
from tests.conftest import bearer, make_staff

pytestmark = pytest.mark.django_db

API = "/api/v1"
Role = Account.Role
REF = "C-2026-0042"
CANARY_NAME = "Quetzalcoatl Canaryfield"
CANARY_A_NUMBER = "A098765432"
CANARY_PHONE = "555-0199"
OBLIGOR = "Obligina Bondswoman"
RECEIPT = "EAZ-RECEIPT-7731"
ATTORNEY = "Ana Abogada"
IN_BANK = 1_000_000
BOND = 150_000
GIFT_ON = date(2026, 3, 10)
POSTED_ON = date(2026, 3, 20)
PAID_ON = date(2026, 4, 1)
HEARING_AT = datetime(2026, 5, 4, 16, 0, tzinfo=UTC)
# Words that must never reach a treasurer or an auditor; the obligor and the receipt number
# reach nobody through the API.
PERSON = (CANARY_NAME, "Canaryfield", CANARY_A_NUMBER, "098765432", CANARY_PHONE)
WRITE_ONLY = (OBLIGOR, "Bondswoman", RECEIPT)
PERSONAS = (
    "coordinator",
    "other_coordinator",
    "legal_director",
    "treasurer",
    "other_treasurer",
    "auditor",
    "admin_user",
    "outsider",
    "no_token",
)
MONEY_PEOPLE = ("treasurer", "other_treasurer", "auditor")


def headers(user) -> dict[str, str]:
    return {} if user is None else bearer(issue_api_token(actor=None, user=user)[1])


def call(client, user, method, path, body=None):
    if method == "GET":
        return client.get(f"{API}{path}", **headers(user))
    send = client.patch if method == "PATCH" else client.post
    return send(
        f"{API}{path}",
        data=json.dumps(body if body is not None else {}),
        content_type="application/json",
        **headers(user),
    )


def text_of(response) -> str:
    """The body as a reader would see it: JSON escapes (\\u00ed) decoded."""
    try:
        return json.dumps(response.json(), ensure_ascii=False)
    except ValueError:
        return response.content.decode()


def balances(fund: Fund) -> dict[str, int]:
    return {a.role: a.balance_cents for a in Account.objects.filter(fund=fund) if a.balance_cents}


@pytest.fixture
def case(coordinator) -> Case:
    """A detained worker's case with the canary's personal data, assigned to the coordinator."""
    case = Case.objects.create(
        ref=REF,
        year=2026,
        number=42,
        legal_name=CANARY_NAME,
        a_number=CANARY_A_NUMBER,
        phone=CANARY_PHONE,
        status=Case.Status.DETAINED,
    )
    Assignment.objects.create(case=case, coordinator=coordinator)
    return case


@pytest.fixture
def attorney(coordinator) -> Payee:
    return create_payee(
        actor=coordinator, kind=Payee.Kind.ATTORNEY, name=ATTORNEY, firm="Valley Immigration Law"
    )


def bond_for(actor, case, fund, key, cents=BOND) -> Bond:
    return post_bond(
        actor=actor,
        case=case,
        fund=fund,
        amount_cents=cents,
        obligor_name=OBLIGOR,
        obligor_attested=True,
        receipt_number=RECEIPT,
        posted_on=POSTED_ON,
        idempotency_key=key,
    )


@pytest.fixture
def world(fund, case, attorney, coordinator, treasurer, other_treasurer):
    """Something for every operation: a request, an approved request, and three bonds (posted,
    cancelled, breached). The memos name the canary."""
    requested = request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="attorney_fee",
        payee=attorney,
        amount_cents=50_000,
        memo=f"Retainer for {CANARY_NAME}",
        idempotency_key="world-1",
    )
    approved = request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="filing_fee",
        payee=attorney,
        amount_cents=70_000,
        memo=f"Filing for {CANARY_NAME}",
        idempotency_key="world-2",
    )
    approve_disbursement(actor=other_treasurer, disbursement=approved)
    paid = pay_disbursement(
        actor=other_treasurer,
        disbursement=approve_disbursement(
            actor=other_treasurer,
            disbursement=request_disbursement(
                actor=coordinator,
                case=case,
                fund=fund,
                category="commissary",
                payee=attorney,
                amount_cents=9_000,
                memo=f"Commissary for {CANARY_NAME}",
                idempotency_key="world-3",
            ),
        ),
        method="check",
        reference="1041",
        paid_on=PAID_ON,
    )
    posted = bond_for(treasurer, case, fund, "world-bond-1")
    cancelled = cancel_bond(
        actor=treasurer, bond=bond_for(treasurer, case, fund, "world-bond-2"), cancelled_on=PAID_ON
    )
    breached = record_bond_breach(
        actor=treasurer, bond=bond_for(treasurer, case, fund, "world-bond-3"), breached_on=PAID_ON
    )
    hearing = add_hearing(
        actor=coordinator,
        case=case,
        at=HEARING_AT,
        court="San Francisco Immigration Court",
        kind="bond",
        outcome=f"{CANARY_NAME} was granted bond",
    )
    return {
        "fund": fund,
        "case": case,
        "hearing": hearing,
        "payee": attorney,
        "requested": requested,
        "approved": approved,
        "paid": paid,
        "posted": posted,
        "cancelled": cancelled,
        "breached": breached,
    }


# The role matrix. Each operation: how to call it, and the status each persona gets.

_ALL_STAFF = {
    "coordinator": 200,
    "other_coordinator": 200,
    "legal_director": 200,
    "treasurer": 200,
    "other_treasurer": 200,
    "auditor": 200,
    "admin_user": 200,
    "outsider": 403,
    "no_token": 401,
}
_IN_SCOPE = _ALL_STAFF | {"other_coordinator": 404}
_CASE_WORK = {
    "coordinator": 200,
    "other_coordinator": 404,
    "legal_director": 200,
    "treasurer": 403,
    "other_treasurer": 403,
    "auditor": 403,
    "admin_user": 403,
    "outsider": 403,
    "no_token": 401,
}
_TREASURY = {
    "coordinator": 403,
    "other_coordinator": 403,
    "legal_director": 403,
    "treasurer": 200,
    "other_treasurer": 200,
    "auditor": 403,
    "admin_user": 403,
    "outsider": 403,
    "no_token": 401,
}
_BOND_WORK = _CASE_WORK | {"treasurer": 200, "other_treasurer": 200}
_BOOKS = _TREASURY | {"auditor": 200, "admin_user": 200}

OPERATIONS = {
    "list cases": ("GET", lambda w: "/cases", None, _ALL_STAFF),
    "open a case": (
        "POST",
        lambda w: "/cases",
        lambda w: {"legal_name": "Rosa Nueva", "a_number": "A111222333"},
        _CASE_WORK | {"other_coordinator": 200},
    ),
    "read a case": ("GET", lambda w: f"/cases/{REF}", None, _IN_SCOPE),
    "correct the person": (
        "PATCH",
        lambda w: f"/cases/{REF}/person",
        lambda w: {"preferred_language": "Mam", "other_names": f"{CANARY_NAME} Jr."},
        _CASE_WORK,
    ),
    "change status": (
        "POST",
        lambda w: f"/cases/{REF}/status",
        lambda w: {"to": "released", "note": f"{CANARY_NAME} is out"},
        _CASE_WORK,
    ),
    "a case's bonds": ("GET", lambda w: f"/cases/{REF}/bonds", None, _IN_SCOPE),
    "list hearings": ("GET", lambda w: f"/cases/{REF}/hearings", None, _IN_SCOPE),
    "schedule a hearing": (
        "POST",
        lambda w: f"/cases/{REF}/hearings",
        lambda w: {
            "at": "2026-06-01T09:00:00-07:00",
            "court": "San Francisco Immigration Court",
            "kind": "individual",
            "outcome": f"{CANARY_NAME} to testify",
        },
        _CASE_WORK,
    ),
    "list payees": ("GET", lambda w: "/payees", None, _ALL_STAFF),
    "add a payee": (
        "POST",
        lambda w: "/payees",
        lambda w: {"kind": "court", "name": "Immigration Court"},
        _BOND_WORK | {"other_coordinator": 200},
    ),
    "list disbursements": ("GET", lambda w: "/disbursements", None, _ALL_STAFF),
    "request money": (
        "POST",
        lambda w: "/disbursements",
        lambda w: {
            "case": REF,
            "fund": "valley",
            "category": "travel",
            "payee": w["payee"].pk,
            "amount": 4_200,
            "memo": f"Bus fare for {CANARY_NAME}'s sister",
            "idempotency_key": "matrix-1",
        },
        _CASE_WORK,
    ),
    "approve": (
        "POST",
        lambda w: f"/disbursements/{w['requested'].pk}/approve",
        None,
        _TREASURY,
    ),
    "reject": (
        "POST",
        lambda w: f"/disbursements/{w['requested'].pk}/reject",
        lambda w: {"reason": "Covered by legal aid."},
        _TREASURY,
    ),
    "pay": (
        "POST",
        lambda w: f"/disbursements/{w['approved'].pk}/pay",
        lambda w: {"method": "check", "reference": "1042", "paid_on": PAID_ON.isoformat()},
        _TREASURY,
    ),
    "void": (
        "POST",
        lambda w: f"/disbursements/{w['paid'].pk}/void",
        lambda w: {"reason": "Check lost in the mail."},
        _TREASURY,
    ),
    "post a bond": (
        "POST",
        lambda w: "/bonds",
        lambda w: {
            "case": REF,
            "fund": "valley",
            "amount": 100_000,
            "obligor_name": OBLIGOR,
            "obligor_attested": True,
            "receipt_number": RECEIPT,
            "posted_on": POSTED_ON.isoformat(),
            "idempotency_key": "matrix-bond",
        },
        _BOND_WORK,
    ),
    "cancel a bond": (
        "POST",
        lambda w: f"/bonds/{w['posted'].pk}/cancel",
        lambda w: {"cancelled_on": PAID_ON.isoformat()},
        _BOND_WORK,
    ),
    "void a bond": (
        "POST",
        lambda w: f"/bonds/{w['posted'].pk}/void",
        lambda w: {"reason": f"Recorded for {CANARY_NAME} by mistake"},
        _TREASURY,
    ),
    "breach a bond": (
        "POST",
        lambda w: f"/bonds/{w['posted'].pk}/breach",
        lambda w: {"breached_on": PAID_ON.isoformat()},
        _BOND_WORK,
    ),
    "refund a bond": (
        "POST",
        lambda w: f"/bonds/{w['cancelled'].pk}/refund",
        lambda w: {"principal": BOND, "interest": 321, "received_on": PAID_ON.isoformat()},
        _TREASURY,
    ),
    "forfeit a bond": (
        "POST",
        lambda w: f"/bonds/{w['breached'].pk}/forfeit",
        lambda w: {"forfeited_on": PAID_ON.isoformat()},
        _TREASURY,
    ),
    "outstanding bonds": ("GET", lambda w: "/bonds?fund=valley", None, _BOOKS),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_every_operation_for_every_role(request, client, world, operation, persona):
    method, path, body, expected = OPERATIONS[operation]
    user = None if persona == "no_token" else request.getfixturevalue(persona)

    response = call(client, user, method, path(world), body(world) if body else None)

    assert response.status_code == expected[persona], response.content
    shown = text_of(response)
    for words in WRITE_ONLY:
        assert words not in shown
    if persona in MONEY_PEOPLE:
        for words in PERSON:
            assert words not in shown
    if response.status_code == 403 and persona != "outsider":
        assert response.json()["detail"].startswith("Only ")
    assert verify_fund(world["fund"]).ok


def test_an_unassigned_coordinator_sees_none_of_the_case(client, world, other_coordinator):
    for path in ("/cases", "/disbursements", f"/cases?search={REF}"):
        response = call(client, other_coordinator, "GET", path)
        assert response.status_code == 200
        assert response.json() == {"items": [], "count": 0}
    response = call(client, other_coordinator, "GET", f"/disbursements?case={REF}")
    assert response.status_code == 404
    assert response.json() == {"detail": "There is no such case."}
    response = call(
        client,
        other_coordinator,
        "POST",
        f"/bonds/{world['posted'].pk}/cancel",
        {"cancelled_on": PAID_ON.isoformat()},
    )
    assert response.json() == {"detail": "No such bond."}
    assert Bond.objects.get(pk=world["posted"].pk).status == Bond.Status.POSTED


# Reading a case


def test_the_coordinator_reads_the_person_and_the_read_is_logged(client, world, coordinator):
    response = call(client, coordinator, "GET", f"/cases/{REF}")

    assert response.status_code == 200
    found = response.json()
    assert found["ref"] == REF
    assert found["status"] == "bond_posted"
    assert found["coordinators"] == ["cora"]
    assert found["person"]["legal_name"] == CANARY_NAME
    assert found["person"]["a_number"] == CANARY_A_NUMBER
    assert found["person"]["phone"] == CANARY_PHONE
    assert found["timeline_count"] == len(found["timeline"])
    assert all(entry["text"] is not None for entry in found["timeline"])
    logged = AccessLog.objects.get(user=coordinator)
    assert (logged.object_type, logged.object_ref, logged.detail) == (
        "cases.Case",
        str(world["case"].pk),
        "API case",
    )


def test_a_treasurer_reads_the_case_without_the_person(client, world, treasurer):
    response = call(client, treasurer, "GET", f"/cases/{REF}")

    found = response.json()
    assert found["person"] is None
    assert found["status"] == "bond_posted"
    assert {entry["text"] for entry in found["timeline"]} == {None}
    assert {entry["kind"] for entry in found["timeline"]} >= {"status", "bond", "disbursement"}
    assert not AccessLog.objects.filter(user=treasurer).exists()


def test_cases_are_listed_filtered_and_searched_by_reference(client, world, legal_director):
    other = Case.objects.create(ref="C-2025-0007", year=2025, number=7, legal_name="Someone")

    listed = call(client, legal_director, "GET", "/cases").json()
    assert [row["ref"] for row in listed["items"]] == [REF, other.ref]
    assert listed["items"][0] == {
        "ref": REF,
        "status": "bond_posted",
        "facility": None,
        "coordinators": ["cora"],
        "opened": listed["items"][0]["opened"],
    }
    assert [
        r["ref"] for r in call(client, legal_director, "GET", "/cases?search=2025").json()["items"]
    ] == [other.ref]
    assert call(client, legal_director, "GET", "/cases?status=intake").json()["count"] == 1
    # A name is never searched through the API: it would be in the URL.
    response = call(client, legal_director, "GET", "/cases?search=Canaryfield")
    assert response.status_code == 422


def test_auditors_and_admins_see_payees_by_number(client, world, auditor, admin_user, treasurer):
    payee = world["payee"]
    for user in (auditor, admin_user):
        listed = call(client, user, "GET", "/payees").json()
        assert listed["items"][0]["name"] == f"Payee #{payee.pk}"
        assert listed["items"][0]["contact"] == ""
        rows = call(client, user, "GET", "/disbursements").json()["items"]
        assert {row["payee_name"] for row in rows} == {f"Payee #{payee.pk}"}
    assert not AccessLog.objects.filter(user__in=[auditor, admin_user]).exists()
    listed = call(client, treasurer, "GET", "/payees").json()
    assert listed["items"][0]["name"] == ATTORNEY
    assert AccessLog.objects.filter(user=treasurer, detail="API payees").count() == 1


# Money through the API


def test_a_disbursement_from_request_to_payment(client, fund, coordinator, treasurer, auditor):
    opened = call(
        client, coordinator, "POST", "/cases", {"legal_name": "Rosa", "a_number": "A012-345-678"}
    )
    assert opened.status_code == 200
    year = timezone.localdate().year
    assert opened.json() == {
        "ref": f"C-{year}-0001",
        "status": "intake",
        "duplicates": [],
        "hidden_duplicates": 0,
    }
    again = call(
        client, coordinator, "POST", "/cases", {"legal_name": "Rosa", "a_number": "12345678"}
    )
    assert again.json()["duplicates"] == [opened.json()["ref"]]
    ref = again.json()["ref"]

    payee = call(client, coordinator, "POST", "/payees", {"kind": "attorney", "name": ATTORNEY})
    assert payee.status_code == 200
    body = {
        "case": ref,
        "fund": "valley",
        "category": "attorney_fee",
        "payee": payee.json()["id"],
        "amount": 150_000,
        "memo": "Retainer",
        "idempotency_key": "flow-1",
    }
    requested = call(client, coordinator, "POST", "/disbursements", body)
    assert requested.status_code == 200, requested.content
    found = requested.json()
    assert (found["status"], found["amount"], found["requested_by"], found["approvers"]) == (
        "requested",
        150_000,
        "cora",
        [],
    )
    assert found["case"] == ref
    pk = found["id"]

    approved = call(client, treasurer, "POST", f"/disbursements/{pk}/approve")
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["approvers"]) == ("approved", ["tess"])
    assert fund_progress(fund).committed == 150_000

    paid = call(
        client,
        treasurer,
        "POST",
        f"/disbursements/{pk}/pay",
        {"method": "check", "reference": "1042", "paid_on": PAID_ON.isoformat()},
    )
    assert paid.status_code == 200
    txn = Transaction.objects.get(kind=Transaction.Kind.DISBURSEMENT)
    assert paid.json()["status"] == "paid"
    assert paid.json()["transaction"] == txn.reference
    assert (txn.case_ref, txn.effective_date, txn.source_ref) == (ref, PAID_ON, "1042")
    assert balances(fund) == {
        Role.BANK: IN_BANK - 150_000,
        Role.CONTRIBUTIONS: -IN_BANK,
        Role.ATTORNEY_FEES: 150_000,
    }
    assert fund_progress(fund).committed == 0
    assert not Commitment.objects.filter(released_at__isnull=True).exists()
    assert verify_fund(fund).ok

    # Paying again changes nothing.
    again_paid = call(
        client,
        treasurer,
        "POST",
        f"/disbursements/{pk}/pay",
        {"method": "check", "reference": "1042", "paid_on": PAID_ON.isoformat()},
    )
    assert again_paid.json() == paid.json()
    assert Transaction.objects.filter(kind=Transaction.Kind.DISBURSEMENT).count() == 1

    # Voiding posts the payment's reversal; the reason stays on the disbursement.
    voided = call(
        client, treasurer, "POST", f"/disbursements/{pk}/void", {"reason": "Check lost in the mail"}
    )
    assert voided.status_code == 200
    reversal = Transaction.objects.get(kind=Transaction.Kind.REVERSAL)
    assert (voided.json()["status"], voided.json()["reason"]) == (
        "voided",
        "Check lost in the mail",
    )
    assert voided.json()["transaction"] == txn.reference
    assert voided.json()["void_transaction"] == reversal.reference
    # The reason may name someone: auditors read the disbursement without it.
    audited = call(client, auditor, "GET", f"/disbursements?case={ref}").json()["items"]
    assert [(d["status"], d["reason"]) for d in audited] == [("voided", "")]
    assert reversal.reverses == txn
    assert reversal.memo == f"Void of disbursement #{pk}"
    assert balances(fund) == {Role.BANK: IN_BANK, Role.CONTRIBUTIONS: -IN_BANK}
    assert fund_progress(fund).spent == 0
    assert verify_fund(fund).ok

    # Voiding again changes nothing.
    again_voided = call(
        client, treasurer, "POST", f"/disbursements/{pk}/void", {"reason": "Once more"}
    )
    assert again_voided.json() == voided.json()
    assert Transaction.objects.filter(kind=Transaction.Kind.REVERSAL).count() == 1


def test_the_requester_cannot_approve_their_own_request(client, fund, attorney, django_user_model):
    both = make_staff(django_user_model, "bea", StaffRole.COORDINATOR, StaffRole.TREASURER)
    ref = call(client, both, "POST", "/cases", {"legal_name": "Rosa"}).json()["ref"]
    requested = call(
        client,
        both,
        "POST",
        "/disbursements",
        {
            "case": ref,
            "fund": "valley",
            "category": "filing_fee",
            "payee": attorney.pk,
            "amount": 9_000,
            "idempotency_key": "self-1",
        },
    )
    assert requested.status_code == 200

    response = call(client, both, "POST", f"/disbursements/{requested.json()['id']}/approve")

    assert response.status_code == 403
    assert response.json() == {"detail": SELF_APPROVAL}
    assert Disbursement.objects.get().status == Disbursement.Status.REQUESTED
    assert not Commitment.objects.exists()


def test_a_bond_through_its_life(client, fund, case, coordinator, treasurer):
    body = {
        "case": REF,
        "fund": "valley",
        "amount": 250_000,
        "obligor_name": OBLIGOR,
        "obligor_attested": True,
        "posted_on": POSTED_ON.isoformat(),
        "idempotency_key": "life-1",
    }
    posted = call(client, coordinator, "POST", "/bonds", body)
    assert posted.status_code == 200, posted.content
    bond = posted.json()
    assert (bond["status"], bond["amount"], bond["recorded_by"]) == ("posted", 250_000, "cora")
    assert balances(fund)[Role.BANK] == IN_BANK - 250_000
    assert balances(fund)[Role.BOND_DEPOSITS] == 250_000

    outstanding = call(client, treasurer, "GET", "/bonds?fund=valley&as_of=2026-04-30").json()
    assert outstanding["bonds"] == [
        {
            "id": bond["id"],
            "case": REF,
            "amount": 250_000,
            "status": "posted",
            "posted_on": "2026-03-20",
            "days_out": 41,
            "bucket": "0\N{EN DASH}90",
        }
    ]
    assert outstanding["aging"][0] == {"bucket": "0\N{EN DASH}90", "bonds": 1, "amount": 250_000}

    path = f"/bonds/{bond['id']}"
    cancelled = call(client, coordinator, "POST", f"{path}/cancel", {"cancelled_on": "2026-05-01"})
    assert (cancelled.json()["status"], cancelled.json()["cancelled_on"]) == (
        "cancelled",
        "2026-05-01",
    )
    refund = {"principal": 250_000, "interest": 1_234, "received_on": "2026-05-15"}
    assert call(client, coordinator, "POST", f"{path}/refund", refund).status_code == 403
    refunded = call(client, treasurer, "POST", f"{path}/refund", refund)
    assert refunded.status_code == 200
    assert (refunded.json()["status"], refunded.json()["interest"]) == ("refunded", 1_234)
    assert refunded.json()["closed_transaction"] is not None
    assert balances(fund) == {
        Role.BANK: IN_BANK + 1_234,
        Role.CONTRIBUTIONS: -IN_BANK,
        Role.INTEREST: -1_234,
    }
    assert call(client, treasurer, "GET", f"/cases/{REF}/bonds").json()[0]["status"] == "refunded"
    assert verify_fund(fund).ok


def test_a_breached_bond_is_forfeited(client, fund, case, coordinator, treasurer):
    bond = bond_for(coordinator, case, fund, "breach-1")
    path = f"/bonds/{bond.pk}"

    breached = call(client, coordinator, "POST", f"{path}/breach", {"breached_on": "2026-06-01"})
    forfeited = call(client, treasurer, "POST", f"{path}/forfeit", {"forfeited_on": "2026-06-30"})

    assert breached.json()["status"] == "breached"
    assert (forfeited.json()["status"], forfeited.json()["closed_on"]) == (
        "forfeited",
        "2026-06-30",
    )
    assert balances(fund) == {
        Role.BANK: IN_BANK - BOND,
        Role.CONTRIBUTIONS: -IN_BANK,
        Role.BOND_FORFEITURE: BOND,
    }
    assert verify_fund(fund).ok


# Idempotency and refusals


def test_a_case_opened_twice_with_one_key_is_one_case(client, coordinator):
    body = {"legal_name": "Ana Ejemplo", "idempotency_key": "open-once"}
    first = call(client, coordinator, "POST", "/cases", body)
    second = call(client, coordinator, "POST", "/cases", body)

    assert first.status_code == second.status_code == 200
    assert first.json()["ref"] == second.json()["ref"]
    other = call(client, coordinator, "POST", "/cases", body | {"legal_name": "Bo Muestra"})
    assert other.status_code == 409
    assert "already used to open another case" in other.json()["detail"]


def test_the_same_key_makes_one_request_and_one_bond(client, world, coordinator):
    body = {
        "case": REF,
        "fund": "valley",
        "category": "travel",
        "payee": world["payee"].pk,
        "amount": 4_200,
        "idempotency_key": "twice",
    }
    first = call(client, coordinator, "POST", "/disbursements", body)
    second = call(client, coordinator, "POST", "/disbursements", body)
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert Disbursement.objects.filter(category="travel").count() == 1
    other = call(client, coordinator, "POST", "/disbursements", body | {"amount": 4_300})
    assert (other.status_code, other.json()) == (409, {"detail": REUSED_KEY})
    assert Disbursement.objects.filter(category="travel").count() == 1

    bond = {
        "case": REF,
        "fund": "valley",
        "amount": 10_000,
        "obligor_name": OBLIGOR,
        "obligor_attested": True,
        "posted_on": POSTED_ON.isoformat(),
        "idempotency_key": "twice",
    }
    first = call(client, coordinator, "POST", "/bonds", bond)
    second = call(client, coordinator, "POST", "/bonds", bond)
    assert first.json()["id"] == second.json()["id"]
    assert Bond.objects.filter(amount_cents=10_000).count() == 1
    other = call(client, coordinator, "POST", "/bonds", bond | {"amount": 10_001})
    assert (other.status_code, other.json()) == (
        409,
        {"detail": "This idempotency key was already used for another bond."},
    )
    assert Bond.objects.filter(case__ref=REF, amount_cents__in=[10_000, 10_001]).count() == 1


def test_invalid_input_is_422_with_where_and_why(client, world, coordinator):
    body = {
        "case": REF,
        "fund": "valley",
        "category": "bribe",
        "payee": world["payee"].pk,
        "amount": 0,
        "idempotency_key": "bad one",
    }
    before = Disbursement.objects.count()

    response = call(client, coordinator, "POST", "/disbursements", body)

    assert response.status_code == 422
    problems = {tuple(p["loc"][-1:]): p["type"] for p in response.json()["detail"]}
    assert problems == {
        ("category",): "literal_error",
        ("amount",): "greater_than_equal",
        ("idempotency_key",): "string_pattern_mismatch",
    }
    assert Disbursement.objects.count() == before


@pytest.mark.parametrize(
    ("user", "path", "body", "detail"),
    [
        (
            "coordinator",
            "/cases",
            {"legal_name": "Rosa", "a_number": "12"},
            "An A-number has 8 or 9 digits, optionally after an A (A012-345-678).",
        ),
        (
            "coordinator",
            "/cases",
            {"legal_name": "Rosa", "facility": 999},
            "There is no facility #999.",
        ),
        (
            "coordinator",
            f"/cases/{REF}/status",
            {"to": "intake"},
            "A case that is bond posted can move to: released, closed.",
        ),
        (
            "coordinator",
            "/disbursements",
            {
                "case": REF,
                "fund": "valley",
                "category": "travel",
                "payee": 999_999,
                "amount": 100,
                "idempotency_key": "x",
            },
            "There is no payee #999999.",
        ),
        (
            "coordinator",
            "/bonds",
            {
                "case": REF,
                "fund": "valley",
                "amount": 100,
                "obligor_name": OBLIGOR,
                "obligor_attested": False,
                "posted_on": "2026-03-20",
                "idempotency_key": "x",
            },
            "The obligor must attest being a US citizen or lawful permanent resident: "
            "ICE accepts no other obligor.",
        ),
        (
            "treasurer",
            "/disbursements/{approved}/pay",
            {"method": "check", "reference": " ", "paid_on": "2026-04-01"},
            "Enter the check number, ACH trace or wire reference.",
        ),
        (
            "treasurer",
            "/disbursements/{requested}/reject",
            {"reason": ""},
            "Say why the disbursement is rejected.",
        ),
        (
            "treasurer",
            "/disbursements/{paid}/void",
            {"reason": " "},
            "Say why the payment is voided.",
        ),
        (
            "treasurer",
            "/disbursements/{approved}/void",
            {"reason": "Sent twice"},
            "Disbursement #{approved} is approved: only a paid disbursement can be voided.",
        ),
        (
            "treasurer",
            "/bonds/{cancelled}/refund",
            {"principal": 1, "interest": 0, "received_on": "2026-04-01"},
            "The principal refunded must be the bond's amount, $1,500.00; record any difference "
            "as interest.",
        ),
    ],
)
def test_refusals_are_400_with_their_message(request, client, world, user, path, body, detail):
    pks = {name: world[name].pk for name in ("approved", "requested", "paid", "cancelled")}
    path, detail = path.format(**pks), detail.format(**pks)
    before = (Transaction.objects.count(), Disbursement.objects.count(), Case.objects.count())

    response = call(client, request.getfixturevalue(user), "POST", path, body)

    assert (response.status_code, response.json()) == (400, {"detail": detail})
    after = (Transaction.objects.count(), Disbursement.objects.count(), Case.objects.count())
    assert after == before


def test_a_payment_the_bank_cannot_cover_changes_nothing(
    client, world, treasurer, other_treasurer, coordinator
):
    requested = call(
        client,
        coordinator,
        "POST",
        "/disbursements",
        {
            "case": REF,
            "fund": "valley",
            "category": "attorney_fee",
            "payee": world["payee"].pk,
            "amount": 900_000,
            "idempotency_key": "too-much",
        },
    ).json()
    second = make_staff(type(treasurer), "tina", StaffRole.TREASURER)
    for approver in (other_treasurer, second):  # above the threshold: two treasurers
        call(client, approver, "POST", f"/disbursements/{requested['id']}/approve")
    assert Disbursement.objects.get(pk=requested["id"]).status == Disbursement.Status.APPROVED
    before = balances(world["fund"])

    response = call(
        client,
        treasurer,
        "POST",
        f"/disbursements/{requested['id']}/pay",
        {"method": "wire", "reference": "W-1", "paid_on": PAID_ON.isoformat()},
    )

    assert response.status_code == 400
    assert "Bank" in response.json()["detail"] or "bank" in response.json()["detail"]
    assert balances(world["fund"]) == before
    assert Disbursement.objects.get(pk=requested["id"]).status == Disbursement.Status.APPROVED


def test_hearings_through_the_api(client, world, coordinator, auditor):
    body = {"at": "2026-06-01T09:00:00-07:00", "court": "SF Immigration Court", "kind": "master"}

    scheduled = call(client, coordinator, "POST", f"/cases/{REF}/hearings", body)

    assert scheduled.status_code == 200, scheduled.content
    assert scheduled.json() | {"id": 0} == {
        "id": 0,
        "case": REF,
        "at": "2026-06-01T16:00:00Z",
        "court": "SF Immigration Court",
        "kind": "master",
        "judge": "",
        "outcome": "",
    }
    listed = call(client, coordinator, "GET", f"/cases/{REF}/hearings").json()
    assert [(h["kind"], h["outcome"]) for h in listed] == [
        ("bond", f"{CANARY_NAME} was granted bond"),
        ("master", ""),
    ]
    seen_by_auditor = call(client, auditor, "GET", f"/cases/{REF}/hearings").json()
    assert [(h["kind"], h["outcome"]) for h in seen_by_auditor] == [
        ("bond", None),
        ("master", None),
    ]
    naive = call(
        client, coordinator, "POST", f"/cases/{REF}/hearings", body | {"at": "2026-06-01T09:00:00"}
    )
    assert naive.status_code == 422
    far = call(
        client,
        coordinator,
        "POST",
        f"/cases/{REF}/hearings",
        body | {"at": "0001-01-01T00:00:00+05:00"},
    )
    assert (far.status_code, far.json()) == (
        400,
        {"detail": "A hearing's time is between 2000 and 2099."},
    )
    # An offset no place has (PostgreSQL stores none beyond ±15:59).
    nowhere = call(
        client,
        coordinator,
        "POST",
        f"/cases/{REF}/hearings",
        body | {"at": "2027-01-05T10:00+16:00"},
    )
    assert (nowhere.status_code, nowhere.json()) == (
        400,
        {"detail": "A hearing's time zone is between UTC-12:00 and UTC+14:00."},
    )


# A request's supporting document


@pytest.fixture
def two_cases(coordinator, settings, tmp_path):
    """Two cases, their documents kept in a private folder of the test's own."""
    settings.CASE_DOCUMENT_ROOT = tmp_path / "documents"
    return [open_case(actor=coordinator, legal_name=name).case for name in ("Rosa", "Luis")]


def ask_with(coordinator, case, fund, attorney, key, document=None):
    return request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="attorney_fee",
        payee=attorney,
        amount_cents=150_000,
        idempotency_key=key,
        document=document,
    )


def test_a_request_names_its_case_document_and_only_its_own_case(
    coordinator, fund, attorney, two_cases
):
    rosa, luis = two_cases
    invoice = upload(coordinator, rosa, pdf_bytes(), "invoice.pdf", kind=Document.Kind.INVOICE)
    other = upload(coordinator, luis, pdf_bytes(), "luis.pdf", kind=Document.Kind.INVOICE)

    requested = ask_with(coordinator, rosa, fund, attorney, "with-invoice", invoice)

    assert requested.document == invoice
    entry = rosa.timeline.filter(kind=TimelineEntry.Kind.DISBURSEMENT).latest("at")
    assert f"supported by document #{invoice.pk} (Invoice)" in entry.text
    assert "invoice.pdf" not in entry.text
    with pytest.raises(CaseError, match=f"one of {rosa.ref}'s documents"):
        ask_with(coordinator, rosa, fund, attorney, "wrong-case", other)
    with pytest.raises(IdempotencyConflict):
        ask_with(coordinator, rosa, fund, attorney, "with-invoice", None)


def test_the_api_takes_the_document_by_id_and_refuses_another_cases(
    client, coordinator, treasurer, fund, attorney, two_cases
):
    rosa, luis = two_cases
    invoice = upload(coordinator, rosa, pdf_bytes(), kind=Document.Kind.INVOICE)
    other = upload(coordinator, luis, pdf_bytes(), kind=Document.Kind.INVOICE)
    body = {
        "case": rosa.ref,
        "fund": "valley",
        "category": "attorney_fee",
        "payee": attorney.pk,
        "amount": 150_000,
        "idempotency_key": "api-invoice",
    }

    requested = call(client, coordinator, "POST", "/disbursements", body | {"document": invoice.pk})
    refused = call(
        client,
        coordinator,
        "POST",
        "/disbursements",
        body | {"document": other.pk, "idempotency_key": "x"},
    )
    seen = call(client, treasurer, "GET", f"/disbursements?case={rosa.ref}")

    assert requested.status_code == 200, requested.content
    assert requested.json()["document"] == invoice.pk
    assert refused.status_code == 400
    assert refused.json()["detail"] == f"{rosa.ref} has no document #{other.pk}."
    assert [d["document"] for d in seen.json()["items"]] == [invoice.pk]


def test_the_approvals_queue_names_the_document_by_number_and_kind_only(
    client, coordinator, treasurer, fund, attorney, two_cases
):
    rosa, _ = two_cases
    invoice = upload(coordinator, rosa, pdf_bytes(), "Rosa invoice.pdf", kind=Document.Kind.INVOICE)
    ask_with(coordinator, rosa, fund, attorney, "queued-with-invoice", invoice)
    ask_with(coordinator, rosa, fund, attorney, "queued-without")
    client.force_login(treasurer)

    page = client.get("/cases/approvals/").content.decode()

    assert page.count("Supporting document:") == 1
    assert f"Supporting document: #{invoice.pk} (Invoice)." in page
    assert "Rosa invoice" not in page
