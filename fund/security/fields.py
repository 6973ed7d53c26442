"""EncryptedTextField: text stored encrypted, decrypted on load, never searchable."""

from typing import Any

from django.core import checks
from django.core.exceptions import FieldError
from django.db import models

from fund.security import crypto


class EncryptedTextField(models.TextField[str | None, str | None]):
    """Text stored encrypted with AES-256-GCM and decrypted on load; it cannot be searched.

    The ciphertext is bound to ``context``, by default ``"<app_label>.<Model>.<field>"``. Pass the
    old context explicitly when renaming a model or field, or its stored values stop decrypting
    (makemigrations then shows no change to the field).
    Loading a value that does not decrypt raises ``fund.security.crypto.DecryptionError``. Only
    ``isnull`` lookups work; find rows by a blind index (``fund.security.crypto.blind_index``).
    """

    description = "Encrypted text"

    def __init__(self, *args: Any, context: str | None = None, **kwargs: Any) -> None:
        self.explicit_context = context
        self.context = context or ""
        super().__init__(*args, **kwargs)

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        if not self.explicit_context:
            self.context = f"{cls._meta.label}.{name}"

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        # Always spelled out, so that copies (migration state, pghistory event models) keep
        # decrypting the same values, and a rename that would change it shows up in makemigrations.
        if self.context:
            kwargs["context"] = self.context
        return name, "fund.security.fields.EncryptedTextField", args, kwargs

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.primary_key or self.unique or getattr(self, "db_index", False):
            errors.append(
                checks.Error(
                    "An EncryptedTextField cannot be a primary key, unique or indexed: every "
                    "save uses a fresh nonce. Index a blind index column instead.",
                    obj=self,
                    id="fund.E101",
                )
            )
        return errors

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return crypto.decrypt(value, context=self.context)

    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(value, context=self.context)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.context} is encrypted: it supports only the isnull lookup, not "
                f"{lookup_name!r}. Look rows up through a blind index."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(
            f"{self.context} is encrypted: it cannot be transformed ({lookup_name!r})."
        )
