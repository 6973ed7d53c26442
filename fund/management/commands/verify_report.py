"""manage.py verify_report FILE: say which logged report a file is, and check its signature."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.reports import signing
from fund.reports.engine import COMMAND_LINE
from fund.reports.models import ReportRun
from fund.reports.queries import file_sha256, find_runs_by_sha256


class Command(BaseCommand):
    help = (
        "Find FILE in the report log by its SHA-256 and print what it is (kind, fund, period, "
        "generated at and by); where the PDF is signed, check that the signature is intact. "
        "Exits 1 if the file is not in the log or was changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="A report written by this system.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.", returncode=2) from None
        digest = file_sha256(path)
        check = signing.check_signature(data) if data.startswith(b"%PDF") else None
        run = find_runs_by_sha256(digest).first()
        if run is None:
            if check is not None and not check.ok:
                raise CommandError(
                    f"ALTERED {path}: its signature no longer matches its content "
                    f"(signed by {check.signer or 'an unknown signer'}).",
                    returncode=1,
                )
            raise CommandError(
                f"UNKNOWN {path}: no report in the log has this file's SHA-256 ({digest}); "
                "it was changed or was not generated here.",
                returncode=1,
            )
        self.stdout.write(f"OK {path}: {describe(run)}")
        self.stdout.write(f"  sha256 {digest} (report log #{run.pk})")
        if check is None:
            self.stdout.write("  unsigned: the report log's SHA-256 is the proof")
        elif check.ok:
            self.stdout.write(f"  signature intact, signed by {check.signer}")
        else:
            raise CommandError(
                f"ALTERED {path}: the file is in the log but its signature does not verify.",
                returncode=1,
            )


def describe(run: ReportRun) -> str:
    """Return what a logged report is, in one line."""
    if run.period_start == run.period_end:
        period = f"as of {run.period_end}"
    else:
        period = f"{run.period_start} to {run.period_end}"
    by = run.requested_by.get_username() if run.requested_by is not None else COMMAND_LINE
    return (
        f"{run.kind} ({run.get_format_display()}) of {run.fund.name} [{run.fund.slug}], {period}, "
        f"generated {run.generated_at.isoformat()} by {by}, {run.rows_total} rows"
    )
