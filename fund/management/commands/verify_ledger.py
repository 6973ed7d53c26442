"""manage.py verify_ledger [--fund SLUG] [--seal FILE …]: recompute the books and check seals."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.ledger import seals
from fund.ledger.models import Fund
from fund.ledger.verify import verify_funds


class Command(BaseCommand):
    help = (
        "Verify the ledger in one snapshot: the hash chain, every balance, checkpoint, counter, "
        "lock date and the chart; with --seal, that the books still extend each sealed head. "
        "Prints each fund's chain head and exits 0, or lists every problem and exits 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fund", metavar="SLUG", help="Verify only this fund.")
        parser.add_argument(
            "--seal",
            metavar="FILE",
            action="append",
            default=[],
            help="A seal printed by seal_ledger (repeat for several).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        given = [self.read_seal(Path(name)) for name in options["seal"]]
        funds = None
        if options["fund"]:
            fund = Fund.objects.filter(slug=options["fund"]).first()
            if fund is None:
                raise CommandError(f"No fund with slug {options['fund']!r}.", returncode=2)
            funds = [fund]
        failed = False
        for result in verify_funds(funds, sealed=given):
            if result.ok:
                sealed = f", {result.seals_checked} seal(s) hold" if result.seals_checked else ""
                self.stdout.write(
                    f"OK {result.fund}: {result.transactions} transactions, "
                    f"{result.postings} postings, chain head {result.chain_head}{sealed}"
                )
                continue
            failed = True
            count = len(result.problems) + result.more_problems
            self.stderr.write(f"FAIL {result.fund}: {count} problem(s)")
            for problem in result.problems:
                self.stderr.write(f"  {problem}")
            if result.more_problems:
                self.stderr.write(f"  … and {result.more_problems} more")
        if failed:
            raise CommandError("The ledger does not verify.", returncode=1)

    @staticmethod
    def read_seal(path: Path) -> seals.SignedSeal:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CommandError(
                f"Cannot read the seal {path}: {error.strerror}.", returncode=2
            ) from None
        try:
            return seals.SignedSeal.read(text)
        except seals.SealError as error:
            raise CommandError(f"{path}: {error}", returncode=2) from None
