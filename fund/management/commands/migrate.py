"""manage.py migrate, as the owner role, then granting the runtime role what it needs.

With DATABASE_OWNER_URL set, migrations run as that role (which owns every table and function),
and afterwards the role of DATABASE_URL gets exactly the privileges of fund/ledger/privileges.py:
it can then write the ledger only through the database's own functions. The database's "today"
(fund_today(), fund/ledger/today.py) is rewritten for the current TIME_ZONE.
"""

from typing import Any

from django.core.management.commands import migrate
from django.db import connections

from fund.ledger.privileges import as_owner, grant_runtime_role
from fund.ledger.today import write_today_function


class Command(migrate.Command):
    help = (
        "Apply migrations as the owner role (DATABASE_OWNER_URL), then grant the runtime role "
        "(DATABASE_URL) what the app needs and no more."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        with as_owner(connection):
            super().handle(*args, **options)
            if options["plan"] or options["check_unapplied"]:
                return
            # The database's "today" follows TIME_ZONE, which may have changed since the last run.
            write_today_function(connection)
            if grant_runtime_role(connection) and options["verbosity"] >= 1:
                self.stdout.write("Granted the runtime role its privileges.")
