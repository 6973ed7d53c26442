"""manage.py verify_ledger [--fund SLUG]: recompute the chain, balances and zero-sums."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.ledger.verify import verify_fund
from fund.models import Fund


class Command(BaseCommand):
    help = "Verify the ledger: print each chain head, or exit 1 naming the first bad transaction."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fund", metavar="SLUG", help="Verify only this fund.")

    def handle(self, *args: Any, **options: Any) -> None:
        funds = Fund.objects.order_by("pk")
        if options["fund"]:
            funds = funds.filter(slug=options["fund"])
            if not funds.exists():
                raise CommandError(f"No fund with slug {options['fund']!r}.")
        for fund in funds:
            result = verify_fund(fund)
            if not result.ok:
                where = (
                    f"transaction {result.bad_transaction} (id {result.bad_transaction_id}): "
                    if result.bad_transaction
                    else ""
                )
                raise CommandError(f"FAIL {fund.slug}: {where}{result.problem}", returncode=1)
            self.stdout.write(
                f"OK {fund.slug}: {result.transactions} transactions, {result.postings} postings, "
                f"chain head {result.chain_head}"
            )
