"""The treasurer screens: who may see and change the books, and what each page shows and refuses."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from fund.ledger.services import close_books, create_fund
from fund.models import BooksLock, LedgerHead, Seal, Transaction
from tests.fund.conftest import (
    OPENED,
    Kind,
    Role,
    account,
    give_check,
    last_month,
    pay_attorney,
    post,
    today,
)
from tests.fund.conftest import (
    journal_entry as entry,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(fund):
    """A fund with a gift of $1,000.00 and an attorney payment of $250.00, last month."""
    gift = give_check(fund, 100_000, key="gift-1", on=last_month())
    payment = pay_attorney(fund, 25_000, key="attorney-1", on=last_month(), case_ref="C-2026-0042")
    return {"fund": fund, "gift": gift, "payment": payment}


def detail_url(txn: Transaction) -> str:
    return reverse("ledger_transaction", args=[txn.fund.slug, txn.reference])


def read_urls(books) -> list[str]:
    fund, gift = books["fund"], books["gift"]
    return [
        reverse("ledger_home"),
        reverse("ledger_accounts", args=[fund.slug]),
        reverse("ledger_account", args=[fund.slug, account(fund, Role.BANK).code]),
        reverse("ledger_transactions", args=[fund.slug]),
        detail_url(gift),
        reverse("ledger_trial_balance", args=[fund.slug]),
        reverse("ledger_books", args=[fund.slug]),
    ]


def write_urls(books) -> list[str]:
    fund, gift = books["fund"], books["gift"]
    return [
        reverse("ledger_journal", args=[fund.slug]),
        reverse("ledger_reverse", args=[fund.slug, gift.reference]),
        reverse("ledger_books_close", args=[fund.slug]),
        reverse("ledger_books_reopen", args=[fund.slug]),
        reverse("ledger_books_seal", args=[fund.slug]),
    ]


# Who may do what


@pytest.mark.parametrize("persona", ["treasurer", "auditor", "admin_user"])
def test_treasurers_auditors_and_admins_read_every_ledger_page(client, request, books, persona):
    client.force_login(request.getfixturevalue(persona))

    for url in read_urls(books):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url


@pytest.mark.parametrize("persona", ["coordinator", "outsider"])
def test_coordinators_and_outsiders_are_refused_every_ledger_page(client, request, books, persona):
    client.force_login(request.getfixturevalue(persona))

    for url in read_urls(books):
        assert client.get(url).status_code == 403, url
    for url in write_urls(books):
        assert client.post(url, {}).status_code == 403, url
    assert Transaction.objects.count() == 2


def test_anonymous_visitors_are_sent_to_sign_in(client, books):
    for url in read_urls(books):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url
    for url in write_urls(books):
        response = client.post(url, {})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url
    assert Transaction.objects.count() == 2


def test_auditors_read_but_cannot_post_reverse_or_close(client, auditor, books):
    fund = books["fund"]
    client.force_login(auditor)

    assert client.get(reverse("ledger_journal", args=[fund.slug])).status_code == 403
    bank, contributions = account(fund, Role.BANK), account(fund, Role.CONTRIBUTIONS)
    for url in write_urls(books):
        data = entry([(bank, "1.00", ""), (contributions, "", "1.00")]) | {
            "through": "2025-01-31",
            "confirmed": "yes",
            "reason": "x",
        }
        assert client.post(url, data).status_code == 403, url
    page = client.get(detail_url(books["gift"])).content.decode()
    assert "Reverse this transaction" not in page
    assert "New journal entry" not in page
    assert Transaction.objects.count() == 2
    assert not BooksLock.objects.exists()
    assert not Seal.objects.exists()


def test_the_staff_menu_links_the_ledger_for_ledger_roles_only(client, treasurer, coordinator):
    client.force_login(treasurer)
    assert reverse("ledger_home") in client.get(reverse("dashboard")).content.decode()

    client.force_login(coordinator)
    assert reverse("ledger_home") not in client.get(reverse("dashboard")).content.decode()


# Browsing


def test_the_ledger_goes_straight_to_the_only_fund_and_lists_several(client, treasurer, fund):
    client.force_login(treasurer)
    response = client.get(reverse("ledger_home"))
    assert response["Location"] == reverse("ledger_accounts", args=[fund.slug])

    create_fund(actor=None, opened_on=OPENED, name="Second Fund", slug="second", goal_cents=100)
    page = client.get(reverse("ledger_home")).content.decode()
    assert "Valley Labor Council Legal Fund" in page
    assert "Second Fund" in page


def test_the_chart_shows_each_account_balance_as_debit_or_credit(client, treasurer, books):
    client.force_login(treasurer)

    page = client.get(reverse("ledger_accounts", args=["valley"])).content.decode()

    assert re.search(r"Bank</a>.*?\$750\.00 <span class=\"side\">Dr", page, re.S)
    assert re.search(r"Contributions</a>.*?\$1,000\.00 <span class=\"side\">Cr", page, re.S)


def test_an_account_page_lists_its_postings_with_balance_after(client, treasurer, books):
    client.force_login(treasurer)
    bank = account(books["fund"], Role.BANK)

    page = client.get(reverse("ledger_account", args=["valley", bank.code])).content.decode()

    gift, payment = books["gift"], books["payment"]
    assert gift.reference in page
    assert payment.reference in page
    assert gift.memo in page
    assert "Program payment" in page
    assert last_month().isoformat() in page
    assert "+$1,000.00" in page  # the gift came in, and the balance after it
    assert "\N{MINUS SIGN}$250.00" in page  # the payment went out
    assert "$750.00" in page  # the balance after the payment
    assert page.index(payment.reference) < page.index(gift.reference)  # newest first


def test_the_transactions_list_filters_by_kind_and_dates(client, auditor, books):
    client.force_login(auditor)
    url = reverse("ledger_transactions", args=["valley"])
    gift, payment = books["gift"], books["payment"]

    page = client.get(url, {"kind": Kind.DISBURSEMENT}).content.decode()
    assert payment.reference in page
    assert gift.reference not in page

    page = client.get(url, {"start": today().isoformat()}).content.decode()
    assert "No transactions match." in page

    page = client.get(url, {"start": last_month().isoformat(), "end": last_month().isoformat()})
    assert gift.reference in page.content.decode()


def test_a_bad_filter_is_a_form_error_not_a_crash(client, auditor, books):
    client.force_login(auditor)
    url = reverse("ledger_transactions", args=["valley"])

    response = client.get(url, {"start": "2026-02-31"})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()

    response = client.get(url, {"start": "2026-03-02", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "The start date is after the end date." in response.content.decode()


def test_the_transactions_list_is_paginated_by_get_parameters(client, auditor, fund):
    for n in range(55):
        give_check(fund, 100 + n, key=f"gift-{n}", on=last_month())
    client.force_login(auditor)
    url = reverse("ledger_transactions", args=["valley"])

    first = client.get(url, {"kind": Kind.GIFT_OFFLINE}).content.decode()
    second = client.get(url, {"kind": Kind.GIFT_OFFLINE, "page": "2"}).content.decode()

    assert "Page 1 of 2" in first
    assert "?kind=gift_offline&amp;page=2" in first
    assert "Page 2 of 2" in second
    assert second.count('class="mono">20') == 5


def test_a_transaction_page_shows_postings_hash_chain_recorder_and_case_ref(
    client, auditor, treasurer, books
):
    fund = books["fund"]
    txn = give_check(fund, 4_200, key="gift-by-tess", on=last_month())
    client.force_login(auditor)

    page = client.get(detail_url(books["payment"])).content.decode()
    assert books["payment"].hash in page
    assert books["payment"].prev_hash in page
    assert "C-2026-0042" in page
    assert "Attorney fees" in page
    assert "the system" in page

    page = client.get(detail_url(txn)).content.decode()
    assert txn.hash in page
    assert txn.prev_hash == books["payment"].hash


def test_an_unknown_transaction_or_account_is_not_found(client, auditor, books):
    client.force_login(auditor)

    assert (
        client.get(reverse("ledger_transaction", args=["valley", "1999-000001"])).status_code == 404
    )
    assert client.get(reverse("ledger_transaction", args=["valley", "2026-1"])).status_code == 404
    assert client.get(reverse("ledger_account", args=["valley", "9999"])).status_code == 404
    assert client.get(reverse("ledger_accounts", args=["nope"])).status_code == 404


# Trial balance


def test_the_trial_balance_totals_match(client, auditor, books):
    client.force_login(auditor)

    response = client.get(reverse("ledger_trial_balance", args=["valley"]))

    balance = response.context["balance"]
    assert balance.total_debits == balance.total_credits == 100_000
    page = response.content.decode()
    assert re.search(r'id="debit-total">\$1,000\.00<', page)
    assert re.search(r'id="credit-total">\$1,000\.00<', page)
    assert "Balanced: debits equal credits." in page


def test_the_trial_balance_as_of_a_day_leaves_out_later_postings(client, auditor, books):
    give_check(books["fund"], 5_000, key="later", on=today())
    client.force_login(auditor)
    url = reverse("ledger_trial_balance", args=["valley"])

    before = client.get(url, {"on": (last_month() - timedelta(days=1)).isoformat()})
    at = client.get(url, {"on": last_month().isoformat()})
    now = client.get(url)

    for response, total in ((before, 0), (at, 100_000), (now, 105_000)):
        balance = response.context["balance"]
        assert balance.total_debits == balance.total_credits == total


def test_a_bad_trial_balance_date_is_a_form_error(client, auditor, books):
    client.force_login(auditor)

    response = client.get(reverse("ledger_trial_balance", args=["valley"]), {"on": "last week"})

    assert response.status_code == 400
    assert "Enter a date as YYYY-MM-DD." in response.content.decode()
    assert response.context["balance"] is None


# Manual journal entries


def test_the_journal_form_carries_a_fresh_idempotency_key_and_four_lines(client, treasurer, fund):
    client.force_login(treasurer)
    url = reverse("ledger_journal", args=["valley"])

    first = client.get(url).content.decode()
    second = client.get(url).content.decode()

    key_pattern = r'name="idempotency_key" value="([0-9a-f-]{36})"'
    assert re.search(key_pattern, first)[1] != re.search(key_pattern, second)[1]
    assert 'name="legs-TOTAL_FORMS" value="4"' in first


def test_adding_lines_keeps_what_was_typed_shows_the_totals_and_posts_nothing(
    client, treasurer, books
):
    fund = books["fund"]
    client.force_login(treasurer)
    legs = [
        (account(fund, Role.FILING_FEES), "12.34", ""),
        (account(fund, Role.BANK), "", "10.00"),
    ]

    response = client.post(
        reverse("ledger_journal", args=["valley"]),
        entry(legs, memo="Half typed") | {"add_lines": "1"},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="legs-TOTAL_FORMS" value="8"' in page
    assert 'value="Half typed"' in page
    assert 'value="12.34"' in page
    assert f'<option value="{account(fund, Role.BANK).pk}" selected>' in page
    assert 'value="test-1"' in page  # the same key: submitting it posts once
    assert '<output id="total-debits">$12.34</output>' in page
    assert '<output id="total-credits">$10.00</output>' in page
    assert '<output id="total-difference">$2.34</output>' in page
    assert "Nothing was posted" not in page
    assert Transaction.objects.count() == 2


def test_a_balanced_journal_entry_posts_and_shows_its_transaction(client, treasurer, books):
    fund = books["fund"]
    attorney, filing = account(fund, Role.ATTORNEY_FEES), account(fund, Role.FILING_FEES)
    client.force_login(treasurer)

    response = client.post(
        reverse("ledger_journal", args=["valley"]),
        entry([(filing, "12.34", ""), (attorney, "", "$12.34")], reason="Was a filing fee"),
    )

    txn = Transaction.objects.get(kind=Kind.JOURNAL)
    assert response.status_code == 302
    assert response["Location"] == detail_url(txn)
    assert txn.reason == "Was a filing fee"
    assert txn.recorded_by == treasurer
    assert txn.effective_date == last_month()
    assert {p.account.role: p.amount_cents for p in txn.postings.all()} == {
        Role.FILING_FEES: 1_234,
        Role.ATTORNEY_FEES: -1_234,
    }
    page = client.get(response["Location"]).content.decode()
    assert f"Posted journal entry {txn.reference}." in page
    assert "Was a filing fee" in page


def test_amounts_are_parsed_exactly_with_thousands_and_cents(client, treasurer, books):
    fund = books["fund"]
    client.force_login(treasurer)
    legs = [
        (account(fund, Role.BANK), "1,000.10", ""),
        (account(fund, Role.NET_ASSETS), "", "999.99"),
        (account(fund, Role.INTEREST), "", ".11"),
    ]

    client.post(reverse("ledger_journal", args=["valley"]), entry(legs))

    txn = Transaction.objects.get(kind=Kind.JOURNAL)
    assert sorted(p.amount_cents for p in txn.postings.all()) == [-99_999, -11, 100_010]


@pytest.mark.parametrize(
    ("legs", "message"),
    [
        (
            [("FILING_FEES", "12.34", ""), ("ATTORNEY_FEES", "", "12.00")],
            "Debits $12.34 and credits $12.00 differ by $0.34.",
        ),
        (
            [("FILING_FEES", "5.00", "5.00"), ("ATTORNEY_FEES", "", "5.00")],
            "Enter a debit or a credit on a line, not both.",
        ),
        (
            [("FILING_FEES", "-5.00", ""), ("ATTORNEY_FEES", "", "5.00")],
            "Enter a positive amount: put a credit in the Credit column.",
        ),
        (
            [("FILING_FEES", "5.001", ""), ("ATTORNEY_FEES", "", "5.001")],
            "Amounts in USD have at most 2 decimal places.",
        ),
        (
            [("FILING_FEES", "5e2", ""), ("ATTORNEY_FEES", "", "500")],
            "Enter an amount like $1,234.56.",
        ),
        ([("FILING_FEES", "5.00", "")], "A journal entry needs at least two legs."),
        ([], "A journal entry needs at least two legs."),
        (
            [("FILING_FEES", "5.00", ""), (None, "", "5.00")],
            "Choose the account for this amount.",
        ),
        (
            [("FILING_FEES", "5.00", ""), ("ATTORNEY_FEES", "", "")],
            "Enter a debit or a credit for this account.",
        ),
        (
            [("FILING_FEES", "5.00", ""), ("FILING_FEES", "", "5.00")],
            "Use each account on one line only.",
        ),
        (
            [("FILING_FEES", "0.00", ""), ("ATTORNEY_FEES", "", "0")],
            "Enter an amount above zero, or leave it blank.",
        ),
        (
            [("ATTORNEY_FEES", "750.01", ""), ("BANK", "", "750.01")],
            f"Insufficient funds: Bank would be $0.01 short at the end of {last_month():%Y-%m-%d}.",
        ),
    ],
)
def test_a_bad_journal_entry_is_a_clear_form_error_and_posts_nothing(
    client, treasurer, books, legs, message
):
    fund = books["fund"]
    client.force_login(treasurer)
    typed = [(account(fund, getattr(Role, role)) if role else None, d, c) for role, d, c in legs]

    response = client.post(reverse("ledger_journal", args=["valley"]), entry(typed))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert "Nothing was posted." in response.content.decode()
    assert Transaction.objects.count() == 2


def test_a_journal_entry_needs_a_reason_and_a_memo(client, treasurer, books):
    fund = books["fund"]
    legs = [
        (account(fund, Role.FILING_FEES), "1", ""),
        (account(fund, Role.ATTORNEY_FEES), "", "1"),
    ]
    client.force_login(treasurer)

    response = client.post(
        reverse("ledger_journal", args=["valley"]), entry(legs, reason="  ", memo="")
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "A manual journal entry needs a reason." in page
    assert "Memo: This field is required." in page
    assert Transaction.objects.count() == 2


def test_a_journal_entry_into_another_funds_account_is_refused(client, treasurer, books):
    other = create_fund(
        actor=None, opened_on=OPENED, name="Other Fund", slug="other", goal_cents=100
    )
    legs = [
        (account(other, Role.FILING_FEES), "1.00", ""),
        (account(books["fund"], Role.ATTORNEY_FEES), "", "1.00"),
    ]
    client.force_login(treasurer)

    response = client.post(reverse("ledger_journal", args=["valley"]), entry(legs))

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert Transaction.objects.count() == 2


def test_submitting_the_same_journal_form_twice_posts_once(client, treasurer, books):
    fund = books["fund"]
    legs = [(account(fund, Role.FILING_FEES), "7.00", ""), (account(fund, Role.BANK), "", "7.00")]
    data = entry(legs, key="double-click")
    client.force_login(treasurer)

    first = client.post(reverse("ledger_journal", args=["valley"]), data)
    second = client.post(reverse("ledger_journal", args=["valley"]), data)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Transaction.objects.filter(kind=Kind.JOURNAL).count() == 1


def test_a_spent_key_with_other_values_posts_nothing_and_offers_a_fresh_key(
    client, treasurer, books
):
    fund = books["fund"]
    filing, bank = account(fund, Role.FILING_FEES), account(fund, Role.BANK)
    client.force_login(treasurer)
    url = reverse("ledger_journal", args=["valley"])
    client.post(url, entry([(filing, "7.00", ""), (bank, "", "7.00")], key="k"))

    response = client.post(url, entry([(filing, "8.00", ""), (bank, "", "8.00")], key="k"))

    page = response.content.decode()
    assert response.status_code == 400
    assert "already submitted with other values" in page
    assert 'value="k"' not in page
    assert Transaction.objects.filter(kind=Kind.JOURNAL).count() == 1


# Reversals


def test_a_treasurer_reverses_a_transaction_once(client, treasurer, books):
    # A manual entry: offline gifts are taken back from their gift's page, not here.
    gift = post(books["fund"], Role.BANK, Role.CONTRIBUTIONS, 5_000, key="gift-2", on=last_month())
    client.force_login(treasurer)
    url = reverse("ledger_reverse", args=["valley", gift.reference])

    response = client.post(url, {"memo": "The check bounced"})

    reversal = Transaction.objects.get(reverses=gift)
    assert response["Location"] == detail_url(reversal)
    assert reversal.memo == "The check bounced"
    assert reversal.recorded_by == treasurer
    assert gift.reference in client.get(detail_url(reversal)).content.decode()
    page = client.get(detail_url(gift)).content.decode()
    assert reversal.reference in page
    assert "Reverse this transaction" not in page

    again = client.post(url, {"memo": "Once more"})

    assert again.status_code == 400
    assert f"Transaction {gift.reference} is already reversed." in again.content.decode()
    assert Transaction.objects.filter(kind=Kind.REVERSAL).count() == 1


def test_a_disbursements_payment_is_not_reversed_from_the_ledger(client, treasurer, books):
    payment = books["payment"]
    client.force_login(treasurer)
    refusal = (
        f"Transaction {payment.reference} (Program payment) cannot be reversed here. Void it "
        "from the disbursement: the ledger alone would leave it marked paid."
    )

    shown = client.get(detail_url(payment)).content.decode()
    response = client.post(
        reverse("ledger_reverse", args=["valley", payment.reference]),
        {"memo": "Paid the wrong attorney"},
    )

    assert refusal in shown
    assert "Reverse this transaction" not in shown
    assert response.status_code == 400
    assert refusal in response.content.decode()
    assert not Transaction.objects.filter(kind=Kind.REVERSAL).exists()
    assert account(books["fund"], Role.BANK).balance_cents == 75_000


def test_a_reversal_needs_a_memo(client, treasurer, books):
    gift = post(books["fund"], Role.BANK, Role.CONTRIBUTIONS, 5_000, key="entry", on=last_month())
    client.force_login(treasurer)

    response = client.post(
        reverse("ledger_reverse", args=["valley", gift.reference]), {"memo": " "}
    )

    assert response.status_code == 400
    assert "Enter a memo saying why the transaction is reversed." in response.content.decode()
    assert not Transaction.objects.filter(kind=Kind.REVERSAL).exists()


# Closing the books


def test_the_books_page_says_where_they_are_closed_and_lists_the_log(
    client, auditor, treasurer, books
):
    close_books(fund=books["fund"], through=last_month(), actor=treasurer, reason="Reconciled")
    client.force_login(auditor)

    page = client.get(reverse("ledger_books", args=["valley"])).content.decode()

    assert f"closed through {last_month():%Y-%m-%d}" in page
    assert "Reconciled" in page
    assert "tess" in page
    assert "Download" in page  # the seal written by the close
    assert "Review and close" not in page
    assert "<form" not in page.split("<main")[1].split("</main>")[0]


def test_a_treasurer_reviews_the_trial_balance_then_closes_and_postings_are_refused(
    client, treasurer, books
):
    fund = books["fund"]
    client.force_login(treasurer)
    url = reverse("ledger_books_close", args=["valley"])

    review = client.get(url, {"through": last_month().isoformat(), "reason": "Bank reconciled"})

    assert review.status_code == 200
    page = review.content.decode()
    assert f"Close the books through {last_month():%Y-%m-%d}?" in page
    assert "$1,000.00" in page  # the trial balance being locked
    assert not BooksLock.objects.exists()

    response = client.post(
        url, {"through": last_month().isoformat(), "reason": "Bank reconciled", "confirmed": "yes"}
    )

    assert response.status_code == 302
    lock = BooksLock.objects.get(fund=fund)
    assert (lock.closed_through, lock.actor, lock.reason) == (
        last_month(),
        treasurer,
        "Bank reconciled",
    )
    seal = Seal.objects.get(fund=fund)
    assert seal.closed_through == last_month()
    assert seal.chain_head == books["payment"].hash
    assert (
        f"closed through {last_month():%Y-%m-%d}"
        in client.get(response["Location"]).content.decode()
    )

    legs = [(account(fund, Role.FILING_FEES), "1.00", ""), (account(fund, Role.BANK), "", "1.00")]
    refused = client.post(reverse("ledger_journal", args=["valley"]), entry(legs))

    assert refused.status_code == 400
    assert f"The books are closed through {last_month():%Y-%m-%d}" in refused.content.decode()
    assert Transaction.objects.count() == 2


def test_today_cannot_be_closed(client, treasurer, books):
    client.force_login(treasurer)

    response = client.post(
        reverse("ledger_books_close", args=["valley"]),
        {"through": today().isoformat(), "confirmed": "yes"},
    )

    assert response.status_code == 400
    assert "Only days that have ended can be closed" in response.content.decode()
    assert not BooksLock.objects.exists()


def test_closing_today_is_refused_before_the_confirmation_page(client, treasurer, books):
    client.force_login(treasurer)

    review = client.get(reverse("ledger_books_close", args=["valley"]), {"through": today()})
    yesterday = client.get(
        reverse("ledger_books_close", args=["valley"]),
        {"through": today() - timedelta(days=1)},
    )

    assert review.status_code == 400
    assert "Only days that have ended can be closed" in review.content.decode()
    assert 'name="confirmed"' not in review.content.decode()
    assert yesterday.status_code == 200
    assert 'name="confirmed"' in yesterday.content.decode()
    assert not BooksLock.objects.exists()


def test_a_treasurer_sees_no_reopen_form_and_is_refused_reopening(client, treasurer, books):
    fund = books["fund"]
    close_books(fund=fund, through=last_month(), actor=treasurer)
    client.force_login(treasurer)

    page = client.get(reverse("ledger_books", args=["valley"])).content.decode()
    assert "Reopen closed days" not in page

    response = client.post(
        reverse("ledger_books_reopen", args=["valley"]),
        {"through": (last_month() - timedelta(days=5)).isoformat(), "reason": "A late fee"},
    )

    assert response.status_code == 403
    assert "Only an admin can reopen a closed period." in response.content.decode()
    assert LedgerHead.objects.get(fund=fund).closed_through == last_month()
    assert BooksLock.objects.count() == 1


def test_an_admin_reopens_days_with_a_reason_and_it_is_logged_and_sealed(
    client, treasurer, admin_user, books
):
    fund = books["fund"]
    close_books(fund=fund, through=last_month(), actor=treasurer)
    client.force_login(admin_user)
    url = reverse("ledger_books_reopen", args=["valley"])
    earlier = last_month() - timedelta(days=5)

    page = client.get(reverse("ledger_books", args=["valley"])).content.decode()
    assert "Reopen closed days" in page

    without_reason = client.post(url, {"through": earlier.isoformat(), "reason": ""})
    assert without_reason.status_code == 400
    assert "Reopening closed days needs a reason." in without_reason.content.decode()
    assert LedgerHead.objects.get(fund=fund).closed_through == last_month()

    response = client.post(url, {"through": earlier.isoformat(), "reason": "Late bank fee"})

    assert response.status_code == 302
    assert LedgerHead.objects.get(fund=fund).closed_through == earlier
    lock = BooksLock.objects.order_by("-at").first()
    assert (lock.actor, lock.reason, lock.previous) == (admin_user, "Late bank fee", last_month())
    assert Seal.objects.filter(fund=fund).count() == 2
    page = client.get(response["Location"]).content.decode()
    assert f"closed only through {earlier:%Y-%m-%d}" in page
    assert "Late bank fee" in page
    assert "reopened" in page


def test_a_bad_day_is_a_form_error(client, treasurer, books):
    client.force_login(treasurer)

    response = client.get(reverse("ledger_books_close", args=["valley"]), {"through": "March"})

    assert response.status_code == 400
    assert "Enter a date as YYYY-MM-DD." in response.content.decode()


def test_the_books_are_sealed_on_demand_and_the_seal_downloads(client, treasurer, books):
    client.force_login(treasurer)

    response = client.post(reverse("ledger_books_seal", args=["valley"]))

    assert response.status_code == 302
    seal = Seal.objects.get()
    assert (seal.reference, seal.transaction_count) == (books["payment"].reference, 2)
    download = client.get(reverse("ledger_seal_download", args=["valley", seal.pk]))
    assert download["Content-Disposition"] == f'attachment; filename="valley-seal-{seal.pk}.json"'
    assert download.content.decode().strip() == seal.line()
