"""manage.py seed_demo: demo staff and a demo fund's year for `make demo`. Idempotent."""

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from fund.demo.ledger import DemoCases, DemoMoney, seed_fund
from fund.demo.staff import DEMO_PASSWORD, DEMO_TOTP_SECRET, SeededAccount, seed_staff

# `make demo HOST=0.0.0.0` serves the demo to the local network and says where.
DEMO_URL = os.environ.get("DEMO_URL", "http://127.0.0.1:8000")
# The donations app records the demo's gifts as donations; found by name, as `fund` never
# imports it (ARCHITECTURE.md §3).
DONATIONS_MONEY = "donations.demo.DonationsMoney"
# The cases app records the demo's case payments and bonds as cases, the same way.
CASES_DEMO = "cases.demo.CasesDemo"
# The seed runs each task as it is queued (a fee, a payout's reconciliation), as a worker would
# at once, so the demo year's fees are booked on their days, before its months are closed.
RUN_TASKS_AT_ONCE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
# Each of the year's events and tasks logs a line; while seeding they would drown its progress.
QUIET_WHILE_SEEDING = ("django.tasks", "donations")


@contextmanager
def quiet(names: tuple[str, ...]) -> Iterator[None]:
    """Log only warnings and errors from these loggers for a while."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class Command(BaseCommand):
    help = "Create the demo staff accounts (second factor enrolled) and demo data. DEBUG only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo publishes its passwords: it runs only with DEBUG=1.")
        self.stdout.write("Seeding the demo: staff accounts, then a year of invented books…")
        staff = seed_staff()
        treasurer = next(s.user for s in staff if s.account.username == "treasurer")
        with override_settings(TASKS=RUN_TASKS_AT_ONCE), quiet(QUIET_WHILE_SEEDING):
            try:
                money: DemoMoney | None = (
                    import_string(DONATIONS_MONEY)() if apps.is_installed("donations") else None
                )
                cases: DemoCases | None = (
                    import_string(CASES_DEMO)() if apps.is_installed("cases") else None
                )
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from None
            try:
                fund = seed_fund(
                    treasurer=treasurer, money=money, cases=cases, progress=self.stdout.write
                )
            except ValueError as error:
                raise CommandError(str(error)) from None
        self.stdout.write(f"Demo fund: {fund.name} ({fund.transactions.count()} transactions)")
        self.print_logins(staff)

    def print_logins(self, staff: list[SeededAccount]) -> None:
        """Print how to get into the demo, within a minute."""
        width = max(len(seeded.account.username) for seeded in staff)
        lines = [
            "",
            "=" * 72,
            f"Defense Fund demo: {DEMO_URL}  (staff sign-in: {DEMO_URL}/accounts/login/)",
            f"Every demo login has the password: {DEMO_PASSWORD}",
            "",
        ]
        for seeded in staff:
            name = seeded.account.username.ljust(width)
            codes = " ".join(seeded.recovery_codes[:3])
            lines.append(f"  {name}  {seeded.account.title:<18} recovery codes: {codes}")
        lines += [
            "",
            "Second factor, any one of:",
            "  * the current code: DEBUG=1 .venv/bin/python manage.py demo_totp",
            f"  * an authenticator app set up with the demo secret {DEMO_TOTP_SECRET}",
            "  * one of the account's recovery codes above (each works once)",
            "=" * 72,
        ]
        self.stdout.write("\n".join(lines))
