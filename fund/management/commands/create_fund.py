"""manage.py create_fund NAME --slug SLUG --goal DOLLARS: a fund with its chart of accounts."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.errors import FundError
from fund.ledger.services import create_fund
from fund.models import Fund


def dollars_to_cents(text: str) -> int:
    """Return a typed amount such as "150,000" or "150000.50" in whole cents."""
    try:
        amount = Decimal(text.replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise CommandError(f"Not an amount: {text!r}.") from None
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise CommandError(f"Not an amount in dollars and cents: {text!r}.")
    return int(amount * 100)


class Command(BaseCommand):
    help = "Create a fund and its chart of accounts: create_fund NAME --slug SLUG --goal DOLLARS"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--slug", required=True, help="Used in the public link /f/SLUG/.")
        parser.add_argument("--goal", required=True, help="Fundraising goal in dollars.")
        parser.add_argument("--currency", default="USD")
        parser.add_argument(
            "--tax-status", default=Fund.TaxStatus.LABOR, choices=Fund.TaxStatus.values
        )
        parser.add_argument("--restricted", action="store_true", help="Donor-restricted fund.")
        parser.add_argument("--private", action="store_true", help="No public page.")
        parser.add_argument("--summary", default="", help="Text for the public page.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            fund = create_fund(
                name=options["name"],
                slug=options["slug"],
                goal_cents=dollars_to_cents(options["goal"]),
                currency=options["currency"],
                restricted=options["restricted"],
                tax_status=options["tax_status"],
                is_public=not options["private"],
                public_summary=options["summary"],
            )
        except FundError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Created fund {fund.slug} with {fund.accounts.count()} accounts: /f/{fund.slug}/"
        )
