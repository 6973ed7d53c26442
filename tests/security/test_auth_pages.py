"""Sign-in and second-factor pages wear the site layout and keep to the strict CSP."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from fund.security.roles import StaffRole
from tests.conftest import enrol_totp, make_staff, totp_code
from tests.security.signin import ENROL_TOTP_URL, pass_second_factor, sign_in


class PageAudit(HTMLParser):
    """Collect what the CSP and the no-CDN rule care about."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.styles: list[dict[str, str | None]] = []
        self.style_attributes: list[str] = []
        self.inline_handlers: list[str] = []
        self.urls: list[str] = []
        self.stylesheets: list[str] = []
        self.has_viewport = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
        if tag == "style":
            self.styles.append(found)
        if tag == "link" and found.get("rel") == "stylesheet":
            self.stylesheets.append(found.get("href") or "")
        if tag == "meta" and found.get("name") == "viewport":
            self.has_viewport = True
        for name, value in attrs:
            if name == "style":
                self.style_attributes.append(tag)
            if name.startswith("on"):
                self.inline_handlers.append(f"{tag} {name}")
            if name in ("src", "href", "action") and value:
                self.urls.append(value)


def audit(response) -> PageAudit:
    assert response.status_code == 200
    page = PageAudit()
    page.feed(response.text)
    policy = response.headers["Content-Security-Policy"]
    # Django names a nonce in the header only when the page used one.
    nonce = policy.split("'nonce-")[1].split("'")[0] if "'nonce-" in policy else "(no nonce)"
    assert page.has_viewport, "not laid out for phones"
    assert "/static/css/site.css" in page.stylesheets, "not in the site layout"
    assert 'class="site-header"' in response.text
    for script in page.scripts:
        allowed = (
            (script.get("src") or "").startswith("/static/")
            or script.get("type") == "application/json"
            or script.get("nonce") == nonce
        )
        assert allowed, f"script the CSP would block: {script}"
    assert all(style.get("nonce") == nonce for style in page.styles)
    assert page.style_attributes == [], "inline style attributes are blocked by the CSP"
    assert page.inline_handlers == [], "inline event handlers are blocked by the CSP"
    external = [url for url in page.urls if url.startswith(("http:", "https:", "//"))]
    assert external == [], "assets must come from this origin"
    assert reverse("account_signup") not in response.text
    assert "sign up" not in response.text.lower()
    return page


ANONYMOUS_PAGES = [
    "account_login",
    "account_reset_password",
    "account_reset_password_done",
    "account_signup",
]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ANONYMOUS_PAGES)
def test_public_account_pages_use_the_site_layout_under_the_csp(client, name):
    audit(client.get(reverse(name)))


@pytest.mark.django_db
def test_login_page_works_without_javascript(client):
    response = client.get(reverse("account_login"))
    page = audit(response)

    assert '<form method="post" action="/accounts/login/"' in response.text
    assert 'name="login"' in response.text
    assert 'name="password"' in response.text
    # The passkey button is the only part that needs JavaScript, and it is loaded from /static/.
    assert {s.get("src") for s in page.scripts if s.get("src")} <= {
        "/static/mfa/js/webauthn-json.js",
        "/static/mfa/js/webauthn.js",
        "/static/account/js/onload.js",
    }


@pytest.mark.django_db
def test_second_factor_page_uses_the_site_layout_under_the_csp(client, django_user_model):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    enrol_totp(user)
    sign_in(client, "tess")

    response = client.get(reverse("mfa_authenticate"))

    audit(response)
    assert 'autocomplete="one-time-code"' in response.text


@pytest.mark.django_db
def test_totp_enrolment_shows_the_secret_as_text_and_as_a_qr_code(client, django_user_model):
    make_staff(django_user_model, "newbie", StaffRole.COORDINATOR, mfa=False)
    sign_in(client, "newbie")

    response = client.get(ENROL_TOTP_URL)

    audit(response)
    secret = response.context["form"].secret
    assert f'<code id="totp-secret" class="secret">{secret}</code>' in response.text
    assert 'class="qr"' in response.text
    assert 'src="data:image/svg+xml;base64,' in response.text


@pytest.mark.django_db
def test_security_pages_of_an_enrolled_user_use_the_site_layout(client, django_user_model):
    user = make_staff(django_user_model, "tess", StaffRole.TREASURER, mfa=False)
    secret = enrol_totp(user)
    sign_in(client, "tess")
    pass_second_factor(client, secret)
    client.get(reverse("mfa_generate_recovery_codes"))

    for name in ("mfa_index", "account_change_password", "account_email", "mfa_list_webauthn"):
        audit(client.get(reverse(name)))


@pytest.mark.django_db
def test_after_enrolling_the_recovery_codes_page_leads_on_to_the_dashboard(
    client, django_user_model
):
    make_staff(django_user_model, "newbie", StaffRole.AUDITOR, mfa=False)
    sign_in(client, "newbie")
    secret = client.get(ENROL_TOTP_URL).context["form"].secret

    client.post(ENROL_TOTP_URL, {"code": totp_code(secret)})
    response = client.get(reverse("mfa_view_recovery_codes"))

    audit(response)
    assert len(response.context["unused_codes"]) == 10
    assert f'href="{reverse("dashboard")}">Continue to your dashboard' in response.text
