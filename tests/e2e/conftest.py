"""Browser journeys: Debian's Chromium driven by pytest-playwright against a live server."""

import importlib
import os
from pathlib import Path

import pytest
from django.apps import apps

from fund.ledger.services import create_fund
from tests.fund.conftest import OPENED
from tests.fund.scenario import seed_scenario

CHROMIUM = Path("/usr/bin/chromium")
# A common phone viewport in CSS pixels (an iPhone 12-15).
PHONE = {"width": 390, "height": 844}

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by the
# tests themselves (creating personas) are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch the system Chromium: a browser is never downloaded."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium (.ci/run does)")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def csp_violations(page):
    """Collect what the browser refused because of the Content Security Policy."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


@pytest.fixture(autouse=True)
def _staff_roles(transactional_db):
    """Put back the roles migration 0002 creates: live-server tests flush the database."""
    importlib.import_module("fund.migrations.0002_roles_and_cache").create_roles(apps, None)


@pytest.fixture
def valley(db, settings):
    """The scenario's fund ($18,984.56 raised), with online giving in demo mode as `make demo`."""
    settings.STRIPE_DEMO = True
    settings.STRIPE_SECRET_KEY = ""
    settings.DEFAULT_FUND_SLUG = "valley"
    fund = create_fund(
        actor=None,
        opened_on=OPENED,
        name="Valley Labor Council Legal Fund",
        slug="valley",
        goal_cents=15_000_000,
    )
    seed_scenario(fund)
    return fund
