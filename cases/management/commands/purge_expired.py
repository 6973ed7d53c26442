"""manage.py purge_expired [--apply]: purge the personal data of closed cases past retention.

Without --apply it only lists what it would purge. Cases on legal hold, and cases whose money is
still in flight, are listed and left alone. Run it from a daily timer (docs/cases.md).
"""

from datetime import date
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.services.retention import PurgeReport, purge_expired


def iso_day(value: str) -> date:
    """Parse --today (YYYY-MM-DD)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--today must be a date as YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Purge the personal data of closed cases past retention (a dry run unless --apply)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line(message: str) -> NoReturn:
            # argparse would print the usage too: a bad argument is one line and exit 2.
            if parser.called_from_command_line:
                parser.exit(2, f"{subcommand}: {message}\n")
            raise CommandError(message)

        parser.error = one_line  # type: ignore[method-assign]
        return parser

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apply", action="store_true", help="Purge; without it, only list.")
        parser.add_argument(
            "--today", help="Count the retention period back from this day (YYYY-MM-DD)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = iso_day(options["today"]) if options["today"] else None
        report = purge_expired(actor=None, apply=options["apply"], today=today)
        self.stdout.write(describe(report))


def describe(report: PurgeReport) -> str:
    """Return the report as the command prints it: one line a case, then a summary."""
    verb = "Purged" if report.applied else "Would purge"
    lines = [
        f"{verb} {case.ref}: {case.timeline_entries} timeline entries, {case.hearings} hearings, "
        f"{case.bonds} bonds, {case.disbursements} disbursements, {case.documents} documents."
        for case in report.cases
    ]
    lines += [f"Kept {ref}: on legal hold." for ref in report.on_hold]
    lines += [f"Kept {ref}: a bond or a disbursement is still open." for ref in report.money_open]
    lines.append(
        f"{verb} {len(report.cases)} cases closed before {report.closed_before:%Y-%m-%d}."
        + ("" if report.applied else " Run with --apply to purge them.")
    )
    return "\n".join(lines)
