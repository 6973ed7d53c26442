"""Django admin for admins: staff accounts are listed with the roles they hold."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_user_list_shows_each_accounts_roles(client, admin_user, treasurer, auditor, outsider):
    client.force_login(admin_user)

    page = client.get(reverse("admin:auth_user_changelist")).content.decode()

    assert '<td class="field-roles">treasurer</td>' in page
    assert '<td class="field-roles">auditor</td>' in page
    assert '<td class="field-roles">admin</td>' in page
    assert '<td class="field-roles">none</td>' in page
