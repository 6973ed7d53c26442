"""API tokens: issued once, stored as a SHA-256 digest, bound to their owner's password and second
factor, expiring, revocable.

A token works only while its owner is active and has a second factor, and only under the password
it was issued under. A token that fails any of these at use is revoked then and there, with the
reason, so that reactivating the account or enrolling a factor again never brings it back.
Deactivating an account or removing one of its second factors revokes its tokens at once
(fund.security.signals).
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models, transaction
from django.utils import timezone

from fund.errors import StaffError
from fund.security.mfa import has_second_factor
from fund.security.models import ApiToken
from fund.security.roles import STAFF_ADMINS
from fund.tasks import send_staff_email

TOKEN_PREFIX = "dfk_"  # noqa: S105  (a public marker, not a secret)
PREFIX_LENGTH = 10


class Revoked:
    """Why a token was revoked, as shown to admins."""

    BY_ADMIN = "revoked by an admin"
    DEACTIVATED = "account deactivated"
    PASSWORD_CHANGED = "password changed"  # noqa: S105  (a reason shown to admins)
    NO_SECOND_FACTOR = "no second factor"
    FACTOR_REMOVED = "a second factor was removed"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_lifetime() -> timedelta:
    """Return how long a new token lasts (API_TOKEN_DAYS, 90 by default)."""
    return timedelta(days=settings.API_TOKEN_DAYS)


@transaction.atomic
def issue_api_token(*, actor: User | None, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for the user and return it with its plaintext, which is never stored.

    Refused for an inactive account or one without a second factor: a token must never be a way
    around it. The user is e-mailed that a token was issued (after commit), so a token they did
    not ask for does not go unnoticed. `actor` is the admin issuing it, or None at the command line.
    """
    STAFF_ADMINS.check(actor)
    if not user.is_active:
        raise StaffError(f"{user.get_username()} is deactivated: no token can be issued.")
    if not has_second_factor(user):
        raise StaffError(
            f"{user.get_username()} has no second factor yet: they must sign in and enrol one "
            "before a token can be issued."
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=plaintext[:PREFIX_LENGTH],
        digest=_digest(plaintext),
        password_stamp=user.get_session_auth_hash(),
        expires_at=timezone.now() + token_lifetime(),
    )
    context: dict[str, str | int] = {
        "prefix": token.prefix,
        "name": token.name,
        "expires": f"{token.expires_at:%Y-%m-%d}",
    }
    transaction.on_commit(
        lambda: send_staff_email.enqueue(user.pk, "fund/email/api_token_issued", context)
    )
    return token, plaintext


def revoke_api_token(*, actor: User | None, token: ApiToken) -> None:
    """Revoke a token; later requests with it get 401."""
    STAFF_ADMINS.check(actor)
    _revoke(ApiToken.objects.filter(pk=token.pk), Revoked.BY_ADMIN)


def revoke_tokens_of(user_id: int, reason: str) -> int:
    """Revoke every live token of the user (the system does this: no actor); return how many."""
    return _revoke(ApiToken.objects.filter(user_id=user_id), reason)


def find_token(given: str) -> list[ApiToken]:
    """Return the live tokens a whole token or its printed prefix names."""
    live = ApiToken.objects.filter(revoked_at__isnull=True)
    if len(given) > PREFIX_LENGTH:
        return list(live.filter(digest=_digest(given)))
    return list(live.filter(prefix=given))


def user_for_token(plaintext: str) -> User | None:
    """Return the user a working token belongs to, or None; revoke one that can no longer work."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(plaintext), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or token.expires_at <= now:
        return None
    reason = _why_it_cannot_work(token)
    if reason:
        _revoke(ApiToken.objects.filter(pk=token.pk), reason)
        return None
    # One write a minute per token at most, so a busy client does not turn reads into writes.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def _why_it_cannot_work(token: ApiToken) -> str:
    user = token.user
    if not user.is_active:
        return Revoked.DEACTIVATED
    if not hmac.compare_digest(token.password_stamp, user.get_session_auth_hash()):
        return Revoked.PASSWORD_CHANGED
    if not has_second_factor(user):
        return Revoked.NO_SECOND_FACTOR
    return ""


def _revoke(tokens: models.QuerySet[ApiToken], reason: str) -> int:
    return tokens.filter(revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    )
