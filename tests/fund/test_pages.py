import pytest


@pytest.mark.sqlite
@pytest.mark.django_db
def test_home_page_renders_for_the_public_under_a_strict_csp(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Defense Fund" in response.content
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
