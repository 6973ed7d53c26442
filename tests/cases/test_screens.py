"""The case screens: the board, a new case, a case's page and its quick actions, the approvals
queue and the outstanding bonds, as each role sees them; and the staff dashboard's cases cards."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Bond, Case, Disbursement, Facility, Hearing, Payee, TimelineEntry
from cases.services.bonds import post_bond
from cases.services.cases import change_status, open_case
from cases.services.disbursements import request_disbursement
from cases.services.hearings import add_hearing
from cases.services.payees import create_payee
from fund.ledger.progress import fund_progress
from fund.ledger.verify import verify_fund
from fund.security.models import AccessLog
from fund.security.roles import StaffRole
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

CANARY_NAME = "Zyxwvut Canaryname"
CANARY_A_NUMBER = "A246813579"
IN_BANK = 1_000_000  # $10,000.00


def page(response) -> str:
    return response.content.decode()


@pytest.fixture
def facility(db) -> Facility:
    return Facility.objects.create(name="Invented Processing Center", city="Adelanto", state="CA")


@pytest.fixture
def case(coordinator, facility) -> Case:
    """Cora's case of a detained worker, with a canary name and A-number."""
    opened = open_case(
        actor=coordinator,
        legal_name=CANARY_NAME,
        a_number=CANARY_A_NUMBER,
        family_contact="Canary's sister, 555-0100",
        detained_on=date(2026, 11, 2),
        facility=facility,
    )
    return change_status(actor=coordinator, case=opened.case, to=Case.Status.DETAINED)


@pytest.fixture
def attorney(coordinator) -> Payee:
    return create_payee(
        actor=coordinator, kind=Payee.Kind.ATTORNEY, name="Ana Abogada", firm="Valley Law"
    )


def screens(case: Case) -> list[str]:
    return [
        reverse("cases_board"),
        reverse("cases_case_detail", args=[case.ref]),
        reverse("cases_approvals"),
        reverse("cases_bonds"),
    ]


# Who may open which screen


def test_anonymous_visitors_are_sent_to_sign_in(client, case):
    for url in [*screens(case), reverse("cases_case_new")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_an_outsider_is_refused_every_screen(client, outsider, case):
    client.force_login(outsider)
    for url in [*screens(case), reverse("cases_case_new")]:
        assert client.get(url).status_code == 403
    response = client.post(reverse("cases_case_note", args=[case.ref]), {"text": "x"})
    assert response.status_code == 403
    assert not TimelineEntry.objects.filter(case=case, kind=TimelineEntry.Kind.NOTE).exists()


def test_an_unassigned_coordinator_finds_no_such_case(client, other_coordinator, case):
    client.force_login(other_coordinator)

    assert client.get(reverse("cases_case_detail", args=[case.ref])).status_code == 404
    response = client.post(
        reverse("cases_case_status", args=[case.ref]), {"to": Case.Status.RELEASED}
    )
    assert response.status_code == 404
    assert case.ref not in page(client.get(reverse("cases_board")))
    assert client.get(reverse("cases_case_detail", args=["C-1999-0001"])).status_code == 404
    assert client.get(reverse("cases_case_detail", args=["nonsense"])).status_code == 404
    case.refresh_from_db()
    assert case.status == Case.Status.DETAINED


def test_each_role_opens_the_screens_meant_for_it(
    client, coordinator, legal_director, treasurer, auditor, case
):
    expected = {
        coordinator: [200, 200, 403, 403],
        legal_director: [200, 200, 403, 403],
        treasurer: [200, 200, 200, 200],
        auditor: [200, 200, 403, 200],
    }
    for user, statuses in expected.items():
        client.force_login(user)
        assert [client.get(url).status_code for url in screens(case)] == statuses, user
    for user in (treasurer, auditor):
        client.force_login(user)
        assert client.get(reverse("cases_case_new")).status_code == 403


# The board


def test_the_board_lists_references_never_names_and_finds_by_name_for_coordinators(
    client, coordinator, treasurer, case
):
    client.force_login(coordinator)

    shown = page(client.get(reverse("cases_board")))
    assert case.ref in shown
    assert CANARY_NAME not in shown
    assert case.ref in page(client.post(reverse("cases_board"), {"search": "canaryname"}))
    assert case.ref in page(client.post(reverse("cases_board"), {"search": "246-813-579"}))
    assert case.ref in page(client.get(reverse("cases_board"), {"status": "detained"}))
    assert case.ref not in page(client.get(reverse("cases_board"), {"status": "released"}))

    client.force_login(treasurer)
    assert case.ref in page(client.post(reverse("cases_board"), {"search": case.ref.lower()}))
    found = page(client.post(reverse("cases_board"), {"search": "canaryname"}))
    assert case.ref not in found
    assert "No cases match." in found


def test_a_board_search_is_posted_never_put_in_the_address(client, coordinator, case):
    client.force_login(coordinator)

    shown = page(client.get(reverse("cases_board")))
    assert '<form method="post" action="/cases/" class="filters" id="case-find">' in shown

    # An address with a name in it (an old bookmark, a hand-typed URL) finds nothing.
    typed = client.get(reverse("cases_board"), {"search": "canaryname"})
    assert typed.status_code == 400
    assert "a search is sent with the form, never in the page&#x27;s address" in page(typed)
    assert case.ref not in page(typed)


def test_the_pages_of_a_board_search_are_posted_with_the_search(client, coordinator):
    for number in range(27):
        open_case(actor=coordinator, legal_name=f"Pagewalker {number}")
    client.force_login(coordinator)

    first = page(client.post(reverse("cases_board"), {"search": "pagewalker"}))
    assert "27 cases" in first
    assert "Page 1 of 2" in first
    assert 'form="case-find" name="page" value="2">Next</button>' in first
    assert "?page=" not in first

    second = page(client.post(reverse("cases_board"), {"search": "pagewalker", "page": "2"}))
    assert "Page 2 of 2" in second
    assert second.count('href="/cases/C-') == 2


def test_the_board_filters_by_facility_and_coordinator_and_pages(
    client, legal_director, coordinator, other_coordinator, facility, case
):
    theirs = open_case(actor=other_coordinator, legal_name="Other Person").case
    client.force_login(legal_director)

    by_facility = page(client.get(reverse("cases_board"), {"facility": facility.pk}))
    assert case.ref in by_facility
    assert theirs.ref not in by_facility
    by_coordinator = page(client.get(reverse("cases_board"), {"coordinator": other_coordinator.pk}))
    assert theirs.ref in by_coordinator
    assert case.ref not in by_coordinator
    bad = client.get(reverse("cases_board"), {"facility": "9999999"})
    assert bad.status_code == 400
    assert "Please correct the filter" in page(bad)
    assert client.get(reverse("cases_board"), {"page": "99"}).status_code == 200


def test_on_a_phone_the_board_keeps_ref_status_and_next_hearing(client, coordinator, case):
    add_hearing(
        actor=coordinator,
        case=case,
        at=timezone.now() + timedelta(days=3),
        court="Adelanto Immigration Court",
        kind=Hearing.Kind.MASTER,
    )
    client.force_login(coordinator)

    shown = page(client.get(reverse("cases_board")))

    header = shown[shown.index("<thead>") : shown.index("</thead>")]
    kept = [cell for cell in header.split("<th ")[1:] if "hide-narrow" not in cell]
    assert [cell.split(">")[1].split("<")[0] for cell in kept] == [
        "Case",
        "Status",
        "Next hearing",
    ]
    assert (timezone.localtime(timezone.now() + timedelta(days=3))).strftime("%Y-%m-%d") in shown


# A new case


def test_a_coordinator_opens_a_case_through_the_form(client, coordinator, facility):
    client.force_login(coordinator)
    form = client.get(reverse("cases_case_new"))
    assert 'name="csrfmiddlewaretoken"' in page(form)
    assert "not in a union" in page(form)

    response = client.post(
        reverse("cases_case_new"),
        {
            "legal_name": CANARY_NAME,
            "a_number": "a 246 813 579",
            "date_of_birth": "1990-05-04",
            "union_local": "",
            "detained_on": "2026-11-02",
            "facility": facility.pk,
            "idempotency_key": "new-case-form-1",
        },
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases_case_detail", args=[case.ref])
    assert CANARY_NAME not in response["Location"]
    assert (case.legal_name, case.a_number, case.date_of_birth, case.union_local) == (
        CANARY_NAME,
        CANARY_A_NUMBER,
        "1990-05-04",
        "",
    )
    assert list(case.coordinators.all()) == [coordinator]
    shown = page(client.get(response["Location"]))
    assert f"Opened {case.ref}." in shown
    assert CANARY_NAME in shown
    assert "Not in a union" in shown


def test_the_new_case_form_sent_twice_opens_one_case(client, coordinator, facility):
    client.force_login(coordinator)
    key = re.search(
        r'name="idempotency_key" value="([^"]+)"', page(client.get(reverse("cases_case_new")))
    )
    assert key is not None
    fields = {"legal_name": CANARY_NAME, "a_number": CANARY_A_NUMBER, "idempotency_key": key[1]}

    first = client.post(reverse("cases_case_new"), fields)
    again = client.post(reverse("cases_case_new"), fields)

    case = Case.objects.get()
    assert first["Location"] == again["Location"] == reverse("cases_case_detail", args=[case.ref])
    assert case.number == 1
    other = client.post(reverse("cases_case_new"), {**fields, "legal_name": "Someone Else"})
    assert other.status_code == 400
    assert "already used to open another case" in page(other)
    assert Case.objects.count() == 1


def test_a_duplicate_a_number_warns_with_references_only(client, coordinator, case):
    client.force_login(coordinator)

    response = client.post(
        reverse("cases_case_new"),
        {"legal_name": "Same Person", "a_number": CANARY_A_NUMBER, "idempotency_key": "form-2"},
    )

    new = Case.objects.exclude(pk=case.pk).get()
    assert response["Location"] == reverse("cases_case_detail", args=[new.ref])
    shown = page(client.get(response["Location"]))
    assert f"Other cases have this A-number: {case.ref}." in shown
    assert shown.count(CANARY_NAME) == 0


def test_a_bad_a_number_or_no_name_is_a_form_error_and_opens_nothing(client, coordinator):
    client.force_login(coordinator)

    response = client.post(
        reverse("cases_case_new"), {"legal_name": "", "a_number": "12-34", "idempotency_key": "f-3"}
    )

    assert response.status_code == 400
    shown = page(response)
    assert "Enter the legal name." in shown
    assert "An A-number has 8 or 9 digits, optionally after an A (A012-345-678)." in shown
    assert not Case.objects.exists()


# A case's page and its quick actions


def test_the_case_page_shows_the_person_to_its_coordinator_and_logs_it(
    client, coordinator, legal_director, admin_user, case
):
    for user in (coordinator, legal_director, admin_user):
        client.force_login(user)
        shown = page(client.get(reverse("cases_case_detail", args=[case.ref])))
        assert CANARY_NAME in shown
        assert CANARY_A_NUMBER in shown
        assert "Invented Processing Center" in shown

    logged = AccessLog.objects.order_by("pk")
    assert [(row.user, row.action, row.object_ref, row.detail) for row in logged] == [
        (user, AccessLog.Action.VIEW, str(case.pk), "case page")
        for user in (coordinator, legal_director, admin_user)
    ]


def test_treasurers_and_auditors_never_see_the_person_anywhere(
    client, coordinator, treasurer, auditor, case, fund, attorney
):
    request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="attorney_fee",
        payee=attorney,
        amount_cents=150_000,
        memo=f"Retainer for {CANARY_NAME}",
        idempotency_key="req-1",
    )
    post_bond(
        actor=coordinator,
        case=case,
        fund=fund,
        amount_cents=500_000,
        obligor_name="Canary Obligor",
        obligor_attested=True,
        posted_on=date(2026, 11, 20),
        idempotency_key="bond-1",
    )
    from cases.services.cases import add_note

    add_note(actor=coordinator, case=case, text=f"Called {CANARY_NAME}'s sister")
    for user in (treasurer, auditor):
        client.force_login(user)
        urls = [*screens(case), reverse("dashboard")]
        for url in urls:
            response = client.get(url)
            if response.status_code != 200:
                continue
            shown = page(response)
            for canary in (CANARY_NAME, "Canaryname", CANARY_A_NUMBER, "246813579", "Canary"):
                assert canary not in shown, (user, url, canary)
        detail = page(client.get(reverse("cases_case_detail", args=[case.ref])))
        assert case.ref in detail
        assert "$1,500.00" in detail
        assert "$5,000.00" in detail
        assert "Note" in detail
    # Nothing of the person was shown, so nothing of it is logged; the treasurer saw the payee.
    assert {(row.user, row.object_type) for row in AccessLog.objects.all()} == {
        (treasurer, "cases.Payee")
    }


def test_an_auditor_sees_a_family_payee_by_number_and_a_treasurers_view_is_logged(
    client, coordinator, treasurer, auditor, case, fund
):
    family = create_payee(
        actor=coordinator, kind=Payee.Kind.FAMILY, name="Rosa Familiar", contact="555-0100"
    )
    request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="family_support",
        payee=family,
        amount_cents=10_000,
        idempotency_key="family-1",
    )
    url = reverse("cases_case_detail", args=[case.ref])

    client.force_login(auditor)
    seen = page(client.get(url))
    assert "Rosa Familiar" not in seen
    assert f"Payee #{family.pk}" in seen
    assert not AccessLog.objects.filter(object_type="cases.Payee").exists()
    for screen in (url, reverse("cases_approvals"), reverse("cases_payees")):
        client.force_login(treasurer)
        assert "Rosa Familiar" in page(client.get(screen)), screen

    logged = AccessLog.objects.filter(object_type="cases.Payee").order_by("pk")
    assert [(row.user, row.object_ref, row.detail) for row in logged] == [
        (treasurer, str(family.pk), detail)
        for detail in ("case page", "approvals queue", "payees list")
    ]


def test_a_status_change_moves_the_case_and_an_illegal_move_is_refused_with_its_message(
    client, coordinator, case
):
    client.force_login(coordinator)
    detail = page(client.get(reverse("cases_case_detail", args=[case.ref])))
    offered = re.findall(
        r'<option value="([a-z_]+)"', detail.split('name="to"')[1].split("</select>")[0]
    )
    assert offered == ["bond_set", "released", "transferred", "removed", "closed"]

    refused = client.post(
        reverse("cases_case_status", args=[case.ref]), {"to": Case.Status.BOND_POSTED}
    )
    assert refused.status_code == 400
    assert (
        "A case that is detained can move to: bond set, released, transferred, removed, closed."
        in page(refused)
    )
    case.refresh_from_db()
    assert case.status == Case.Status.DETAINED

    moved = client.post(
        reverse("cases_case_status", args=[case.ref]),
        {"to": Case.Status.RELEASED, "note": "Released on recognizance"},
    )
    assert moved.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.RELEASED
    assert f"{case.ref} is now released." in page(client.get(moved["Location"]))


def test_a_note_and_a_hearing_go_on_the_timeline_newest_first(client, coordinator, case):
    client.force_login(coordinator)

    noted = client.post(
        reverse("cases_case_note", args=[case.ref]), {"kind": "call", "text": "Spoke to sister"}
    )
    empty = client.post(reverse("cases_case_note", args=[case.ref]), {"kind": "note", "text": ""})
    heard = client.post(
        reverse("cases_case_hearing", args=[case.ref]),
        {"at": "2026-12-10T09:30", "court": "Adelanto Immigration Court", "kind": "bond"},
    )
    bad_time = client.post(
        reverse("cases_case_hearing", args=[case.ref]),
        {"at": "tomorrow", "court": "Adelanto", "kind": "bond"},
    )

    assert noted.status_code == 302
    assert empty.status_code == 400
    assert "A note needs some text." in page(empty)
    assert heard.status_code == 302
    assert bad_time.status_code == 400
    assert "Enter a day and time." in page(bad_time)
    hearing = Hearing.objects.get()
    assert (hearing.court, hearing.kind) == ("Adelanto Immigration Court", "bond")
    shown = page(client.get(reverse("cases_case_detail", args=[case.ref])))
    timeline = shown[shown.index('id="timeline-heading"') :]
    assert timeline.index("Hearing") < timeline.index("Call") < timeline.index("Case opened")
    assert "Spoke to sister" in timeline


def test_a_legal_director_assigns_and_a_coordinator_is_offered_no_assignment(
    client, coordinator, other_coordinator, legal_director, case
):
    client.force_login(coordinator)
    assert "Assign or take off coordinators" not in page(
        client.get(reverse("cases_case_detail", args=[case.ref]))
    )
    assert client.get(reverse("cases_case_assign", args=[case.ref])).status_code == 403
    refused = client.post(
        reverse("cases_case_assign", args=[case.ref]), {"coordinator": other_coordinator.pk}
    )
    assert refused.status_code == 403

    client.force_login(legal_director)
    assert reverse("cases_case_assign", args=[case.ref]) in page(
        client.get(reverse("cases_case_detail", args=[case.ref]))
    )
    response = client.post(
        reverse("cases_case_assign", args=[case.ref]), {"coordinator": other_coordinator.pk}
    )
    assert response.status_code == 302
    assert set(case.coordinators.all()) == {coordinator, other_coordinator}


def test_an_admin_assigns_from_the_case_page_and_a_treasurer_is_refused(
    client, coordinator, other_coordinator, admin_user, treasurer, case
):
    client.force_login(treasurer)
    refused = client.post(
        reverse("cases_case_assign", args=[case.ref]), {"coordinator": other_coordinator.pk}
    )
    assert refused.status_code == 403

    client.force_login(admin_user)
    response = client.post(
        reverse("cases_case_assign", args=[case.ref]), {"coordinator": other_coordinator.pk}
    )
    assert response.status_code == 302
    assert set(case.coordinators.all()) == {coordinator, other_coordinator}


# Money: request, approve, pay


def test_a_request_is_approved_and_paid_through_the_screens_and_spent_moves(
    client, coordinator, treasurer, case, fund, attorney
):
    client.force_login(coordinator)
    detail = page(client.get(reverse("cases_case_detail", args=[case.ref])))
    assert reverse("cases_case_request", args=[case.ref]) in detail
    form = page(client.get(reverse("cases_case_request", args=[case.ref])))
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    data = {
        "fund": fund.slug,
        "category": "attorney_fee",
        "payee": attorney.pk,
        "amount": "1,500.00",
        "memo": "Retainer",
        "idempotency_key": key,
    }
    first = client.post(reverse("cases_case_request", args=[case.ref]), data)
    again = client.post(reverse("cases_case_request", args=[case.ref]), data)
    assert first.status_code == again.status_code == 302
    disbursement = Disbursement.objects.get()
    assert disbursement.amount_cents == 150_000
    spent_before = fund_progress(fund).spent

    client.force_login(treasurer)
    queue = page(client.get(reverse("cases_approvals")))
    assert case.ref in queue
    assert "Ana Abogada" in queue
    assert "$1,500.00" in queue
    assert "Waiting for" in queue
    approved = client.post(reverse("cases_disbursement_approve", args=[disbursement.pk]))
    assert approved.status_code == 302
    unpaid = client.post(
        reverse("cases_disbursement_pay", args=[disbursement.pk]),
        {f"pay{disbursement.pk}-method": "check", f"pay{disbursement.pk}-paid_on": "2026-11-25"},
    )
    assert unpaid.status_code == 400
    assert "Enter the check number, ACH trace or wire reference." in page(unpaid)
    paid = client.post(
        reverse("cases_disbursement_pay", args=[disbursement.pk]),
        {
            f"pay{disbursement.pk}-method": "check",
            f"pay{disbursement.pk}-reference": "1042",
            f"pay{disbursement.pk}-paid_on": "2026-11-25",
        },
    )

    assert paid.status_code == 302
    disbursement.refresh_from_db()
    assert disbursement.status == Disbursement.Status.PAID
    assert fund_progress(fund).spent == spent_before + 150_000
    assert f"Paid $1,500.00 for {case.ref}" in page(client.get(paid["Location"]))
    assert verify_fund(fund).ok


def test_a_bad_amount_is_a_form_error_and_requests_nothing(
    client, coordinator, case, fund, attorney
):
    client.force_login(coordinator)

    response = client.post(
        reverse("cases_case_request", args=[case.ref]),
        {
            "fund": fund.slug,
            "category": "attorney_fee",
            "payee": attorney.pk,
            "amount": "12.345",
            "idempotency_key": "k-1",
        },
    )

    assert response.status_code == 400
    assert "has-error" in page(response)
    assert not Disbursement.objects.exists()


def test_a_treasurer_who_requested_is_offered_no_approval_and_is_refused_on_the_page(
    client, django_user_model, treasurer, case, fund, attorney, legal_director
):
    both = make_staff(django_user_model, "bea", StaffRole.COORDINATOR, StaffRole.TREASURER)
    from cases.services.cases import assign

    assign(actor=legal_director, case=case, coordinator=both)
    mine = request_disbursement(
        actor=both,
        case=case,
        fund=fund,
        category="filing_fee",
        payee=attorney,
        amount_cents=10_000,
        idempotency_key="mine-1",
    )
    client.force_login(both)

    queue = page(client.get(reverse("cases_approvals")))
    assert f"Approve #{mine.pk}" not in queue
    assert "Your own request: another treasurer approves it." in queue
    refused = client.post(reverse("cases_disbursement_approve", args=[mine.pk]))

    assert refused.status_code == 302
    shown = page(client.get(refused["Location"]))
    assert (
        f"Disbursement #{mine.pk}: You requested this disbursement, so another treasurer must "
        "approve it." in shown
    )
    mine.refresh_from_db()
    assert mine.status == Disbursement.Status.REQUESTED
    assert not mine.approvals.exists()
    client.force_login(treasurer)
    assert f"Approve #{mine.pk}" in page(client.get(reverse("cases_approvals")))


def test_a_treasurer_who_requested_is_offered_no_payment_and_is_refused_on_the_page(
    client, django_user_model, treasurer, case, fund, attorney, legal_director
):
    both = make_staff(django_user_model, "bea", StaffRole.COORDINATOR, StaffRole.TREASURER)
    from cases.services.cases import assign
    from cases.services.disbursements import approve_disbursement

    assign(actor=legal_director, case=case, coordinator=both)
    mine = request_disbursement(
        actor=both,
        case=case,
        fund=fund,
        category="filing_fee",
        payee=attorney,
        amount_cents=10_000,
        idempotency_key="mine-1",
    )
    approve_disbursement(actor=treasurer, disbursement=mine)
    client.force_login(both)

    queue = page(client.get(reverse("cases_approvals")))
    assert f"Pay #{mine.pk}" not in queue
    assert "Your own request: another treasurer pays it." in queue
    refused = client.post(
        reverse("cases_disbursement_pay", args=[mine.pk]),
        {
            f"pay{mine.pk}-method": "check",
            f"pay{mine.pk}-reference": "1042",
            f"pay{mine.pk}-paid_on": "2026-11-25",
        },
    )

    assert refused.status_code == 400
    assert "You requested this disbursement, so another treasurer must pay it." in page(refused)
    mine.refresh_from_db()
    assert (mine.status, mine.transaction_id) == (Disbursement.Status.APPROVED, None)
    client.force_login(treasurer)
    assert f"Pay #{mine.pk}" in page(client.get(reverse("cases_approvals")))


def test_a_rejection_needs_a_reason(client, coordinator, treasurer, case, fund, attorney):
    asked = request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="travel",
        payee=attorney,
        amount_cents=5_000,
        idempotency_key="r-1",
    )
    client.force_login(treasurer)

    blank = client.post(reverse("cases_disbursement_reject", args=[asked.pk]), {})
    done = client.post(
        reverse("cases_disbursement_reject", args=[asked.pk]),
        {f"reject{asked.pk}-reason": "Not a program cost"},
    )

    assert blank.status_code == 400
    assert "Say why the disbursement is rejected." in page(blank)
    assert done.status_code == 302
    asked.refresh_from_db()
    assert (asked.status, asked.reason) == (Disbursement.Status.REJECTED, "Not a program cost")


def test_a_new_payee_leads_back_to_the_request_form(client, coordinator, case):
    client.force_login(coordinator)

    form = client.get(reverse("cases_payee_new"), {"case": case.ref})
    response = client.post(
        reverse("cases_payee_new"),
        {"kind": "court", "name": "Clerk of the Court", "case": case.ref},
    )

    assert form.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == reverse("cases_case_request", args=[case.ref])
    assert Payee.objects.get().name == "Clerk of the Court"


# Bonds


def test_a_bond_is_recorded_and_cancelled_on_the_case_page_and_listed_outstanding(
    client, coordinator, treasurer, auditor, case, fund
):
    client.force_login(coordinator)
    refused = client.post(
        reverse("cases_case_bond", args=[case.ref]),
        {
            "fund": fund.slug,
            "amount": "5000",
            "obligor_name": "Obligor Person",
            "posted_on": "2026-11-20",
            "idempotency_key": "b-1",
        },
    )
    assert refused.status_code == 400
    assert "ICE accepts no other obligor." in page(refused)
    recorded = client.post(
        reverse("cases_case_bond", args=[case.ref]),
        {
            "fund": fund.slug,
            "amount": "5000",
            "obligor_name": "Obligor Person",
            "obligor_attested": "on",
            "posted_on": "2026-11-20",
            "idempotency_key": "b-1",
        },
    )
    assert recorded.status_code == 302
    bond = Bond.objects.get()
    assert bond.amount_cents == 500_000

    client.force_login(treasurer)
    listed = page(client.get(reverse("cases_bonds")))
    assert case.ref in listed
    assert "$5,000.00" in listed
    assert "Obligor Person" not in listed
    cancelled = client.post(
        reverse("cases_bond_step", args=[bond.pk, "cancel"]),
        {f"bond{bond.pk}-cancelled-on": "2026-11-28"},
    )
    assert cancelled.status_code == 302
    bond.refresh_from_db()
    assert bond.status == Bond.Status.CANCELLED
    wrong = client.post(
        reverse("cases_bond_step", args=[bond.pk, "refund"]),
        {f"bond{bond.pk}-refunded-on": "2026-11-30", f"bond{bond.pk}-refunded-principal": "x"},
        follow=True,
    )
    assert "Principal received" in page(wrong)
    bond.refresh_from_db()
    assert bond.status == Bond.Status.CANCELLED
    refunded = client.post(
        reverse("cases_bond_step", args=[bond.pk, "refund"]),
        {
            f"bond{bond.pk}-refunded-on": "2026-11-30",
            f"bond{bond.pk}-refunded-principal": "5,000.00",
            f"bond{bond.pk}-refunded-interest": "0",
        },
    )
    assert refunded.status_code == 302
    bond.refresh_from_db()
    assert (bond.status, bond.interest_cents) == (Bond.Status.REFUNDED, 0)
    assert "0 bonds out, $0.00 in all." in page(client.get(reverse("cases_bonds")))

    client.force_login(auditor)
    read = page(client.get(reverse("cases_bonds")))
    assert "Aging, by days out" in read
    assert "<form" not in read.split("<main")[1]
    assert verify_fund(fund).ok


# The dashboard


def test_the_dashboard_shows_each_role_its_work(
    client, coordinator, other_coordinator, legal_director, treasurer, auditor, case, fund, attorney
):
    add_hearing(
        actor=coordinator,
        case=case,
        at=timezone.now() + timedelta(days=2),
        court="Adelanto Immigration Court",
        kind=Hearing.Kind.MASTER,
    )
    request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="attorney_fee",
        payee=attorney,
        amount_cents=20_000,
        idempotency_key="d-1",
    )
    orphan = Case.objects.create(ref="C-2026-0900", year=2026, number=900, legal_name="Nobody Yet")

    client.force_login(coordinator)
    shown = page(client.get(reverse("dashboard")))
    assert "My cases" in shown
    assert "Detained: 1" in shown
    assert "Adelanto Immigration Court" in shown
    assert "My requests waiting" in shown
    assert "Your roles: coordinator." in shown
    assert orphan.ref not in shown

    client.force_login(legal_director)
    shown = page(client.get(reverse("dashboard")))
    assert "Your roles: legal director." in shown
    assert "Cases (legal director)" in shown
    assert "2 open cases</a>; 1 unassigned:" in shown
    assert orphan.ref in shown

    client.force_login(treasurer)
    shown = page(client.get(reverse("dashboard")))
    assert "1 request to approve, 0 approved to pay." in shown
    assert reverse("cases_approvals") in shown
    assert "No bonds out." in shown
    assert "My cases" not in shown

    client.force_login(auditor)
    shown = page(client.get(reverse("dashboard")))
    assert reverse("ledger_home") in shown
    assert reverse("cases_bonds") in shown
    assert "Approvals waiting" not in shown


def test_on_a_phone_the_queue_and_the_bonds_keep_case_and_amount(
    client, coordinator, treasurer, case, fund, attorney
):
    request_disbursement(
        actor=coordinator,
        case=case,
        fund=fund,
        category="attorney_fee",
        payee=attorney,
        amount_cents=20_000,
        idempotency_key="p-1",
    )
    post_bond(
        actor=treasurer,
        case=case,
        fund=fund,
        amount_cents=300_000,
        obligor_name="Obligor",
        obligor_attested=True,
        posted_on=timezone.localdate(),
        idempotency_key="p-2",
    )
    client.force_login(treasurer)

    def kept(url: str, marker: str) -> list[str]:
        shown = page(client.get(url))
        table = shown[shown.index(marker) :]
        header = table[table.index("<thead>") : table.index("</thead>")]
        cells = [cell for cell in header.split("<th ")[1:] if "hide-narrow" not in cell]
        return [cell.split(">")[1].split("<")[0] for cell in cells]

    assert kept(reverse("cases_approvals"), 'class="ledger-table register approvals"') == [
        "Case",
        "Payee",
        "Amount",
    ]
    assert kept(reverse("cases_bonds"), 'class="ledger-table register outstanding"') == [
        "Case",
        "Status",
        "Amount",
    ]


def test_unknown_or_huge_numbers_are_404s_not_500s(client, treasurer, case):
    client.force_login(treasurer)

    for url in (
        reverse("cases_disbursement_approve", args=[99_999_999_999_999_999_999]),
        reverse("cases_disbursement_pay", args=[12345]),
        reverse("cases_bond_step", args=[99_999_999_999_999_999_999, "cancel"]),
        reverse("cases_bond_step", args=[1, "explode"]),
    ):
        assert client.post(url).status_code == 404, url
