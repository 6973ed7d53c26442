"""The access log: who viewed, exported, decrypted or changed which sensitive record, and when."""

from django.contrib.auth.models import AnonymousUser, User
from django.db import models

from fund.security.models import AccessLog


def record_access(
    *,
    user: User | AnonymousUser,
    action: AccessLog.Action | str,
    obj: models.Model,
    detail: str = "",
) -> AccessLog:
    """Record that the user viewed, exported, downloaded, decrypted or changed a saved record.

    The row names the record by model label and primary key only; ``detail`` is a short reason or
    page name and must never hold the personal data itself.
    """
    if not user.is_authenticated or user.pk is None:
        raise ValueError("Only a signed-in user's access can be recorded.")
    if obj.pk is None:
        raise ValueError("Access to an unsaved record cannot be recorded.")
    max_detail = AccessLog._meta.get_field("detail").max_length or 0
    if len(detail) > max_detail:
        raise ValueError(f"An access log detail is at most {max_detail} characters.")
    return AccessLog.objects.create(
        user=user,
        action=AccessLog.Action(action),
        object_type=obj._meta.label,
        object_ref=str(obj.pk),
        detail=detail,
    )


def list_access_for(obj: models.Model) -> models.QuerySet[AccessLog]:
    """Return who accessed the record and when, newest first."""
    return (
        AccessLog.objects.filter(object_type=obj._meta.label, object_ref=str(obj.pk))
        .select_related("user")
        .order_by("-at", "-pk")
    )
