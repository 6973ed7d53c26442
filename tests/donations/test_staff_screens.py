"""The treasurer's gift screens: who may see and record what, what each page shows (and never
shows), the CSV export, the deposit slip, pledges, and the access log of every donor shown."""

import csv
import io
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from donations.models import Deposit, Donor, DonorEvent, Gift, Pledge, StripeEvent
from donations.services.offline import DonorDetails
from fund.ledger.models import Transaction
from fund.ledger.verify import verify_fund
from fund.security.models import AccessLog
from tests.donations import stripe_objects as so
from tests.donations.conftest import Role, balances, completed, page_gift
from tests.donations.test_offline import LOCAL_26, deposit, give, key, pledge, received_day
from tests.fund.conftest import today

pytestmark = pytest.mark.django_db

Kind = Transaction.Kind
ROSA = DonorDetails(
    kind=Donor.Kind.PERSON,
    email="rosa@example.org",
    name='=HYPERLINK("http://evil.example/","Rosa")',
    address="9 Vine St",
)


@pytest.fixture
def gifts(fund, treasurer):
    """A check from Ana, anonymous cash from Rosa, a wire from Local 26 toward its pledge."""
    promise = pledge(fund, treasurer, 1_000_000, today() - timedelta(days=1))
    return {
        "check": give(fund, treasurer, 12_345, reference="=1+2"),
        "cash": give(fund, treasurer, 5_000, "cash", donor=ROSA, anonymous=True),
        "wire": give(fund, treasurer, 400_000, "wire", donor=None, pledge=promise, reference="W1"),
        "pledge": promise,
    }


def read_urls(gifts) -> list[str]:
    slip = deposit(gifts["check"].fund, gifts["check"].recorded_by, [gifts["check"]])
    return [
        reverse("donations_gifts"),
        reverse("donations_gifts_csv"),
        reverse("donations_gift", args=[gifts["check"].pk]),
        reverse("donations_deposits"),
        reverse("donations_deposit", args=[slip.pk]),
        reverse("donations_pledges"),
        reverse("donations_pledge", args=[gifts["pledge"].pk]),
    ]


def donor_urls(gifts) -> list[str]:
    return [reverse("donations_donors"), reverse("donations_donor", args=[gifts["check"].donor_id])]


def write_urls(gifts) -> list[str]:
    return [
        reverse("donations_gift_new"),
        reverse("donations_deposit_new_for", args=[gifts["check"].fund.slug]),
        reverse("donations_pledge_new"),
        reverse("donations_donor_edit", args=[gifts["check"].donor_id]),
    ]


def gift_form(fund, **fields) -> dict[str, str]:
    data = {
        "fund": fund.slug,
        "method": "check",
        "amount": "1,250.50",
        "received_on": received_day().isoformat(),
        "reference": "5521",
        "pledge": "",
        "donor_kind": "person",
        "email": "ana.flores@example.org",
        "name": "Ana Flores",
        "organisation": "",
        "address": "",
        "employer": "",
        "language": "en",
        "idempotency_key": key(),
    }
    return data | fields


def page(response) -> str:
    return response.content.decode()


# Who may do what


def test_a_treasurer_reads_and_records_everything(client, treasurer, gifts):
    client.force_login(treasurer)

    for url in read_urls(gifts) + donor_urls(gifts) + write_urls(gifts):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["auditor", "admin_user"])
def test_auditors_and_admins_read_gifts_but_record_nothing(client, request, gifts, persona):
    client.force_login(request.getfixturevalue(persona))
    before = (Gift.objects.count(), Deposit.objects.count(), Pledge.objects.count())

    for url in read_urls(gifts):
        assert client.get(url).status_code == 200, url
    for url in write_urls(gifts):
        assert client.get(url).status_code == 403, url
        assert client.post(url, gift_form(gifts["check"].fund)).status_code == 403, url
    assert (Gift.objects.count(), Deposit.objects.count() - 1, Pledge.objects.count()) == before


def test_auditors_never_reach_the_donor_pages_and_admins_do(client, auditor, admin_user, gifts):
    client.force_login(auditor)
    for url in donor_urls(gifts):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("donations_donor_find"), {"email": "x@y.org"}).status_code == 403

    client.force_login(admin_user)
    for url in donor_urls(gifts):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["coordinator", "outsider"])
def test_other_staff_are_refused_every_gift_page(client, request, gifts, persona):
    client.force_login(request.getfixturevalue(persona))

    for url in read_urls(gifts) + donor_urls(gifts) + write_urls(gifts):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {}).status_code in (403, 405), url


def test_anonymous_visitors_are_sent_to_sign_in(client, gifts):
    for url in read_urls(gifts) + donor_urls(gifts) + write_urls(gifts):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


def test_the_dashboard_shows_the_gifts_card_to_gift_readers_only(client, treasurer, coordinator):
    client.force_login(treasurer)
    assert reverse("donations_gifts") in page(client.get(reverse("dashboard")))

    client.force_login(coordinator)
    assert reverse("donations_gifts") not in page(client.get(reverse("dashboard")))


# Recording a gift on the screen


def test_a_treasurer_records_a_check_and_sees_it(
    client, treasurer, fund, django_capture_on_commit_callbacks
):
    client.force_login(treasurer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("donations_gift_new"), gift_form(fund))

    gift = Gift.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("donations_gift", args=[gift.pk])
    assert (gift.amount_cents, gift.reference, gift.method) == (125_050, "5521", "check")
    assert balances(fund) == {Role.UNDEPOSITED: 125_050, Role.CONTRIBUTIONS: -125_050}
    assert len(mail.outbox) == 1
    shown = page(client.get(response["Location"]))
    assert "$1,250.50" in shown
    assert "check no. 5521" in shown
    assert "Not deposited yet" in shown


def test_a_double_submitted_form_records_one_gift(client, treasurer, fund):
    client.force_login(treasurer)
    data = gift_form(fund)

    first = client.post(reverse("donations_gift_new"), data)
    second = client.post(reverse("donations_gift_new"), data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Gift.objects.count() == 1
    assert Transaction.objects.filter(kind=Kind.GIFT_OFFLINE).count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_submissions_of_one_form_at_once_record_one_gift(treasurer, fund):
    data = gift_form(fund)
    statuses: list[int] = []
    start = threading.Barrier(10)

    def submit() -> None:
        browser = Client()
        browser.force_login(treasurer)
        start.wait()
        statuses.append(browser.post(reverse("donations_gift_new"), data).status_code)
        connection.close()

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [302] * 10
    assert Gift.objects.count() == 1
    assert Transaction.objects.filter(kind=Kind.GIFT_OFFLINE).count() == 1
    assert balances(fund) == {Role.UNDEPOSITED: 125_050, Role.CONTRIBUTIONS: -125_050}


def test_the_same_form_sent_again_with_other_values_records_nothing_and_gets_a_new_key(
    client, treasurer, fund
):
    client.force_login(treasurer)
    data = gift_form(fund)
    client.post(reverse("donations_gift_new"), data)

    response = client.post(reverse("donations_gift_new"), data | {"amount": "99.00"})

    assert response.status_code == 400
    assert "already submitted with other values" in page(response)
    assert data["idempotency_key"] not in page(response)
    assert Gift.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "1e3"}, "Enter an amount like $1,234.56."),
        ({"amount": "-5"}, "Enter a positive amount."),
        ({"amount": "0"}, "Enter an amount above zero."),
        ({"amount": "NaN"}, "Enter an amount like $1,234.56."),
        ({"amount": "10000000000000"}, "the largest amount accepted"),
        ({"reference": ""}, "Enter the check number."),
        ({"email": ""}, "A person&#x27;s gift needs their e-mail address."),
        ({"donor_kind": "organisation", "email": ""}, "Enter the organisation&#x27;s name."),
        ({"received_on": "1999-12-31"}, "the books take no other days"),
        ({"received_on": (today() + timedelta(days=2)).isoformat()}, "cannot be in the future"),
    ],
)
def test_a_bad_gift_form_says_why_and_records_nothing(client, treasurer, fund, fields, message):
    client.force_login(treasurer)

    response = client.post(reverse("donations_gift_new"), gift_form(fund, **fields))

    assert response.status_code == 400
    assert message in page(response)
    assert "Nothing was recorded" in page(response)
    assert not Gift.objects.exists()
    assert not Donor.objects.exists()
    assert not Transaction.objects.exists()


def test_a_gift_toward_a_pledge_needs_no_donor_on_the_form(client, treasurer, fund):
    promise = pledge(fund, treasurer, 100_000, today())
    client.force_login(treasurer)

    response = client.post(
        reverse("donations_gift_new"),
        gift_form(fund, pledge=str(promise.pk), email="", name="", method="ach", reference=""),
    )

    assert response.status_code == 302
    assert Gift.objects.get().donor == promise.donor


# What each viewer sees


def test_auditors_see_donors_by_number_and_anonymous_gifts_as_anonymous(client, auditor, gifts):
    client.force_login(auditor)

    shown = page(client.get(reverse("donations_gifts")))

    assert f"Donor #{gifts['check'].donor_id}" in shown
    assert f"Donor #{gifts['wire'].donor_id}" in shown
    assert "Anonymous" in shown
    for secret in ("Ana", "Flores", "Local 26", "Rosa", "HYPERLINK", "example.org"):
        assert secret not in shown
    assert f"Donor #{gifts['cash'].donor_id}" not in shown
    assert not AccessLog.objects.exists()


def test_the_registers_total_counts_what_came_in_less_refunds_and_charge_backs(
    client, treasurer, fund, gifts, stripe_api, deliver
):
    never_paid = page_gift(fund, 99_900)  # a checkout started and left
    refunded = page_gift(fund, 10_000)
    evt = completed(refunded)
    pi = evt["data"]["object"]["payment_intent"]
    stripe_api.set_fee(pi, amount=10_000, fee=320)
    deliver(evt)
    charge = so.charge(amount=10_000, payment_intent=pi, refunded=3_000)
    deliver(so.event("charge.refunded", charge))
    withdrawal = so.balance_transaction(amount=-2_000, fee=1_500, source="dp", type_="adjustment")
    dispute = so.dispute(
        charge_id=charge["id"], payment_intent=pi, amount=2_000, movements=[withdrawal]
    )
    deliver(so.event("charge.dispute.funds_withdrawn", dispute))
    client.force_login(treasurer)

    shown = page(client.get(reverse("donations_gifts")))

    # $123.45 + $50.00 + $4,000.00 by hand, and $100.00 less its $30.00 refund and $20.00 lost in
    # a dispute; not the $999.
    assert "5 gifts, $4,223.45 received less refunds and charge-backs" in shown
    assert f"#{never_paid.pk}" in shown


def test_treasurers_see_names_except_on_anonymous_gifts(client, treasurer, gifts):
    client.force_login(treasurer)

    shown = page(client.get(reverse("donations_gifts")))

    assert "Ana Flores" in shown
    assert "Teamsters Local 26" in shown
    assert "Anonymous" in shown
    assert "HYPERLINK" not in shown  # Rosa gave anonymously
    gift_page = page(client.get(reverse("donations_gift", args=[gifts["cash"].pk])))
    assert "Anonymous" in gift_page
    assert "HYPERLINK" not in gift_page
    assert reverse("donations_donor", args=[gifts["cash"].donor_id]) not in gift_page


def test_the_donor_page_shows_a_treasurer_their_anonymous_gifts(client, treasurer, gifts):
    client.force_login(treasurer)

    shown = page(client.get(reverse("donations_donor", args=[gifts["cash"].donor_id])))

    assert "rosa@example.org" in shown
    assert "9 Vine St" in shown
    assert f"#{gifts['cash'].pk}" in shown
    assert "anonymous" in shown


def test_every_showing_of_a_donor_is_in_the_access_log(client, treasurer, gifts):
    client.force_login(treasurer)
    ana, rosa = gifts["check"].donor, gifts["cash"].donor

    client.get(reverse("donations_donor", args=[rosa.pk]))
    client.get(reverse("donations_gifts"))

    logged = list(
        AccessLog.objects.order_by("pk").values_list(
            "action", "object_type", "object_ref", "detail", "user"
        )
    )
    assert logged == [
        ("view", "donations.Donor", str(rosa.pk), "donor page", treasurer.pk),
        ("view", "donations.Donor", str(ana.pk), "gifts register", treasurer.pk),
    ]


def test_the_filters_narrow_the_register_and_refuse_dates_outside_the_books(
    client, treasurer, gifts
):
    client.force_login(treasurer)
    url = reverse("donations_gifts")

    assert "Ana Flores" not in page(client.get(url, {"method": "wire"}))
    assert "Teamsters Local 26" in page(client.get(url, {"method": "wire", "status": "paid"}))
    assert "No gifts match" in page(client.get(url, {"start": today().isoformat()}))
    assert client.get(url, {"start": "1999-01-01"}).status_code == 400
    bad = client.get(url, {"start": today().isoformat(), "end": received_day().isoformat()})
    assert bad.status_code == 400
    assert "The start date is after the end date." in page(bad)
    assert client.get(url, {"method": "bitcoin"}).status_code == 400
    assert client.get(url, {"fund": "nowhere"}).status_code == 400


def test_an_unknown_or_impossible_id_is_a_404(client, treasurer, gifts):
    client.force_login(treasurer)

    for name in ("donations_gift", "donations_deposit", "donations_pledge", "donations_donor"):
        assert client.get(reverse(name, args=[10**30])).status_code == 404, name
        assert client.get(reverse(name, args=[987654])).status_code == 404, name


# The CSV export


def exported(client, **query) -> list[dict[str, str]]:
    response = client.get(reverse("donations_gifts_csv"), query)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="gifts-')
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_csv_defuses_formulas_and_keeps_anonymous_gifts_anonymous(client, treasurer, gifts):
    rosa_named = give(gifts["check"].fund, treasurer, 100, donor=ROSA)
    client.force_login(treasurer)

    rows = {row["Gift"]: row for row in exported(client)}

    check, cash = rows[str(gifts["check"].pk)], rows[str(gifts["cash"].pk)]
    assert check["Reference"] == "'=1+2"
    assert (check["Amount"], check["Fee"], check["Donor"]) == ("123.45", "0.00", "Ana Flores")
    assert (check["Method"], check["Status"], check["Fund"], check["Currency"]) == (
        "Check",
        "Paid",
        "valley",
        "USD",
    )
    assert cash["Donor"] == "Anonymous"
    assert rows[str(rosa_named.pk)]["Donor"] == '\'=HYPERLINK("http://evil.example/","Rosa")'
    assert rows[str(gifts["wire"].pk)]["Pledge"] == str(gifts["pledge"].pk)
    assert rows[str(gifts["wire"].pk)]["Transaction"] == gifts["wire"].transaction.reference
    exports = AccessLog.objects.filter(action="export")
    assert sorted(exports.values_list("object_ref", flat=True)) == sorted(
        [str(gifts["check"].donor_id), str(rosa_named.donor_id)]
    )


def test_an_auditors_csv_names_no_one(client, auditor, gifts):
    client.force_login(auditor)

    rows = exported(client, method="check")

    assert [row["Donor"] for row in rows] == [f"Donor #{gifts['check'].donor_id}"]
    assert not AccessLog.objects.exists()


# Deposits and the slip


def test_a_deposit_on_the_screen_books_the_total_and_prints_a_slip(client, treasurer, fund):
    first = give(fund, treasurer, 12_500, reference="3301")
    second = give(fund, treasurer, 7_500, donor=LOCAL_26, reference="3302")
    cash = give(fund, treasurer, 2_000, "cash")
    give(fund, treasurer, 9_900, reference="3303")  # stays undeposited
    client.force_login(treasurer)
    url = reverse("donations_deposit_new_for", args=[fund.slug])
    form = page(client.get(url))
    assert all(f'value="{g.pk}"' in form for g in (first, second, cash))

    data = {
        "gifts": [str(first.pk), str(second.pk), str(cash.pk)],
        "deposited_on": today().isoformat(),
        "reference": "B-1",
        "idempotency_key": key(),
    }
    response = client.post(url, data)
    again = client.post(url, data)

    slip = Deposit.objects.get()
    assert response["Location"] == again["Location"] == reverse("donations_deposit", args=[slip.pk])
    assert slip.amount_cents == 22_000
    assert balances(fund) == {
        Role.BANK: 22_000,
        Role.UNDEPOSITED: 9_900,
        Role.CONTRIBUTIONS: -31_900,
    }
    shown = page(client.get(response["Location"]))
    for text in (
        "3301",
        "3302",
        "Cash",
        "$125.00",
        "$75.00",
        "$20.00",
        "$220.00",
        "Teamsters Local 26",
    ):
        assert text in shown, text
    assert "3303" not in shown
    assert "css/gifts.css" in shown
    assert verify_fund(fund).ok


def test_the_screen_refuses_a_gift_already_deposited(client, treasurer, fund):
    check = give(fund, treasurer, 10_000)
    slip = deposit(fund, treasurer, [check], on=today())
    client.force_login(treasurer)

    response = client.post(
        reverse("donations_deposit_new_for", args=[fund.slug]),
        {"gifts": [str(check.pk)], "deposited_on": today().isoformat(), "idempotency_key": key()},
    )

    assert response.status_code == 400
    assert f"Gift #{check.pk} is already in deposit #{slip.pk}." in page(response)
    assert Deposit.objects.count() == 1


def test_a_deposit_with_nothing_ticked_says_so(client, treasurer, fund):
    give(fund, treasurer, 10_000)
    client.force_login(treasurer)

    response = client.post(
        reverse("donations_deposit_new_for", args=[fund.slug]),
        {"deposited_on": today().isoformat(), "idempotency_key": key(), "gifts": ["x"]},
    )

    assert response.status_code == 400
    assert "Choose gifts from the list." in page(response)
    assert not Deposit.objects.exists()


def test_an_auditors_slip_lists_the_checks_but_no_names(client, treasurer, auditor, fund):
    check = give(fund, treasurer, 10_000, donor=LOCAL_26, reference="8812")
    slip = deposit(fund, treasurer, [check], on=today())
    client.force_login(auditor)

    shown = page(client.get(reverse("donations_deposit", args=[slip.pk])))

    assert "8812" in shown
    assert "$100.00" in shown
    assert "Local 26" not in shown


# Pledges


def test_the_pledges_page_shows_received_outstanding_and_overdue(client, treasurer, gifts):
    client.force_login(treasurer)

    shown = page(client.get(reverse("donations_pledges")))

    assert "1 pledge overdue" in shown
    for text in ("$10,000.00", "$4,000.00", "$6,000.00", "Teamsters Local 26"):
        assert text in shown, text


def test_a_pledge_recorded_on_the_screen_once(client, treasurer, fund):
    client.force_login(treasurer)
    data = {
        "fund": fund.slug,
        "organisation": "UFCW Local 5",
        "amount": "10,000",
        "due_on": (today() + timedelta(days=90)).isoformat(),
        "note": "by March",
        "idempotency_key": key(),
    }

    first = client.post(reverse("donations_pledge_new"), data)
    client.post(reverse("donations_pledge_new"), data)

    promise = Pledge.objects.get()
    assert first["Location"] == reverse("donations_pledge", args=[promise.pk])
    assert (promise.amount_cents, promise.donor.organisation) == (1_000_000, "UFCW Local 5")


# Donors


def test_finding_a_donor_by_email_keeps_the_address_out_of_the_url(client, treasurer, gifts):
    client.force_login(treasurer)

    found = client.post(reverse("donations_donor_find"), {"email": "ANA.FLORES@example.org"})
    missing = client.post(reverse("donations_donor_find"), {"email": "nobody@example.org"})

    assert found["Location"] == reverse("donations_donor", args=[gifts["check"].donor_id])
    assert "example" not in found["Location"]
    assert missing.status_code == 400
    assert "No donor has this e-mail address." in page(missing)


def test_a_correction_on_the_screen_is_in_the_history_with_who_made_it(client, treasurer, gifts):
    donor = gifts["check"].donor
    client.force_login(treasurer)

    response = client.post(
        reverse("donations_donor_edit", args=[donor.pk]),
        {"email": donor.email, "name": "Ana Flores", "address": "1 New Road", "language": "es"},
    )

    assert response.status_code == 302
    donor.refresh_from_db()
    assert (donor.address, donor.language) == ("1 New Road", "es")
    event = DonorEvent.objects.filter(pgh_obj=donor).order_by("pgh_id").last()
    assert event.changed_fields == "address, language"
    assert event.pgh_context.metadata["user"] == treasurer.pk
    shown = page(client.get(reverse("donations_donor", args=[donor.pk])))
    assert "Corrected: address, language" in shown
    assert "tess" in shown


def test_a_refused_correction_says_why_and_changes_nothing(client, treasurer, gifts):
    ana, rosa = gifts["check"].donor, gifts["cash"].donor
    client.force_login(treasurer)

    response = client.post(
        reverse("donations_donor_edit", args=[rosa.pk]),
        {"email": ana.email, "name": "Rosa", "language": "en"},
    )

    assert response.status_code == 400
    assert "Another donor has this e-mail address." in page(response)
    rosa.refresh_from_db()
    assert rosa.email == "rosa@example.org"


# Phones


def test_on_a_phone_the_register_keeps_day_donor_and_amount(client, treasurer, gifts):
    client.force_login(treasurer)

    shown = page(client.get(reverse("donations_gifts")))

    header = shown[shown.index("<thead>") : shown.index("</thead>")]
    kept = [cell for cell in header.split("<th ")[1:] if "hide-narrow" not in cell]
    assert [cell.split(">")[1].split("<")[0] for cell in kept] == [
        "Received",
        "Gift",
        "Donor",
        "Amount",
    ]


# Django admin


def test_django_admin_lists_donors_gifts_and_events_without_personal_data(
    client, admin_user, gifts, fund
):
    event = StripeEvent.objects.create(
        event_id="evt_1",
        type="charge.refunded",
        object_id="ch_1",
        body='{"billing_details": {"name": "Rosa Secret"}}',
        created=gifts["check"].created_at,
    )
    client.force_login(admin_user)
    donor = gifts["cash"].donor
    pages = [
        reverse("admin:donations_donor_changelist"),
        reverse("admin:donations_donor_change", args=[donor.pk]),
        reverse("admin:donations_gift_changelist"),
        reverse("admin:donations_gift_change", args=[gifts["cash"].pk]),
        reverse("admin:donations_stripeevent_changelist"),
        reverse("admin:donations_stripeevent_change", args=[event.pk]),
    ]

    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        for secret in ("rosa@example.org", "9 Vine St", "HYPERLINK", "Ana Flores", "Rosa Secret"):
            assert secret not in page(response), (url, secret)
    gift_page = page(client.get(pages[3]))
    assert "Anonymous" in gift_page
    assert f"Donor #{donor.pk}" not in gift_page
    assert client.get(reverse("admin:donations_gift_add")).status_code == 403
    assert client.post(pages[3], {"status": "refunded"}).status_code == 403


# Taking a gift back, voiding a deposit, on screen


def test_a_treasurer_takes_back_a_bounced_check_from_its_page(client, treasurer, gifts):
    check = gifts["check"]
    slip = deposit(check.fund, treasurer, [check])
    client.force_login(treasurer)
    url = reverse("donations_gift", args=[check.pk])
    assert "It was deposited: the amount leaves the Bank." in page(client.get(url))

    refused = client.post(
        reverse("donations_gift_return", args=[check.pk]), {"returned_on": today().isoformat()}
    )
    assert refused.status_code == 400
    assert "Say why the gift is taken back." in page(refused)
    taken = client.post(
        reverse("donations_gift_return", args=[check.pk]),
        {"reason": "bounced", "returned_on": today().isoformat()},
    )

    assert taken["Location"] == url
    shown = page(client.get(url))
    assert f"Gift #{check.pk} was taken back: $123.45 to Refunds." in shown
    assert "Take this gift back" not in shown
    check.refresh_from_db()
    assert check.status == Gift.Status.REFUNDED
    assert balances(check.fund)[Role.REFUNDS] == 12_345
    # The deposit cannot be voided as a whole now: its page says why.
    voided = client.post(
        reverse("donations_deposit_void", args=[slip.pk]), {"voided_on": today().isoformat()}
    )
    assert voided.status_code == 400
    assert "which was taken back" in page(voided)


def test_a_treasurer_voids_a_deposit_from_its_slip(client, treasurer, gifts):
    slip = deposit(gifts["check"].fund, treasurer, [gifts["check"], gifts["cash"]])
    client.force_login(treasurer)

    response = client.post(
        reverse("donations_deposit_void", args=[slip.pk]), {"voided_on": today().isoformat()}
    )

    assert response["Location"] == reverse("donations_deposit", args=[slip.pk])
    shown = page(client.get(response["Location"]))
    assert "its checks and cash went back to Undeposited funds" in shown
    assert "Void this deposit" not in shown
    assert "voided" in page(client.get(reverse("donations_deposits")))
    form = page(client.get(reverse("donations_deposit_new_for", args=[slip.fund.slug])))
    assert f'value="{gifts["check"].pk}"' in form


@pytest.mark.parametrize("persona", ["auditor", "admin_user"])
def test_only_a_treasurer_takes_a_gift_back_or_voids_a_deposit(client, request, gifts, persona):
    slip = deposit(gifts["check"].fund, gifts["check"].recorded_by, [gifts["check"]])
    client.force_login(request.getfixturevalue(persona))

    assert "Take this gift back" not in page(
        client.get(reverse("donations_gift", args=[gifts["check"].pk]))
    )
    assert "Void this deposit" not in page(client.get(reverse("donations_deposit", args=[slip.pk])))
    taken = client.post(
        reverse("donations_gift_return", args=[gifts["check"].pk]),
        {"reason": "bounced", "returned_on": today().isoformat()},
    )
    voided = client.post(
        reverse("donations_deposit_void", args=[slip.pk]), {"voided_on": today().isoformat()}
    )

    assert (taken.status_code, voided.status_code) == (403, 403)
    assert not Transaction.objects.filter(kind__in=[Kind.REFUND, Kind.REVERSAL]).exists()


def test_an_online_gift_is_refunded_in_stripe_not_taken_back_here(
    client, treasurer, fund, stripe_api, deliver
):
    gift = page_gift(fund, 10_000)
    evt = completed(gift)
    stripe_api.set_fee(evt["data"]["object"]["payment_intent"], amount=10_000, fee=320)
    deliver(evt)
    client.force_login(treasurer)

    assert "Take this gift back" not in page(client.get(reverse("donations_gift", args=[gift.pk])))
    response = client.post(
        reverse("donations_gift_return", args=[gift.pk]),
        {"reason": "given_back", "returned_on": today().isoformat()},
    )

    assert response.status_code == 400
    assert "refund it in Stripe" in page(response)
    assert not Transaction.objects.filter(kind=Kind.REFUND).exists()
