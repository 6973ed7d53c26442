"""Idempotency keys a person supplies live in a namespace of their own: no system key can be
squatted, and no one else's entry blocked."""

import pytest
from django.urls import reverse

from fund.errors import InvalidTransaction
from fund.ledger.entries import Leg
from fund.ledger.posting import SYSTEM_KEY_NAMESPACES
from fund.ledger.services import record_journal_entry
from fund.models import Transaction
from tests.fund.conftest import Role, account, give_check, journal_entry, last_month, post

pytestmark = pytest.mark.django_db


def recode(fund, key):
    """The journal form's data for a small correction, keyed as given."""
    bank, fees = account(fund, Role.BANK), account(fund, Role.PROCESSING_FEES)
    return journal_entry([(fees, "1.00", ""), (bank, "", "1.00")], key=key)


@pytest.mark.parametrize("namespace", SYSTEM_KEY_NAMESPACES)
def test_a_treasurer_cannot_squat_a_system_key(client, treasurer, fund, namespace):
    # A manual entry, which the ledger's own screen reverses (an offline gift is its app's).
    gift = post(fund, Role.BANK, Role.CONTRIBUTIONS, 10_000, key="gift", on=last_month())
    client.force_login(treasurer)
    before = Transaction.objects.count()

    response = client.post(
        reverse("ledger_journal", args=[fund.slug]), recode(fund, f"{namespace}:{gift.pk}")
    )

    assert response.status_code == 400
    assert "An idempotency key is 1 to 100 letters, digits" in response.content.decode()
    assert Transaction.objects.count() == before
    # What the squat was after still works: the gift can be reversed.
    reversed_ = client.post(
        reverse("ledger_reverse", args=[fund.slug, gift.reference]), {"memo": "Bounced"}
    )
    assert reversed_.status_code == 302
    assert Transaction.objects.filter(reverses=gift).exists()


def test_a_supplied_key_is_kept_under_its_suppliers_namespace(treasurer, other_treasurer, fund):
    give_check(fund, 10_000, key="gift", on=last_month())
    legs = [Leg(account(fund, Role.PROCESSING_FEES), 100), Leg(account(fund, Role.BANK), -100)]

    mine = record_journal_entry(
        fund=fund,
        legs=legs,
        effective_date=last_month(),
        memo="Fee",
        reason="Recode",
        actor=treasurer,
        idempotency_key="batch-7",
    )
    theirs = record_journal_entry(
        fund=fund,
        legs=legs,
        effective_date=last_month(),
        memo="Fee",
        reason="Recode",
        actor=other_treasurer,
        idempotency_key="batch-7",
    )

    assert mine.idempotency_key == f"journal:{treasurer.pk}:batch-7"
    assert theirs.idempotency_key == f"journal:{other_treasurer.pk}:batch-7"
    assert mine.pk != theirs.pk
    for key in ("reversal:1", "journal:1:x", "", "x" * 101, "spaces are out", "١٢٣"):
        with pytest.raises(InvalidTransaction, match="An idempotency key is 1 to 100"):
            record_journal_entry(
                fund=fund,
                legs=legs,
                effective_date=last_month(),
                memo="Fee",
                reason="Recode",
                actor=treasurer,
                idempotency_key=key,
            )
