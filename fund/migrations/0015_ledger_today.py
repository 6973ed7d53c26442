"""The ledger's checks count days in TIME_ZONE (fund_today()), not in the session's UTC.

A day closes only once it has ended and an entry is dated at most 31 days ahead, "today" being
the day timezone.localdate() says (fund/ledger/today.py). Before this, current_date was the day in
UTC: from 4 pm in Los Angeles the books could be closed through a day that had not ended.
"""

from django.db import migrations

from fund.ledger.today import write_today_function

FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION fund_transaction_check_dates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_opened date;
    v_closed date;
BEGIN
    SELECT f.opened_on, h.closed_through INTO v_opened, v_closed
        FROM fund_fund f JOIN fund_ledgerhead h ON h.fund_id = f.id WHERE f.id = NEW.fund_id;
    IF NEW.effective_date < v_opened OR NEW.effective_date > {today} + 31 THEN
        RAISE EXCEPTION 'Date the transaction between the day the fund''s books open (%) and 31 days from today.',
            to_char(v_opened, 'YYYY-MM-DD') USING ERRCODE = 'DF011';
    END IF;
    IF v_closed IS NOT NULL AND NEW.effective_date <= v_closed THEN
        RAISE EXCEPTION 'The books are closed through %: date the transaction after that day.',
            to_char(v_closed, 'YYYY-MM-DD') USING ERRCODE = 'DF002';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION fund_open(
    p_name text, p_slug text, p_goal_cents bigint, p_currency text, p_restricted boolean,
    p_tax_status text, p_is_public boolean, p_public_summary text, p_opened_on date,
    p_codes text[], p_names text[], p_kinds text[], p_roles text[], p_no_overdraft boolean[]
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_fund bigint;
BEGIN
    IF p_opened_on IS NULL OR p_opened_on > {today} + 31 THEN
        RAISE EXCEPTION 'A fund''s books open on a day no more than 31 days ahead.' USING ERRCODE = 'DF011';
    END IF;
    INSERT INTO fund_fund (name, slug, goal_cents, currency, restricted, tax_status, is_public,
                           public_summary, opened_on, created_at)
        VALUES (p_name, p_slug, p_goal_cents, p_currency, p_restricted, p_tax_status, p_is_public,
                p_public_summary, p_opened_on, now())
        RETURNING id INTO v_fund;
    INSERT INTO fund_ledgerhead (fund_id, chain_head, gift_count, closed_through)
        VALUES (v_fund, repeat('0', 64), 0, NULL);
    INSERT INTO fund_account (fund_id, code, name, kind, role, no_overdraft, balance_cents)
        SELECT v_fund, code, name, kind, role, floor, 0
        FROM unnest(p_codes, p_names, p_kinds, p_roles, p_no_overdraft)
            AS chart(code, name, kind, role, floor);
    RETURN v_fund;
END $$;

CREATE OR REPLACE FUNCTION fund_close_books(p_fund bigint, p_through date, p_actor bigint, p_reason text)
RETURNS SETOF fund_bookslock
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_head fund_ledgerhead;
    v_lock fund_bookslock;
    v_group text;
BEGIN
    SELECT * INTO v_head FROM fund_ledgerhead WHERE fund_id = p_fund FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'There is no fund %.', p_fund USING ERRCODE = 'DF014';
    END IF;
    IF p_through IS NULL OR p_through >= {today} THEN
        RAISE EXCEPTION 'Only days that have ended can be closed: choose yesterday or earlier.'
            USING ERRCODE = 'DF014';
    END IF;
    IF v_head.closed_through IS NOT NULL AND p_through < v_head.closed_through THEN
        v_group := 'admin';
        IF btrim(coalesce(p_reason, '')) = '' THEN
            RAISE EXCEPTION 'Reopening closed days needs a reason.' USING ERRCODE = 'DF014';
        END IF;
    ELSE
        v_group := 'treasurer';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM auth_user u
                   LEFT JOIN auth_user_groups ug ON ug.user_id = u.id
                   LEFT JOIN auth_group g ON g.id = ug.group_id
                   WHERE u.id = p_actor AND u.is_active
                     AND (g.name = v_group OR (v_group = 'admin' AND u.is_superuser))) THEN
        RAISE EXCEPTION 'Only % can %.', CASE v_group WHEN 'admin' THEN 'an admin' ELSE 'a treasurer' END,
            CASE v_group WHEN 'admin' THEN 'reopen closed days' ELSE 'close the books' END
            USING ERRCODE = 'DF012';
    END IF;
    INSERT INTO fund_bookslock (fund_id, closed_through, previous, actor_id, reason, at)
        VALUES (p_fund, p_through, v_head.closed_through, p_actor, coalesce(p_reason, ''),
                clock_timestamp())
        RETURNING * INTO v_lock;
    UPDATE fund_ledgerhead SET closed_through = p_through WHERE fund_id = p_fund;
    RETURN NEXT v_lock;
END $$;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    write_today_function(schema_editor.connection)
    schema_editor.execute(FUNCTIONS_SQL.replace("{today}", "fund_today()"), None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS_SQL.replace("{today}", "current_date"), None)
    schema_editor.execute("DROP FUNCTION fund_today()")


class Migration(migrations.Migration):
    dependencies = [("fund", "0014_access_log_change")]

    operations = [migrations.RunPython(forwards, backwards)]
