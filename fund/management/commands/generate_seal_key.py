"""manage.py generate_seal_key: print a new LEDGER_SEAL_KEY and its public key; nothing stored."""

from typing import Any

from django.core.management.base import BaseCommand

from fund.ledger import seals


class Command(BaseCommand):
    help = (
        "Print a new Ed25519 key for LEDGER_SEAL_KEY (keep it secret, outside the database) and "
        "its public key (give it to auditors as LEDGER_SEAL_PUBLIC_KEYS)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        private, public = seals.generate_key()
        self.stdout.write(f"LEDGER_SEAL_KEY={private}")
        self.stderr.write(
            f"Public key (LEDGER_SEAL_PUBLIC_KEYS for verify-only machines): {public}"
        )
