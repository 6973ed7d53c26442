"""Staff accounts: create them with their roles (manage.py create_staff, seed_demo)."""

import secrets
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from fund.errors import StaffError
from fund.security.roles import STAFF_ADMINS, VIEW_ALL_CASES, StaffRole


def parse_roles(names: Iterable[str]) -> set[StaffRole]:
    """Return the roles named, refusing unknown names."""
    roles = set()
    for name in names:
        try:
            roles.add(StaffRole(name.strip().lower()))
        except ValueError:
            choices = ", ".join(role.value for role in StaffRole)
            raise StaffError(f"Unknown role {name!r}: choose from {choices}.") from None
    return roles


def generate_password() -> str:
    """Return a random password that passes the password validators."""
    return secrets.token_urlsafe(18)


def check_password_strength(password: str, *, user: User) -> None:
    """Raise StaffError, in one line, if the password fails AUTH_PASSWORD_VALIDATORS."""
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise StaffError("Password rejected: " + " ".join(error.messages)) from None


@transaction.atomic
def set_staff_roles(
    *, actor: User | None, user: User, roles: set[StaffRole], legal_director: bool = False
) -> None:
    """Give the user exactly these roles; admin also makes them a Django superuser."""
    STAFF_ADMINS.check(actor)
    user.groups.set(Group.objects.filter(name__in=[role.value for role in roles]))
    is_admin = StaffRole.ADMIN in roles
    if user.is_staff != is_admin or user.is_superuser != is_admin:
        user.is_staff = user.is_superuser = is_admin
        user.save(update_fields=["is_staff", "is_superuser"])
    app_label, codename = VIEW_ALL_CASES.split(".")
    permission = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    if legal_director:
        user.user_permissions.add(permission)
    else:
        user.user_permissions.remove(permission)


@transaction.atomic
def create_staff(
    *,
    actor: User | None,
    username: str,
    password: str,
    roles: set[StaffRole],
    email: str = "",
    legal_director: bool = False,
) -> User:
    """Create a staff account holding the roles; a legal director is also a coordinator.

    Refuses an existing username, no role at all, and a password the validators reject.
    The account has no second factor yet: it must enrol one at its first sign-in. `actor` is the
    admin creating it, or None at the command line.
    """
    STAFF_ADMINS.check(actor)
    User = get_user_model()
    username = username.strip()
    if not username:
        raise StaffError("A username is required.")
    if legal_director:
        roles = roles | {StaffRole.COORDINATOR}
    if not roles:
        raise StaffError("Give at least one --role (coordinator, treasurer, auditor, admin).")
    if User.objects.filter(username__iexact=username).exists():
        raise StaffError(f"User {username!r} already exists.")
    if email and User.objects.filter(email__iexact=email).exists():
        raise StaffError(f"Another account already uses {email}.")
    user = User(username=username, email=email)
    check_password_strength(password, user=user)
    user.set_password(password)
    user.save()
    set_staff_roles(actor=actor, user=user, roles=roles, legal_director=legal_director)
    return user
