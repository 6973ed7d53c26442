"""manage.py seed_demo: demo staff (and, later, a demo fund) for `make demo`. Idempotent."""

import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fund.demo.ledger import seed_fund
from fund.demo.staff import DEMO_PASSWORD, DEMO_TOTP_SECRET, SeededAccount, seed_staff

# `make demo HOST=0.0.0.0` serves the demo to the local network and says where.
DEMO_URL = os.environ.get("DEMO_URL", "http://127.0.0.1:8000")


class Command(BaseCommand):
    help = "Create the demo staff accounts (second factor enrolled) and demo data. DEBUG only."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo publishes its passwords: it runs only with DEBUG=1.")
        self.stdout.write("Seeding the demo: staff accounts, then a year of invented books…")
        staff = seed_staff()
        treasurer = next(s.user for s in staff if s.account.username == "treasurer")
        fund = seed_fund(treasurer=treasurer, progress=self.stdout.write)
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
