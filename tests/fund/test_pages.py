import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_home_page_renders_for_the_public_under_a_strict_csp(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Defense Fund" in response.content
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.django_db
def test_a_missing_page_is_a_404_in_the_site_layout_that_names_nothing_internal(client):
    response = client.get("/f/no-such-fund/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in page
    assert 'class="site-header"' in page
    assert 'href="/"' in page
    assert "No Fund matches" not in page
    assert "fund.ledger" not in page


@pytest.mark.django_db
def test_a_refused_page_is_a_403_in_the_site_layout_saying_why(client, coordinator):
    client.force_login(coordinator)

    response = client.get("/staff/ledger/")

    page = response.content.decode()
    assert response.status_code == 403
    assert 'class="site-header"' in page
    assert "Only treasurers, auditors and admins can read the ledger." in page
    assert 'href="/staff/"' in page


def test_a_server_error_is_a_500_in_the_site_layout_without_details(rf):
    from django.views.defaults import server_error

    response = server_error(rf.get("/staff/ledger/valley/"))

    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert 'class="site-header"' in page
    assert "Traceback" not in page


@pytest.mark.django_db
def test_a_bad_request_is_a_400_in_the_site_layout_saying_why(client):
    response = client.get("/f/valley%00/")

    page = response.content.decode()
    assert response.status_code == 400
    assert 'class="site-header"' in page
    assert "contains a NUL character" in page
    assert "Nothing was saved." in page


@pytest.mark.django_db
def test_a_flash_message_is_kept_in_the_session_and_sets_no_cookie(client, fund, treasurer):
    client.force_login(treasurer)

    response = client.post(reverse("ledger_books_seal", args=[fund.slug]))
    page = client.get(response.url)

    assert response.status_code == 302
    assert "Sealed the books at the start." in page.content.decode()
    assert "messages" not in response.cookies
    assert "messages" not in page.cookies
    assert "messages" not in client.cookies
