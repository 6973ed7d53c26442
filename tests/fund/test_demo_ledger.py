"""The demo year: real figures, a verifiable ledger, and seeding twice changes nothing."""

import pytest

from fund.demo.ledger import seed_fund
from fund.ledger.progress import fund_progress
from fund.ledger.verify import verify_fund
from fund.models import Transaction
from fund.security.roles import StaffRole
from tests.conftest import make_staff


# Each posting commits, as in `make demo`: one long transaction would keep every version of the
# busy account rows.
@pytest.mark.django_db(transaction=True)
def test_the_demo_year_verifies_and_seeding_twice_changes_nothing(django_user_model):
    treasurer = make_staff(django_user_model, "demo-treasurer", StaffRole.TREASURER, mfa=False)

    fund = seed_fund(treasurer=treasurer)
    first = fund_progress(fund)
    assert first.figures_add_up()
    count = Transaction.objects.count()
    seed_fund(treasurer=treasurer)

    assert Transaction.objects.count() == count
    assert all(
        type(figure) is int for figure in vars(first).values() if not isinstance(figure, str)
    )
    assert fund_progress(fund) == first
    assert verify_fund(fund).ok
    assert 0 < first.raised < first.goal
    assert first.spent > 0
    assert first.in_bonds == 1_250_000  # the bond still out; the other came back with interest
    assert first.gifts > 100
    assert first.cases_supported > 5
    assert Transaction.objects.filter(kind=Transaction.Kind.BOND_REFUNDED).count() == 1


@pytest.mark.django_db
def test_changes_to_staff_accounts_and_roles_are_kept_in_history(admin_user):
    from django.contrib.auth.models import Group

    from fund.models import UserEvent, UserGroupEvent

    admin_user.email = "new@example.org"
    admin_user.save()
    admin_user.groups.add(Group.objects.get(name="auditor"))

    assert UserEvent.objects.filter(pgh_obj=admin_user, pgh_label="update").exists()
    assert UserGroupEvent.objects.filter(pgh_label="insert", user=admin_user).exists()
    assert not hasattr(UserEvent, "password")  # hashes are not copied into history
