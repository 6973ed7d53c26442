"""Re-encrypt every encrypted field value with the primary key of FIELD_ENCRYPTION_KEYS."""

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fund.security import crypto
from fund.security.keys import count_field_keys, rotate_field_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every EncryptedTextField value not under the primary (first) key of "
        "FIELD_ENCRYPTION_KEYS, in batches. Prints counts only, never values. With --check, only "
        "count the values under other keys and exit 1 if there are any."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Count values under old keys without changing anything; exit 1 if any.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Rows re-encrypted per transaction (default: 500).",
        )

    def handle(self, *args: Any, check: bool, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        primary = crypto.primary_key_id()
        if check:
            self.report(primary)
            return
        rotated = 0
        for count in rotate_field_keys(batch_size=batch_size):
            self.stdout.write(f"{count.label}: re-encrypted {count.rotated}")
            rotated += count.rotated
        self.stdout.write(
            self.style.SUCCESS(f"Re-encrypted {rotated} values under key id {primary!r}.")
        )

    def report(self, primary: str) -> None:
        stale = 0
        for count in count_field_keys():
            old = {kid: n for kid, n in sorted(count.by_key_id.items()) if kid != primary and n}
            parts = [f"{kid}: {n}" for kid, n in old.items()]
            if count.unreadable:
                parts.append(f"not encrypted values: {count.unreadable}")
            detail = f" ({', '.join(parts)})" if parts else ""
            field_stale = count.stale(primary)
            self.stdout.write(
                f"{count.label}: {count.total} values, {field_stale} under old keys{detail}"
            )
            stale += field_stale
        if stale:
            self.stdout.write(
                self.style.WARNING(
                    f"{stale} values are not under the primary key {primary!r}: "
                    "run `manage.py rotate_field_keys`."
                )
            )
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(f"Every value is under the primary key {primary!r}."))
