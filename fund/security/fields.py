"""EncryptedTextField: text stored encrypted, bound to its column and row, never searchable."""

import logging
from typing import Any

from django.core import checks
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.db import models
from django.db.models.query_utils import DeferredAttribute

from fund.security import crypto

logger = logging.getLogger(__name__)
UNREADABLE = "[unreadable]"


class Sealed:
    """A value as the database stores it: encrypted. It never prints its contents."""

    __slots__ = ("ciphertext",)

    def __init__(self, ciphertext: str) -> None:
        self.ciphertext = ciphertext

    def __repr__(self) -> str:
        return "Sealed(…)"

    def __str__(self) -> str:
        return "[encrypted]"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.ciphertext == self.ciphertext

    def __hash__(self) -> int:
        return hash(self.ciphertext)


class DecryptingAttribute(DeferredAttribute):
    """Decrypts the stored value on first read, with the row's own key, and keeps the plaintext."""

    field: "EncryptedTextField"

    def __get__(self, instance: models.Model | None, cls: Any = None) -> Any:
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if isinstance(value, Sealed):
            value = crypto.decrypt(
                value.ciphertext, context=self.field.context, row=self.field.row_of(instance)
            )
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: models.Model, value: Any) -> None:
        # Being a data descriptor is what makes every read come through __get__ above.
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField[str | None, str | None]):
    """Text stored encrypted with AES-256-GCM, decrypted when read; it cannot be searched.

    The ciphertext is bound to ``context`` (by default ``"<app_label>.<Model>.<field>"``) and to
    the row's stable id, the model's ``row_key`` field (a UUID set when the object is created), so
    a value copied to another column or row does not decrypt. Pass the old context explicitly
    when renaming a model or field, or its stored values stop decrypting.
    Reading a value that does not decrypt raises ``fund.security.crypto.DecryptionError``; lists
    show such a row through ``readable()`` instead. Values are written by ``save()`` (and
    ``bulk_create``), which encrypt them for their row; a queryset ``update()`` or
    ``bulk_update()`` cannot, and is refused. ``values()`` gives ``Sealed`` values, never
    plaintext. Only ``isnull`` lookups work; find rows by a blind index
    (``fund.security.crypto.blind_index``).
    """

    description = "Encrypted text"
    descriptor_class = DecryptingAttribute

    def __init__(
        self, *args: Any, context: str | None = None, row_key: str = "row_key", **kwargs: Any
    ) -> None:
        self.explicit_context = context
        self.context = context or ""
        self.row_key = row_key
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
        if self.row_key != "row_key":
            kwargs["row_key"] = self.row_key
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
        model = getattr(self, "model", None)
        if model is not None and not _is_row_key(model, self.row_key):
            errors.append(
                checks.Error(
                    f"{model._meta.label} has an EncryptedTextField but no {self.row_key!r} "
                    "field: add `row_key = models.UUIDField(default=uuid.uuid4, editable=False, "
                    "unique=True)`, the stable id each value is bound to.",
                    obj=self,
                    id="fund.E102",
                )
            )
        return errors

    def row_of(self, instance: models.Model) -> str:
        """Return the stable id of the row a value belongs to."""
        return str(getattr(instance, self.row_key))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Sealed | None:
        return None if value is None else Sealed(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = model_instance.__dict__.get(self.attname)
        if value is None or isinstance(value, Sealed):
            return value
        return Sealed(
            crypto.encrypt(str(value), context=self.context, row=self.row_of(model_instance))
        )

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.ciphertext
        raise FieldError(
            f"{self.context} is encrypted for each row: set it on the object and save() it "
            "(a queryset update() or bulk_update() cannot encrypt a value for its row)."
        )

    def to_python(self, value: Any) -> Any:
        return value if isinstance(value, Sealed) else super().to_python(value)

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (dumpdata, admin history) never writes the plaintext out.
        return str(UNREADABLE)

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


def readable(instance: models.Model, field_name: str) -> str:
    """Return a field's plaintext for a list, or "[unreadable]" (logged) if it will not decrypt.

    One damaged row must not take a whole page down, and its stored value is never shown.
    """
    try:
        value = getattr(instance, field_name)
    except crypto.DecryptionError:
        logger.warning(
            "cannot decrypt %s #%s field %s: shown as unreadable",
            instance._meta.label,
            instance.pk,
            field_name,
        )
        return UNREADABLE
    return "" if value is None else str(value)


def _is_row_key(model: type[models.Model], name: str) -> bool:
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return isinstance(field, models.UUIDField) and bool(field.unique) and field.has_default()
