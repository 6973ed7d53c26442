"""manage.py revoke_api_token PREFIX: revoke the token whose printed prefix this is."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.models import ApiToken
from fund.security.tokens import revoke_api_token

PREFIX_LENGTH = 10


class Command(BaseCommand):
    help = "Revoke an API token, named by its prefix (the first 10 characters, as printed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "prefix", help="the token's prefix, e.g. dfk_Ab12Cd (or the whole token)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = options["prefix"].strip()[:PREFIX_LENGTH]
        if len(prefix) < PREFIX_LENGTH:
            raise CommandError(
                f"Give the token's {PREFIX_LENGTH}-character prefix, e.g. dfk_Ab12Cd."
            )
        live = list(ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True))
        if not live:
            raise CommandError(f"No live token with prefix {prefix}.")
        if len(live) > 1:
            raise CommandError(
                f"{len(live)} live tokens share prefix {prefix}: revoke them in the admin."
            )
        revoke_api_token(actor=None, token=live[0])
        self.stdout.write(f"Revoked {live[0]}.")
