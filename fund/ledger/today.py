"""The ledger's "today" in the database: the day in TIME_ZONE, the day timezone.localdate() says.

PostgreSQL's current_date is the day in the session's time zone, and Django runs every session in
UTC: from 4 pm in Los Angeles it is already tomorrow there, so the database would let a treasurer
close a day that has not ended and date an entry 32 days ahead. The ledger's checks use
fund_today() instead, which `write_today_function` (re)writes with the configured zone: the
migration that introduced it, and every `manage.py migrate` after (so a changed TIME_ZONE applies
at the next deploy). The zone is written into the function, not read from a setting a session
could change.
"""

import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper

# IANA zone names ("America/Los_Angeles", "Etc/GMT+8", "UTC"): nothing that could end the literal.
ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-/]{0,63}")
WRITTEN_ZONE = re.compile(r"AT TIME ZONE '([^']*)'")


def today_function_sql(zone: str) -> str:
    """Return the CREATE OR REPLACE of fund_today() for a time zone name."""
    if not ZONE_NAME.fullmatch(zone):
        raise ImproperlyConfigured(f"TIME_ZONE {zone!r} is not a time zone name.")
    return (
        "CREATE OR REPLACE FUNCTION fund_today() RETURNS date LANGUAGE sql STABLE "
        "SET search_path = pg_catalog AS "
        f"$$ SELECT (now() AT TIME ZONE '{zone}')::date $$"
    )


def database_zone(connection: BaseDatabaseWrapper) -> str | None:
    """Return the time zone fund_today() counts days in, or None where it is not written yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'fund_today' "
            "AND pronamespace = 'public'::regnamespace"
        )
        row = cursor.fetchone()
    found = WRITTEN_ZONE.search(row[0]) if row else None
    return found.group(1) if found else None


def write_today_function(connection: BaseDatabaseWrapper) -> None:
    """(Re)write fund_today() for settings.TIME_ZONE, after checking PostgreSQL knows the zone."""
    if connection.vendor != "postgresql":
        return
    zone = str(settings.TIME_ZONE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_timezone_names WHERE name = %s", [zone])
        (known,) = cursor.fetchone()
        if not known:
            raise ImproperlyConfigured(f"PostgreSQL does not know the time zone {zone!r}.")
        cursor.execute(today_function_sql(zone))
