"""What revokes API tokens the moment it happens: a deactivated account, a removed second factor.

A changed password needs no signal: a token is bound to the password it was issued under
(fund.security.tokens), so it stops working whichever way the password was changed.
"""

from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import User
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from fund.security.mfa import SECOND_FACTORS
from fund.security.tokens import Revoked, revoke_tokens_of


@receiver(post_save, sender=User, dispatch_uid="fund.revoke_tokens_of_deactivated")
def revoke_tokens_of_deactivated(sender: type[User], instance: User, **kwargs: Any) -> None:
    if not instance.is_active:
        revoke_tokens_of(instance.pk, Revoked.DEACTIVATED)


@receiver(post_delete, sender=Authenticator, dispatch_uid="fund.revoke_tokens_on_factor_removed")
def revoke_tokens_on_factor_removed(
    sender: type[Authenticator], instance: Authenticator, **kwargs: Any
) -> None:
    if instance.type in SECOND_FACTORS:
        revoke_tokens_of(instance.user_id, Revoked.FACTOR_REMOVED)
