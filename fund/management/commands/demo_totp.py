"""manage.py demo_totp [USER]: print the current second-factor code of the demo accounts."""

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.demo.staff import DEMO_ACCOUNTS, demo_totp_code, is_demo_account

FRESH_SECONDS = 5


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo account (DEBUG only, demo accounts only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", default=DEMO_ACCOUNTS[0].username)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_totp runs only with DEBUG=1.")
        User = get_user_model()
        user = User.objects.filter(username=options["username"]).first()
        if user is None or not is_demo_account(user):
            raise CommandError(f"{options['username']!r} is not a demo account (run seed_demo).")
        code, seconds = demo_totp_code()
        if seconds < FRESH_SECONDS:
            # Too late to type it in: wait for the next one rather than hand out a dying code.
            time.sleep(seconds)
            code, seconds = demo_totp_code()
        self.stdout.write(code)
        self.stderr.write(f"Valid for {seconds} more seconds; all demo accounts share it.")
