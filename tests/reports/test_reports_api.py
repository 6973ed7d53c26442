"""The reports API: ask for a report, follow it, fetch its file; report readers only."""

import hashlib
from datetime import date

import pytest
from django.utils import timezone

from fund.reports.models import ReportRun
from fund.reports.queries import report_file
from fund.reports.registry import Period
from fund.reports.services import generate_report
from fund.security.models import AccessLog
from fund.security.tokens import issue_api_token
from tests.conftest import bearer
from tests.fund.conftest import give_check, pay_attorney

pytestmark = pytest.mark.django_db

API = "/api/v1"
ALLOWED = ["treasurer", "auditor", "admin_user"]
REFUSED = ["coordinator", "legal_director", "outsider"]
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
REFUSAL = {"detail": "Only treasurers, auditors and admins can export reports."}


def token_for(user) -> dict[str, str]:
    return bearer(issue_api_token(actor=None, user=user)[1])


def ask(client, headers, **fields):
    body = {
        "kind": "trial-balance",
        "fund": "valley",
        "from": "2026-03-01",
        "to": "2026-03-31",
        "format": "pdf",
        **fields,
    }
    return client.post(f"{API}/reports", body, content_type="application/json", **headers)


@pytest.fixture
def books(fund):
    """The valley fund with a $1,000.00 gift and a $250.00 attorney payment in March 2026."""
    give_check(fund, 100_000, key="gift-1", on=date(2026, 3, 10))
    pay_attorney(fund, 25_000, key="fee-1", on=date(2026, 3, 12), case_ref="C-2026-0042")
    return fund


@pytest.fixture
def done_run(books, treasurer):
    return generate_report(
        actor=treasurer, kind="trial-balance", fund=books, period=MARCH, fmt="pdf"
    )


def queued_run(fund, user) -> ReportRun:
    return ReportRun.objects.create(
        kind="general-ledger",
        fund=fund,
        period_start=MARCH.start,
        period_end=MARCH.end,
        format=ReportRun.Format.CSV,
        requested_by=user,
        generated_at=timezone.now(),
        status=ReportRun.Status.QUEUED,
        rows_total=5_000,
    )


# Who may do what


@pytest.mark.parametrize("persona", ALLOWED)
def test_report_readers_use_every_reports_operation(client, request, done_run, persona):
    headers = token_for(request.getfixturevalue(persona))

    assert ask(client, headers).status_code == 201
    assert client.get(f"{API}/reports/{done_run.pk}", **headers).status_code == 200
    assert client.get(f"{API}/reports/{done_run.pk}/file", **headers).status_code == 200


@pytest.mark.parametrize("persona", REFUSED)
def test_other_staff_are_refused_every_reports_operation_with_json(
    client, request, done_run, persona
):
    headers = token_for(request.getfixturevalue(persona))

    for response in [
        ask(client, headers),
        client.get(f"{API}/reports/{done_run.pk}", **headers),
        client.get(f"{API}/reports/{done_run.pk}/file", **headers),
    ]:
        assert response.status_code == 403
        assert response.json() == REFUSAL
    assert ReportRun.objects.count() == 1
    assert not AccessLog.objects.exists()


def test_without_credentials_every_reports_operation_is_unauthorized(client, done_run):
    for response in [
        ask(client, {}),
        client.get(f"{API}/reports/{done_run.pk}"),
        client.get(f"{API}/reports/{done_run.pk}/file"),
    ]:
        assert response.status_code == 401
        assert response.json() == {"detail": "Unauthorized"}
    assert ReportRun.objects.count() == 1


def test_a_signed_in_report_reader_with_a_second_factor_may_use_the_session(
    client, done_run, auditor
):
    client.force_login(auditor)

    assert client.get(f"{API}/reports/{done_run.pk}").status_code == 200


# Asking for a report and fetching it


def test_a_small_report_is_rendered_at_once_and_its_file_fetched(client, books, treasurer):
    headers = token_for(treasurer)

    response = ask(client, headers)

    run = ReportRun.objects.get()
    assert response.status_code == 201
    body = response.json()
    assert body["id"] == run.pk
    assert {k: body[k] for k in ("kind", "fund", "from", "to", "format", "status")} == {
        "kind": "trial-balance",
        "fund": "valley",
        # A trial balance is drawn as of the period's last day.
        "from": "2026-03-31",
        "to": "2026-03-31",
        "format": "pdf",
        "status": "done",
    }
    assert body["rows_done"] == body["rows_total"] == run.rows_total > 0
    assert body["sha256"] == run.sha256
    assert body["requested_by"] == "tess"
    assert body["file"] == f"{API}/reports/{run.pk}/file"

    file = client.get(body["file"], **headers)

    content = b"".join(file.streaming_content)
    assert file.status_code == 200
    assert file["Content-Type"] == "application/pdf"
    assert file["Content-Disposition"] == (
        'attachment; filename="valley-trial-balance-2026-03-31.pdf"'
    )
    assert content == report_file(run).read_bytes()
    assert hashlib.sha256(content).hexdigest() == run.sha256


def test_a_report_for_a_period_keeps_its_dates(client, books, auditor):
    body = ask(client, token_for(auditor), kind="general-ledger", format="csv").json()

    assert (body["from"], body["to"], body["format"]) == ("2026-03-01", "2026-03-31", "csv")


def test_an_as_of_report_needs_no_from_date(client, books, auditor):
    response = ask(client, token_for(auditor), **{"from": None})

    assert response.status_code == 201
    assert response.json()["from"] == "2026-03-31"


def test_every_file_fetched_is_written_to_the_access_log(client, done_run, auditor):
    headers = token_for(auditor)

    b"".join(client.get(f"{API}/reports/{done_run.pk}/file", **headers).streaming_content)

    logged = AccessLog.objects.get()
    assert (logged.user, logged.action, logged.object_type, logged.object_ref) == (
        auditor,
        AccessLog.Action.DOWNLOAD,
        "fund.ReportRun",
        str(done_run.pk),
    )


def test_the_status_of_a_run_says_how_far_it_has_got(client, books, treasurer):
    run = queued_run(books, treasurer)

    body = client.get(f"{API}/reports/{run.pk}", **token_for(treasurer)).json()

    assert {k: body[k] for k in ("status", "rows_done", "rows_total", "sha256", "file")} == {
        "status": "queued",
        "rows_done": 0,
        "rows_total": 5000,
        "sha256": "",
        "file": None,
    }


def test_a_large_report_is_queued_and_its_file_is_not_ready(
    client, books, treasurer, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_BACKGROUND_ROWS = 0
    headers = token_for(treasurer)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = ask(client, headers, kind="general-ledger")

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert len(callbacks) == 1
    file = client.get(f"{API}/reports/{response.json()['id']}/file", **headers)
    assert file.status_code == 409
    assert file.json() == {
        "detail": f"This report is queued: poll /reports/{response.json()['id']} until it is done."
    }
    assert not AccessLog.objects.exists()


def test_a_queued_report_is_rendered_by_the_task_and_then_fetched(
    client, books, treasurer, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_BACKGROUND_ROWS = 0
    headers = token_for(treasurer)

    with django_capture_on_commit_callbacks(execute=True):
        report_id = ask(client, headers, kind="general-ledger").json()["id"]

    body = client.get(f"{API}/reports/{report_id}", **headers).json()
    assert body["status"] == "done"
    assert body["rows_done"] == body["rows_total"] > 0
    assert client.get(body["file"], **headers).status_code == 200


def test_a_failed_report_has_no_file(client, books, treasurer):
    run = queued_run(books, treasurer)
    run.status, run.error = ReportRun.Status.FAILED, "Rendering failed (MemoryError)."
    run.save()

    file = client.get(f"{API}/reports/{run.pk}/file", **token_for(treasurer))

    assert file.status_code == 409
    assert file.json() == {
        "detail": "This report failed and has no file: Rendering failed (MemoryError)."
    }


# Input the API refuses


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"kind": "payroll"}, 400, "No report is called 'payroll'"),
        ({"format": "beancount"}, 400, "Only the whole ledger exports as Beancount"),
        ({"kind": "ledger", "format": "csv"}, 400, "The whole ledger exports as Beancount only."),
        ({"kind": "activities", "from": "2026-04-01"}, 400, "from must be on or before to."),
        ({"kind": "activities", "from": None}, 400, "give its first day as from"),
        ({"fund": "elsewhere"}, 404, "Not Found"),
    ],
)
def test_a_refused_request_says_why_and_generates_nothing(
    client, books, treasurer, fields, status, message
):
    response = ask(client, token_for(treasurer), **fields)

    assert response.status_code == status
    assert message in response.json()["detail"]
    assert not ReportRun.objects.exists()


@pytest.mark.parametrize(
    "fields",
    [
        {"to": "31/03/2026"},
        {"from": "2026-02-30"},
        {"to": "1999-12-31"},
        {"format": "docx"},
        {"kind": None},
    ],
)
def test_a_request_that_does_not_validate_is_a_422(client, books, treasurer, fields):
    response = ask(client, token_for(treasurer), **fields)

    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)
    assert not ReportRun.objects.exists()


def test_an_unknown_run_is_not_found(client, treasurer):
    headers = token_for(treasurer)

    assert client.get(f"{API}/reports/999", **headers).status_code == 404
    assert client.get(f"{API}/reports/999/file", **headers).status_code == 404


def test_the_schema_documents_the_reports_operations(client, admin_user):
    schema = client.get(f"{API}/openapi.json", **token_for(admin_user)).json()

    ask_for = schema["paths"][f"{API}/reports"]["post"]
    assert {"201", "202", "400", "401", "403", "404", "422"} <= set(ask_for["responses"])
    file = schema["paths"][f"{API}/reports/{{report_id}}/file"]["get"]
    assert {"200", "409"} <= set(file["responses"])
    assert "application/pdf" in file["responses"]["200"]["content"]
