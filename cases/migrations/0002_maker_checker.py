"""Maker–checker in the database: whoever requested a disbursement never approves it, a
request is approved only with as many approvals as it needs, a new row is always a request, and
an approval is never deleted. Enforced by triggers so that no
path around the services (the ORM, raw SQL as the app's role) can skip it."""

from django.db import migrations

FORWARD = """
CREATE FUNCTION cases_check_approval() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM cases_disbursement d
        WHERE d.id = NEW.disbursement_id AND d.requested_by_id = NEW.approver_id
    ) THEN
        RAISE EXCEPTION 'Whoever requested a disbursement cannot approve it.'
            USING ERRCODE = 'DF101';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER cases_approval_not_by_requester
    BEFORE INSERT OR UPDATE ON cases_approval
    FOR EACH ROW EXECUTE FUNCTION cases_check_approval();

CREATE FUNCTION cases_check_disbursement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.requested_by_id <> OLD.requested_by_id
        OR NEW.approvals_needed <> OLD.approvals_needed
        OR NEW.amount_cents <> OLD.amount_cents
        OR NEW.case_id <> OLD.case_id
        OR NEW.fund_id <> OLD.fund_id THEN
        RAISE EXCEPTION 'A disbursement''s requester, case, fund, amount and approvals needed never change.'
            USING ERRCODE = 'DF102';
    END IF;
    IF NEW.status = 'approved' AND OLD.status <> 'approved' AND (
        SELECT count(*) FROM cases_approval a WHERE a.disbursement_id = NEW.id
    ) < NEW.approvals_needed THEN
        RAISE EXCEPTION 'This disbursement needs % approvals by treasurers other than its requester.',
            NEW.approvals_needed USING ERRCODE = 'DF103';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER cases_disbursement_maker_checker
    BEFORE UPDATE ON cases_disbursement
    FOR EACH ROW EXECUTE FUNCTION cases_check_disbursement();

CREATE FUNCTION cases_check_new_disbursement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'requested' OR NEW.decided_by_id IS NOT NULL
        OR NEW.transaction_id IS NOT NULL OR NEW.void_transaction_id IS NOT NULL THEN
        RAISE EXCEPTION 'A disbursement starts as a request; only approvals move it on.'
            USING ERRCODE = 'DF104';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER cases_disbursement_starts_requested
    BEFORE INSERT ON cases_disbursement
    FOR EACH ROW EXECUTE FUNCTION cases_check_new_disbursement();

CREATE FUNCTION cases_keep_approvals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'An approval is never taken back: reject or void the disbursement instead.'
        USING ERRCODE = 'DF105';
END $$;

CREATE TRIGGER cases_approval_kept
    BEFORE DELETE ON cases_approval
    FOR EACH ROW EXECUTE FUNCTION cases_keep_approvals();
"""

BACKWARD = """
DROP TRIGGER cases_approval_kept ON cases_approval;
DROP FUNCTION cases_keep_approvals();
DROP TRIGGER cases_disbursement_starts_requested ON cases_disbursement;
DROP FUNCTION cases_check_new_disbursement();
DROP TRIGGER cases_disbursement_maker_checker ON cases_disbursement;
DROP FUNCTION cases_check_disbursement();
DROP TRIGGER cases_approval_not_by_requester ON cases_approval;
DROP FUNCTION cases_check_approval();
"""


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
