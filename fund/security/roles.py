"""Staff roles and the one permission policy: who may do what, each permission named once.

Roles are Django groups created by a migration. A `Permission` names one thing staff may do and the
roles that may do it; views (`role_required`), API operations (`fund.security.api_auth.staff_auth`),
templates (the `may` context value) and services (`Permission.check`) all ask the same object, so a
rule is written in one place.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from fund.errors import NotAllowed


class StaffRole(StrEnum):
    COORDINATOR = "coordinator"
    TREASURER = "treasurer"
    AUDITOR = "auditor"
    ADMIN = "admin"


# The legal director is a coordinator who also holds this Django permission.
VIEW_ALL_CASES = "cases.view_all_cases"


@dataclass(frozen=True)
class Permission:
    """One thing staff may do: its name in templates, the roles allowed, and the refusal."""

    name: str
    roles: frozenset[StaffRole]
    refusal: str

    def allows(self, user: User | AnonymousUser | None) -> bool:
        """Return whether the user holds one of the roles this permission admits."""
        return user is not None and bool(roles_of(user) & self.roles)

    def check(self, actor: User | None) -> None:
        """Raise NotAllowed unless the actor may do this; None is the system, which may.

        None stands for the operator at the command line or a background job (a Stripe webhook):
        services used only by people type their actor as `User`, so mypy refuses None there.
        """
        if actor is not None and not self.allows(actor):
            raise NotAllowed(self.refusal)


_READERS = frozenset({StaffRole.TREASURER, StaffRole.AUDITOR, StaffRole.ADMIN})

STAFF = Permission("use_staff_tools", frozenset(StaffRole), "This is for staff only.")
LEDGER_READERS = Permission(
    "read_ledger", _READERS, "Only treasurers, auditors and admins can read the ledger."
)
LEDGER_WRITERS = Permission(
    "write_ledger", frozenset({StaffRole.TREASURER}), "Only a treasurer can post to the ledger."
)
PERIOD_CLOSERS = Permission(
    "close_periods", frozenset({StaffRole.TREASURER}), "Only a treasurer can close a period."
)
PERIOD_REOPENERS = Permission(
    "reopen_periods", frozenset({StaffRole.ADMIN}), "Only an admin can reopen a closed period."
)
SEALERS = Permission(
    "seal_books",
    frozenset({StaffRole.TREASURER, StaffRole.ADMIN}),
    "Only a treasurer or an admin can seal the books.",
)
FUND_ADMINS = Permission(
    "manage_funds", frozenset({StaffRole.ADMIN}), "Only an admin can create or change a fund."
)
STAFF_ADMINS = Permission(
    "manage_staff",
    frozenset({StaffRole.ADMIN}),
    "Only an admin can manage staff accounts and their API tokens.",
)

GIFT_READERS = Permission(
    "read_gifts", _READERS, "Only treasurers, auditors and admins can see gifts and payouts."
)
DONOR_READERS = Permission(
    "read_donors",
    frozenset({StaffRole.TREASURER, StaffRole.ADMIN}),
    "Only treasurers and admins can see who gave.",
)
GIFT_RECORDERS = Permission(
    "record_gifts",
    frozenset({StaffRole.TREASURER}),
    "Only a treasurer can record gifts, deposits and pledges.",
)

CASE_WORKERS = Permission(
    "work_cases",
    frozenset({StaffRole.COORDINATOR}),
    "Only legal coordinators can open and work cases.",
)
# Who may see a case's money (refs, amounts, statuses; never the person): the case's own
# coordinators see it with the case, treasurers and auditors through these.
CASE_MONEY_READERS = Permission(
    "read_case_money",
    frozenset({StaffRole.COORDINATOR, StaffRole.TREASURER, StaffRole.AUDITOR, StaffRole.ADMIN}),
    "Only staff can see disbursements and bonds.",
)
DISBURSEMENT_APPROVERS = Permission(
    "approve_disbursements",
    frozenset({StaffRole.TREASURER}),
    "Only a treasurer can approve, reject, pay or void a disbursement.",
)
PAYEE_KEEPERS = Permission(
    "keep_payees",
    frozenset({StaffRole.COORDINATOR, StaffRole.TREASURER}),
    "Only legal coordinators and treasurers can add payees.",
)
W9_RECORDERS = Permission(
    "record_w9", frozenset({StaffRole.TREASURER}), "Only a treasurer can record a payee's W-9."
)
BOND_RECORDERS = Permission(
    "record_bonds",
    frozenset({StaffRole.COORDINATOR, StaffRole.TREASURER}),
    "Only legal coordinators and treasurers can record bonds.",
)
FACILITY_ADMINS = Permission(
    "manage_facilities", frozenset({StaffRole.ADMIN}), "Only an admin can change the facility list."
)
CASE_PURGERS = Permission(
    "purge_cases", frozenset({StaffRole.ADMIN}), "Only an admin can purge expired cases."
)

REPORT_READERS = Permission(
    "export_reports", _READERS, "Only treasurers, auditors and admins can export reports."
)

POLICY: tuple[Permission, ...] = (
    STAFF,
    LEDGER_READERS,
    LEDGER_WRITERS,
    PERIOD_CLOSERS,
    PERIOD_REOPENERS,
    SEALERS,
    FUND_ADMINS,
    STAFF_ADMINS,
    GIFT_READERS,
    DONOR_READERS,
    GIFT_RECORDERS,
    CASE_WORKERS,
    CASE_MONEY_READERS,
    DISBURSEMENT_APPROVERS,
    PAYEE_KEEPERS,
    W9_RECORDERS,
    BOND_RECORDERS,
    FACILITY_ADMINS,
    CASE_PURGERS,
    REPORT_READERS,
)


def roles_of(user: User | AnonymousUser) -> frozenset[StaffRole]:
    """Return the roles a user holds (superusers hold admin); inactive users hold none."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[StaffRole] | None = getattr(user, "_fund_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = frozenset(role for role in StaffRole if role.value in names)
        if user.is_superuser:
            cached = cached | {StaffRole.ADMIN}
        # A per-request cache: Django loads the user once per request.
        setattr(user, "_fund_roles", cached)  # noqa: B010
    return cached


def permissions_of(user: User | AnonymousUser) -> dict[str, bool]:
    """Return every permission of the policy by name, and whether the user holds it."""
    return {permission.name: permission.allows(user) for permission in POLICY}


def role_required(
    permission: Permission,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Restrict a view to signed-in staff the permission admits (others get 403)."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not permission.allows(request.user):
                raise PermissionDenied(permission.refusal)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
