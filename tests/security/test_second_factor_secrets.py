"""Second-factor secrets are encrypted at rest, never shown in admin, and only removed by an admin
with a record, an alert and an e-mail to the person."""

import glob
import importlib
import io
import json
import subprocess
from pathlib import Path

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.apps import apps
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from fund.demo import postgres
from fund.models import ApiToken, SecurityEvent
from fund.security import crypto
from fund.security.mfa import SECRET_CONTEXT
from fund.security.roles import StaffRole
from fund.security.tokens import issue_api_token
from tests.conftest import PASSWORD, database_url, make_staff
from tests.security.signin import pass_second_factor, sign_in

SECOND_FACTOR = "/accounts/2fa/authenticate/"
OLD = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # the test settings' key
NEW = "k2:" + "bmV3LWtleS1mb3ItdGhlLXJvdGF0aW9uLXRlc3QtMDE="


def stored_data(authenticator: Authenticator) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE id = %s", [authenticator.pk])
        return json.loads(cursor.fetchone()[0])


def enrol_with_recovery_codes(user) -> tuple[str, list[str]]:
    secret = pyotp.random_base32()
    TOTP.activate(user, secret)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    return secret, codes


@pytest.mark.django_db
def test_a_totp_secret_and_a_recovery_seed_are_stored_encrypted_and_still_work(
    client, django_user_model
):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret, codes = enrol_with_recovery_codes(user)

    totp = stored_data(Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP))
    recovery = stored_data(
        Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    )
    assert crypto.key_id_of(totp["secret"]) == "k1"
    assert crypto.key_id_of(recovery["seed"]) == "k1"
    assert secret not in str(totp)
    assert crypto.decrypt(totp["secret"], context=SECRET_CONTEXT) == secret

    sign_in(client, "tess")
    assert pass_second_factor(client, secret).status_code == 302
    client.logout()
    sign_in(client, "tess")
    assert client.post(SECOND_FACTOR, {"code": codes[0]}).status_code == 302
    assert client.get("/staff/").status_code == 200


def pg_dump() -> Path:
    """Return a pg_dump no older than the server (the machine's, or the wheel's)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        server = int(cursor.fetchone()[0]) // 10000
    found = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin/pg_dump")]
    if postgres.wheel_bindir() is not None:
        found.append(postgres.wheel_bindir() / "pg_dump")
    for binary in found:
        version = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, check=True
        ).stdout
        if int(version.split()[-1].split(".")[0]) >= server:
            return binary
    pytest.fail(f"no pg_dump for PostgreSQL {server} on this machine")


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_second_factor_secret_in_clear(django_user_model):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret, codes = enrol_with_recovery_codes(user)
    seed = crypto.decrypt(
        Authenticator.objects.get(user=user, type="recovery_codes").data["seed"],
        context=SECRET_CONTEXT,
    )

    dump = subprocess.run(
        [pg_dump(), "--data-only", "--table=mfa_authenticator", database_url("superuser")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "mfa_authenticator" in dump
    assert "v2:k1:" in dump
    for clear in (secret, seed, *codes):
        assert clear not in dump


@pytest.mark.django_db
def test_the_migration_encrypts_secrets_stored_in_clear_and_leaves_passkeys(
    client, django_user_model
):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret = pyotp.random_base32()
    # As allauth stored them before this project encrypted them.
    totp = Authenticator.objects.create(user=user, type="totp", data={"secret": secret})
    codes = Authenticator.objects.create(
        user=user, type="recovery_codes", data={"seed": "ab" * 40, "used_mask": 0}
    )
    passkey = Authenticator.objects.create(user=user, type="webauthn", data={"credential": {}})

    migration = importlib.import_module("fund.migrations.0011_encrypt_second_factors")
    migration.encrypt(apps, None)
    migration.encrypt(apps, None)  # run twice, as a re-run would: encrypted once only

    assert crypto.decrypt(stored_data(totp)["secret"], context=SECRET_CONTEXT) == secret
    assert crypto.decrypt(stored_data(codes)["seed"], context=SECRET_CONTEXT) == "ab" * 40
    assert stored_data(codes)["used_mask"] == 0
    assert stored_data(passkey) == {"credential": {}}
    sign_in(client, "tess")
    assert pass_second_factor(client, secret).status_code == 302


@pytest.mark.django_db
def test_rotate_field_keys_re_encrypts_second_factor_secrets_too(client, django_user_model):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret, codes = enrol_with_recovery_codes(user)

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        check = io.StringIO()
        with pytest.raises(SystemExit):
            call_command("rotate_field_keys", "--check", stdout=check)
        assert f"{SECRET_CONTEXT}: 2 values, 2 under old keys (k1: 2)" in check.getvalue()
        out = io.StringIO()
        call_command("rotate_field_keys", stdout=out)
        assert f"{SECRET_CONTEXT}: re-encrypted 2" in out.getvalue()
        assert secret not in out.getvalue()

    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        data = stored_data(Authenticator.objects.get(user=user, type="totp"))
        assert crypto.key_id_of(data["secret"]) == "k2"
        sign_in(client, "tess")
        assert client.post(SECOND_FACTOR, {"code": codes[1]}).status_code == 302


# Django admin


@pytest.fixture
def admin(django_user_model):
    return make_staff(django_user_model, "adm", StaffRole.ADMIN)


@pytest.mark.django_db
def test_admin_lists_second_factors_without_their_secrets_and_cannot_edit_or_add(
    client, admin, treasurer
):
    totp = Authenticator.objects.get(user=treasurer, type="totp")
    secret = crypto.decrypt(totp.data["secret"], context=SECRET_CONTEXT)
    client.force_login(admin)

    listing = client.get("/admin/mfa/authenticator/")
    page = client.get(f"/admin/mfa/authenticator/{totp.pk}/change/")

    assert listing.status_code == page.status_code == 200
    assert "tess" in listing.text
    for html in (listing.text, page.text):
        assert secret not in html
        assert totp.data["secret"] not in html
        assert '"secret"' not in html
    assert 'name="data"' not in page.text
    assert client.post(f"/admin/mfa/authenticator/{totp.pk}/change/", {}).status_code == 403
    assert client.get("/admin/mfa/authenticator/add/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_an_admin_removing_a_factor_is_recorded_alerts_admins_and_tells_the_person(
    client, admin, treasurer
):
    issue_api_token(actor=None, user=treasurer)
    mail.outbox.clear()
    totp = Authenticator.objects.get(user=treasurer, type="totp")
    client.force_login(admin)

    response = client.post(f"/admin/mfa/authenticator/{totp.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Authenticator.objects.filter(pk=totp.pk).exists()
    (event,) = SecurityEvent.objects.all()
    assert (event.kind, event.account, event.actor) == ("factor_removed", treasurer, admin)
    assert ApiToken.objects.get(user=treasurer).revoked_reason == "a second factor was removed"
    told = {tuple(message.to): message for message in mail.outbox}
    assert "removed a second factor" in told[(treasurer.email,)].body
    assert "Security alert" in told[(admin.email,)].subject
    assert sign_in(client, "tess", PASSWORD).status_code == 302  # and must enrol again


@pytest.mark.django_db
def test_bulk_removal_goes_through_the_same_door(client, admin, treasurer, auditor):
    client.force_login(admin)
    ids = list(Authenticator.objects.values_list("pk", flat=True))

    client.post(
        "/admin/mfa/authenticator/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )

    assert not Authenticator.objects.filter(user__in=[treasurer, auditor]).exists()
    assert SecurityEvent.objects.filter(kind="factor_removed").count() == len(ids)
