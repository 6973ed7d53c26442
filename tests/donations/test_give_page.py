"""The donation page: what a donor may give, what reaches Stripe's Checkout, and what never does."""

import ast
import gettext
import re
from html import unescape
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection

from donations.links import manage_path
from donations.models import Donor, Gift, RecurringGift
from donations.stripe import cover_for
from donations.views.give import CLIENT_LIMIT, EMAIL_LIMIT
from fund.ledger.models import Transaction
from fund.ledger.services import create_fund
from tests.donations import stripe_objects as so
from tests.donations.conftest import OPENED

pytestmark = pytest.mark.django_db

GIVE = "/f/valley/give/"
SESSIONS = ("POST", "/v1/checkout/sessions")
SPANISH = Path(__file__).resolve().parents[2] / "locale" / "es" / "LC_MESSAGES"
# Where the strings a donor reads come from (the receipts' strings are tested with the receipts).
DONOR_FACING = (
    "templates/base.html",
    "templates/400.html",
    "templates/403.html",
    "templates/404.html",
    "templates/429.html",
    "templates/500.html",
    "templates/fund/fund_detail.html",
    "templates/fund/home.html",
    "templates/donations/give",
    "templates/donations/demo_",
    "templates/donations/manage",
    "templates/donations/_",
    "donations/forms/give.py",
    "donations/views/give.py",
    "fund/public/",
)


@pytest.fixture(autouse=True)
def online(stripe_api):
    """Online giving is on: Stripe is configured (played by the double)."""
    return stripe_api


def text_of(response) -> str:
    """Return the page's visible text, tags removed and whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def gift_form(**fields) -> dict[str, str]:
    """Return what the donation page posts for a one-time $25 gift, with these fields changed."""
    return {"amount": "2500", "frequency": "once", "email": "ana@example.org"} | fields


def give(client, *, client_ip="203.0.113.7", **fields):
    return client.post(GIVE, gift_form(**fields), REMOTE_ADDR=client_ip)


def sessions_created(double) -> list:
    return double.calls(*SESSIONS)


# The page


def test_the_page_offers_presets_once_or_monthly_and_the_fee_for_each_preset(client, fund):
    response = client.get(GIVE)

    assert response.status_code == 200
    text = text_of(response)
    assert "Give to Valley Labor Council Legal Fund" in text
    for preset in ("$25", "$50", "$100", "$250", "$500"):
        assert re.search(
            rf'value="{int(preset[1:]) * 100}"[^>]*>\s*<span>\{preset}</span>',
            response.content.decode(),
        )
    assert "One time" in text
    assert "Every month" in text
    # Without JavaScript the fee cover is listed for each preset amount.
    assert "$1.06 to $25; $1.81 to $50; $3.30 to $100; $7.78 to $250; $15.25 to $500." in text
    assert "From $1.00 to $10,000.00." in text
    assert "Give anonymously" in text
    assert "In memory of someone" in text
    assert "List us as a supporter on this fund's page" in text


def test_the_page_uses_no_inline_script_or_style(client, fund):
    content = client.get(GIVE).content.decode()

    assert "<script>" not in content
    assert re.findall(r"<script\b[^>]*>", content) == ['<script src="/static/js/give.js" defer>']
    assert " style=" not in content
    assert not re.search(r"\son[a-z]+=", content)


def test_a_private_or_unknown_fund_has_no_donation_page(client, fund, stripe_api):
    create_fund(actor=None, opened_on=OPENED, name="Reserve", slug="reserve", goal_cents=0)
    fund.__class__.objects.filter(slug="reserve").update(is_public=False)

    assert client.get("/f/reserve/give/").status_code == 404
    assert client.get("/f/nope/give/").status_code == 404
    assert client.post("/f/reserve/give/", gift_form()).status_code == 404
    assert sessions_created(stripe_api) == []


def test_without_online_giving_the_page_explains_how_to_give_by_check(client, fund, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_DEMO = False

    page = client.get(GIVE)
    posted = client.post(GIVE, gift_form())

    assert page.status_code == 200
    text = text_of(page)
    assert "Online giving is not available yet." in text
    assert "Make your check out to “Valley Labor Council Legal Fund”" in text
    assert 'name="email"' not in page.content.decode()
    assert posted.status_code == 409
    assert not Gift.objects.exists()
    assert not Donor.objects.exists()


# A gift reaches Checkout


def test_a_valid_gift_creates_one_checkout_session_and_sends_the_donor_to_it(
    client, fund, stripe_api
):
    response = give(client, amount="5000")

    gift = Gift.objects.get()
    [session] = sessions_created(stripe_api)
    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.test/c/pay/cs_test_")
    assert gift.stripe_checkout_session == response["Location"].rsplit("/", 1)[1]
    assert gift.status == Gift.Status.PENDING
    assert gift.transaction_id is None
    assert (gift.amount_cents, gift.cover_fee_cents, gift.method) == (5_000, 0, Gift.Method.CARD)
    assert gift.frequency == Gift.Frequency.ONCE
    assert gift.language == "en"
    assert session.param("mode") == "payment"
    assert session.param("submit_type") == "donate"
    assert session.param("metadata[fund]") == "valley"
    assert session.param("metadata[donation]") == str(gift.row_key)
    assert session.param("payment_intent_data[metadata][donation]") == str(gift.row_key)
    assert session.param("client_reference_id") == str(gift.row_key)
    assert session.param("customer_email") == "ana@example.org"
    assert session.param("locale") == "en"
    assert session.param("line_items[0][price_data][unit_amount]") == "5000"
    assert session.param("line_items[0][price_data][currency]") == "usd"
    assert session.param("line_items[0][price_data][recurring][interval]") is None
    assert session.param("success_url") == "http://testserver/f/valley/give/thanks/"
    assert session.param("cancel_url") == "http://testserver/f/valley/give/?cancelled=1"
    assert session.headers["Idempotency-Key"] == f"checkout:{gift.row_key}"
    assert session.headers["Stripe-Version"] == "2026-10-28.endive"


def test_a_monthly_gift_starts_a_subscription_checkout(client, fund, stripe_api):
    response = give(client, amount="2500", frequency="monthly")

    gift = Gift.objects.get()
    [session] = sessions_created(stripe_api)
    assert response.status_code == 303
    assert gift.frequency == Gift.Frequency.MONTHLY
    assert gift.recurring.amount_cents == 2_500
    assert gift.recurring.status == RecurringGift.Status.INCOMPLETE
    assert session.param("mode") == "subscription"
    assert session.param("submit_type") is None
    assert session.param("line_items[0][price_data][recurring][interval]") == "month"
    assert session.param("line_items[0][price_data][unit_amount]") == "2500"
    assert session.param("subscription_data[metadata][fund]") == "valley"
    assert session.param("subscription_data[metadata][donation]") == str(gift.row_key)
    assert session.param("metadata[donation]") == str(gift.row_key)


def test_covering_the_fee_adds_it_to_what_the_card_is_charged(client, fund, stripe_api):
    give(client, amount="2500", cover_fee="on")

    gift = Gift.objects.get()
    [session] = sessions_created(stripe_api)
    assert cover_for(2_500) == 106
    assert (gift.amount_cents, gift.cover_fee_cents) == (2_606, 106)
    assert session.param("line_items[0][price_data][unit_amount]") == "2606"


def test_a_typed_amount_is_parsed_exactly_and_wins_over_a_picked_one(client, fund, stripe_api):
    give(client, amount="2500", other_amount="$1,234.56")

    assert Gift.objects.get().amount_cents == 123_456
    [session] = sessions_created(stripe_api)
    assert session.param("line_items[0][price_data][unit_amount]") == "123456"


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"other_amount": "0"}, "other_amount", "Enter an amount in figures, like $1.00."),
        ({"other_amount": "-5"}, "other_amount", "Enter an amount in figures, like $1.00."),
        ({"other_amount": "1e3"}, "other_amount", "Enter an amount in figures, like $1.00."),
        ({"other_amount": "NaN"}, "other_amount", "Enter an amount in figures, like $1.00."),
        ({"other_amount": "lots"}, "other_amount", "Enter an amount in figures, like $1.00."),
        ({"other_amount": "\uff12\uff15"}, "other_amount", "Enter an amount in figures, like $1."),
        ({"other_amount": "12.345"}, "other_amount", "Enter the amount in USD, like $1.00."),
        ({"other_amount": "0.99"}, "other_amount", "One online gift must be at least $1.00."),
        (
            {"other_amount": "10000.01"},
            "other_amount",
            "One online gift can be at most $10,000.00.",
        ),
        (
            {"other_amount": "1000000000000"},
            "other_amount",
            "One online gift can be at most $10,000.00.",
        ),
        ({"amount": "0"}, "amount", "Select a valid choice. 0 is not one of the available"),
        ({"amount": "-2500"}, "amount", "Select a valid choice. -2500 is not one of the"),
        ({"amount": "1e3"}, "amount", "Select a valid choice. 1e3 is not one of the available"),
        ({"amount": "NaN"}, "amount", "Select a valid choice. NaN is not one of the available"),
        ({"amount": "100000000000000"}, "amount", "Select a valid choice. 100000000000000 is"),
        ({"amount": ""}, "amount", "Choose an amount, or type one under “Other amount”."),
        ({"amount": "other"}, "amount", "Choose an amount, or type one under “Other amount”."),
    ],
)
def test_a_tampered_or_out_of_bounds_amount_is_a_form_error_and_starts_nothing(
    client, fund, stripe_api, fields, field, message
):
    response = give(client, **fields)

    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert message in text_of(response)
    assert "Your gift has not been started yet." in text_of(response)
    assert sessions_created(stripe_api) == []
    assert not Gift.objects.exists()
    assert not Donor.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": ""}, "email", "Enter your e-mail address, for your receipt."),
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"frequency": "weekly"}, "frequency", "Select a valid choice."),
        ({"tribute": "memory"}, "tribute_name", "Enter the name of the person this gift is for."),
        (
            {"list_as_supporter": "on"},
            "organisation",
            "Enter the organisation's name to be listed as a supporter.",
        ),
        (
            {"organisation": "Local 26", "list_as_supporter": "on", "anonymous": "on"},
            "list_as_supporter",
            "An anonymous gift is not listed: choose one or the other.",
        ),
    ],
)
def test_a_gift_missing_what_it_needs_is_a_form_error_and_starts_nothing(
    client, fund, stripe_api, fields, field, message
):
    response = give(client, **fields)

    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert sessions_created(stripe_api) == []
    assert not Gift.objects.exists()


def test_who_gives_and_for_whom_is_stored_encrypted_fields_read_back(client, fund, stripe_api):
    give(
        client,
        email="Ana@Example.org",
        name="Ana Flores",
        address="12 Orchard Rd\nFresno, CA 93701",
        employer="Valley Packing Co.",
        anonymous="on",
        tribute="memory",
        tribute_name="Rosa Flores",
    )

    gift = Gift.objects.select_related("donor").get()
    donor = gift.donor
    assert gift.anonymous is True
    assert (gift.tribute, gift.tribute_name) == (Gift.Tribute.MEMORY, "Rosa Flores")
    assert donor.kind == Donor.Kind.PERSON
    assert (donor.email, donor.name, donor.employer) == (
        "Ana@Example.org",
        "Ana Flores",
        "Valley Packing Co.",
    )
    assert donor.address == "12 Orchard Rd\nFresno, CA 93701"
    assert donor.list_as_supporter is False
    # Encrypted at rest: the database holds neither the name nor the tribute in clear.
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, address FROM donations_donor WHERE id = %s", [donor.pk])
        stored = " ".join(cursor.fetchone())
        cursor.execute("SELECT tribute_name FROM donations_gift WHERE id = %s", [gift.pk])
        stored += cursor.fetchone()[0]
    assert "Ana" not in stored
    assert "Rosa" not in stored


def test_an_organisation_gives_and_asks_to_be_listed(client, fund, stripe_api):
    give(
        client,
        email="treasurer@local26.example.org",
        organisation="UFCW Local 26",
        list_as_supporter="on",
    )

    donor = Gift.objects.get().donor
    assert donor.kind == Donor.Kind.ORGANISATION
    assert donor.organisation == "UFCW Local 26"
    assert donor.email == "treasurer@local26.example.org"
    assert donor.list_as_supporter is True


# Only Stripe's word marks a gift paid


def test_the_success_page_alone_never_marks_a_gift_paid(client, fund, stripe_api):
    give(client)

    response = client.get("/f/valley/give/thanks/")

    assert response.status_code == 200
    text = text_of(response)
    assert "Thank you for your gift to Valley Labor Council Legal Fund." in text
    assert "Your receipt is coming by e-mail once the payment is confirmed" in text
    gift = Gift.objects.get()
    assert gift.status == Gift.Status.PENDING
    assert gift.transaction_id is None
    assert not Transaction.objects.filter(fund=fund, kind=Transaction.Kind.GIFT_ONLINE).exists()


def test_cancelling_on_checkout_returns_to_the_form(client, fund, stripe_api):
    response = client.get(f"{GIVE}?cancelled=1")

    assert "Your payment was not taken. You can try again below." in text_of(response)
    assert 'name="email"' in response.content.decode()


def test_when_stripe_is_down_the_page_says_so_and_nothing_is_paid(client, fund, stripe_api):
    stripe_api.fail_next = [500] * 4  # the first try and the client's three retries

    response = give(client)

    assert response.status_code == 503
    assert (
        "We could not start the card payment: the payment service did not answer. "
        "Nothing was charged." in text_of(response)
    )
    gift = Gift.objects.get()
    assert gift.status == Gift.Status.PENDING
    assert gift.stripe_checkout_session is None
    assert len(sessions_created(stripe_api)) == 4


# Card-testing defence


def test_bursts_of_checkouts_from_one_client_are_refused_with_a_429(client, fund, stripe_api):
    limit, _ = CLIENT_LIMIT
    for n in range(limit):
        assert give(client, email=f"donor{n}@example.org").status_code == 303

    refused = give(client, email="one.more@example.org")
    elsewhere = give(client, email="one.more@example.org", client_ip="198.51.100.20")

    assert refused.status_code == 429
    assert "Too many payments were started from here" in text_of(refused)
    assert 'href="/f/valley/give/"' in refused.content.decode()
    assert elsewhere.status_code == 303
    assert len(sessions_created(stripe_api)) == limit + 1
    assert Gift.objects.count() == limit + 1


def test_bursts_of_checkouts_for_one_email_are_refused_from_any_client(client, fund, stripe_api):
    limit, _ = EMAIL_LIMIT
    for n in range(limit):
        email = "Ana@example.org" if n % 2 else "ana@EXAMPLE.org"
        assert give(client, email=email, client_ip=f"192.0.2.{n + 1}").status_code == 303

    refused = give(client, email=" ana@example.org ", client_ip="192.0.2.200")

    assert refused.status_code == 429
    assert len(sessions_created(stripe_api)) == limit
    assert Gift.objects.count() == limit


def test_the_rate_limits_keep_no_address_or_email_in_the_cache(client, fund, stripe_api):
    give(client, email="ana@example.org", client_ip="203.0.113.7")

    stored = " ".join(f"{key} {value}" for key, value in cache._cache.items())
    assert "throttle:give:client:" in stored
    assert "throttle:give:email:" in stored
    for secret in ("203.0.113.7", "ana@example.org", "ana"):
        assert secret not in stored


def test_an_ipv6_client_is_counted_by_its_network(client, fund, stripe_api):
    limit, _ = CLIENT_LIMIT
    for n in range(limit):
        address = f"2001:db8:1:2::{n + 1:x}"
        assert give(client, email=f"d{n}@example.org", client_ip=address).status_code == 303

    refused = give(client, email="d99@example.org", client_ip="2001:db8:1:2:ffff::1")

    assert refused.status_code == 429


# Languages


def test_a_spanish_browser_gets_the_page_in_spanish(client, fund):
    response = client.get(GIVE, headers={"Accept-Language": "es"})

    text = text_of(response)
    assert '<html lang="es">' in response.content.decode()
    assert "Dona a Valley Labor Council Legal Fund" in text
    assert "Una vez" in text
    assert "Cada mes" in text
    assert "Donar de forma anónima" in text
    assert "Continuar al pago" in text


def test_the_language_switcher_sets_spanish_and_checkout_and_the_gift_follow(
    client, fund, stripe_api
):
    page = client.get(GIVE)
    assert 'action="/i18n/setlang/"' in page.content.decode()

    switched = client.post("/i18n/setlang/", {"language": "es", "next": GIVE})
    response = give(client, other_amount="abc")
    given = give(client)

    assert switched.status_code == 302
    assert switched["Location"] == GIVE
    assert "Escribe una cantidad en cifras, como $1.00." in text_of(response)
    assert given.status_code == 303
    [session] = sessions_created(stripe_api)
    assert session.param("locale") == "es"
    assert session.param("line_items[0][price_data][product_data][name]") == (
        "Donación a Valley Labor Council Legal Fund"
    )
    gift = Gift.objects.get()
    assert gift.language == "es"
    assert gift.donor.language == "es"


def test_the_error_pages_speak_spanish_too(client, fund):
    response = client.get("/f/nope/", headers={"Accept-Language": "es"})

    assert response.status_code == 404
    assert "Página no encontrada" in text_of(response)


# The public fund page


def test_the_fund_page_has_a_give_button(client, fund):
    content = client.get("/f/valley/").content.decode()

    assert '<a class="button give-button" href="/f/valley/give/">Give</a>' in content


def test_only_organisations_that_opted_in_and_paid_are_listed_as_supporters(
    client, fund, stripe_api
):
    fund.__class__.objects.filter(pk=fund.pk).update(show_supporters=True)

    def started(**fields):
        give(client, **fields)
        return Gift.objects.order_by("-pk").first()

    def paid(gift):
        session = so.checkout_session(
            amount=gift.amount_cents,
            metadata={"fund": "valley", "donation": str(gift.row_key)},
            payment_intent=so.new_id("pi"),
        )
        assert (
            so.post_event(client, so.event("checkout.session.completed", session)).status_code
            == 200
        )

    listed = started(
        email="t@local26.example.org", organisation="UFCW Local 26", list_as_supporter="on"
    )
    unlisted = started(email="t@seiu.example.org", organisation="SEIU 521")
    not_yet_paid = started(
        email="t@ibew.example.org", organisation="IBEW 100", list_as_supporter="on"
    )
    person = started(email="ana@example.org", name="Ana Flores")
    assert not_yet_paid.status == Gift.Status.PENDING
    before = text_of(client.get("/f/valley/"))
    for gift in (listed, unlisted, person):
        paid(gift)

    after = text_of(client.get("/f/valley/"))

    assert "Organisations supporting this fund" not in before
    assert "Organisations supporting this fund UFCW Local 26 Listed because they asked" in after
    for absent in ("SEIU 521", "IBEW 100", "Ana Flores", "ana@example.org"):
        assert absent not in after
    # A fund that does not enable the list shows none, whoever opted in.
    fund.__class__.objects.filter(pk=fund.pk).update(show_supporters=False)
    assert "UFCW Local 26" not in text_of(client.get("/f/valley/"))


# "Manage my monthly gift"


@pytest.fixture
def monthly(fund) -> RecurringGift:
    donor = Donor.objects.create(
        kind=Donor.Kind.PERSON, email="ana@example.org", email_index="test-index"
    )
    return RecurringGift.objects.create(
        fund=fund,
        donor=donor,
        amount_cents=2_500,
        status=RecurringGift.Status.ACTIVE,
        stripe_subscription="sub_test_ana",
        stripe_customer="cus_test_ana",
    )


def test_a_forged_or_altered_manage_link_is_404(client, monthly):
    path = manage_path(monthly)
    token = path.rstrip("/").rsplit("/", 1)[1]

    assert client.get(path).status_code == 200
    assert client.get("/give/monthly/forged-token/").status_code == 404
    assert client.get(f"/give/monthly/{token[:-2]}xx/").status_code == 404
    assert client.post("/give/monthly/forged-token/").status_code == 404


def test_the_manage_link_shows_the_gift_and_opens_stripes_billing_portal(
    client, monthly, stripe_api
):
    path = manage_path(monthly)

    page = client.get(path)
    response = client.post(path)

    text = text_of(page)
    assert "$25.00 every month to Valley Labor Council Legal Fund" in text
    assert "Active: paid every month." in text
    assert "ana@example.org" not in text
    assert response.status_code == 303
    assert response["Location"].startswith("https://billing.stripe.test/p/session/")
    [portal] = stripe_api.calls("POST", "/v1/billing_portal/sessions")
    assert portal.param("customer") == "cus_test_ana"
    assert portal.param("return_url") == f"http://testserver{path}"


def test_a_monthly_gift_not_known_at_stripe_yet_cannot_open_the_portal(client, monthly, stripe_api):
    RecurringGift.objects.filter(pk=monthly.pk).update(stripe_customer="")

    response = client.post(manage_path(monthly))

    assert response.status_code == 409
    assert "This monthly gift is still starting." in text_of(response)
    assert stripe_api.calls("POST", "/v1/billing_portal/sessions") == []


# The Spanish catalogue


def catalogue() -> list[dict]:
    """Return the entries of the Spanish .po: references, msgid(s), msgstr(s) and flags."""
    entries, entry, key = [], {}, ""
    for line in [*(SPANISH / "django.po").read_text().splitlines(), ""]:
        if not line.strip():
            if "msgid" in entry:
                entries.append(entry)
            entry = {}
        elif line.startswith("#:"):
            entry.setdefault("refs", []).extend(line[2:].split())
        elif line.startswith("#,"):
            entry.setdefault("flags", []).extend(f.strip() for f in line[2:].split(","))
        elif match := re.match(r"^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d\])?) (\".*\")$", line):
            key = match.group(1)
            entry[key] = ast.literal_eval(match.group(2))
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
    return [e for e in entries if e["msgid"]]


def translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def test_every_string_a_donor_reads_has_a_spanish_translation():
    donor_facing = [
        e for e in catalogue() if any(ref.startswith(DONOR_FACING) for ref in e.get("refs", []))
    ]

    assert len(donor_facing) > 150
    untranslated = [
        e["msgid"]
        for e in donor_facing
        if "fuzzy" in e.get("flags", []) or not all(translations(e))
    ]
    assert untranslated == []


def test_the_compiled_spanish_catalogue_is_up_to_date_with_its_source():
    with (SPANISH / "django.mo").open("rb") as compiled:
        mo = gettext.GNUTranslations(compiled)

    stale = []
    for entry in catalogue():
        if "fuzzy" in entry.get("flags", []) or not all(translations(entry)):
            continue
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            plurals = (entry["msgid"], entry["msgid_plural"])
            found = [
                mo.npgettext(context, *plurals, n) if context else mo.ngettext(*plurals, n)
                for n in (1, 2)
            ]
            expected = [entry["msgstr[0]"], entry["msgstr[2]"]]
        else:
            msgid = entry["msgid"]
            found = [mo.pgettext(context, msgid) if context else mo.gettext(msgid)]
            expected = [entry["msgstr"]]
        if found != expected:
            stale.append(entry["msgid"])
    assert stale == [], "run compilemessages (docs/donations.md#giving-online)"
