"""axe-core, the engine behind most accessibility audits, finds no WCAG 2.2 A or AA failure on the
pages donors and staff use, on a phone: names and labels, contrast, headings and landmarks, 24 px
touch targets, forms in their error state too.

axe checks what a machine can; it does not replace trying the pages with a screen reader and a
keyboard (README, "make test").
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect

from cases.services.cases import open_case
from fund.security.roles import StaffRole
from tests.conftest import PASSWORD, enrol_totp, make_staff, totp_code
from tests.donations.test_offline import deposit, give
from tests.e2e.conftest import PHONE
from tests.e2e.test_cases_journey import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# WCAG 2.0, 2.1 and 2.2 at levels A and AA, the level the README promises.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


def audited(page: Page, url: str) -> list[str]:
    """Open a page, check it is the page itself (an audit of an error page proves nothing), and
    return what it breaks."""
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, url
    return failures(page)


def failures(page: Page) -> list[str]:
    """Return each WCAG rule the page as shown breaks, with up to three elements breaking it."""
    options = {"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    found = AXE.run(page, options=options).response["violations"]
    return [
        f"{rule['id']} ({rule['impact']}): {rule['help']}: "
        + ", ".join(str(node["target"]) for node in rule["nodes"][:3])
        for rule in found
    ]


def test_the_donor_pages_pass_an_automated_accessibility_audit(page: Page, live_server, valley):
    page.set_viewport_size(PHONE)
    problems: dict[str, list[str]] = {}

    for path in ["/f/valley/", "/f/valley/give/", "/accounts/login/"]:
        problems[path] = audited(page, f"{live_server.url}{path}")
    # The donation page refusing an amount, then the same page in Spanish.
    page.goto(f"{live_server.url}/f/valley/give/")
    page.get_by_label("Or type an amount (USD)").fill("1e3")
    page.get_by_label("E-mail").fill("ana@example.org")
    page.get_by_role("button", name="Continue to").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    problems["give, refused"] = failures(page)
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    problems["give, Spanish"] = failures(page)
    # On through the demo checkout to the thanks page, in Spanish.
    page.get_by_text("$25", exact=True).click()
    page.get_by_label("Correo electrónico").fill("ana@example.org")
    page.get_by_role("button", name="Continuar al pago de demostración").click()
    expect(page.get_by_text("DEMOSTRACIÓN — sin dinero real")).to_be_visible()
    problems["demo checkout, Spanish"] = failures(page)
    page.get_by_label("Número de tarjeta").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pagar $25.00 (demostración)").click()
    expect(page.get_by_role("heading", name="¡Gracias!")).to_be_visible()
    problems["thanks, Spanish"] = failures(page)
    # A wrong password.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in", exact=True).click()
    problems["sign-in, refused"] = failures(page)

    assert problems == {name: [] for name in problems}


def test_the_staff_pages_pass_an_automated_accessibility_audit(
    page: Page, live_server, valley, django_user_model
):
    page.set_viewport_size(PHONE)
    treasurer = enrol_totp(make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False))
    coordinator_secret = enrol_totp(
        make_staff(django_user_model, "cora", StaffRole.COORDINATOR, mfa=False)
    )
    auditor = enrol_totp(make_staff(django_user_model, "ari", StaffRole.AUDITOR, mfa=False))
    coordinator = django_user_model.objects.get(username="cora")
    ref = open_case(actor=coordinator, legal_name="Invented Person").case.ref
    tess = django_user_model.objects.get(username="tess")
    check = give(valley, tess, 12_500, reference="1042")
    slip = deposit(valley, tess, [check], on=timezone.localdate())
    problems: dict[str, list[str]] = {}

    # The second-factor step, on the way in.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("tess")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_label("Code")).to_be_visible()
    problems["second factor"] = failures(page)
    page.get_by_label("Code").fill(totp_code(treasurer, margin=5))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    for path in [
        "/staff/",
        "/staff/ledger/valley/",
        "/staff/ledger/valley/transactions/",
        "/staff/ledger/valley/books/",
        "/staff/gifts/",
        "/staff/gifts/new/",
        "/staff/gifts/donors/",
        "/staff/gifts/pledges/",
        "/staff/gifts/payouts/",
        f"/staff/gifts/{check.pk}/",  # with its form to take the check back
        f"/staff/gifts/deposits/{slip.pk}/",  # with its form to void the deposit
        "/staff/reports/",
        "/cases/approvals/",
        "/cases/bonds/",
        f"/cases/{ref}/",
    ]:
        problems[f"treasurer {path}"] = audited(page, f"{live_server.url}{path}")
    page.goto(f"{live_server.url}/staff/gifts/new/")
    page.get_by_role("button", name="Record the gift").click()
    problems["treasurer, a gift form refused"] = failures(page)
    page.goto(f"{live_server.url}/staff/gifts/{check.pk}/")
    page.get_by_role("button", name="Take back $125.00").click()
    problems["treasurer, taking a gift back refused"] = failures(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "cora", coordinator_secret)
    for path in [
        "/cases/",
        "/cases/new/",
        "/cases/calendar/",
        f"/cases/{ref}/",
        f"/cases/{ref}/person/",
    ]:
        problems[f"coordinator {path}"] = audited(page, f"{live_server.url}{path}")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server, "ari", auditor)
    for path in [
        "/staff/",
        "/staff/reports/",
        "/staff/gifts/",
        "/staff/ledger/valley/trial-balance/",
        f"/cases/{ref}/",
    ]:
        problems[f"auditor {path}"] = audited(page, f"{live_server.url}{path}")

    assert problems == {name: [] for name in problems}
