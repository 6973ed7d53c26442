"""Bearer tokens authenticate the staff API; revoked, unknown or malformed ones get 401."""

import hashlib

import pytest
from django.db import connection

from fund.models import ApiToken
from fund.security.tokens import issue_api_token, revoke_api_token
from tests.conftest import bearer, make_staff

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
