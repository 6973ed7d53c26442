"""The reports screen: ask for a report, watch a large one render, download it, see the log.

Treasurers, auditors and admins only (REPORT_READERS). Asking is a POST that redirects to the
run's page (POST-redirect-GET); the page polls a small JSON status where JavaScript runs and
offers a refresh link where it does not.
"""

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from fund.errors import FundError
from fund.reports.downloads import download_name, send_report
from fund.reports.forms import (
    LEDGER_EXPORT,
    LEDGER_EXPORT_TITLE,
    ReportForm,
    is_as_of,
    report_descriptions,
)
from fund.reports.models import ReportRun
from fund.reports.queries import list_runs
from fund.reports.registry import catalogue
from fund.reports.services import request_report
from fund.security.roles import REPORT_READERS, role_required

PAGE_SIZE = 25


def report_title(kind: str) -> str:
    """Return the title of the report of a kind, or the kind itself if no app offers it now."""
    if kind == LEDGER_EXPORT:
        return LEDGER_EXPORT_TITLE
    report = catalogue().get(kind)
    return report.title if report is not None else kind


def progress_text(run: ReportRun) -> str:
    """Return how far a run has got, in words: "1,200 of 5,000 rows"."""
    return f"{run.rows_done:,} of {run.rows_total:,} row{'s' if run.rows_total != 1 else ''}"


def status_of(run: ReportRun) -> dict[str, object]:
    """Return what the run's page shows of a run's progress, as the status endpoint sends it."""
    done = run.status == ReportRun.Status.DONE
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "rows_done": run.rows_done,
        "rows_total": run.rows_total,
        "progress": progress_text(run),
        "finished": run.status in {ReportRun.Status.DONE, ReportRun.Status.FAILED},
        "sha256": run.sha256 if done else "",
        "download_url": reverse("reports_download", args=[run.pk]) if done else "",
    }


def _get_run(pk: int) -> ReportRun:
    return get_object_or_404(ReportRun.objects.select_related("fund", "requested_by"), pk=pk)


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101  # role_required let only a signed-in user in
    return user


@require_http_methods(["GET", "POST"])
@role_required(REPORT_READERS)
def reports_home(request: HttpRequest) -> HttpResponse:
    """Show the report form and the log of generated reports; a POST asks for a report."""
    form = ReportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            run = request_report(
                actor=_actor(request),
                kind=data["kind"],
                fund=data["fund"],
                period=data["period"],
                fmt=data["format"],
            )
        except FundError as error:
            form.add_error(None, str(error))
        else:
            if run.status == ReportRun.Status.DONE:
                messages.success(request, f"{report_title(run.kind)} is ready to download.")
            return redirect("reports_run", pk=run.pk)
    page = Paginator(list_runs(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "descriptions": report_descriptions(),
        "page": page,
        "runs": [(run, report_title(run.kind)) for run in page.object_list],
    }
    return render(request, "reports/reports_home.html", context, status=400 if form.errors else 200)


@require_GET
@role_required(REPORT_READERS)
def reports_run(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a report's status: its progress while it renders, its download once ready."""
    run = _get_run(pk)
    context = {
        "run": run,
        "title": report_title(run.kind),
        "as_of": is_as_of(run.kind),
        "status": status_of(run),
        "file_name": download_name(run),
    }
    return render(request, "reports/reports_run.html", context)


@require_GET
@role_required(REPORT_READERS)
def reports_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Send a run's status and progress as JSON, for the page's progress bar."""
    response = JsonResponse(status_of(_get_run(pk)))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
# role_required is typed for HttpResponse; a FileResponse streams the file, not held in memory.
@role_required(REPORT_READERS)  # type: ignore[arg-type]
def reports_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Send a finished report's file and log the download; before it is ready, show its page."""
    run = _get_run(pk)
    if run.status != ReportRun.Status.DONE:
        messages.info(request, "This report is not ready yet.")
        return redirect("reports_run", pk=run.pk)
    return send_report(run, user=_actor(request), via="screen")
