"""manage.py issue_api_token USER [--name N]: print a new API token once."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.errors import StaffError
from fund.security.tokens import issue_api_token


class Command(BaseCommand):
    help = "Issue an API token for a staff account and print it once (only its digest is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for, e.g. 'bank export'")

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=options["username"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"No active user {options['username']!r}.") from None
        try:
            token, plaintext = issue_api_token(actor=None, user=user, name=options["name"][:100])
        except StaffError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(plaintext)
        self.stderr.write(
            f"Token {token.prefix}… for {user.get_username()}, valid until "
            f"{token.expires_at:%Y-%m-%d}: shown once, store it now. "
            f"Send it as 'Authorization: Bearer <token>'. Revoke with: "
            f"manage.py revoke_api_token {token.prefix}"
        )
