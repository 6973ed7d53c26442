"""A donor opens the fund page on a phone, with and without JavaScript."""

import os

import pytest
from playwright.sync_api import Browser, Page, expect

from fund.ledger.services import create_fund
from tests.e2e.conftest import PHONE
from tests.fund.conftest import OPENED
from tests.fund.scenario import seed_scenario

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def valley(db):
    fund = create_fund(
        actor=None,
        opened_on=OPENED,
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=15_000_000,
    )
    seed_scenario(fund)
    return fund


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_the_fund_page_fits_a_phone_with_no_csp_violations(
    page: Page, live_server, valley, csp_violations
):
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/f/valley/")

    expect(page.get_by_role("heading", name="Valley Labor Council Legal Fund")).to_be_visible()
    expect(page.get_by_text("$18,985 of $150,000 raised", exact=True)).to_be_visible()
    chart = page.get_by_role("img", name="Money raised and spent in each of the last 12 months")
    expect(chart).to_be_visible()
    assert horizontal_overflow(page) <= 0
    page.get_by_text("The monthly figures as a table").click()
    expect(page.get_by_role("table").first).to_be_visible()
    assert horizontal_overflow(page) <= 0
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{shots}/fund-page-phone.png", full_page=True)
    assert csp_violations == []


def test_the_fund_page_works_without_javascript(browser: Browser, live_server, valley):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()

    page.goto(f"{live_server.url}/")

    expect(page.get_by_text("$18,985 of $150,000 raised", exact=True)).to_be_visible()
    page.get_by_text("The monthly figures as a table").click()
    expect(page.get_by_role("cell", name="$15,000.00")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    context.close()
