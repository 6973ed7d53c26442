"""A treasurer asks for a large general ledger, watches it render, and downloads the PDF."""

import hashlib
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from fund.ledger.services import create_fund
from fund.reports.models import ReportRun
from fund.reports.services import render_run
from fund.security.roles import StaffRole
from tests.conftest import enrol_totp, make_staff
from tests.e2e.conftest import PHONE
from tests.e2e.test_ledger_screens import horizontal_overflow, short_links, sign_in
from tests.fund.conftest import OPENED, give_check

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_treasurer_watches_a_large_report_render_then_downloads_it(
    page: Page, live_server, django_user_model, csp_violations, settings, tmp_path
):
    # The task is left queued (DummyBackend) so that the test renders it while the page watches.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    settings.REPORT_BACKGROUND_ROWS = 5
    settings.REPORT_ROOT = tmp_path / "reports"
    fund = create_fund(
        actor=None, opened_on=OPENED, name="Valley Fund", slug="valley", goal_cents=100_000
    )
    for day in range(1, 21):
        give_check(fund, 1_000 * day, key=f"gift-{day}", on=date(2026, 3, day))
    secret = enrol_totp(make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False))
    page.set_viewport_size(PHONE)
    sign_in(page, live_server, "tess", secret)

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Reports").click()
    assert horizontal_overflow(page) <= 0
    page.get_by_label("Report", exact=True).select_option(label="General ledger")
    page.get_by_label("Custom dates").check()
    page.get_by_label("From", exact=True).fill("2026-03-01")
    page.get_by_label("To", exact=True).fill("2026-03-31")
    page.get_by_label("PDF", exact=True).check()
    page.get_by_role("button", name="Generate the report").click()

    expect(page.get_by_label("Rendered so far")).to_be_visible()
    expect(page.locator("#report-progress-text")).to_contain_text(" rows")
    # With JavaScript on, the page polls; the refresh link is for browsers without it.
    expect(page.get_by_role("link", name="Refresh")).to_be_hidden()
    assert horizontal_overflow(page) <= 0
    run = ReportRun.objects.get()
    assert run.status == ReportRun.Status.QUEUED

    render_run(run_id=run.pk)

    download_link = page.get_by_role("link", name="Download valley-general-ledger-")
    expect(download_link).to_be_visible(timeout=15_000)
    run.refresh_from_db()
    expect(page.locator("#report-sha256")).to_have_text(run.sha256)
    assert short_links(page, ".report-actions a, .facts dd a") == []
    with page.expect_download() as info:
        download_link.click()
    download = info.value
    assert download.suggested_filename == "valley-general-ledger-2026-03-01-to-2026-03-31.pdf"
    body = open(download.path(), "rb").read()  # noqa: SIM115
    assert hashlib.sha256(body).hexdigest() == run.sha256
    assert csp_violations == []
