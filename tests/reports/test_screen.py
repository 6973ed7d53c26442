"""The reports screen: who may ask for, watch and download reports, and what each page shows."""

import hashlib
import re
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from fund.reports.forms import PeriodChoice, preset_period
from fund.reports.models import ReportRun
from fund.reports.queries import report_file
from fund.reports.registry import Period
from fund.reports.services import generate_report
from fund.security.models import AccessLog
from tests.fund.conftest import give_check, pay_attorney

pytestmark = pytest.mark.django_db

HOME = reverse("reports_home")
ALLOWED = ["treasurer", "auditor", "admin_user"]
REFUSED = ["coordinator", "legal_director", "outsider"]
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))


@pytest.fixture
def books(fund):
    """The valley fund with a $1,000.00 gift and a $250.00 attorney payment in March 2026."""
    give_check(fund, 100_000, key="gift-1", on=date(2026, 3, 10))
    pay_attorney(fund, 25_000, key="fee-1", on=date(2026, 3, 12), case_ref="C-2026-0042")
    return fund


@pytest.fixture
def done_run(books, treasurer):
    """A trial balance as of 2026-03-31, rendered and in the report log."""
    return generate_report(
        actor=treasurer, kind="trial-balance", fund=books, period=MARCH, fmt="pdf"
    )


def running_run(fund, user, *, done=1_200, total=5_000) -> ReportRun:
    """A general ledger part-way through rendering in the background."""
    return ReportRun.objects.create(
        kind="general-ledger",
        fund=fund,
        period_start=date(2026, 1, 1),
        period_end=date(2026, 3, 31),
        format=ReportRun.Format.PDF,
        requested_by=user,
        generated_at=timezone.now(),
        status=ReportRun.Status.RUNNING,
        rows_done=done,
        rows_total=total,
    )


def ask(**fields: str) -> dict[str, str]:
    """Return the report form's POST data: a PDF trial balance of the valley fund, custom dates."""
    return {
        "kind": "trial-balance",
        "fund": "valley",
        "period": "custom",
        "start": "2026-03-01",
        "end": "2026-03-31",
        "format": "pdf",
        **fields,
    }


def run_urls(run: ReportRun) -> list[str]:
    return [
        reverse("reports_run", args=[run.pk]),
        reverse("reports_status", args=[run.pk]),
        reverse("reports_download", args=[run.pk]),
    ]


# Who may do what


@pytest.mark.parametrize("persona", ALLOWED)
def test_treasurers_auditors_and_admins_use_every_reports_page(client, request, done_run, persona):
    client.force_login(request.getfixturevalue(persona))

    for url in [HOME, *run_urls(done_run)]:
        assert client.get(url).status_code == 200, url
    response = client.post(HOME, ask())
    assert response.status_code == 302


@pytest.mark.parametrize("persona", REFUSED)
def test_other_staff_are_refused_every_reports_page(client, request, done_run, persona):
    client.force_login(request.getfixturevalue(persona))

    for url in [HOME, *run_urls(done_run)]:
        assert client.get(url).status_code == 403, url
    assert client.post(HOME, ask()).status_code == 403
    assert ReportRun.objects.count() == 1
    assert not AccessLog.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, done_run):
    for url in [HOME, *run_urls(done_run)]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login"))
    assert client.post(HOME, ask()).status_code == 302
    assert ReportRun.objects.count() == 1


def test_staff_without_a_second_factor_cannot_reach_the_screen(client, django_user_model):
    from fund.security.roles import StaffRole
    from tests.conftest import make_staff

    client.force_login(make_staff(django_user_model, "newbie", StaffRole.TREASURER, mfa=False))

    assert client.get(HOME).status_code != 200


@pytest.mark.parametrize(("persona", "shown"), [("treasurer", True), ("coordinator", False)])
def test_the_staff_navigation_links_reports_for_report_readers_only(
    client, request, persona, shown
):
    client.force_login(request.getfixturevalue(persona))

    page = client.get(reverse("dashboard")).content.decode()

    assert (f'href="{HOME}"' in page) is shown


# Asking for a report and downloading it


def test_a_trial_balance_asked_for_is_downloaded_as_the_file_in_the_log(client, books, treasurer):
    client.force_login(treasurer)

    response = client.post(HOME, ask(start="", end="2026-03-31"))

    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports_run", args=[run.pk])
    assert (run.status, run.period_start, run.period_end) == ("done", MARCH.end, MARCH.end)
    assert run.requested_by == treasurer
    page = client.get(response["Location"]).content.decode()
    assert run.sha256 in page
    assert reverse("reports_download", args=[run.pk]) in page

    download = client.get(reverse("reports_download", args=[run.pk]))

    body = b"".join(download.streaming_content)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == (
        'attachment; filename="valley-trial-balance-2026-03-31.pdf"'
    )
    assert body == report_file(run).read_bytes()
    assert body.startswith(b"%PDF-")
    assert hashlib.sha256(body).hexdigest() == run.sha256


def test_every_download_is_written_to_the_access_log(client, done_run, auditor):
    client.force_login(auditor)

    for _ in range(2):
        b"".join(client.get(reverse("reports_download", args=[done_run.pk])).streaming_content)

    logged = AccessLog.objects.filter(action=AccessLog.Action.DOWNLOAD)
    assert logged.count() == 2
    assert {(row.user, row.object_type, row.object_ref) for row in logged} == {
        (auditor, "fund.ReportRun", str(done_run.pk))
    }


def test_a_csv_is_sent_as_csv_named_for_its_period(client, books, treasurer):
    client.force_login(treasurer)
    client.post(HOME, ask(kind="general-ledger", format="csv"))
    run = ReportRun.objects.get()

    download = client.get(reverse("reports_download", args=[run.pk]))

    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == (
        'attachment; filename="valley-general-ledger-2026-03-01-to-2026-03-31.csv"'
    )
    assert b"".join(download.streaming_content) == report_file(run).read_bytes()


def test_the_whole_ledger_is_sent_as_beancount(client, books, treasurer):
    client.force_login(treasurer)

    client.post(HOME, ask(kind="ledger", format="beancount"))

    run = ReportRun.objects.get()
    download = client.get(reverse("reports_download", args=[run.pk]))
    assert download["Content-Type"] == "text/plain; charset=utf-8"
    assert download["Content-Disposition"].endswith('-2026-03-31.beancount"')


def test_a_preset_period_is_resolved_on_the_day_asked(client, books, treasurer):
    client.force_login(treasurer)

    client.post(HOME, ask(kind="activities", period="last-month", start="", end=""))

    run = ReportRun.objects.get()
    expected = preset_period(PeriodChoice.LAST_MONTH, timezone.localdate())
    assert (run.period_start, run.period_end) == (expected.start, expected.end)


@pytest.mark.parametrize(
    ("choice", "start", "end"),
    [
        (PeriodChoice.THIS_MONTH, date(2026, 2, 1), date(2026, 2, 15)),
        (PeriodChoice.LAST_MONTH, date(2026, 1, 1), date(2026, 1, 31)),
        (PeriodChoice.THIS_QUARTER, date(2026, 1, 1), date(2026, 2, 15)),
        (PeriodChoice.LAST_QUARTER, date(2025, 10, 1), date(2025, 12, 31)),
        (PeriodChoice.THIS_YEAR, date(2026, 1, 1), date(2026, 2, 15)),
        (PeriodChoice.LAST_YEAR, date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_preset_periods_end_no_later_than_today(choice, start, end):
    assert preset_period(choice, date(2026, 2, 15)) == Period(start, end)


def test_last_month_in_march_ends_on_the_last_day_of_february():
    assert preset_period(PeriodChoice.LAST_MONTH, date(2028, 3, 1)) == Period(
        date(2028, 2, 1), date(2028, 2, 29)
    )


# Input the form refuses


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": "2026-03-31", "end": "2026-03-01", "kind": "activities"}, "before the From"),
        ({"end": "31/03/2026"}, "Enter a date as YYYY-MM-DD."),
        ({"start": "yesterday", "kind": "general-ledger"}, "Enter a date as YYYY-MM-DD."),
        ({"end": "1999-12-31"}, "the books take no other days"),
        ({"end": "", "kind": "activities"}, "Enter the last day the report covers."),
        ({"start": "", "kind": "activities"}, "Enter the first day the report covers."),
        ({"kind": "payroll"}, "Choose a report from the list."),
        ({"fund": "elsewhere"}, "Choose a fund from the list."),
        ({"period": "forever"}, "Choose a period from the list."),
        ({"format": "docx"}, "Choose a format from the list."),
        ({"format": "beancount"}, "Only the whole ledger exports as Beancount"),
        ({"kind": "ledger", "format": "pdf"}, "The whole ledger exports as Beancount only."),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_is_generated(
    client, books, treasurer, fields, message
):
    client.force_login(treasurer)

    response = client.post(HOME, ask(**fields))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'class="error-summary"' in response.content.decode()
    assert not ReportRun.objects.exists()


def test_an_unknown_run_is_not_found(client, treasurer):
    client.force_login(treasurer)

    for suffix in ["", "status/", "download/"]:
        url = f"/staff/reports/999/{suffix}"
        assert client.get(url).status_code == 404, url


# Watching a large report render


def test_a_report_rendering_in_the_background_shows_its_progress_and_a_refresh_link(
    client, books, treasurer
):
    run = running_run(books, treasurer)
    client.force_login(treasurer)

    page = client.get(reverse("reports_run", args=[run.pk])).content.decode()

    bar = re.search(r"<progress [^>]*>", page)
    assert bar is not None
    assert 'max="5000"' in bar.group(0)
    assert 'value="1200"' in bar.group(0)
    assert "1,200 of 5,000 rows" in page
    assert f'<a href="{reverse("reports_run", args=[run.pk])}">Refresh</a>' in page
    assert f'data-status-url="{reverse("reports_status", args=[run.pk])}"' in page
    assert "js/report_progress.js" in page
    assert reverse("reports_download", args=[run.pk]) not in page
    assert "<script>" not in page


def test_a_large_report_asked_for_is_queued_for_the_background(
    client, books, treasurer, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_BACKGROUND_ROWS = 0
    client.force_login(treasurer)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(HOME, ask(kind="general-ledger"))

    run = ReportRun.objects.get()
    assert run.status == ReportRun.Status.QUEUED
    assert len(callbacks) == 1
    assert response["Location"] == reverse("reports_run", args=[run.pk])
    page = client.get(response["Location"]).content.decode()
    assert "<progress" in page
    assert "Refresh</a>" in page


def test_the_status_endpoint_reports_progress_then_the_download(client, books, treasurer):
    run = running_run(books, treasurer)
    client.force_login(treasurer)

    status = client.get(reverse("reports_status", args=[run.pk]))

    assert status["Content-Type"] == "application/json"
    assert status.json() == {
        "id": run.pk,
        "status": "running",
        "status_label": "Rendering",
        "rows_done": 1200,
        "rows_total": 5000,
        "progress": "1,200 of 5,000 rows",
        "finished": False,
        "sha256": "",
        "download_url": "",
    }


def test_the_status_of_a_finished_report_gives_its_hash_and_download(client, done_run, auditor):
    client.force_login(auditor)

    status = client.get(reverse("reports_status", args=[done_run.pk])).json()

    assert status["finished"] is True
    assert status["sha256"] == done_run.sha256
    assert status["download_url"] == reverse("reports_download", args=[done_run.pk])


def test_downloading_a_report_not_ready_goes_back_to_its_page(client, books, treasurer):
    run = running_run(books, treasurer)
    client.force_login(treasurer)

    response = client.get(reverse("reports_download", args=[run.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("reports_run", args=[run.pk])
    assert not AccessLog.objects.exists()


# The report log


def test_the_report_log_lists_reports_newest_first_with_their_hashes(
    client, books, done_run, auditor
):
    later = running_run(books, auditor)
    client.force_login(auditor)

    page = client.get(HOME).content.decode()

    assert page.index(reverse("reports_run", args=[later.pk])) < page.index(
        reverse("reports_run", args=[done_run.pk])
    )
    assert f'title="{done_run.sha256}">{done_run.sha256[:12]}…</code>' in page
    assert "tess" in page
    assert "aldo" in page


def test_the_report_log_is_paginated(client, books, treasurer):
    for _ in range(26):
        running_run(books, treasurer)
    client.force_login(treasurer)

    first = client.get(HOME).content.decode()
    second = client.get(HOME, {"page": 2}).content.decode()

    row_link = '<td><a href="/staff/reports/'
    assert "Page 1 of 2" in first
    assert (first.count(row_link), second.count(row_link)) == (25, 1)
