"""allauth adapter: staff accounts only, created by an admin."""

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class StaffAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Refuse public sign-up: staff are created with manage.py create_staff."""
        return False
