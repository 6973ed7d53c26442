"""The Beancount export: bean-check, a checker we did not write, accepts the books, sees changes."""

import io
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from beancount import loader
from django.contrib.auth.models import Group
from django.core.management import call_command

from fund.ledger.entries import Leg
from fund.ledger.posting import post_transaction
from fund.models import Account, Fund, LedgerHead, Posting, Transaction
from fund.reports.beancount import account_names, write_beancount
from fund.security.roles import StaffRole
from tests.fund.conftest import account

BEAN_CHECK = Path(sys.executable).with_name("bean-check")


def export(fund: Fund, tmp_path: Path) -> Path:
    out = io.StringIO()
    write_beancount(fund, out)
    path = tmp_path / f"{fund.slug}.beancount"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BEAN_CHECK), str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def assert_export_checks_and_matches(fund: Fund, tmp_path: Path) -> None:
    path = export(fund, tmp_path)
    result = bean_check(path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")

    entries, errors, options = loader.load_file(str(path))
    assert errors == []
    assert options["operating_currency"] == [fund.currency]
    transactions = [e for e in entries if type(e).__name__ == "Transaction"]
    assert len(transactions) == Transaction.objects.filter(fund=fund).count()
    by_reference = {t.meta["reference"]: t for t in transactions}
    for txn in Transaction.objects.filter(fund=fund).prefetch_related("postings"):
        exported = by_reference[txn.reference]
        assert exported.meta["hash"] == txn.hash
        assert exported.meta["memo"] == txn.memo
        assert exported.date == txn.effective_date
        assert sorted(int(p.units.number * 100) for p in exported.postings) == sorted(
            p.amount_cents for p in txn.postings.all()
        )
    balances = [e for e in entries if type(e).__name__ == "Balance"]
    names = account_names(Account.objects.filter(fund=fund).order_by("code"))
    assert {b.account: int(b.amount.number * 100) for b in balances} == {
        names[a.pk]: sum(p.amount_cents for p in Posting.objects.filter(account=a))
        for a in Account.objects.filter(fund=fund)
    }
    assert all(b.tolerance == 0 for b in balances)


def test_the_scenario_ledger_exports_to_a_file_bean_check_accepts(seeded, tmp_path):
    assert_export_checks_and_matches(seeded, tmp_path)

    text = (tmp_path / "valley.beancount").read_text()
    assert 'option "operating_currency" "USD"' in text
    assert f"{seeded.opened_on.isoformat()} open Assets:BondDepositsReceivable USD" in text
    assert "open Income:Refunds USD" in text
    assert "open Equity:NetAssets USD" in text
    assert "open Expenses:AttorneyFees USD" in text
    # The refund of a gift keeps its debit balance under Income; the contributions, a credit.
    assert re.search(r"balance Income:Refunds +500\.00 ~ 0 USD", text)
    assert re.search(r"balance Income:Contributions +-20484\.56 ~ 0 USD", text)
    assert f'  hash: "{LedgerHead.objects.get(fund=seeded).chain_head}"' in text


def test_a_changed_amount_fails_the_balance_assertions(seeded, tmp_path):
    path = export(seeded, tmp_path)
    text = path.read_text()
    # Both legs of the first online gift, so the transaction still balances: only the
    # assertions at the end can tell.
    assert text.count("10000.00 USD") == 2
    path.write_text(text.replace("10000.00 USD", "10001.00 USD"))

    result = bean_check(path)

    assert result.returncode == 1
    assert "Balance failed for 'Assets:StripeClearing'" in result.stderr + result.stdout
    assert "Balance failed for 'Income:Contributions'" in result.stderr + result.stdout


def test_memos_with_quotes_backslashes_and_line_breaks_export_exactly(fund, tmp_path):
    memo = 'Check "No. 12" from C:\\scans\\12.pdf\r\nsecond line; 2024-01-02 * "fake"'
    post_transaction(
        fund=fund,
        legs=[Leg(account(fund, "bank"), 1250), Leg(account(fund, "contributions"), -1250)],
        effective_date=date(2026, 3, 10),
        kind=Transaction.Kind.GIFT_OFFLINE,
        memo=memo,
        idempotency_key="memo-escape",
        actor=None,
        case_ref="C-2026-0042",
    )

    path = export(fund, tmp_path)

    assert bean_check(path).returncode == 0
    entries, errors, _ = loader.load_file(str(path))
    (gift,) = [e for e in entries if type(e).__name__ == "Transaction"]
    assert errors == []
    assert gift.meta["memo"] == memo.replace("\r\n", "\n")
    assert gift.narration == "Offline gift 2026-000001 C-2026-0042"
    assert "2026-03-11 balance Assets:Bank 12.50 ~ 0 USD" in path.read_text()


def test_a_fund_without_transactions_exports_its_open_accounts_at_zero(fund, tmp_path):
    path = export(fund, tmp_path)

    assert bean_check(path).returncode == 0
    text = path.read_text()
    assert text.count(" open ") == text.count(" balance ") == 15
    assert "2024-01-02 balance Assets:Bank 0.00 ~ 0 USD" in text


def test_account_names_are_valid_and_distinct_whatever_the_chart_says():
    def named(pk, code, name, kind="asset"):
        return Account(pk=pk, code=code, name=name, kind=kind)

    names = account_names(
        [
            named(1, "1010", "Bank"),
            named(2, "1011", "bank"),
            named(3, "1020", "2nd bank (savings) - José"),
            named(4, "4000", "Contributions", "revenue"),
            named(5, "4100", "Refunds", "contra_revenue"),
            named(6, "3000", "Net assets", "net_assets"),
        ]
    )

    assert names == {
        1: "Assets:Bank",
        2: "Assets:Bank-1011",
        3: "Assets:Account10202ndBankSavingsJos",
        4: "Income:Contributions",
        5: "Income:Refunds",
        6: "Equity:NetAssets",
    }


# Each posting commits, as in `make demo` (DEBUG on, no Stripe key: the demo's own checkout).
@pytest.mark.django_db(transaction=True)
def test_the_demo_ledger_exports_to_a_file_bean_check_accepts(tmp_path, settings):
    settings.DEBUG, settings.STRIPE_DEMO, settings.STRIPE_SECRET_KEY = True, True, ""
    # The roles' groups come from a migration, which a transactional test's flush takes away.
    for role in StaffRole:
        Group.objects.get_or_create(name=role.value)
    call_command("seed_demo", stdout=io.StringIO())
    demo = Fund.objects.get()
    assert Transaction.objects.filter(fund=demo).count() > 100

    assert_export_checks_and_matches(demo, tmp_path)
