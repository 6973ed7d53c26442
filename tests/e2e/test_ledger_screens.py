"""A treasurer corrects the books from a phone: the journal form fits, refuses, then posts."""

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from fund.ledger.services import create_fund
from fund.security.roles import StaffRole
from tests.conftest import PASSWORD, enrol_totp, make_staff, totp_code
from tests.e2e.conftest import PHONE
from tests.fund.conftest import OPENED, give_check, pay_attorney
from tests.fund.conftest import last_month as last_month_day

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def short_links(page: Page, selector: str) -> list[str]:
    """Return the links matched by the selector that are less than 24 CSS pixels tall."""
    return page.evaluate(
        """selector => [...document.querySelectorAll(selector)]
            .filter(el => el.getBoundingClientRect().height < 24)
            .map(el => el.textContent.trim())""",
        selector,
    )


def test_a_treasurer_posts_a_journal_entry_on_a_phone(
    page: Page, live_server, django_user_model, csp_violations
):
    fund = create_fund(
        actor=None,
        opened_on=OPENED,
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=100_000,
    )
    last_month = last_month_day()
    give_check(fund, 50_000, key="gift-1", on=last_month)
    secret = enrol_totp(make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False))
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("tess")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Code").fill(totp_code(secret, margin=5))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Ledger").click()
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    # Touch targets: WCAG 2.2 asks for 24 px at least.
    assert short_links(page, ".nav a, .nav button, .ledger-nav a") == []

    page.get_by_role("link", name="New journal entry").click()
    assert horizontal_overflow(page) <= 0
    page.get_by_label("Date").fill(last_month.isoformat())
    page.get_by_label("Memo").fill("Recode a filing fee")
    page.get_by_label("Reason").fill("Was booked as an attorney fee")
    page.get_by_label("Account, line 1").select_option(label="1010 Bank")
    page.locator("#id_legs-0-debit").fill("12.34")
    page.get_by_label("Account, line 2").select_option(label="3000 Net assets")
    page.locator("#id_legs-1-credit").fill("12.30")
    page.get_by_role("button", name="Post journal entry").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Debits $12.34 and credits $12.30 differ by $0.04."
    )
    page.locator("#id_legs-1-credit").fill("12.34")
    page.get_by_role("button", name="Post journal entry").click()

    expect(page.get_by_text(re.compile(r"^Posted journal entry \d{4}-\d{6}\.$"))).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^Transaction"))).to_be_visible()
    assert horizontal_overflow(page) <= 0
    assert csp_violations == []


def sign_in(page: Page, live_server, username: str, secret: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Code").fill(totp_code(secret, margin=5))
    page.get_by_role("button", name="Continue").click()
    # Until the sign-in has landed, the next navigation could overtake it.
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_the_bank_register_reads_by_date_with_amount_and_balance_on_a_phone(
    page: Page, live_server, django_user_model, csp_violations
):
    fund = create_fund(
        actor=None,
        opened_on=OPENED,
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=0,
    )
    give_check(fund, 100_000, key="gift-1", on=date(2026, 3, 2))
    pay_attorney(fund, 25_000, key="pay-1", on=date(2026, 3, 20), case_ref="C-2026-0042")
    # Recorded last, dated in between: the register puts it by its date.
    give_check(fund, 5_000, key="gift-late", on=date(2026, 3, 10))
    secret = enrol_totp(make_staff(django_user_model, "aldo", StaffRole.AUDITOR, mfa=False))
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "aldo", secret)

    page.goto(
        f"{live_server.url}/staff/ledger/valley/accounts/1010/?start=2026-03-01&end=2026-03-31"
    )

    rows = page.locator("table.register tbody tr")
    expect(rows).to_have_count(3)
    dates = [rows.nth(i).locator("td").first.inner_text() for i in range(3)]
    assert dates == ["2026-03-20", "2026-03-10", "2026-03-02"]
    balances = [rows.nth(i).locator("td.num").last.inner_text() for i in range(3)]
    assert balances == ["$800.00", "$1,050.00", "$1,000.00"]
    expect(page.locator("#closing")).to_have_text("$800.00")
    # On a phone the amount and the balance stay on screen, not behind a sideways scroll.
    for cell in ("td.num >> nth=0", "td.num >> nth=1"):
        box = rows.first.locator(cell).bounding_box()
        assert box is not None, cell
        assert box["x"] + box["width"] <= PHONE["width"], cell
    assert horizontal_overflow(page) <= 0
    assert csp_violations == []


def test_adding_journal_lines_keeps_what_was_typed_and_totals_run_while_typing(
    page: Page, live_server, django_user_model, csp_violations
):
    create_fund(
        actor=None,
        opened_on=OPENED,
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=0,
    )
    secret = enrol_totp(make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False))
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "tess", secret)
    page.goto(f"{live_server.url}/staff/ledger/valley/journal/")

    page.get_by_label("Memo").fill("Opening balance")
    page.get_by_label("Account, line 1").select_option(label="1010 Bank")
    page.locator("#id_legs-0-debit").fill("1,250.00")
    expect(page.locator("#total-debits")).to_have_text("$1,250.00")
    expect(page.locator("#total-difference")).to_have_text("$1,250.00")
    page.get_by_role("button", name="Add 4 more lines").click()

    expect(page.locator("#id_legs-7-debit")).to_be_visible()
    expect(page.get_by_label("Memo")).to_have_value("Opening balance")
    expect(page.locator("#id_legs-0-debit")).to_have_value("1,250.00")
    expect(page.locator("#total-debits")).to_have_text("$1,250.00")
    page.get_by_label("Account, line 6").select_option(label="3000 Net assets")
    page.locator("#id_legs-5-credit").fill("1250")
    expect(page.locator("#total-difference")).to_have_text("$0.00")
    assert csp_violations == []
