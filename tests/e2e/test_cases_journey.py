"""A coordinator opens a case, adds a hearing and requests $1,500 for an attorney; a treasurer
approves and pays it; the fund page's "spent" moves by $1,500 (issue 10's browser journey)."""

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from cases.models import Case, Disbursement, Facility, Hearing, Payee
from cases.services.cases import open_case
from fund.ledger.services import create_fund
from fund.ledger.verify import verify_fund
from fund.security.roles import StaffRole
from tests.conftest import PASSWORD, enrol_totp, make_staff, totp_code
from tests.e2e.conftest import PHONE
from tests.fund.conftest import give_check

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CANARY_NAME = "Zyxwvut Canaryname"


def sign_in(page: Page, live_server, username: str, secret: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Code").fill(totp_code(secret, margin=5))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def spent(page: Page):
    """The fund page's "Spent helping workers" figure."""
    return (
        page.locator(".figures div")
        .filter(has=page.get_by_text("Spent helping workers", exact=True))
        .locator("dd")
    )


def test_a_case_from_intake_to_an_attorney_paid_moves_the_fund_pages_spent(
    browser: Browser, page: Page, live_server, django_user_model, csp_violations
):
    fund = create_fund(
        actor=None,
        opened_on=date(2024, 1, 1),
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=15_000_000,
    )
    give_check(fund, 1_000_000, key="gift:check-1", on=date(2026, 3, 10))
    Facility.objects.create(name="Invented Processing Center", city="Adelanto", state="CA")
    cora = enrol_totp(make_staff(django_user_model, "cora", StaffRole.COORDINATOR, mfa=False))
    tess = enrol_totp(make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False))

    # Before: the public fund page has spent nothing.
    page.goto(f"{live_server.url}/f/valley/")
    expect(spent(page)).to_have_text("$0.00")

    # The coordinator opens the case through the new-case form.
    sign_in(page, live_server, "cora", cora)
    page.goto(f"{live_server.url}/cases/")
    page.get_by_role("link", name="Open a new case").click()
    page.get_by_label("Legal name").fill(CANARY_NAME)
    page.get_by_label("A-number").fill("A012-345-678")
    page.get_by_label("Detained on").fill("2026-11-02")
    page.get_by_label("Facility").select_option(label="Invented Processing Center (Adelanto, CA)")
    page.get_by_role("button", name="Open the case").click()
    expect(page.get_by_text(re.compile(r"^Opened C-\d{4}-0001\.$"))).to_be_visible()
    case = Case.objects.get()
    expect(page.get_by_role("heading", name=case.ref, exact=True)).to_be_visible()
    expect(page.get_by_text(CANARY_NAME, exact=True)).to_be_visible()

    # The board finds the case by the person's name, and the name stays out of the address.
    page.goto(f"{live_server.url}/cases/")
    page.get_by_label("Find").fill(CANARY_NAME.split()[0])
    page.get_by_role("button", name="Find").click()
    expect(page.get_by_role("link", name=case.ref)).to_be_visible()
    assert page.url == f"{live_server.url}/cases/"
    page.get_by_role("link", name=case.ref).click()

    # A hearing, through the case page's hearing form.
    when = (timezone.localtime() + timedelta(days=14)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    page.get_by_label("Date and time").fill(when.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Court").fill("Adelanto Immigration Court")
    page.get_by_label("Kind").select_option(label="Bond hearing")
    page.get_by_role("button", name="Add the hearing").click()
    expect(page.get_by_text(f"Hearing scheduled for {case.ref}.")).to_be_visible()
    hearings = page.locator("#hearings tbody tr")
    expect(hearings).to_have_count(1)
    expect(hearings.first).to_contain_text(when.strftime("%Y-%m-%d %H:%M"))
    expect(hearings.first).to_contain_text("Adelanto Immigration Court")

    # The case page links to the request-money page; the attorney is added through the
    # new-payee form, which comes back to it.
    page.get_by_role("link", name="Request money", exact=True).click()
    request_heading = page.get_by_role("heading", name=f"Request money · {case.ref}")
    expect(request_heading).to_be_visible()
    page.get_by_role("link", name="Not listed? Add a new payee").click()
    page.get_by_label("Kind").select_option(label="Attorney")
    page.get_by_label("Name").fill("Ana Abogada")
    page.get_by_label("Firm").fill("Valley Law")
    page.get_by_role("button", name="Add the payee").click()
    expect(page.get_by_text(re.compile(r"^Added payee #\d+: choose it"))).to_be_visible()
    expect(request_heading).to_be_visible()

    # $1,500 for the attorney, through the request-money form; it goes back to the case.
    form = page.locator("form", has=page.get_by_role("button", name="Request the money"))
    form.get_by_label("Category").select_option(label="Attorney fee")
    form.get_by_label("Payee").select_option(label="Ana Abogada (Valley Law)")
    form.get_by_label("Amount").fill("1500")
    form.get_by_label("Memo").fill("Retainer for the bond hearing")
    form.get_by_role("button", name="Request the money").click()
    expect(
        page.get_by_text(re.compile(rf"^Requested \$1,500\.00 for {case.ref}: "))
    ).to_be_visible()
    expect(page.get_by_role("heading", name=case.ref, exact=True)).to_be_visible()
    money_rows = page.locator("#money tbody tr")
    expect(money_rows).to_have_count(1)
    expect(money_rows.first).to_contain_text("Requested")
    expect(money_rows.first).to_contain_text("$1,500.00")

    # The treasurer, in a browser of their own, approves and pays from the approvals queue.
    treasurer = browser.new_context()
    desk = treasurer.new_page()
    sign_in(desk, live_server, "tess", tess)
    desk.goto(f"{live_server.url}/cases/approvals/")
    disbursement = Disbursement.objects.get()
    row = desk.locator(f"#d{disbursement.pk}")
    expect(row).to_contain_text(case.ref)
    expect(row).to_contain_text("Ana Abogada")
    expect(row).to_contain_text("$1,500.00")
    desk.get_by_role("button", name=f"Approve #{disbursement.pk}").click()
    expect(
        desk.get_by_text(re.compile(rf"^Disbursement #{disbursement.pk} for {case.ref}: Approved"))
    ).to_be_visible()

    pay = desk.locator("form", has=desk.get_by_role("button", name="Pay $1,500.00"))
    pay.get_by_label("Method").select_option(label="Check")
    pay.get_by_label("Check number or reference").fill("1042")
    pay.get_by_role("button", name="Pay $1,500.00").click()
    expect(desk.get_by_text("Nothing is waiting.")).to_be_visible()

    # After: the fund page's spent has moved by exactly $1,500.00.
    desk.goto(f"{live_server.url}/f/valley/")
    expect(spent(desk)).to_have_text("$1,500.00")
    page.goto(f"{live_server.url}/f/valley/")
    expect(spent(page)).to_have_text("$1,500.00")
    treasurer.close()

    disbursement.refresh_from_db()
    assert (disbursement.status, disbursement.amount_cents, disbursement.reference) == (
        Disbursement.Status.PAID,
        150_000,
        "1042",
    )
    assert disbursement.requested_by.username == "cora"
    assert disbursement.decided_by is not None
    assert disbursement.decided_by.username == "tess"
    assert Hearing.objects.get().case == case
    assert Payee.objects.get().kind == Payee.Kind.ATTORNEY
    assert verify_fund(fund).ok
    assert csp_violations == []


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def short_targets(page: Page, selector: str) -> list[str]:
    """Return the links and buttons matched by the selector less than 24 CSS pixels tall."""
    return page.evaluate(
        """selector => [...document.querySelectorAll(selector)]
            .filter(el => el.getBoundingClientRect().height < 24)
            .map(el => el.textContent.trim())""",
        selector,
    )


def test_a_legal_director_assigns_and_places_a_legal_hold_on_a_phone_without_javascript(
    browser: Browser, live_server, django_user_model
):
    cora = make_staff(django_user_model, "cora", StaffRole.COORDINATOR)
    make_staff(django_user_model, "cole", StaffRole.COORDINATOR)
    lena = enrol_totp(
        make_staff(
            django_user_model,
            "lena",
            StaffRole.COORDINATOR,
            mfa=False,
            perms=["cases.view_all_cases"],
        )
    )
    case = open_case(actor=cora, legal_name=CANARY_NAME).case
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    sign_in(page, live_server, "lena", lena)
    page.goto(f"{live_server.url}/cases/{case.ref}/")
    actions = "#actions-heading ~ .button-group a"
    expect(page.locator(actions)).to_have_text(
        [
            "Documents: upload or open",
            "Request money",
            "Assign or take off coordinators",
            "Place a legal hold",
        ]
    )
    assert short_targets(page, actions) == []
    assert horizontal_overflow(page) <= 0

    # The coordinators' page: taking off the only one is refused there, then cole is assigned.
    page.get_by_role("link", name="Assign or take off coordinators").click()
    expect(page.get_by_role("heading", name=f"Coordinators · {case.ref}")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    assert short_targets(page, "main button") == []
    page.get_by_role("button", name="Take off the case").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"{case.ref} keeps at least one coordinator: assign another one first."
    )
    page.get_by_label("Coordinator", exact=True).select_option(label="cole")
    page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_text(f"cole works {case.ref} now.")).to_be_visible()
    expect(page.get_by_role("heading", name=case.ref, exact=True)).to_be_visible()

    # The legal hold's page: a reason is asked for, then the hold is placed.
    page.get_by_role("link", name="Place a legal hold").click()
    assert horizontal_overflow(page) <= 0
    page.get_by_role("button", name="Place a legal hold").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why the legal hold is placed or lifted.")
    page.get_by_label("Reason").fill("Litigation pending")
    page.get_by_role("button", name="Place a legal hold").click()
    expect(page.get_by_text(f"{case.ref} is on legal hold.")).to_be_visible()
    expect(page.get_by_role("link", name="Lift the legal hold")).to_be_visible()
    context.close()
    case.refresh_from_db()
    assert case.legal_hold is True
    assert set(case.coordinators.values_list("username", flat=True)) == {"cora", "cole"}
