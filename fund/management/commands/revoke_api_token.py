"""manage.py revoke_api_token PREFIX|TOKEN: revoke a token, named by its printed prefix or whole."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.security.tokens import PREFIX_LENGTH, find_token, revoke_api_token


class Command(BaseCommand):
    help = (
        "Revoke an API token, named by its prefix (the first 10 characters, as printed) or by the "
        "whole token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("token", help="the token's prefix, e.g. dfk_Ab12Cd, or the whole token")

    def handle(self, *args: Any, **options: Any) -> None:
        given = options["token"].strip()
        if len(given) < PREFIX_LENGTH:
            raise CommandError(
                f"Give the token's {PREFIX_LENGTH}-character prefix, e.g. dfk_Ab12Cd."
            )
        live = find_token(given)
        if not live:
            raise CommandError(f"No live token with prefix {given[:PREFIX_LENGTH]}.")
        if len(live) > 1:
            raise CommandError(
                f"{len(live)} live tokens share prefix {given}: give the whole token, or revoke "
                "the right one under API tokens in the admin (/admin/fund/apitoken/)."
            )
        revoke_api_token(actor=None, token=live[0])
        self.stdout.write(f"Revoked {live[0]}.")
