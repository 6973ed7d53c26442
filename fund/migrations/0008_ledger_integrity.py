"""The database as the only door to the ledger (docs/ledger.md, "What the database enforces").

The app's runtime role gets no INSERT, UPDATE, DELETE or TRUNCATE on the ledger's tables
(fund/ledger/privileges.py grants after every migrate); it writes them only by calling these
SECURITY DEFINER functions, which run as the owner with a fixed search_path:

- fund_post(): one posting, checked and numbered, its recording time, digest, payload hash and
  chain link computed here, never taken from the caller;
- fund_open(): a fund with its ledger head and chart of accounts;
- fund_close_books(): move a fund's lock date, logged.

Triggers keep what no role may do, whatever path a write takes: a transaction is dated within the
fund's books and after the day they are closed through; transactions, postings, lock changes and
seals are append-only; ledger tables are never truncated; a fund's slug, currency,
restriction and opening day and an account's code, name, kind, role and floor never change; cash
accounts never go below zero on any day, counted by effective date. What only a superuser could
still do (disable triggers) verify_ledger and the seals detect.

Messages raised here are shown to people as they are: keep them plain.
"""

from django.db import migrations

LEDGER_SQL = r"""
-- Canonical JSON of text, as Python's json.dumps(ensure_ascii=False) writes it: the same escapes.
CREATE FUNCTION fund_json(p text) RETURNS text LANGUAGE sql IMMUTABLE STRICT
    SET search_path = pg_catalog AS $$ SELECT to_json(p)::text $$;

CREATE FUNCTION fund_json_int(p bigint) RETURNS text LANGUAGE sql IMMUTABLE
    SET search_path = pg_catalog AS $$ SELECT coalesce(p::text, 'null') $$;

-- The digest the hash chain covers (fund.ledger.chain.content_digest computes the same).
CREATE FUNCTION fund_digest(
    p_fund bigint, p_effective_date date, p_kind text, p_memo text, p_reason text,
    p_source_ref text, p_case_ref text, p_idempotency_key text, p_recorded_by bigint,
    p_reverses bigint, p_recorded_at timestamptz, p_legs text
) RETURNS text LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public AS $$
    SELECT encode(sha256(convert_to(
        '{"case_ref":' || fund_json(p_case_ref)
        || ',"date":"' || to_char(p_effective_date, 'YYYY-MM-DD') || '"'
        || ',"fund":' || p_fund::text
        || ',"key":' || fund_json(p_idempotency_key)
        || ',"kind":' || fund_json(p_kind)
        || ',"legs":' || p_legs
        || ',"memo":' || fund_json(p_memo)
        || ',"reason":' || fund_json(p_reason)
        || ',"recorded_at":"'
        || to_char(p_recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00"'
        || ',"recorded_by":' || fund_json_int(p_recorded_by)
        || ',"reverses":' || fund_json_int(p_reverses)
        || ',"source_ref":' || fund_json(p_source_ref)
        || ',"v":1}', 'UTF8')), 'hex')
$$;

-- What a replay of an idempotency key must repeat (fund.ledger.chain.payload_digest).
CREATE FUNCTION fund_payload_hash(
    p_fund bigint, p_effective_date date, p_kind text, p_memo text, p_reason text,
    p_source_ref text, p_case_ref text, p_reverses bigint, p_legs text
) RETURNS text LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, public AS $$
    SELECT encode(sha256(convert_to(
        '{"case_ref":' || fund_json(p_case_ref)
        || ',"date":"' || to_char(p_effective_date, 'YYYY-MM-DD') || '"'
        || ',"fund":' || p_fund::text
        || ',"kind":' || fund_json(p_kind)
        || ',"legs":' || p_legs
        || ',"memo":' || fund_json(p_memo)
        || ',"reason":' || fund_json(p_reason)
        || ',"reverses":' || fund_json_int(p_reverses)
        || ',"source_ref":' || fund_json(p_source_ref)
        || '}', 'UTF8')), 'hex')
$$;

CREATE FUNCTION fund_refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'The ledger''s tables are never emptied: TRUNCATE of % refused.', TG_TABLE_NAME
        USING ERRCODE = 'DF006';
END $$;

CREATE FUNCTION fund_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Rows of % are never deleted.', TG_TABLE_NAME USING ERRCODE = 'DF006';
END $$;

-- A fund's identity and an account's meaning never change once they exist.
CREATE FUNCTION fund_fund_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.slug, NEW.currency, NEW.restricted, NEW.opened_on, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.slug, OLD.currency, OLD.restricted, OLD.opened_on, OLD.created_at) THEN
        RAISE EXCEPTION 'A fund''s slug, currency, restriction and opening day are fixed once it exists.'
            USING ERRCODE = 'DF009';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fund_fund_fixed BEFORE UPDATE ON fund_fund
    FOR EACH ROW EXECUTE FUNCTION fund_fund_fixed();

CREATE FUNCTION fund_account_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'An account''s fund, code, name, kind, role and floor never change.'
        USING ERRCODE = 'DF009';
END $$;
CREATE TRIGGER fund_account_fixed
    BEFORE UPDATE OF id, fund_id, code, name, kind, role, no_overdraft ON fund_account
    FOR EACH ROW EXECUTE FUNCTION fund_account_fixed();

-- A commitment may only be released, once.
CREATE FUNCTION fund_commitment_release_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.id, NEW.fund_id, NEW.amount_cents, NEW.source_ref, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.fund_id, OLD.amount_cents, OLD.source_ref, OLD.created_at)
       OR OLD.released_at IS NOT NULL THEN
        RAISE EXCEPTION 'A commitment is only ever released, once.' USING ERRCODE = 'DF006';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fund_commitment_release_only BEFORE UPDATE ON fund_commitment
    FOR EACH ROW EXECUTE FUNCTION fund_commitment_release_only();

-- Every posting moves its account's stored balance and daily checkpoints, whatever path inserts
-- it. A backdated posting moves every later day too; a cash account may not end any day from the
-- posting's date on below zero.
CREATE FUNCTION fund_posting_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_fund bigint;
    v_floor boolean;
    v_name text;
    v_low record;
BEGIN
    SELECT fund_id, effective_date INTO v_fund, NEW.effective_date
        FROM fund_transaction WHERE id = NEW.transaction_id;
    SELECT no_overdraft, name INTO v_floor, v_name
        FROM fund_account WHERE id = NEW.account_id AND fund_id = v_fund;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'Account % does not belong to the transaction''s fund.', NEW.account_id
            USING ERRCODE = 'DF007';
    END IF;
    INSERT INTO fund_accountday (account_id, day, debit_cents, credit_cents, balance_cents)
        VALUES (NEW.account_id, NEW.effective_date,
                greatest(NEW.amount_cents, 0), greatest(-NEW.amount_cents, 0),
                coalesce((SELECT balance_cents FROM fund_accountday
                          WHERE account_id = NEW.account_id AND day < NEW.effective_date
                          ORDER BY day DESC LIMIT 1), 0) + NEW.amount_cents)
        ON CONFLICT (account_id, day) DO UPDATE
        SET debit_cents = fund_accountday.debit_cents + EXCLUDED.debit_cents,
            credit_cents = fund_accountday.credit_cents + EXCLUDED.credit_cents,
            balance_cents = fund_accountday.balance_cents + NEW.amount_cents;
    UPDATE fund_accountday SET balance_cents = balance_cents + NEW.amount_cents
        WHERE account_id = NEW.account_id AND day > NEW.effective_date;
    -- Checked on every day from the posting's on, so a backdated payment cannot overdraw the
    -- past; the last day's balance is the account's, so this covers today too.
    IF v_floor AND NEW.amount_cents < 0 THEN
        SELECT day, balance_cents INTO v_low FROM fund_accountday
            WHERE account_id = NEW.account_id AND day >= NEW.effective_date AND balance_cents < 0
            ORDER BY day LIMIT 1;
        IF FOUND THEN
            -- The detail (account|day|shortfall in minor units) lets the app say it in its currency.
            RAISE EXCEPTION 'Insufficient funds: % would be below zero at the end of %.',
                v_name, to_char(v_low.day, 'YYYY-MM-DD')
                USING ERRCODE = 'DF008',
                      DETAIL = v_name || '|' || to_char(v_low.day, 'YYYY-MM-DD') || '|'
                               || (-v_low.balance_cents)::text;
        END IF;
    END IF;
    UPDATE fund_account SET balance_cents = balance_cents + NEW.amount_cents
        WHERE id = NEW.account_id
        RETURNING balance_cents INTO NEW.balance_after_cents;
    RETURN NEW;
END $$;
CREATE TRIGGER fund_posting_apply BEFORE INSERT ON fund_posting
    FOR EACH ROW EXECUTE FUNCTION fund_posting_apply();

-- Every transaction, whatever path inserts it: dated within the fund's books and after the day
-- they are closed through.
CREATE FUNCTION fund_transaction_check_dates() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_opened date;
    v_closed date;
BEGIN
    SELECT f.opened_on, h.closed_through INTO v_opened, v_closed
        FROM fund_fund f JOIN fund_ledgerhead h ON h.fund_id = f.id WHERE f.id = NEW.fund_id;
    IF NEW.effective_date < v_opened OR NEW.effective_date > current_date + 31 THEN
        RAISE EXCEPTION 'Date the transaction between the day the fund''s books open (%) and 31 days from today.',
            to_char(v_opened, 'YYYY-MM-DD') USING ERRCODE = 'DF011';
    END IF;
    IF v_closed IS NOT NULL AND NEW.effective_date <= v_closed THEN
        RAISE EXCEPTION 'The books are closed through %: date the transaction after that day.',
            to_char(v_closed, 'YYYY-MM-DD') USING ERRCODE = 'DF002';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER fund_transaction_dates BEFORE INSERT ON fund_transaction
    FOR EACH ROW EXECUTE FUNCTION fund_transaction_check_dates();

-- Commit-time checks, with messages fit to show.
CREATE OR REPLACE FUNCTION fund_check_balanced(p_transaction bigint) RETURNS void LANGUAGE plpgsql AS $$
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
        RAISE EXCEPTION 'Transaction % is unbalanced: % legs summing to %: debits and credits must be equal.',
            p_transaction, v_legs, v_sum USING ERRCODE = 'DF004';
    END IF;
    SELECT t.fund_id, f.restricted INTO v_fund, v_restricted
        FROM fund_transaction t JOIN fund_fund f ON f.id = t.fund_id WHERE t.id = p_transaction;
    IF v_restricted THEN
        SELECT coalesce(sum(balance_cents), 0) INTO v_assets
            FROM fund_account WHERE fund_id = v_fund AND kind = 'asset';
        IF v_assets < 0 THEN
            RAISE EXCEPTION 'Insufficient funds: the donor-restricted fund would go negative.'
                USING ERRCODE = 'DF005';
        END IF;
    END IF;
END $$;

-- The one door: post a transaction. See the module docstring of fund.ledger.posting.
CREATE FUNCTION fund_post(
    p_fund bigint, p_idempotency_key text, p_effective_date date, p_kind text, p_memo text,
    p_reason text, p_source_ref text, p_case_ref text, p_recorded_by bigint, p_reverses bigint,
    p_accounts bigint[], p_amounts bigint[], p_check_now boolean
) RETURNS SETOF fund_transaction
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_head fund_ledgerhead;
    v_existing fund_transaction;
    v_posted fund_transaction;
    v_original fund_transaction;
    v_year integer := extract(year FROM p_effective_date)::integer;
    v_number integer;
    v_legs text;
    v_payload text;
    v_recorded_at timestamptz;
    v_hash text;
    v_count integer := coalesce(array_length(p_accounts, 1), 0);
    v_gift integer := 0;
    v_case integer := 0;
BEGIN
    -- The same key posted to two funds at once: one after the other, so the second sees the first.
    PERFORM pg_advisory_xact_lock(hashtextextended('fund_post:' || coalesce(p_idempotency_key, ''), 0));
    SELECT * INTO v_head FROM fund_ledgerhead WHERE fund_id = p_fund FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'There is no fund %.', p_fund USING ERRCODE = 'DF007';
    END IF;
    IF v_count < 2 OR v_count <> coalesce(array_length(p_amounts, 1), 0) THEN
        RAISE EXCEPTION 'A transaction needs two or more legs, each with an account and an amount.'
            USING ERRCODE = 'DF004';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_amounts) AS a(amount)
               WHERE amount IS NULL OR amount = 0 OR abs(amount) > 1000000000000000) THEN
        RAISE EXCEPTION 'Each leg is a non-zero amount of at most 10^15 minor units.'
            USING ERRCODE = 'DF010';
    END IF;
    SELECT string_agg('[' || account_id || ',' || amount || ']', ',' ORDER BY account_id, amount)
        INTO v_legs FROM unnest(p_accounts, p_amounts) AS leg(account_id, amount);
    v_legs := '[' || v_legs || ']';
    v_payload := fund_payload_hash(p_fund, p_effective_date, p_kind, p_memo, p_reason,
                                   p_source_ref, p_case_ref, p_reverses, v_legs);
    SELECT * INTO v_existing FROM fund_transaction WHERE idempotency_key = p_idempotency_key;
    IF FOUND THEN
        IF v_existing.payload_hash <> v_payload THEN
            RAISE EXCEPTION 'This idempotency key was already used for another entry.'
                USING ERRCODE = 'DF001';
        END IF;
        RETURN NEXT v_existing;
        RETURN;
    END IF;

    IF p_kind IS NULL OR p_kind NOT IN ('gift_online', 'gift_offline', 'stripe_fee', 'refund',
            'dispute', 'dispute_won', 'payout', 'deposit', 'disbursement', 'bond_posted',
            'bond_refunded', 'bond_forfeited', 'opening_balance', 'journal', 'reversal') THEN
        RAISE EXCEPTION 'Unknown transaction kind %.', coalesce(p_kind, 'null') USING ERRCODE = 'DF010';
    END IF;
    IF p_memo IS NULL OR btrim(p_memo) = '' OR length(p_memo) > 500 OR p_reason IS NULL
       OR length(p_reason) > 500 OR p_source_ref IS NULL OR length(p_source_ref) > 100
       OR p_case_ref IS NULL OR length(p_case_ref) > 20 OR p_idempotency_key IS NULL
       OR length(p_idempotency_key) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'A memo of 1 to 500 characters and an idempotency key of 1 to 200 are required; reason, source and case references are limited to 500, 100 and 20.'
            USING ERRCODE = 'DF010';
    END IF;
    -- The dates (the fund's opening day, the lock date) are checked by fund_transaction_dates.
    IF p_effective_date IS NULL THEN
        RAISE EXCEPTION 'A transaction needs a date.' USING ERRCODE = 'DF011';
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(p_accounts) WITH ORDINALITY AS a(id, n)
               JOIN unnest(p_accounts) WITH ORDINALITY AS b(id, n) ON b.n = a.n + 1
               WHERE b.id < a.id OR a.id IS NULL) THEN
        RAISE EXCEPTION 'Legs must come sorted by account, so every writer locks accounts in one order.'
            USING ERRCODE = 'DF010';
    END IF;
    IF p_recorded_by IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM auth_user u JOIN auth_user_groups ug ON ug.user_id = u.id
            JOIN auth_group g ON g.id = ug.group_id
            WHERE u.id = p_recorded_by AND u.is_active AND g.name = 'treasurer') THEN
        RAISE EXCEPTION 'Only an active treasurer can record a transaction.' USING ERRCODE = 'DF012';
    END IF;

    IF (p_kind = 'reversal') <> (p_reverses IS NOT NULL) THEN
        RAISE EXCEPTION 'A reversal, and only a reversal, names the transaction it reverses.'
            USING ERRCODE = 'DF013';
    END IF;
    IF p_reverses IS NOT NULL THEN
        SELECT * INTO v_original FROM fund_transaction WHERE id = p_reverses;
        IF NOT FOUND OR v_original.fund_id <> p_fund THEN
            RAISE EXCEPTION 'The transaction to reverse is not in this fund.' USING ERRCODE = 'DF013';
        END IF;
        IF v_original.kind = 'reversal' THEN
            RAISE EXCEPTION 'A reversal cannot be reversed: post the entry again instead.'
                USING ERRCODE = 'DF013';
        END IF;
        IF EXISTS (SELECT 1 FROM fund_transaction WHERE reverses_id = p_reverses) THEN
            RAISE EXCEPTION 'The transaction is already reversed.' USING ERRCODE = 'DF003';
        END IF;
        IF v_legs IS DISTINCT FROM (
                SELECT '[' || string_agg('[' || account_id || ',' || -amount_cents || ']', ','
                                         ORDER BY account_id, -amount_cents) || ']'
                FROM fund_posting WHERE transaction_id = p_reverses) THEN
            RAISE EXCEPTION 'A reversal must be the exact mirror of the transaction it reverses.'
                USING ERRCODE = 'DF013';
        END IF;
        v_gift := CASE WHEN v_original.kind IN ('gift_online', 'gift_offline') THEN -1 ELSE 0 END;
        v_case := CASE WHEN v_original.kind IN ('disbursement', 'bond_posted') THEN -1 ELSE 0 END;
    ELSE
        v_gift := CASE WHEN p_kind IN ('gift_online', 'gift_offline') THEN 1 ELSE 0 END;
        v_case := CASE WHEN p_kind IN ('disbursement', 'bond_posted') THEN 1 ELSE 0 END;
    END IF;

    SELECT coalesce(max(number), 0) + 1 INTO v_number
        FROM fund_transaction WHERE fund_id = p_fund AND year = v_year;
    -- Taken under the fund's lock, so recording times follow the chain's order.
    v_recorded_at := clock_timestamp();
    v_hash := encode(sha256(convert_to(
        v_head.chain_head || '|' || v_year || '|' || v_number || '|'
        || fund_digest(p_fund, p_effective_date, p_kind, p_memo, p_reason, p_source_ref,
                       p_case_ref, p_idempotency_key, p_recorded_by, p_reverses, v_recorded_at,
                       v_legs), 'UTF8')), 'hex');
    INSERT INTO fund_transaction (fund_id, year, number, effective_date, recorded_at, kind, memo,
                                  reason, source_ref, case_ref, idempotency_key, payload_hash,
                                  recorded_by_id, reverses_id, prev_hash, hash)
        VALUES (p_fund, v_year, v_number, p_effective_date, v_recorded_at, p_kind, p_memo,
                p_reason, p_source_ref, p_case_ref, p_idempotency_key, v_payload, p_recorded_by,
                p_reverses, v_head.chain_head, v_hash)
        RETURNING * INTO v_posted;
    INSERT INTO fund_posting (transaction_id, account_id, amount_cents, balance_after_cents,
                              effective_date)
        SELECT v_posted.id, leg.account_id, leg.amount, 0, p_effective_date
        FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS leg(account_id, amount, ord)
        ORDER BY leg.ord;
    UPDATE fund_ledgerhead SET chain_head = v_hash, gift_count = gift_count + v_gift
        WHERE fund_id = p_fund;
    IF p_case_ref <> '' AND v_case <> 0 THEN
        INSERT INTO fund_supportedcase (fund_id, case_ref, payments) VALUES (p_fund, p_case_ref, v_case)
            ON CONFLICT (fund_id, case_ref) DO UPDATE
            SET payments = fund_supportedcase.payments + EXCLUDED.payments;
    END IF;
    IF p_check_now THEN
        -- Inside a caller's transaction: run the commit-time checks now, so the error comes from
        -- this call, then defer them again for whatever else that transaction does.
        SET CONSTRAINTS fund_transaction_balanced, fund_posting_balanced IMMEDIATE;
        SET CONSTRAINTS fund_transaction_balanced, fund_posting_balanced DEFERRED;
    END IF;
    RETURN NEXT v_posted;
END $$;

-- A fund with its ledger head and chart of accounts, in one call.
CREATE FUNCTION fund_open(
    p_name text, p_slug text, p_goal_cents bigint, p_currency text, p_restricted boolean,
    p_tax_status text, p_is_public boolean, p_public_summary text, p_opened_on date,
    p_codes text[], p_names text[], p_kinds text[], p_roles text[], p_no_overdraft boolean[]
) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    v_fund bigint;
BEGIN
    IF p_opened_on IS NULL OR p_opened_on > current_date + 31 THEN
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

-- Move a fund's lock date: forward by a treasurer, back by an admin with a reason. Logged.
CREATE FUNCTION fund_close_books(p_fund bigint, p_through date, p_actor bigint, p_reason text)
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
    IF p_through IS NULL OR p_through >= current_date THEN
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

CREATE TRIGGER fund_bookslock_append_only BEFORE UPDATE OR DELETE ON fund_bookslock
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_change();
CREATE TRIGGER fund_seal_append_only BEFORE UPDATE OR DELETE ON fund_seal
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_change();
CREATE TRIGGER fund_fund_no_delete BEFORE DELETE ON fund_fund
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_delete();
CREATE TRIGGER fund_account_no_delete BEFORE DELETE ON fund_account
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_delete();
CREATE TRIGGER fund_ledgerhead_no_delete BEFORE DELETE ON fund_ledgerhead
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_delete();
CREATE TRIGGER fund_accountday_no_delete BEFORE DELETE ON fund_accountday
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_delete();
CREATE TRIGGER fund_supportedcase_no_delete BEFORE DELETE ON fund_supportedcase
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_delete();
CREATE TRIGGER fund_commitment_no_delete BEFORE DELETE ON fund_commitment
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_delete();
"""

TRUNCATE_GUARDED = [
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
]
TRUNCATE_SQL = "\n".join(
    f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
    "FOR EACH STATEMENT EXECUTE FUNCTION fund_refuse_truncate();"
    for table in TRUNCATE_GUARDED
)


class Migration(migrations.Migration):
    dependencies = [("fund", "0007_books_by_date")]

    operations = [migrations.RunSQL(LEDGER_SQL + TRUNCATE_SQL, migrations.RunSQL.noop)]
