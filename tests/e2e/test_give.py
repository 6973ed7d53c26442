"""A donor gives through the demo checkout in Spanish, on a phone, and sees the thermometer move."""

import os
import re

import pytest
from playwright.sync_api import Browser, Page, expect

from donations.models import Gift
from tests.e2e.conftest import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def horizontal_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def figure(page: Page, label: str):
    """Return the figure under a label of the fund page's figures."""
    return (
        page.locator(".figures div").filter(has=page.get_by_text(label, exact=True)).locator("dd")
    )


def test_a_donor_gives_25_in_spanish_and_the_thermometer_moves(
    page: Page, live_server, valley, csp_violations
):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/f/valley/")
    expect(page.get_by_text("$18,985 of $150,000 raised", exact=True)).to_be_visible()

    page.get_by_role("button", name="Español").click()
    expect(page.get_by_text("$18,985 recaudados de $150,000", exact=True)).to_be_visible()
    expect(figure(page, "Recaudado")).to_have_text("$18,984.56")
    page.get_by_role("link", name="Donar", exact=True).click()

    expect(
        page.get_by_role("heading", name="Dona a Valley Labor Council Legal Fund")
    ).to_be_visible()
    assert horizontal_overflow(page) <= 0
    page.get_by_text("$25", exact=True).click()
    # The fee cover shown for the chosen amount (the script), as donations.stripe.cover_for says.
    expect(
        page.get_by_text("Agregar $1.06 para que el fondo reciba la donación completa")
    ).to_be_visible()
    page.get_by_label("Correo electrónico").fill("ana@example.org")
    page.get_by_role("button", name="Continuar al pago de demostración").click()

    expect(page.get_by_text("DEMOSTRACIÓN — sin dinero real")).to_be_visible()
    expect(page.get_by_text("$25.00 a Valley Labor Council Legal Fund")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    page.get_by_label("Número de tarjeta").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pagar $25.00 (demostración)").click()

    expect(page.get_by_role("heading", name="¡Gracias!")).to_be_visible()
    if shots := os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=f"{shots}/give-thanks-phone-es.png", full_page=True)
    page.get_by_role("link", name="Volver a la página del fondo").click()

    expect(figure(page, "Recaudado")).to_have_text("$19,009.56")
    expect(page.get_by_text("$19,010 recaudados de $150,000", exact=True)).to_be_visible()
    gift = Gift.objects.get()
    assert (gift.status, gift.language, gift.amount_cents) == (Gift.Status.PAID, "es", 2_500)
    assert csp_violations == []


def test_the_donation_page_works_without_javascript(browser: Browser, live_server, valley):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/f/valley/give/")

    expect(page.get_by_text("$1.06 to $25; $1.81 to $50;", exact=False)).to_be_visible()
    page.get_by_label("Or type an amount (USD)").fill("40")
    page.get_by_label("Add the card fee so the fund gets the whole gift").check()
    page.get_by_text("Every month", exact=True).click()
    page.get_by_label("E-mail").fill("ana@example.org")
    page.get_by_role("button", name="Continue to the demo payment").click()
    expect(
        page.get_by_text("$41.51 every month to Valley Labor Council Legal Fund")
    ).to_be_visible()
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name=re.compile(r"^Pay \$41\.51")).click()

    expect(page.get_by_text("Your card was declined.")).to_be_visible()
    assert horizontal_overflow(page) <= 0
    gift = Gift.objects.get()
    assert (gift.status, gift.amount_cents, gift.cover_fee_cents) == (
        Gift.Status.PENDING,
        4_151,
        151,
    )
    context.close()
