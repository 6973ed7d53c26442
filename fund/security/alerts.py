"""Alerts for admins: each is recorded (SecurityEvent), logged, e-mailed to every admin, and shown
on their dashboard.

Sign-in failures are counted per account name, known or not, so that a failure costs the same
whether the account exists (no timing tells which names do). Only when the count crosses the
threshold is the account looked up and, if it exists, an alert raised, at most once an hour.
"""

import hashlib
import logging
from datetime import timedelta

from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from fund.security.models import SecurityEvent
from fund.security.roles import StaffRole
from fund.tasks import send_staff_email

logger = logging.getLogger(__name__)

ATTACK_FAILURES = 20  # failed sign-ins for one account within the window make an alert
ATTACK_WINDOW = timedelta(minutes=15)
ALERT_QUIET = timedelta(hours=1)  # at most one alert per account in this time
SHOWN_FOR = timedelta(days=7)  # how long an alert stays on admins' dashboards


def record_security_event(
    *, kind: str, account: User, detail: str, actor: User | None = None
) -> SecurityEvent:
    """Record the event, log it and e-mail every active admin (after commit)."""
    event = SecurityEvent.objects.create(kind=kind, account=account, actor=actor, detail=detail)
    logger.warning("security event: %s on account #%s: %s", kind, account.pk, detail)
    # Ids and counts only: task arguments are stored until a worker runs them.
    context: dict[str, str | int] = {
        "kind": event.get_kind_display(),
        "account_id": account.pk,
        "detail": detail,
    }
    admins = list(admins_to_alert().values_list("pk", flat=True))
    transaction.on_commit(
        lambda: [
            send_staff_email.enqueue(pk, "fund/email/security_alert", context) for pk in admins
        ]
    )
    return event


def note_failed_sign_in(login: str, client: str) -> None:
    """Count a failed sign-in for the account name from the client; alert if it is an attack."""
    name = login.strip().lower()
    if not name:
        return
    key = "fund:sign-in-failures:" + hashlib.sha256(name.encode()).hexdigest()
    window = int(ATTACK_WINDOW.total_seconds())
    cache.add(key, {"failures": 0, "clients": []}, window)
    seen = cache.get(key) or {"failures": 0, "clients": []}
    client_tag = hashlib.sha256(client.encode()).hexdigest()[:16]
    clients = seen["clients"] if client_tag in seen["clients"] else [*seen["clients"], client_tag]
    seen = {"failures": seen["failures"] + 1, "clients": clients}
    cache.set(key, seen, window)
    if seen["failures"] < ATTACK_FAILURES:
        return
    account = User.objects.filter(username__iexact=name).first()
    if account is None or not cache.add(f"{key}:alerted", 1, int(ALERT_QUIET.total_seconds())):
        return
    minutes = int(ATTACK_WINDOW.total_seconds() // 60)
    record_security_event(
        kind=SecurityEvent.Kind.LOGIN_ATTACK,
        account=account,
        detail=(
            f"{seen['failures']} failed sign-ins from {len(clients)} client(s) within "
            f"{minutes} minutes"
        ),
    )


def recent_alerts() -> QuerySet[SecurityEvent]:
    """Return the events admins should still see on their dashboard, newest first."""
    since = timezone.now() - SHOWN_FOR
    return SecurityEvent.objects.filter(at__gte=since).select_related("account").order_by("-at")


def admins_to_alert() -> QuerySet[User]:
    """Return the active admins (the admin role, or Django superusers)."""
    admin_group = Group.objects.filter(name=StaffRole.ADMIN.value)
    return User.objects.filter(
        Q(groups__in=admin_group) | Q(is_superuser=True), is_active=True
    ).distinct()
