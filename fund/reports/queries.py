"""Reads of the report log: the runs there are, a run's stored file, a file's run by its hash."""

import hashlib
from pathlib import Path

from django.conf import settings
from django.db.models import QuerySet

from fund.ledger.models import Fund
from fund.reports.models import ReportRun


def list_runs(fund: Fund | None = None) -> QuerySet[ReportRun]:
    """Return the report log, newest first, of one fund or of all."""
    runs = ReportRun.objects.select_related("fund", "requested_by")
    if fund is not None:
        runs = runs.filter(fund=fund)
    return runs.order_by("-requested_at", "-pk")


def report_file(run: ReportRun) -> Path:
    """Return the path of a run's stored file (under REPORT_ROOT); raise ValueError if none."""
    if run.status != ReportRun.Status.DONE or not run.stored_name:
        raise ValueError("This report has no file (yet).")
    return Path(settings.REPORT_ROOT) / run.stored_name


def find_runs_by_sha256(sha256: str) -> QuerySet[ReportRun]:
    """Return the finished runs whose file had this SHA-256, oldest first."""
    return (
        ReportRun.objects.select_related("fund", "requested_by")
        .filter(sha256=sha256, status=ReportRun.Status.DONE)
        .order_by("requested_at", "pk")
    )


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
