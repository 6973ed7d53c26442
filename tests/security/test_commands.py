"""Staff accounts and API tokens are made from the command line, with clear refusals."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError

from fund.models import ApiToken
from fund.security.roles import VIEW_ALL_CASES, StaffRole, roles_of
from tests.conftest import make_staff, run

ROOT = Path(__file__).resolve().parents[2]
GOOD_PASSWORD = "river lantern copper 1931"


@pytest.fixture
def staff_password(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", GOOD_PASSWORD)


@pytest.mark.django_db
def test_create_staff_makes_an_account_with_its_roles(staff_password):
    output = run("create_staff", "tess", "--role", "treasurer", "--email", "tess@example.org")

    user = User.objects.get(username="tess")
    assert roles_of(user) == {StaffRole.TREASURER}
    assert user.email == "tess@example.org"
    assert user.check_password(GOOD_PASSWORD)
    assert not user.is_staff
    assert not user.is_superuser
    assert "Created tess (treasurer)" in output
    assert GOOD_PASSWORD not in output


@pytest.mark.django_db
def test_create_staff_can_give_several_roles_and_admin_reaches_django_admin(staff_password):
    run("create_staff", "ada", "--role", "admin", "--role", "auditor")

    user = User.objects.get(username="ada")
    assert roles_of(user) == {StaffRole.ADMIN, StaffRole.AUDITOR}
    assert user.is_staff
    assert user.is_superuser


@pytest.mark.django_db
def test_create_staff_legal_director_is_a_coordinator_who_sees_all_cases(staff_password):
    run("create_staff", "lena", "--legal-director")

    user = User.objects.get(username="lena")
    assert roles_of(user) == {StaffRole.COORDINATOR}
    assert user.has_perm(VIEW_ALL_CASES)


@pytest.mark.django_db
def test_create_staff_generates_and_prints_a_password_once_when_asked(monkeypatch):
    monkeypatch.delenv("STAFF_PASSWORD", raising=False)

    output = run("create_staff", "cora", "--role", "coordinator", "--generate-password")

    password = output.split("Password (shown once, store it now): ")[1].split()[0]
    assert User.objects.get(username="cora").check_password(password)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "wizard"], "Unknown role 'wizard'"),
        ([], "Give at least one --role"),
    ],
)
def test_create_staff_refuses_bad_roles(staff_password, args, message):
    with pytest.raises(CommandError, match=message):
        run("create_staff", "someone", *args)
    assert not User.objects.filter(username="someone").exists()


@pytest.mark.django_db
def test_create_staff_refuses_an_existing_user(staff_password, treasurer):
    with pytest.raises(CommandError, match="User 'tess' already exists"):
        run("create_staff", "tess", "--role", "auditor")
    assert roles_of(User.objects.get(username="tess")) == {StaffRole.TREASURER}


@pytest.mark.django_db
def test_create_staff_refuses_a_password_the_validators_reject(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", "Vq7#kLm2!xZ")

    with pytest.raises(CommandError, match=r"Password rejected: .*at least 12 characters"):
        run("create_staff", "tess", "--role", "treasurer")
    assert not User.objects.filter(username="tess").exists()


def test_create_staff_exits_non_zero_with_one_line_on_bad_input():
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="fund.settings", DEBUG="1")

    result = subprocess.run(
        [sys.executable, "manage.py", "create_staff", "x", "--role", "wizard"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "CommandError: Unknown role 'wizard': choose from coordinator, treasurer, auditor, admin."
    ]


@pytest.mark.django_db
def test_issue_api_token_prints_a_token_that_authenticates_the_api(client, treasurer):
    plaintext = run("issue_api_token", "tess", "--name", "bank export").strip()

    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {plaintext}")

    assert response.status_code == 200
    assert response.json()["username"] == "tess"
    assert ApiToken.objects.get(user=treasurer).name == "bank export"


@pytest.mark.django_db
def test_issue_api_token_refuses_an_unknown_user():
    with pytest.raises(CommandError, match="No active user 'ghost'"):
        run("issue_api_token", "ghost")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_revoke_api_token_by_prefix_shuts_the_token_out(client, treasurer):
    plaintext = run("issue_api_token", "tess").strip()

    run("revoke_api_token", plaintext[:10])

    response = client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prefix", "message"), [("dfk_", "10-character prefix"), ("dfk_nothere", "No live token")]
)
def test_revoke_api_token_refuses_what_it_cannot_find(treasurer, prefix, message):
    run("issue_api_token", "tess")

    with pytest.raises(CommandError, match=message):
        run("revoke_api_token", prefix)
    assert ApiToken.objects.get().revoked_at is None


@pytest.mark.django_db
def test_revoke_api_token_tells_how_to_pick_among_tokens_sharing_a_prefix(client, treasurer):
    first = run("issue_api_token", "tess").strip()
    second = run("issue_api_token", "tess").strip()
    ApiToken.objects.update(prefix=first[:10])

    with pytest.raises(
        CommandError, match=r"give the whole token, or revoke .* \(/admin/fund/apitoken/\)"
    ):
        run("revoke_api_token", first[:10])
    run("revoke_api_token", second)

    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 401
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 200


@pytest.mark.django_db
def test_issue_api_token_refuses_an_account_without_a_second_factor(django_user_model):
    make_staff(django_user_model, "newbie", StaffRole.TREASURER, mfa=False)

    with pytest.raises(CommandError, match="newbie has no second factor yet"):
        run("issue_api_token", "newbie")
    assert not ApiToken.objects.exists()
