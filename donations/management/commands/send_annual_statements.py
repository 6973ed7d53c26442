"""manage.py send_annual_statements --year YEAR [--fund SLUG] [--dry-run]: each donor's statement
of the year's gifts, e-mailed once by the task worker."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from donations.models import AnnualStatement
from donations.services.receipts import FIRST_YEAR, LAST_YEAR, statement_donors, year_in_range
from donations.tasks import send_annual_statement
from fund.ledger.models import Fund


class Command(BaseCommand):
    help = (
        "Queue an e-mail to every donor with an e-mail address who gave that year (refunds "
        "deducted), with a PDF listing each gift and the total. A donor gets one statement per "
        "year however often this runs. Prints counts only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        # Checked in handle, not by argparse, so a bad year is one line and exit status 2.
        parser.add_argument("--year", metavar="YEAR", help="The calendar year, e.g. 2026.")
        parser.add_argument("--fund", metavar="SLUG", help="Only gifts to this fund.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be sent; send nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        year = _year(options["year"])
        fund = None
        if options["fund"]:
            fund = Fund.objects.filter(slug=options["fund"]).first()
            if fund is None:
                raise CommandError(f"No fund with slug {options['fund']!r}.", returncode=2)
        donors = list(statement_donors(year=year, fund=fund))
        sent = set(
            AnnualStatement.objects.filter(year=year, donor__in=donors).values_list(
                "donor_id", flat=True
            )
        )
        waiting = [donor for donor in donors if donor.pk not in sent]
        due = [donor for donor in waiting if donor.email]
        without_email = len(waiting) - len(due)
        if not options["dry_run"]:
            for donor in due:
                send_annual_statement.enqueue(donor.pk, year, fund.pk if fund else None)
        verb = "Would send" if options["dry_run"] else "Queued"
        self.stdout.write(
            f"{verb} {len(due)} statement(s) for {year}; {len(sent)} already sent; "
            f"{without_email} donor(s) without an e-mail address."
        )


def _year(given: str | None) -> int:
    text = (given or "").strip()
    if not text.isascii() or not text.isdigit() or not year_in_range(int(text)):
        raise CommandError(
            f"--year must be a year from {FIRST_YEAR} to {LAST_YEAR}, e.g. --year 2026.",
            returncode=2,
        )
    return int(text)
