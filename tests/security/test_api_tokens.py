"""Bearer tokens authenticate the staff API; revoked, unknown or malformed ones get 401."""

import hashlib
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.utils import timezone

from fund.errors import StaffError
from fund.models import ApiToken
from fund.security.roles import StaffRole
from fund.security.tokens import issue_api_token, revoke_api_token
from tests.conftest import bearer, enrol_totp, make_staff

ME = "/api/v1/me"


@pytest.mark.django_db
def test_a_valid_token_authenticates_and_names_the_user_and_roles(client, legal_director):
    _, plaintext = issue_api_token(actor=None, user=legal_director, name="calendar sync")

    response = client.get(ME, **bearer(plaintext))

    assert response.status_code == 200
    assert response.json() == {"username": "lena", "roles": ["coordinator"]}


@pytest.mark.django_db
def test_a_revoked_token_gets_401(client, treasurer):
    token, plaintext = issue_api_token(actor=None, user=treasurer)
    assert client.get(ME, **bearer(plaintext)).status_code == 200

    revoke_api_token(actor=None, token=token)

    assert client.get(ME, **bearer(plaintext)).status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer dfk_ThisTokenWasNeverIssuedByAnyoneAtAll0000000",
        "Bearer ",
        "Bearer not-even-our-format",
        "Token dfk_abc",
        "dfk_abc",
        "",
    ],
)
def test_unknown_and_malformed_tokens_get_401(client, treasurer, authorization):
    issue_api_token(actor=None, user=treasurer)

    response = client.get(ME, HTTP_AUTHORIZATION=authorization)

    assert response.status_code == 401


@pytest.mark.django_db
def test_a_token_of_a_deactivated_account_gets_401(client, treasurer):
    _, plaintext = issue_api_token(actor=None, user=treasurer)
    treasurer.is_active = False
    treasurer.save()

    assert client.get(ME, **bearer(plaintext)).status_code == 401


@pytest.mark.django_db
def test_tokens_are_stored_only_as_a_digest(treasurer):
    token, plaintext = issue_api_token(actor=None, user=treasurer)

    digest = hashlib.sha256(plaintext.encode()).hexdigest()
    assert ApiToken.objects.get(pk=token.pk).digest == digest
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM fund_apitoken WHERE id = %s", [token.pk])
        row = cursor.fetchone()
    assert not any(plaintext in str(value) for value in row)
    assert plaintext[:10] == token.prefix


@pytest.mark.django_db
def test_a_session_with_a_second_factor_authenticates_the_api(client, auditor):
    client.force_login(auditor)

    response = client.get(ME)

    assert response.status_code == 200
    assert response.json() == {"username": "aldo", "roles": ["auditor"]}


@pytest.mark.django_db
def test_a_session_without_a_second_factor_does_not_reach_the_api(client, django_user_model):
    user = make_staff(django_user_model, "newbie", mfa=False)
    client.force_login(user)

    response = client.get(ME)

    assert response.status_code == 302
    assert response.url == "/accounts/2fa/totp/activate/"


@pytest.mark.django_db
def test_api_docs_send_anonymous_visitors_to_sign_in(client):
    for url in ("/api/v1/docs", "/api/v1/openapi.json"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/?next=")


@pytest.mark.django_db
def test_api_docs_are_served_to_staff_from_this_origin(client, treasurer):
    client.force_login(treasurer)

    page = client.get("/api/v1/docs")
    schema = client.get("/api/v1/openapi.json")

    assert page.status_code == 200
    assert "/static/ninja/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text
    assert "/api/v1/me" in schema.json()["paths"]


@pytest.mark.django_db
def test_api_docs_are_refused_to_accounts_holding_no_role(client, outsider):
    client.force_login(outsider)

    assert client.get("/api/v1/docs").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_owner_is_emailed_when_a_token_is_issued_once_it_is_committed(treasurer):
    from django.core import mail
    from django.db import transaction

    with transaction.atomic():
        token, _ = issue_api_token(actor=None, user=treasurer, name="bank export")
        assert mail.outbox == []

    [message] = mail.outbox
    assert message.to == [treasurer.email]
    assert f'A new API token ({token.prefix}…) named "bank export" was issued' in message.body
    assert message.subject == "A new API token was issued for your Defense Fund account"


# What a token is bound to


@pytest.mark.django_db
def test_no_token_is_issued_to_an_account_without_a_second_factor_or_deactivated(
    django_user_model,
):
    newbie = make_staff(django_user_model, "newbie", StaffRole.TREASURER, mfa=False)
    with pytest.raises(StaffError, match="has no second factor yet"):
        issue_api_token(actor=None, user=newbie)
    gone = make_staff(django_user_model, "gone", StaffRole.TREASURER)
    gone.is_active = False
    gone.save()
    with pytest.raises(StaffError, match="is deactivated"):
        issue_api_token(actor=None, user=gone)
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_token_stops_when_its_owner_loses_the_second_factor_and_stays_stopped(client, treasurer):
    token, plaintext = issue_api_token(actor=None, user=treasurer)
    Authenticator.objects.filter(user=treasurer).delete()

    assert client.get(ME, **bearer(plaintext)).status_code == 401
    enrol_totp(treasurer)
    assert client.get(ME, **bearer(plaintext)).status_code == 401
    token.refresh_from_db()
    assert token.revoked_reason == "a second factor was removed"


@pytest.mark.django_db
def test_a_token_stops_when_its_owner_is_deactivated_even_once_reactivated(client, treasurer):
    token, plaintext = issue_api_token(actor=None, user=treasurer)
    treasurer.is_active = False
    treasurer.save()
    treasurer.is_active = True
    treasurer.save()

    assert client.get(ME, **bearer(plaintext)).status_code == 401
    token.refresh_from_db()
    assert token.revoked_reason == "account deactivated"


@pytest.mark.django_db
def test_a_token_stops_when_its_owners_password_changes_however_it_was_changed(client, treasurer):
    token, plaintext = issue_api_token(actor=None, user=treasurer)
    # Straight in the database, as `manage.py changepassword` or the admin would: no signal.
    treasurer.set_password("a whole new passphrase 2026")
    User.objects.filter(pk=treasurer.pk).update(password=treasurer.password)

    assert client.get(ME, **bearer(plaintext)).status_code == 401
    token.refresh_from_db()
    assert token.revoked_reason == "password changed"


@pytest.mark.django_db
def test_a_token_without_a_second_factor_left_is_refused_and_revoked(client, treasurer):
    token, plaintext = issue_api_token(actor=None, user=treasurer)
    # Gone without a signal (raw SQL, say): the check at use still holds.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM mfa_authenticator WHERE user_id = %s", [treasurer.pk])

    assert client.get(ME, **bearer(plaintext)).status_code == 401
    token.refresh_from_db()
    assert token.revoked_reason == "no second factor"


@pytest.mark.django_db
def test_a_token_expires_after_api_token_days(client, treasurer, settings):
    settings.API_TOKEN_DAYS = 30
    token, plaintext = issue_api_token(actor=None, user=treasurer)
    assert abs(token.expires_at - token.created_at - timedelta(days=30)) < timedelta(seconds=5)
    assert client.get(ME, **bearer(plaintext)).status_code == 200

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert client.get(ME, **bearer(plaintext)).status_code == 401


@pytest.mark.django_db
def test_tokens_last_ninety_days_by_default(treasurer):
    token, _ = issue_api_token(actor=None, user=treasurer)
    assert abs(token.expires_at - token.created_at - timedelta(days=90)) < timedelta(seconds=5)


# Tokens in Django admin


@pytest.fixture
def admin_client_of(client, django_user_model):
    client.force_login(make_staff(django_user_model, "adm", StaffRole.ADMIN))
    return client


@pytest.mark.django_db
def test_admins_see_tokens_by_prefix_never_by_digest_and_cannot_edit_them(
    admin_client_of, treasurer
):
    token, plaintext = issue_api_token(actor=None, user=treasurer, name="bank export")

    listing = admin_client_of.get("/admin/fund/apitoken/")
    detail = admin_client_of.get(f"/admin/fund/apitoken/{token.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert token.prefix in listing.text
    assert "live" in listing.text
    for page in (listing.text, detail.text):
        assert token.digest not in page
        assert plaintext not in page
    assert 'name="name"' not in detail.text
    assert 'name="_save"' not in detail.text
    assert admin_client_of.get("/admin/fund/apitoken/add/").status_code == 403


@pytest.mark.django_db
def test_admins_revoke_tokens_with_the_action(admin_client_of, client, treasurer):
    token, plaintext = issue_api_token(actor=None, user=treasurer)

    response = admin_client_of.post(
        "/admin/fund/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert "Revoked 1 token(s)." in response.text
    token.refresh_from_db()
    assert token.revoked_reason == "revoked by an admin"
    assert Client().get(ME, **bearer(plaintext)).status_code == 401
