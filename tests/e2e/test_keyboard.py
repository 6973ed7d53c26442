"""Journeys done with the keyboard alone, as by someone who cannot use a mouse or a touch screen.

Each journey moves only with Tab, the arrow keys, typing, Space and Enter, and at every stop
checks what a keyboard user needs to see: the focused control is on screen and drawn with a
visible focus ring (an outline or a shadow on it, or on the label that stands for a hidden
radio button). What it cannot tell is whether the order makes sense to a person, or what a
screen reader says (README, "make test").
"""

import re
from datetime import date

import pytest
from playwright.sync_api import Locator, Page, expect

from cases.models import Case, Facility
from donations.models import Gift
from fund.security.roles import StaffRole
from tests.conftest import PASSWORD, enrol_totp, make_staff, totp_code
from tests.e2e.conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Tab stops allowed before a target is reached: the longest page here has about 40.
MOST_STOPS = 80

FOCUS = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return "nothing has focus";
    // Past a date field's year, Tab stops on the field's own calendar button, inside the
    // browser's part of the field: the browser draws that ring, and the page cannot style it.
    if (el.type && el.type.startsWith("date") && !el.matches(":focus")) return "";
    const rect = el.getBoundingClientRect();
    const label = el.closest("label") || (el.id && document.querySelector(`label[for="${el.id}"]`));
    const onScreen = (r) => r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
        && r.top < window.innerHeight && r.left < window.innerWidth;
    const ringed = (node) => {
        if (!node) return false;
        const style = getComputedStyle(node);
        return (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
            || style.boxShadow !== "none";
    };
    const shown = onScreen(rect) ? el : label;
    if (!shown || !onScreen(shown.getBoundingClientRect())) return `${el.outerHTML} is off screen`;
    if (!ringed(el) && !ringed(label) && !ringed(el.closest(".choice"))) {
        return `${el.outerHTML} shows no focus ring`;
    }
    return "";
}"""


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until the target has focus, checking that every stop on the way is visible."""
    for _ in range(MOST_STOPS):
        page.keyboard.press("Tab")
        problem = page.evaluate(FOCUS)
        assert not problem, problem
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"{MOST_STOPS} presses of Tab never reached {target}")


def test_a_donor_gives_25_with_the_keyboard_alone(page: Page, live_server, valley):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/f/valley/")

    tab_to(page, page.get_by_role("link", name="Give", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("^Give to Valley"))).to_be_visible()

    tab_to(page, page.get_by_role("radio", name="$25", exact=True))
    page.keyboard.press("ArrowRight")  # a radio group moves with the arrow keys, as in any form
    expect(page.get_by_role("radio", name="$50", exact=True)).to_be_checked()
    page.keyboard.press("ArrowLeft")
    expect(page.get_by_role("radio", name="$25", exact=True)).to_be_checked()
    tab_to(page, page.get_by_label("E-mail"))
    page.keyboard.type("ana@example.org")
    submit = page.get_by_role("button", name="Continue to the demo payment")
    tab_to(page, submit)
    page.keyboard.press("Enter")

    expect(page.get_by_text("$25.00 to Valley Labor Council Legal Fund")).to_be_visible()
    tab_to(page, page.get_by_label("Card number"))
    page.keyboard.type("4242 4242 4242 4242")
    page.keyboard.press("Enter")  # Enter in a field submits its form

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    tab_to(page, page.get_by_role("link", name=re.compile(r"^Back to the fund.s page$")))
    page.keyboard.press("Enter")
    expect(page.get_by_text("$19,010 of $150,000 raised", exact=True)).to_be_visible()
    gift = Gift.objects.get()
    assert (gift.status, gift.amount_cents) == (Gift.Status.PAID, 2_500)


def test_the_skip_link_is_the_first_stop_and_moves_focus_past_the_navigation(
    page: Page, live_server, valley
):
    page.goto(f"{live_server.url}/f/valley/give/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert not page.evaluate(FOCUS)
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    # The next stop is inside the page's own content, not the language switcher above it.
    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_staff_sign_in_and_second_factor_with_the_keyboard_alone(
    page: Page, live_server, django_user_model
):
    secret = enrol_totp(make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False))
    page.set_viewport_size(PHONE)

    sign_in_by_keyboard(page, live_server.url, "tess", secret)

    tab_to(page, page.get_by_role("link", name="Gifts", exact=True).first)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=re.compile("^Gifts"))).to_be_visible()


def sign_in_by_keyboard(page: Page, base_url: str, username: str, secret: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    tab_to(page, page.get_by_label("Username"))
    page.keyboard.type(username)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    tab_to(page, page.get_by_label("Code"))
    page.keyboard.type(totp_code(secret, margin=5))
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(rf"^Signed in as {username}\."))).to_be_visible()


def test_a_coordinator_opens_a_case_with_the_keyboard_alone(
    page: Page, live_server, django_user_model
):
    Facility.objects.create(name="Invented Processing Center", city="Adelanto", state="CA")
    secret = enrol_totp(make_staff(django_user_model, "cora", StaffRole.COORDINATOR, mfa=False))
    page.set_viewport_size(PHONE)
    sign_in_by_keyboard(page, live_server.url, "cora", secret)
    page.goto(f"{live_server.url}/cases/")

    tab_to(page, page.get_by_role("link", name="Open a new case"))
    page.keyboard.press("Enter")
    expect(page.get_by_label("Legal name")).to_be_visible()
    tab_to(page, page.get_by_label("Legal name"))
    page.keyboard.type("Invented Keyboard Person")
    tab_to(page, page.get_by_label("A-number"))
    page.keyboard.type("A012-345-678")
    tab_to(page, page.get_by_label("Detained on"))
    page.keyboard.type("11022026")  # a date field takes its month, day and year as typed digits
    facility = page.get_by_label("Facility")
    tab_to(page, facility)
    page.keyboard.press("ArrowDown")
    expect(facility.locator("option:checked")).to_have_text(
        "Invented Processing Center (Adelanto, CA)"
    )
    tab_to(page, page.get_by_role("button", name="Open the case"))
    page.keyboard.press("Enter")

    expect(page.get_by_text(re.compile(r"^Opened C-\d{4}-0001\.$"))).to_be_visible()
    case = Case.objects.select_related("facility").get()
    assert (case.legal_name, case.detained_on, case.facility.city) == (
        "Invented Keyboard Person",
        date(2026, 11, 2),
        "Adelanto",
    )
