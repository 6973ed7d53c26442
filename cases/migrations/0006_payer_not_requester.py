"""Maker–checker for payments too: whoever requested a disbursement never records its payment.

A treasurer approves and pays, never their own request (ARCHITECTURE.md §2). The approval
trigger of 0002 keeps the requester from approving; this one keeps them from being the person
whose ledger entry pays it, whatever path marks the disbursement paid.
"""

from django.db import migrations

FORWARD = """
CREATE FUNCTION cases_check_payer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.transaction_id IS DISTINCT FROM OLD.transaction_id AND EXISTS (
        SELECT 1 FROM fund_transaction t
        WHERE t.id = NEW.transaction_id AND t.recorded_by_id = NEW.requested_by_id
    ) THEN
        RAISE EXCEPTION 'Whoever requested a disbursement cannot pay it.'
            USING ERRCODE = 'DF106';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER cases_disbursement_not_paid_by_requester
    BEFORE UPDATE ON cases_disbursement
    FOR EACH ROW EXECUTE FUNCTION cases_check_payer();
"""

BACKWARD = """
DROP TRIGGER cases_disbursement_not_paid_by_requester ON cases_disbursement;
DROP FUNCTION cases_check_payer();
"""


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_bond_void")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
