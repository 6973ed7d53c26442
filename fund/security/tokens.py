"""API tokens: issued once, stored as a SHA-256 digest, revocable."""

import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from fund.security.models import ApiToken
from fund.security.roles import STAFF_ADMINS
from fund.tasks import send_staff_email

TOKEN_PREFIX = "dfk_"  # noqa: S105  (a public marker, not a secret)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_api_token(*, actor: User | None, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for the user and return it with its plaintext, which is never stored.

    The user is e-mailed that a token was issued (after commit), so a token they did not ask for
    does not go unnoticed. `actor` is the admin issuing it, or None at the command line.
    """
    STAFF_ADMINS.check(actor)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=plaintext[:10], digest=_digest(plaintext)
    )
    context: dict[str, str | int] = {"prefix": token.prefix, "name": token.name}
    transaction.on_commit(
        lambda: send_staff_email.enqueue(user.pk, "fund/email/api_token_issued", context)
    )
    return token, plaintext


def revoke_api_token(*, actor: User | None, token: ApiToken) -> None:
    """Revoke a token; later requests with it get 401."""
    STAFF_ADMINS.check(actor)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def user_for_token(plaintext: str) -> User | None:
    """Return the active user a live token belongs to, or None."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(plaintext), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # One write a minute per token at most, so a busy client does not turn reads into writes.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
