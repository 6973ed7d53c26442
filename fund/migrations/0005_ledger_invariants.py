"""Database-enforced ledger invariants (see docs/ledger.md).

PostgreSQL: postings keep account balances and monthly checkpoints; each transaction sums to zero at
commit (deferred constraint triggers); transactions and postings are append-only; closed periods
refuse transactions; donor-restricted funds never go negative; fund_post() does a whole posting in
one round trip. SQLite (the demo) gets the append-only triggers; the service checks the rest.
"""

from django.db import migrations

PG_SQL = r"""
CREATE FUNCTION fund_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are append-only: % on % refused (post a reversal instead)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'DF006';
END $$;

CREATE TRIGGER fund_transaction_append_only BEFORE UPDATE OR DELETE ON fund_transaction
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_change();
CREATE TRIGGER fund_posting_append_only BEFORE UPDATE OR DELETE ON fund_posting
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_change();

-- Closed periods refuse transactions dated inside them, whatever path inserts them.
CREATE FUNCTION fund_transaction_check_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM fund_period
               WHERE fund_id = NEW.fund_id AND is_closed
                 AND month = date_trunc('month', NEW.effective_date)::date) THEN
        RAISE EXCEPTION 'period % is closed', to_char(NEW.effective_date, 'YYYY-MM')
            USING ERRCODE = 'DF002';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fund_transaction_period BEFORE INSERT ON fund_transaction
    FOR EACH ROW EXECUTE FUNCTION fund_transaction_check_period();

-- Every posting moves its account's stored balance and monthly checkpoint, whatever path inserts it.
CREATE FUNCTION fund_posting_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_fund bigint;
    v_date date;
BEGIN
    SELECT fund_id, effective_date INTO v_fund, v_date
        FROM fund_transaction WHERE id = NEW.transaction_id;
    UPDATE fund_account SET balance_cents = balance_cents + NEW.amount_cents
        WHERE id = NEW.account_id AND fund_id = v_fund
        RETURNING balance_cents INTO NEW.balance_after_cents;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'account % does not belong to the transaction''s fund', NEW.account_id
            USING ERRCODE = 'DF007';
    END IF;
    INSERT INTO fund_accountmonth (account_id, month, debit_cents, credit_cents)
        VALUES (NEW.account_id, date_trunc('month', v_date)::date,
                greatest(NEW.amount_cents, 0), greatest(-NEW.amount_cents, 0))
        ON CONFLICT (account_id, month) DO UPDATE
        SET debit_cents = fund_accountmonth.debit_cents + EXCLUDED.debit_cents,
            credit_cents = fund_accountmonth.credit_cents + EXCLUDED.credit_cents;
    RETURN NEW;
END $$;
CREATE TRIGGER fund_posting_apply BEFORE INSERT ON fund_posting
    FOR EACH ROW EXECUTE FUNCTION fund_posting_apply();

-- Stored balances and checkpoints move only through postings (the trigger above runs at depth 2).
CREATE FUNCTION fund_refuse_direct_balance_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION '% balances change only through postings', TG_TABLE_NAME
            USING ERRCODE = 'DF006';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fund_account_balance_guard BEFORE UPDATE OF balance_cents ON fund_account
    FOR EACH ROW WHEN (OLD.balance_cents IS DISTINCT FROM NEW.balance_cents)
    EXECUTE FUNCTION fund_refuse_direct_balance_change();
CREATE FUNCTION fund_refuse_direct_head_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('fund.posting', true), '') <> 'on' THEN
        RAISE EXCEPTION 'the ledger head changes only through fund_post()' USING ERRCODE = 'DF006';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fund_ledgerhead_guard BEFORE UPDATE OR DELETE ON fund_ledgerhead
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_direct_head_change();
CREATE TRIGGER fund_accountmonth_guard BEFORE UPDATE OR DELETE ON fund_accountmonth
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_direct_balance_change();

-- At commit: each transaction has two or more legs summing to zero, and a donor-restricted fund's
-- assets are not negative.
CREATE FUNCTION fund_check_balanced(p_transaction bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_legs bigint;
    v_sum numeric;
    v_fund bigint;
    v_restricted boolean;
    v_assets numeric;
BEGIN
    SELECT count(*), coalesce(sum(amount_cents), 0) INTO v_legs, v_sum
        FROM fund_posting WHERE transaction_id = p_transaction;
    IF v_legs < 2 OR v_sum <> 0 THEN
        RAISE EXCEPTION 'transaction % is unbalanced: % legs summing to %', p_transaction, v_legs, v_sum
            USING ERRCODE = 'DF004';
    END IF;
    SELECT t.fund_id, f.restricted INTO v_fund, v_restricted
        FROM fund_transaction t JOIN fund_fund f ON f.id = t.fund_id WHERE t.id = p_transaction;
    IF v_restricted THEN
        SELECT coalesce(sum(balance_cents), 0) INTO v_assets
            FROM fund_account WHERE fund_id = v_fund AND kind = 'asset';
        IF v_assets < 0 THEN
            RAISE EXCEPTION 'restricted fund % would go negative', v_fund USING ERRCODE = 'DF005';
        END IF;
    END IF;
END $$;

CREATE FUNCTION fund_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM fund_check_balanced(NEW.id);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER fund_transaction_balanced AFTER INSERT ON fund_transaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fund_transaction_balanced();

-- Checked per posting as well, so that a leg added later to an existing transaction is caught.
CREATE FUNCTION fund_posting_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM fund_check_balanced(NEW.transaction_id);
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER fund_posting_balanced AFTER INSERT ON fund_posting
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fund_posting_balanced();

-- The posting service's one round trip: lock the fund (chain head and numbering), replay or refuse
-- a reused idempotency key, number, hash, and insert the transaction with its legs (which must come
-- sorted by account id so concurrent writers lock accounts in one order).
CREATE FUNCTION fund_post(
    p_fund bigint, p_key text, p_payload_hash text, p_effective date, p_kind text, p_memo text,
    p_reason text, p_source_ref text, p_case_ref text, p_recorded_by bigint, p_reverses bigint,
    p_recorded_at timestamptz, p_digest text, p_accounts bigint[], p_amounts bigint[],
    p_gift_delta integer, p_case_delta integer, p_check_now boolean
) RETURNS SETOF fund_transaction LANGUAGE plpgsql AS $$
DECLARE
    v_head text;
    v_existing fund_transaction;
    v_posted fund_transaction;
    v_year integer := extract(year FROM p_effective)::integer;
    v_number integer;
    v_hash text;
    v_id bigint;
BEGIN
    SELECT chain_head INTO v_head FROM fund_ledgerhead WHERE fund_id = p_fund FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no fund %', p_fund USING ERRCODE = 'DF007';
    END IF;
    SELECT * INTO v_existing FROM fund_transaction WHERE idempotency_key = p_key;
    IF FOUND THEN
        IF v_existing.payload_hash <> p_payload_hash THEN
            RAISE EXCEPTION 'idempotency key reused with a different payload' USING ERRCODE = 'DF001';
        END IF;
        RETURN NEXT v_existing;
        RETURN;
    END IF;
    IF p_reverses IS NOT NULL AND EXISTS (SELECT 1 FROM fund_transaction WHERE reverses_id = p_reverses) THEN
        RAISE EXCEPTION 'transaction % is already reversed', p_reverses USING ERRCODE = 'DF003';
    END IF;
    SELECT coalesce(max(number), 0) + 1 INTO v_number
        FROM fund_transaction WHERE fund_id = p_fund AND year = v_year;
    v_hash := encode(sha256(convert_to(v_head || '|' || v_year || '|' || v_number || '|' || p_digest, 'UTF8')), 'hex');
    INSERT INTO fund_transaction (fund_id, year, number, effective_date, recorded_at, kind, memo,
                                  reason, source_ref, case_ref, idempotency_key, payload_hash,
                                  recorded_by_id, reverses_id, prev_hash, hash)
        VALUES (p_fund, v_year, v_number, p_effective, p_recorded_at, p_kind, p_memo, p_reason,
                p_source_ref, p_case_ref, p_key, p_payload_hash, p_recorded_by, p_reverses, v_head,
                v_hash)
        RETURNING * INTO v_posted;
    v_id := v_posted.id;
    INSERT INTO fund_posting (transaction_id, account_id, amount_cents, balance_after_cents)
        SELECT v_id, leg.account_id, leg.amount_cents, 0
        FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS leg(account_id, amount_cents, ord)
        ORDER BY leg.ord;
    PERFORM set_config('fund.posting', 'on', true);
    UPDATE fund_ledgerhead SET chain_head = v_hash, gift_count = gift_count + p_gift_delta
        WHERE fund_id = p_fund;
    PERFORM set_config('fund.posting', 'off', true);
    IF p_case_ref <> '' AND p_case_delta <> 0 THEN
        INSERT INTO fund_supportedcase (fund_id, case_ref, payments) VALUES (p_fund, p_case_ref, p_case_delta)
            ON CONFLICT (fund_id, case_ref) DO UPDATE
            SET payments = fund_supportedcase.payments + EXCLUDED.payments;
    END IF;
    IF p_check_now THEN
        -- Inside a caller's transaction: run the commit-time checks now, so the error comes from
        -- this call, then defer them again for whatever else that transaction does. (Called on
        -- its own, the statement's commit runs them anyway.)
        SET CONSTRAINTS fund_transaction_balanced, fund_posting_balanced IMMEDIATE;
        SET CONSTRAINTS fund_transaction_balanced, fund_posting_balanced DEFERRED;
    END IF;
    RETURN NEXT v_posted;
END $$;
"""

SQLITE_SQL = [
    f"""CREATE TRIGGER fund_{table}_no_{op} BEFORE {op.upper()} ON fund_{table}
        BEGIN SELECT RAISE(ABORT, 'ledger rows are append-only: post a reversal instead'); END"""
    for table in ("transaction", "posting")
    for op in ("update", "delete")
]


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_SQL, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_SQL:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("fund", "0004_ledger")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
