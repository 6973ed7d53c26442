"""One permission policy: every service that changes something refuses an actor without the
permission, whoever calls it (a view, the API, a script), and the screens ask the same policy."""

import inspect
from datetime import date

import pytest
from django.urls import reverse

from fund.errors import NotAllowed
from fund.ledger import posting, services
from fund.ledger.models import BooksLock, Commitment, Fund, LedgerHead, Seal, Transaction
from fund.models import ApiToken
from fund.security import staff, tokens
from fund.security.roles import (
    LEDGER_READERS,
    LEDGER_WRITERS,
    PERIOD_CLOSERS,
    PERIOD_REOPENERS,
    POLICY,
    StaffRole,
    permissions_of,
)
from tests.fund.conftest import Kind, Role, account, give_check

pytestmark = pytest.mark.django_db

LAST_YEAR = date(2025, 6, 30)


def legs(fund):
    return [
        posting.Leg(account(fund, Role.BANK), 100),
        posting.Leg(account(fund, Role.NET_ASSETS), -100),
    ]


# (service, who tries it, how it is called, what must not have changed)
ATTEMPTS = {
    "close_books": (
        "auditor",
        lambda fund, actor: services.close_books(fund=fund, through=date(2026, 1, 31), actor=actor),
        lambda: list(BooksLock.objects.values_list("closed_through", flat=True)),
    ),
    "close_books (moving the date back)": (
        "treasurer",
        lambda fund, actor: services.close_books(
            fund=fund, through=date(2025, 5, 31), actor=actor, reason="late fee"
        ),
        lambda: list(BooksLock.objects.values_list("closed_through", flat=True)),
    ),
    "seal_books": (
        "auditor",
        lambda fund, actor: services.seal_books(fund=fund, actor=actor),
        lambda: Seal.objects.count(),
    ),
    "update_fund": (
        "treasurer",
        lambda fund, actor: services.update_fund(
            actor=actor,
            fund=fund,
            name="Renamed",
            goal_cents=1,
            tax_status=fund.tax_status,
            is_public=False,
            public_summary="",
        ),
        lambda: list(Fund.objects.values_list("name", "goal_cents", "is_public")),
    ),
    "record_journal_entry": (
        "coordinator",
        lambda fund, actor: services.record_journal_entry(
            fund=fund,
            legs=legs(fund),
            effective_date=date(2026, 3, 1),
            memo="Correction",
            reason="Typo",
            actor=actor,
            idempotency_key="policy",
        ),
        lambda: Transaction.objects.count(),
    ),
    "post_transaction": (
        "auditor",
        lambda fund, actor: posting.post_transaction(
            fund=fund,
            legs=legs(fund),
            effective_date=date(2026, 3, 1),
            kind=Kind.JOURNAL,
            memo="Sneaky",
            idempotency_key="policy:post",
            actor=actor,
        ),
        lambda: Transaction.objects.count(),
    ),
    "reverse_transaction": (
        "admin_user",
        lambda fund, actor: services.reverse_transaction(
            original=Transaction.objects.get(idempotency_key="policy-gift"),
            actor=actor,
            memo="Undo",
        ),
        lambda: Transaction.objects.count(),
    ),
    "record_commitment": (
        "coordinator",
        lambda fund, actor: services.record_commitment(
            fund=fund, amount_cents=500, source_ref="disbursement:policy", actor=actor
        ),
        lambda: Commitment.objects.count(),
    ),
    "release_commitment": (
        "auditor",
        lambda fund, actor: services.release_commitment(
            source_ref="disbursement:open", actor=actor
        ),
        lambda: Commitment.objects.filter(released_at__isnull=True).count(),
    ),
    "create_fund": (
        "treasurer",
        lambda fund, actor: services.create_fund(
            actor=actor, name="Shadow fund", slug="shadow", goal_cents=100
        ),
        lambda: (Fund.objects.count(), LedgerHead.objects.count()),
    ),
    "create_staff": (
        "treasurer",
        lambda fund, actor: staff.create_staff(
            actor=actor,
            username="mallory",
            password="a long enough password 1931",
            roles={StaffRole.ADMIN},
        ),
        lambda: staff.get_user_model().objects.count(),
    ),
    "set_staff_roles": (
        "coordinator",
        lambda fund, actor: staff.set_staff_roles(
            actor=actor, user=actor, roles={StaffRole.TREASURER}
        ),
        lambda: sorted(staff.get_user_model().objects.values_list("groups__name", flat=True)),
    ),
    "issue_api_token": (
        "auditor",
        lambda fund, actor: tokens.issue_api_token(actor=actor, user=actor),
        lambda: ApiToken.objects.count(),
    ),
    "revoke_api_token": (
        "coordinator",
        lambda fund, actor: tokens.revoke_api_token(actor=actor, token=ApiToken.objects.get()),
        lambda: ApiToken.objects.filter(revoked_at__isnull=True).count(),
    ),
}
SERVICE_MODULES = (services, posting, staff, tokens)


@pytest.fixture
def books(fund, treasurer, auditor, coordinator, admin_user):
    give_check(fund, 10_000, key="policy-gift", on=date(2026, 2, 1))
    services.close_books(fund=fund, through=LAST_YEAR, actor=treasurer)
    services.record_commitment(
        fund=fund, amount_cents=700, source_ref="disbursement:open", actor=treasurer
    )
    tokens.issue_api_token(actor=None, user=treasurer)
    return fund


@pytest.mark.parametrize("service", sorted(ATTEMPTS))
def test_a_service_refuses_an_actor_without_the_permission_and_changes_nothing(
    request, books, service
):
    persona, attempt, state = ATTEMPTS[service]
    actor = request.getfixturevalue(persona)
    before = state()

    with pytest.raises(NotAllowed):
        attempt(books, actor)

    assert state() == before


def test_every_service_that_takes_an_actor_is_tried_above():
    takes_actor = {
        name
        for module in SERVICE_MODULES
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and "actor" in inspect.signature(function).parameters
    }

    assert takes_actor == {name.split(" ")[0] for name in ATTEMPTS}


def test_the_roles_the_policy_admits(treasurer, auditor, coordinator, admin_user, outsider):
    allowed = {
        permission: {
            persona.username
            for persona in (treasurer, auditor, coordinator, admin_user, outsider)
            if permission.allows(persona)
        }
        for permission in (LEDGER_READERS, LEDGER_WRITERS, PERIOD_CLOSERS, PERIOD_REOPENERS)
    }

    assert allowed == {
        LEDGER_READERS: {"tess", "aldo", "ada"},
        LEDGER_WRITERS: {"tess"},
        PERIOD_CLOSERS: {"tess"},
        PERIOD_REOPENERS: {"ada"},
    }


def test_a_deactivated_account_holds_no_permission(treasurer):
    treasurer.is_active = False
    treasurer.save()

    assert not any(permissions_of(treasurer).values())


def test_templates_see_the_policy_by_name(client, auditor, books):
    client.force_login(auditor)

    response = client.get(reverse("ledger_books", args=[books.slug]))

    assert response.context["may"] == {p.name: p.allows(auditor) for p in POLICY}
    assert response.context["may"]["read_ledger"] is True
    assert response.context["may"]["close_periods"] is False
    assert "Review and close" not in response.content.decode()


def test_a_screen_refuses_with_the_message_of_the_same_rule(client, auditor, books):
    client.force_login(auditor)

    screen = client.post(
        reverse("ledger_books_close", args=[books.slug]),
        {"through": "2026-02-28", "reason": "", "confirmed": "yes"},
    )

    assert screen.status_code == 403
    assert PERIOD_CLOSERS.refusal in screen.content.decode()
    assert LedgerHead.objects.get(fund=books).closed_through == LAST_YEAR
