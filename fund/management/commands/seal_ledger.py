"""manage.py seal_ledger [--fund SLUG]: print a signed seal of each fund's chain head."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.errors import FundError
from fund.ledger.models import Fund
from fund.ledger.services import seal_books


class Command(BaseCommand):
    help = (
        "Sign each fund's chain head with LEDGER_SEAL_KEY, keep the seal, and print it as one "
        "line of JSON. Keep the lines somewhere the database's users cannot reach: "
        "`verify_ledger --seal FILE` later proves the books still extend them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fund", metavar="SLUG", help="Seal only this fund.")

    def handle(self, *args: Any, **options: Any) -> None:
        funds = Fund.objects.order_by("slug")
        if options["fund"]:
            funds = funds.filter(slug=options["fund"])
            if not funds.exists():
                raise CommandError(f"No fund with slug {options['fund']!r}.", returncode=2)
        for fund in funds:
            try:
                seal = seal_books(fund=fund, actor=None, occasion="sealed from the command line")
            except FundError as error:
                raise CommandError(str(error)) from None
            self.stdout.write(seal.line())
