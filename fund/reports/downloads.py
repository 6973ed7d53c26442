"""Sending a generated report: its file name, its content type, and the access log line."""

from django.contrib.auth.models import User
from django.http import FileResponse
from django.utils.text import slugify

from fund.reports.forms import is_as_of
from fund.reports.models import ReportRun
from fund.reports.queries import report_file
from fund.security.access import record_access
from fund.security.models import AccessLog

Format = ReportRun.Format
CONTENT_TYPES = {
    Format.PDF: "application/pdf",
    Format.PDFA: "application/pdf",
    Format.CSV: "text/csv; charset=utf-8",
    Format.BEANCOUNT: "text/plain; charset=utf-8",
}
SUFFIXES = {
    Format.PDF: ".pdf",
    Format.PDFA: "-pdfa.pdf",
    Format.CSV: ".csv",
    Format.BEANCOUNT: ".beancount",
}


def download_name(run: ReportRun) -> str:
    """Return the file name a report is sent as: fund, kind and dates, so it names no one."""
    if is_as_of(run.kind) or run.period_start == run.period_end:
        dates = f"{run.period_end:%Y-%m-%d}"
    else:
        dates = f"{run.period_start:%Y-%m-%d}-to-{run.period_end:%Y-%m-%d}"
    return f"{slugify(run.fund.slug)}-{slugify(run.kind)}-{dates}{SUFFIXES[Format(run.format)]}"


def send_report(run: ReportRun, *, user: User, via: str) -> FileResponse:
    """Return the finished report's file as an attachment, and log that the user downloaded it."""
    path = report_file(run)
    record_access(user=user, action=AccessLog.Action.DOWNLOAD, obj=run, detail=f"report via {via}")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=download_name(run),
        content_type=CONTENT_TYPES[Format(run.format)],
    )
