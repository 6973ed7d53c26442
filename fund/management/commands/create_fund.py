"""manage.py create_fund NAME --slug SLUG --goal AMOUNT: a fund with its chart of accounts."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund import money
from fund.errors import FundError
from fund.ledger.models import Fund
from fund.ledger.services import create_fund


class Command(BaseCommand):
    help = "Create a fund and its chart of accounts: create_fund NAME --slug SLUG --goal AMOUNT"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--slug", required=True, help="Used in the public link /f/SLUG/.")
        parser.add_argument(
            "--goal", required=True, help="Fundraising goal in the fund's currency, e.g. 150,000."
        )
        parser.add_argument("--currency", default=money.DEFAULT_CURRENCY)
        parser.add_argument(
            "--tax-status", default=Fund.TaxStatus.LABOR, choices=Fund.TaxStatus.values
        )
        parser.add_argument("--restricted", action="store_true", help="Donor-restricted fund.")
        parser.add_argument("--private", action="store_true", help="No public page.")
        parser.add_argument("--summary", default="", help="Text for the public page.")
        parser.add_argument(
            "--show-supporters",
            action="store_true",
            help="List on the public page the organisations that asked to be listed.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            fund = create_fund(
                actor=None,
                name=options["name"],
                slug=options["slug"],
                goal_cents=money.parse_amount(options["goal"], options["currency"]),
                currency=options["currency"],
                restricted=options["restricted"],
                tax_status=options["tax_status"],
                is_public=not options["private"],
                public_summary=options["summary"],
                show_supporters=options["show_supporters"],
            )
        except FundError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Created fund {fund.slug} with {fund.accounts.count()} accounts: /f/{fund.slug}/"
        )
