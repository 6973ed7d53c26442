"""manage.py create_staff USER --role ROLE [--role ROLE …] [--legal-director] [--email E]."""

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.errors import StaffError
from fund.security.roles import StaffRole, roles_of
from fund.security.staff import create_staff, generate_password, parse_roles

PASSWORD_ENV = "STAFF_PASSWORD"  # noqa: S105  (the name of a variable, not a password)


class Command(BaseCommand):
    help = (
        "Create a staff account with its roles. The password comes from the "
        f"{PASSWORD_ENV} environment variable, else a prompt, else (when not interactive, or "
        "with --generate-password) a random one printed once. The account enrols its second "
        "factor at first sign-in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            action="append",
            default=[],
            metavar="ROLE",
            help=f"one of {', '.join(role.value for role in StaffRole)}; repeat for several",
        )
        parser.add_argument(
            "--legal-director",
            action="store_true",
            help="a coordinator who may see and assign all cases (implies --role coordinator)",
        )
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--generate-password",
            action="store_true",
            help="generate a random password and print it once",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            roles = parse_roles(options["role"])
            password, generated = self.password(options["generate_password"])
            user = create_staff(
                actor=None,
                username=options["username"],
                email=options["email"],
                password=password,
                roles=roles,
                legal_director=options["legal_director"],
            )
        except StaffError as error:
            raise CommandError(str(error)) from None
        held = ", ".join(sorted(roles_of(user)))
        title = "legal director, " if options["legal_director"] else ""
        self.stdout.write(f"Created {user.get_username()} ({title}{held}).")
        if generated:
            self.stdout.write(f"Password (shown once, store it now): {password}")
        self.stdout.write("At first sign-in they must set up an authenticator app or passkey.")

    def password(self, generate: bool) -> tuple[str, bool]:
        """Return the new account's password and whether it was generated here."""
        if generate:
            return generate_password(), True
        from_env = os.environ.get(PASSWORD_ENV)
        if from_env:
            return from_env, False
        if not sys.stdin.isatty():
            return generate_password(), True
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise StaffError("The two passwords differ.")
        if not first:
            raise StaffError("An empty password is not allowed.")
        return first, False
