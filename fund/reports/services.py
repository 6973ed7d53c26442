"""Generating reports: render a report of the catalogue to a file and record it in the report log.

A report is rendered outside any database transaction (it takes a while), stored under
REPORT_ROOT with a random name, and logged as a `ReportRun` with its SHA-256, so that
`verify_report` can later say what a file is. Large reports are rendered by a background task
(`fund.tasks.render_report`) that updates `rows_done` as it goes, for the progress bar.
"""

import contextlib
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone

from fund.errors import ReportError
from fund.ledger.models import Fund
from fund.reports import engine
from fund.reports.models import ReportRun
from fund.reports.queries import file_sha256
from fund.reports.registry import Period, Report, UnknownReport, get_report
from fund.security.roles import REPORT_READERS
from fund.tasks import enqueue_on_commit, render_report

logger = logging.getLogger(__name__)

# The kind of the Beancount export: the whole ledger as plain-text accounting, not a table.
BEANCOUNT_KIND = "ledger"

Progress = Callable[[int, int], None]


def make_period(start: date, end: date) -> Period:
    """Return the period from start to end (both inclusive), or raise ReportError."""
    if start > end:
        raise ReportError("The period starts after it ends.")
    return Period(start, end)


def generate_report(
    *,
    actor: User | None,
    kind: str,
    fund: Fund,
    period: Period,
    fmt: str,
    generated_at: datetime | None = None,
    progress: Progress | None = None,
) -> ReportRun:
    """Render a report now, store it under REPORT_ROOT and return its run, done.

    Refuses (ReportError) a kind the catalogue does not hold and a format the kind is not
    offered in; `actor` None is the command line. Call it outside any transaction.
    """
    REPORT_READERS.check(actor)
    report = _check_request(kind, fmt)
    run = _create_run(actor, kind, fund, period, fmt, generated_at, report)
    return _render(run, report, progress)


def request_report(*, actor: User, kind: str, fund: Fund, period: Period, fmt: str) -> ReportRun:
    """Render a small report now; queue a large one for the background task and return its run.

    A report with more rows than REPORT_BACKGROUND_ROWS comes back queued; poll its
    `status` and `rows_done` (the task starts once the caller's transaction commits).
    """
    REPORT_READERS.check(actor)
    report = _check_request(kind, fmt)
    rows = report.count(fund, period) if report is not None else 0
    if rows <= settings.REPORT_BACKGROUND_ROWS:
        return generate_report(actor=actor, kind=kind, fund=fund, period=period, fmt=fmt)
    run = _create_run(actor, kind, fund, period, fmt, None, report, status=ReportRun.Status.QUEUED)
    enqueue_on_commit(render_report, run.pk)
    return run


def render_run(*, run_id: int) -> ReportRun:
    """Render a queued run (the background task's body). Safe to call twice.

    Marks the run running, updates `rows_done` as each chunk of rows is rendered, and ends it
    done or failed. A failed run's error names no one: it says only what kind of failure it was.
    """
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        if run.status != ReportRun.Status.QUEUED:
            return run
        run.status = ReportRun.Status.RUNNING
        run.save(update_fields=["status"])
    try:
        report = _check_request(run.kind, run.format)
    except ReportError as error:
        return _fail(run, str(error))

    # The report reads from a snapshot, in a read-only transaction that commits nothing until it
    # ends: the progress bar's counts go through a connection of their own, committed at once.
    counter = connections.create_connection(DEFAULT_DB_ALIAS)
    table = ReportRun._meta.db_table

    def progress(done: int, total: int) -> None:
        with counter.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET rows_done = %s, rows_total = %s WHERE id = %s",  # noqa: S608
                [done, total, run.pk],
            )

    try:
        return _render(run, report, progress)
    finally:
        counter.close()


def _check_request(kind: str, fmt: str) -> Report | None:
    """Return the report of that kind (None for the Beancount export), or raise ReportError."""
    if fmt not in ReportRun.Format.values:
        raise ReportError(
            f"No report format is called {fmt!r}; the formats are: "
            f"{', '.join(ReportRun.Format.values)}."
        )
    if kind == BEANCOUNT_KIND:
        if fmt != ReportRun.Format.BEANCOUNT:
            raise ReportError("The whole ledger is exported only in the beancount format.")
        return None
    try:
        report = get_report(kind)
    except UnknownReport as error:
        raise ReportError(str(error)) from None
    if fmt == ReportRun.Format.BEANCOUNT:
        raise ReportError(f"Only the ledger exports as beancount; {kind!r} does not.")
    return report


def _create_run(
    actor: User | None,
    kind: str,
    fund: Fund,
    period: Period,
    fmt: str,
    generated_at: datetime | None,
    report: Report | None,
    *,
    status: str = ReportRun.Status.RUNNING,
) -> ReportRun:
    printed_at = (generated_at or timezone.now()).replace(microsecond=0)
    if timezone.is_naive(printed_at):
        raise ReportError("The generation time must say its time zone.")
    start = period.end if report is not None and report.as_of else period.start
    return ReportRun.objects.create(
        kind=kind,
        fund=fund,
        period_start=start,
        period_end=period.end,
        format=fmt,
        parameters={
            "generated_at": printed_at.astimezone(UTC).isoformat(),
            "generated_by": actor.get_username() if actor is not None else None,
        },
        requested_by=actor,
        generated_at=printed_at,
        status=status,
        rows_total=report.count(fund, period) if report is not None else 0,
    )


def _render(run: ReportRun, report: Report | None, progress: Progress | None) -> ReportRun:
    root = Path(settings.REPORT_ROOT)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(16)}.{engine.EXTENSIONS[run.format]}"
    path = root / stored_name
    generated_by = (
        run.requested_by.get_username() if run.requested_by is not None else engine.COMMAND_LINE
    )
    period = Period(run.period_start, run.period_end)
    try:
        # Owner-only: a report holds the books (and, for donor readers, donors' names).
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out, one_snapshot():
            if report is None:
                rendered = engine.write_ledger(run.fund, out)
            else:
                rendered = engine.render(
                    report,
                    fund=run.fund,
                    period=period,
                    fmt=run.format,
                    generated_at=run.generated_at,
                    generated_by=generated_by,
                    out=out,
                    progress=progress,
                )
    except Exception as error:
        path.unlink(missing_ok=True)
        # The exception's text may quote a row (a memo, a payee): log and keep only its type.
        logger.error("Report run %s failed: %s", run.pk, type(error).__name__)
        return _fail(run, f"Rendering failed ({type(error).__name__}).")
    run.stored_name = stored_name
    run.sha256 = file_sha256(path)
    run.size_bytes = path.stat().st_size
    run.signed = rendered.signed
    run.chain_head = rendered.chain_head
    run.rows_total = run.rows_done = rendered.rows
    run.status = ReportRun.Status.DONE
    run.finished_at = timezone.now()
    run.save()
    return run


@contextlib.contextmanager
def one_snapshot() -> Iterator[None]:
    """Read everything inside from one snapshot of the database (repeatable read, read only).

    So a report's rows, its totals and the chain head printed on it are of the same moment,
    however long it renders and whatever is posted meanwhile. Inside a caller's transaction
    (the test suite's) that transaction decides what is seen.
    """
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _fail(run: ReportRun, error: str) -> ReportRun:
    run.status = ReportRun.Status.FAILED
    run.error = error[:200]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    return run
