"""The two database roles: the owner that migrates, and the runtime role the app runs as.

The runtime role (DATABASE_URL) may read everything and write the app's ordinary tables, but on
the ledger's tables it has no INSERT, UPDATE, DELETE or TRUNCATE: it changes them only through the
SECURITY DEFINER functions fund_post(), fund_open() and fund_close_books(), which check every
entry. The owner (DATABASE_OWNER_URL) owns the tables and functions; `manage.py migrate` connects
as it and then grants the runtime role exactly this (`grant_runtime_role`).
"""

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql

# Written only by the database functions (or triggers they fire).
LEDGER_TABLES = (
    "fund_fund",
    "fund_ledgerhead",
    "fund_account",
    "fund_transaction",
    "fund_posting",
    "fund_accountday",
    "fund_supportedcase",
    "fund_bookslock",
    "fund_seal",
    "fund_commitment",
)
# Rows the app adds but never changes: the access log, security events, and every app's change
# history (the pghistory event tables, found by `history_tables`).
APPEND_ONLY_TABLES = ("fund_accesslog", "fund_securityevent")
FUNCTIONS = (
    "fund_post(bigint, text, date, text, text, text, text, text, bigint, bigint, bigint[], "
    "bigint[], boolean)",
    "fund_open(text, text, bigint, text, boolean, text, boolean, text, date, text[], text[], "
    "text[], text[], boolean[])",
    "fund_close_books(bigint, date, bigint, text)",
)
# What the runtime role may still change on ledger tables, column by column.
COLUMN_GRANTS = (
    (
        "UPDATE",
        "fund_fund",
        ("name", "goal_cents", "tax_status", "is_public", "public_summary", "show_supporters"),
    ),
    ("INSERT", "fund_seal", ()),
    ("INSERT", "fund_commitment", ()),
    ("UPDATE", "fund_commitment", ("released_at",)),
)
SEQUENCES = ("fund_seal_id_seq", "fund_commitment_id_seq")


def runtime_role() -> str:
    """Return the name of the role the app runs as (the user of DATABASE_URL)."""
    return str(settings.DATABASE_RUNTIME_ROLE)


def owner_role() -> str | None:
    """Return the name of the owner role, or None in single-role development."""
    owner = settings.DATABASE_OWNER
    if owner is None or owner.get("USER") in (None, "", runtime_role()):
        return None
    return str(owner["USER"])


@contextlib.contextmanager
def as_owner(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Connect as the owner role (same database) for the duration; re-entrant.

    Without a separate owner (single-role development) the connection is left as it is.
    """
    owner = settings.DATABASE_OWNER
    if (
        owner is None
        or owner_role() is None
        or connection.settings_dict.get("USER") == owner_role()
    ):
        yield
        return
    keys = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
    saved = {key: connection.settings_dict.get(key) for key in keys}
    connection.close()
    connection.settings_dict.update({key: owner.get(key, saved[key]) for key in keys})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def history_tables() -> list[str]:
    """Return the tables of every installed app's change history (pghistory's event models)."""
    from django.apps import apps
    from pghistory.models import Event

    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, Event) and not model._meta.proxy
    )


def grant_statements(runtime: str, database: str) -> list[sql.Composable]:
    """Return the GRANTs and REVOKEs that give the runtime role what it needs, and no more."""
    role = sql.Identifier(runtime)
    ledger = sql.SQL(", ").join(sql.Identifier(t) for t in LEDGER_TABLES)
    append_only = sql.SQL(", ").join(
        sql.Identifier(t) for t in (*APPEND_ONLY_TABLES, *history_tables())
    )
    statements: list[sql.Composable] = [
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
        sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role),
        sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            role
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER ON {} FROM {}").format(
            ledger, role
        ),
        sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(append_only, role),
        sql.SQL("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON django_migrations FROM {}").format(
            role
        ),
    ]
    for privilege, table, columns in COLUMN_GRANTS:
        on = sql.SQL(" ({})").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
        statements.append(
            sql.SQL("GRANT {}{} ON {} TO {}").format(
                sql.SQL(privilege), on if columns else sql.SQL(""), sql.Identifier(table), role
            )
        )
    for function in FUNCTIONS:
        statements.append(sql.SQL(f"REVOKE EXECUTE ON FUNCTION {function} FROM PUBLIC"))
        statements.append(sql.SQL(f"GRANT EXECUTE ON FUNCTION {function} TO {{}}").format(role))
    return statements


def grant_runtime_role(connection: BaseDatabaseWrapper) -> bool:
    """Grant the runtime role its privileges, as the owner; False in single-role development."""
    if owner_role() is None:
        return False
    with as_owner(connection), connection.cursor() as cursor:
        for statement in grant_statements(runtime_role(), connection.settings_dict["NAME"]):
            cursor.execute(statement.as_string(cursor.connection))
    return True


def runtime_owns_ledger(connection: BaseDatabaseWrapper) -> bool | None:
    """Return whether the connected role owns the ledger's tables (None: not migrated yet)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableowner = current_user FROM pg_tables "
            "WHERE schemaname = 'public' AND tablename = 'fund_transaction'"
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])
