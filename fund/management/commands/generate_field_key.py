"""Print a new field encryption key entry (or blind index key); nothing is stored."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fund.security import crypto


class Command(BaseCommand):
    help = (
        "Print a new 'key_id:base64key' entry for FIELD_ENCRYPTION_KEYS (put it first to make it "
        "the primary key), or with --blind-index a new BLIND_INDEX_KEY value."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--key-id", help="Key id (letters, digits, '-', '_'; default: k<YYYYMMDD>)."
        )
        parser.add_argument(
            "--blind-index", action="store_true", help="Print a BLIND_INDEX_KEY value instead."
        )

    def handle(self, *args: Any, key_id: str | None, blind_index: bool, **options: Any) -> None:
        if blind_index:
            self.stdout.write(crypto.generate_blind_index_key())
            return
        key_id = key_id or f"k{timezone.now():%Y%m%d}"
        try:
            self.stdout.write(crypto.generate_key_line(key_id))
        except ValueError as error:
            raise CommandError(str(error)) from None
