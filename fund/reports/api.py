"""The reports API: ask for a report, follow its progress, fetch its file.

Mounted at /api/v1/ by fund.api; treasurers, auditors and admins only (REPORT_READERS). A small
report is rendered while the request waits (201, status done); a large one is queued for the
background task (202, status queued) and its status is polled until it is done.
"""

from datetime import date, datetime
from typing import Annotated, Any

from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError

from fund.ledger.dates import BOOK_DAY_PATTERN, FIRST_BOOK_DAY, LAST_BOOK_DAY
from fund.ledger.queries import get_fund
from fund.reports.downloads import send_report
from fund.reports.forms import format_problem, is_as_of
from fund.reports.models import ReportRun
from fund.reports.registry import Period
from fund.reports.services import request_report
from fund.schemas import ERRORS
from fund.security.api_auth import ApiRequest, staff_auth
from fund.security.roles import REPORT_READERS

router = Router(tags=["reports"])
EXPORT_REPORTS = staff_auth(REPORT_READERS)

_BOOK_DAYS = f"{FIRST_BOOK_DAY:%Y-%m-%d} to {LAST_BOOK_DAY:%Y-%m-%d}"
BIGINT = 2**63 - 1
ReportId = Annotated[int, Path(ge=1, le=BIGINT, description="The report's id in the report log.")]
KINDS = (
    "general-ledger, trial-balance, financial-position, activities, progress, disbursements, "
    "bonds, 1099, gifts, stripe-reconciliation, and ledger (the whole ledger, beancount only)"
)


def book_day(description: str) -> Any:
    """Return the field of a report date: a day the books take (any other is a 422)."""
    return Field(
        ge=FIRST_BOOK_DAY,
        le=LAST_BOOK_DAY,
        description=f"{description} (YYYY-MM-DD, {_BOOK_DAYS}).",
        json_schema_extra={"pattern": BOOK_DAY_PATTERN},
    )


class ReportIn(Schema):
    kind: str = Field(
        ..., max_length=40, description=f"The report: {KINDS}. An unknown kind is a 400."
    )
    fund: str = Field(..., max_length=60, description="The fund's slug.")
    start: Annotated[
        date | None, book_day("First day covered; not needed for a report as of a day")
    ] = Field(None, alias="from")
    end: Annotated[date, book_day("Last day covered, or the day a balance report is drawn at")] = (
        Field(..., alias="to")
    )
    format: ReportRun.Format = Field(
        ..., description="pdf, pdfa (PDF/A-3b with the CSV attached), csv, or beancount."
    )


class ReportRunOut(Schema):
    id: int
    kind: str
    fund: str = Field(..., description="The fund's slug.")
    start: date = Field(..., alias="from", description="First day covered.")
    end: date = Field(..., alias="to", description="Last day covered (the day, for as-of reports).")
    format: str
    status: ReportRun.Status = Field(..., description="queued, running, done or failed.")
    rows_done: int = Field(..., description="Rows rendered so far.")
    rows_total: int = Field(..., description="Rows the report holds (0 until it is counted).")
    requested_by: str | None = Field(None, description="Username; null: the command line.")
    requested_at: datetime
    generated_at: datetime = Field(..., description="The generation time printed on the report.")
    finished_at: datetime | None
    error: str = Field(..., description="Why it failed; empty otherwise.")
    sha256: str = Field(..., description="SHA-256 of the file, once done.")
    size_bytes: int
    signed: bool = Field(..., description="Whether the PDF carries a signature.")
    chain_head: str = Field(..., description="The ledger's chain head printed on the report.")
    file: str | None = Field(None, description="Where to fetch the file, once done.")


def run_out(run: ReportRun) -> dict[str, object]:
    """Return a run as the API shows it."""
    done = run.status == ReportRun.Status.DONE
    return {
        "id": run.pk,
        "kind": run.kind,
        "fund": run.fund.slug,
        "from": run.period_start,
        "to": run.period_end,
        "format": run.format,
        "status": run.status,
        "rows_done": run.rows_done,
        "rows_total": run.rows_total,
        "requested_by": run.requested_by.get_username() if run.requested_by else None,
        "requested_at": run.requested_at,
        "generated_at": run.generated_at,
        "finished_at": run.finished_at,
        "error": run.error,
        "sha256": run.sha256,
        "size_bytes": run.size_bytes,
        "signed": run.signed,
        "chain_head": run.chain_head,
        "file": reverse("api:report_file", args=[run.pk]) if done else None,
    }


def _get_run(pk: int) -> ReportRun:
    return get_object_or_404(ReportRun.objects.select_related("fund", "requested_by"), pk=pk)


_ERRORS = {status: ERRORS[status] for status in (400, 401, 403, 404, 422)}
_FILE_TYPES = ("application/pdf", "text/csv", "text/plain")


@router.post(
    "/reports",
    response={201: ReportRunOut, 202: ReportRunOut, **_ERRORS},
    auth=EXPORT_REPORTS,
    by_alias=True,
)
def ask_for_report(request: ApiRequest, payload: ReportIn) -> Status[dict[str, object]]:
    """Ask for a report: 201 when it was rendered at once, 202 when it is queued (poll it)."""
    fund = get_fund(payload.fund)
    if problem := format_problem(payload.kind, payload.format):
        raise HttpError(400, problem)
    start = payload.start
    if start is None:
        if not is_as_of(payload.kind):
            raise HttpError(400, "This report covers a period: give its first day as from.")
        start = payload.end
    if start > payload.end:
        raise HttpError(400, "from must be on or before to.")
    run = request_report(
        actor=request.auth,
        kind=payload.kind,
        fund=fund,
        period=Period(start, payload.end),
        fmt=payload.format,
    )
    queued = run.status in {ReportRun.Status.QUEUED, ReportRun.Status.RUNNING}
    return Status(202 if queued else 201, run_out(run))


@router.get(
    "/reports/{report_id}",
    response={200: ReportRunOut, **_ERRORS},
    auth=EXPORT_REPORTS,
    by_alias=True,
)
def report_status(request: ApiRequest, report_id: ReportId) -> dict[str, object]:
    """Return a report's status and progress; once done, its SHA-256 and where its file is."""
    return run_out(_get_run(report_id))


@router.get(
    "/reports/{report_id}/file",
    response={409: ERRORS[400], **_ERRORS},
    auth=EXPORT_REPORTS,
    url_name="report_file",
    openapi_extra={
        "responses": {
            200: {
                "description": "The report's file, as an attachment.",
                "content": {media: {"schema": {"type": "string"}} for media in _FILE_TYPES},
            },
            409: {
                "description": "The report is not ready (queued, running or failed).",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                },
            },
        }
    },
)
def report_file(request: ApiRequest, report_id: ReportId) -> HttpResponseBase:
    """Send a finished report's file and log the download; 409 while it is not ready."""
    run = _get_run(report_id)
    if run.status == ReportRun.Status.FAILED:
        raise HttpError(409, f"This report failed and has no file: {run.error}")
    if run.status != ReportRun.Status.DONE:
        status = run.get_status_display().lower()
        raise HttpError(409, f"This report is {status}: poll /reports/{run.pk} until it is done.")
    return send_report(run, user=request.auth, via="API")
