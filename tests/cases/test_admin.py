"""Django admin: admins keep the facility list; cases there are references only."""

import pytest
from django.urls import reverse

from cases.models import Facility
from cases.services.cases import open_case

pytestmark = pytest.mark.django_db

CANARY_NAME = "Qwertyuiop Canaryname"


@pytest.fixture
def facility() -> Facility:
    return Facility.objects.create(name="Invented Processing Center", city="Adelanto", state="CA")


def test_an_admin_adds_a_facility(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:cases_facility_add"),
        {"name": "Example County Jail", "city": "Riverside", "state": "CA", "active": "on"},
    )

    assert response.status_code == 302
    assert Facility.objects.filter(name="Example County Jail", active=True).exists()


def test_a_facility_a_case_was_held_at_cannot_be_deleted(client, admin_user, coordinator, facility):
    open_case(actor=coordinator, legal_name=CANARY_NAME, facility=facility)
    client.force_login(admin_user)

    page = client.get(reverse("admin:cases_facility_delete", args=[facility.pk]))

    assert page.status_code == 403
    assert Facility.objects.filter(pk=facility.pk).exists()


def test_cases_in_admin_are_references_never_the_person(client, admin_user, coordinator, facility):
    case = open_case(actor=coordinator, legal_name=CANARY_NAME, facility=facility).case
    client.force_login(admin_user)

    listing = client.get(reverse("admin:cases_case_changelist"))
    detail = client.get(reverse("admin:cases_case_change", args=[case.pk]))
    search = client.get(reverse("admin:cases_case_changelist"), {"q": "Qwertyuiop"})

    assert case.ref in listing.content.decode()
    for response in (listing, detail, search):
        assert response.status_code == 200
        assert CANARY_NAME not in response.content.decode()
    assert "0 cases" in search.content.decode() or case.ref not in search.content.decode()
