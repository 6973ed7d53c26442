"""The test suite's flush: as the owner role, with the ledger's TRUNCATE guard lifted meanwhile.

Tests that commit (live server, several threads) empty the database between tests with `flush`.
The runtime role may not truncate ledger tables, and a trigger refuses TRUNCATE to everyone, so
the flush connects as the owner and turns those triggers off only for its own statement.
"""

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from fund.ledger.privileges import as_owner

GUARDED = [
    "fund_fund",
    "fund_ledgerhead",
    "fund_account",
    "fund_transaction",
    "fund_posting",
    "fund_accountday",
    "fund_supportedcase",
    "fund_commitment",
    "fund_bookslock",
    "fund_seal",
    "fund_accesslog",
    "fund_securityevent",
]


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        with as_owner(connection):
            self.guards(connection, "DISABLE")
            try:
                super().handle(**options)
            finally:
                self.guards(connection, "ENABLE")

    @staticmethod
    def guards(connection: Any, action: str) -> None:
        with connection.cursor() as cursor:
            for table in GUARDED:
                cursor.execute(f"ALTER TABLE {table} {action} TRIGGER {table}_no_truncate")
