"""The access log is append-only in the database too (PostgreSQL), not only through the ORM."""

from django.db import migrations

PG_SQL = """
CREATE FUNCTION fund_refuse_access_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % refused', TG_OP USING ERRCODE = 'DF006';
END $$;
CREATE TRIGGER fund_accesslog_append_only BEFORE UPDATE OR DELETE ON fund_accesslog
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_access_log_change();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [("fund", "0005_ledger_invariants")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
