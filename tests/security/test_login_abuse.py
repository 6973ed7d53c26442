"""Sign-in resists guessing and leaks nothing about which accounts exist."""

import time

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from fund.security.sessions import RENEW_AFTER_SECONDS, RENEWED
from tests.conftest import PASSWORD
from tests.security.signin import LOGIN_URL, SECOND_FACTOR_URL, sign_in

TOO_MANY = "Too many failed login attempts. Try again later."


@pytest.mark.django_db
def test_after_five_wrong_passwords_even_the_right_one_is_refused(client, treasurer):
    for _ in range(5):
        response = sign_in(client, "tess", "not the password at all")
        assert response.status_code == 200
        assert TOO_MANY not in response.text

    response = sign_in(client, "tess", PASSWORD)

    assert response.status_code == 200
    assert TOO_MANY in response.text
    assert "account_authentication_methods" not in client.session


@pytest.mark.django_db
def test_guessing_from_one_address_is_limited_across_usernames(client, treasurer):
    for attempt in range(10):
        sign_in(client, f"someone{attempt}", "not the password at all")

    response = sign_in(client, "tess", PASSWORD)

    assert response.status_code == 200
    assert TOO_MANY in response.text


@pytest.mark.django_db
def test_the_login_error_is_the_same_for_an_unknown_user_and_a_wrong_password(client, treasurer):
    unknown = sign_in(client, "nobody-here", "not the password at all")
    wrong = sign_in(client, "tess", "not the password at all")

    assert unknown.status_code == wrong.status_code == 200
    assert unknown.context["form"].errors == wrong.context["form"].errors
    assert "not correct" in str(wrong.context["form"].errors)


@pytest.mark.django_db
def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, treasurer):
    url = reverse("account_reset_password")

    known = client.post(url, {"email": "tess@example.org"})
    unknown = client.post(url, {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known.url == unknown.url
    assert client.get(known.url).text == client.get(unknown.url).text


@pytest.mark.django_db
def test_nobody_can_sign_up(client):
    page = client.get(reverse("account_signup"))
    client.post(
        reverse("account_signup"),
        {
            "username": "mallory",
            "email": "mallory@example.org",
            "password1": "a long enough password 123",
            "password2": "a long enough password 123",
        },
    )

    assert "Sign-up closed" in page.text
    assert not User.objects.filter(username="mallory").exists()
    assert reverse("account_signup") not in client.get(LOGIN_URL).text


@pytest.mark.django_db
def test_a_session_idle_longer_than_the_timeout_is_signed_out(client, treasurer):
    client.force_login(treasurer)
    assert client.get("/staff/").status_code == 200
    session = Session.objects.get(session_key=client.session.session_key)
    idle = timezone.now() + timezone.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    assert abs((session.expire_date - idle).total_seconds()) < 30

    Session.objects.filter(pk=session.pk).update(
        expire_date=timezone.now() - timezone.timedelta(seconds=1)
    )
    response = client.get("/staff/")

    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)


@pytest.mark.django_db
def test_a_request_a_minute_after_the_last_renewal_restarts_the_idle_timer(client, treasurer):
    client.force_login(treasurer)
    client.get("/staff/")
    session = client.session
    session[RENEWED] = int(time.time()) - RENEW_AFTER_SECONDS
    session.save()
    soon = timezone.now() + timezone.timedelta(minutes=1)
    Session.objects.filter(session_key=session.session_key).update(expire_date=soon)

    assert client.get("/staff/").status_code == 200

    renewed = Session.objects.get(session_key=session.session_key)
    assert renewed.expire_date > soon + timezone.timedelta(minutes=10)


@pytest.mark.django_db
def test_requests_within_a_minute_of_a_renewal_do_not_write_the_session(client, treasurer):
    # Each page would otherwise cost a database write and a commit.
    client.force_login(treasurer)
    client.get("/staff/")
    key = client.session.session_key
    soon = timezone.now() + timezone.timedelta(minutes=5)
    Session.objects.filter(session_key=key).update(expire_date=soon)

    assert client.get("/staff/").status_code == 200

    assert Session.objects.get(session_key=key).expire_date == soon


@pytest.mark.django_db
def test_signing_out_ends_the_session_and_renewing_never_revives_it(client, treasurer):
    client.force_login(treasurer)
    client.get("/staff/")
    signed_in = client.session.session_key
    client.post(reverse("account_logout"))

    assert not Session.objects.filter(session_key=signed_in).exists()
    assert all("_auth_user_id" not in s.get_decoded() for s in Session.objects.all())
    assert client.get("/staff/").status_code == 302


@pytest.mark.django_db
def test_a_half_finished_sign_in_is_not_a_session(client, treasurer):
    response = sign_in(client, "tess")

    assert response.url == SECOND_FACTOR_URL
    assert client.get("/staff/").status_code == 302
    assert client.get("/api/v1/me").status_code == 401
