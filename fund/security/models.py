"""The security kit's models: API tokens, the access log, and the change history of staff."""

from typing import Any

import pghistory
from django.conf import settings
from django.contrib.auth.models import User
from django.db import models

from fund.errors import AppendOnlyError


class ApiToken(models.Model):
    """A bearer token for the staff API; only its SHA-256 digest is stored.

    It works while it is unexpired and unrevoked, its owner is active with a second factor, and
    the owner's password is the one it was issued under (``password_stamp``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(
        max_length=12, help_text="First characters of the token, to tell tokens apart."
    )
    digest = models.CharField(max_length=64, unique=True)
    # The owner's session auth hash when issued (an HMAC of the password hash): a new password
    # changes it, and every token issued under the old one stops working.
    password_stamp = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=100, blank=True)

    def __str__(self) -> str:
        return f"API token {self.prefix}… (#{self.pk})"


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Refuses queryset updates and deletes: rows of a log are written once and kept."""

    def update(self, **kwargs: object) -> int:
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are never changed.")

    def bulk_update(self, objs: object, fields: object, batch_size: int | None = None) -> int:
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are never changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(f"{self.model._meta.verbose_name_plural} are never deleted.")


class AccessLog(models.Model):
    """Who viewed or exported which sensitive record, and when. Rows are never edited.

    Write rows with ``fund.security.access.record_access``; saving an existing row, deleting one,
    or a queryset ``update``/``delete`` raises AppendOnlyError.
    """

    class Action(models.TextChoices):
        VIEW = "view", "viewed"
        EXPORT = "export", "exported"
        DOWNLOAD = "download", "downloaded"
        DECRYPT = "decrypt", "decrypted"
        CHANGE = "change", "changed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16, choices=Action.choices)
    # A model label and primary key or pseudonymous reference: never the sensitive value itself.
    object_type = models.CharField(max_length=100)
    object_ref = models.CharField(max_length=100)
    detail = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["object_type", "object_ref"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_ref} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Access log entries are never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Access log entries are never deleted.")


class SecurityEvent(models.Model):
    """Something admins must see: an account under attack at sign-in, a second factor removed.

    Written by ``fund.security.alerts``, which also logs it and e-mails the admins. Append-only,
    like the access log. ``detail`` holds counts and kinds, never a password or an address.
    """

    class Kind(models.TextChoices):
        LOGIN_ATTACK = "login_attack", "sign-in attack"
        FACTOR_REMOVED = "factor_removed", "second factor removed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    detail = models.CharField(max_length=200)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    def __str__(self) -> str:
        kind = self.get_kind_display()
        return f"{kind} on account #{self.account_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Security events are never changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Security events are never deleted.")


# Change history of staff accounts and roles (PostgreSQL triggers).
UserEvent = pghistory.create_event_model(
    User,
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["password", "last_login"],
    model_name="UserEvent",
    app_label="fund",
    abstract=False,
)
UserGroupEvent = pghistory.create_event_model(
    User.groups.through,
    pghistory.InsertEvent(),
    pghistory.DeleteEvent(),
    model_name="UserGroupEvent",
    app_label="fund",
    abstract=False,
)
