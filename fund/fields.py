"""EncryptedTextField, and the key rotation that re-encrypts every value stored in one."""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core import checks
from django.core.exceptions import FieldError
from django.db import models, router, transaction
from django.db.models import Count, ExpressionWrapper, F, Q, TextField
from django.db.models.functions import Substr
from django.db.models.lookups import Exact

from fund import crypto


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text stored encrypted with AES-256-GCM and decrypted on load; it cannot be searched.

    The ciphertext is bound to ``context``, by default ``"<app_label>.<Model>.<field>"``. Pass the
    old context explicitly when renaming a model or field, or its stored values stop decrypting
    (makemigrations then shows no change to the field).
    Loading a value that does not decrypt raises ``fund.crypto.DecryptionError``. Only ``isnull``
    lookups work; find rows by a blind index (``fund.crypto.blind_index``) stored next to it.
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
        return name, "fund.fields.EncryptedTextField", args, kwargs

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


@dataclass
class FieldKeyCount:
    """How many values of one encrypted field exist, and under which key ids."""

    label: str
    total: int = 0
    by_key_id: Counter[str] = field(default_factory=Counter)
    unreadable: int = 0
    rotated: int = 0

    def stale(self, primary: str) -> int:
        return sum(n for kid, n in self.by_key_id.items() if kid != primary) + self.unreadable


def encrypted_fields() -> Iterator[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Yield every concrete installed model with the encrypted fields it stores itself."""
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        fields = [f for f in model._meta.local_concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            yield model, fields


def count_field_keys() -> list[FieldKeyCount]:
    """Count each encrypted field's values by the key id they are under, without decrypting."""
    primary = crypto.primary_key_id()
    counts: list[FieldKeyCount] = []
    for model, fields in encrypted_fields():
        manager = model._base_manager.using(router.db_for_read(model))
        for f in fields:
            count = FieldKeyCount(label=f"{model._meta.label}.{f.name}")
            count.total = manager.aggregate(n=Count(f.attname))["n"]
            count.by_key_id[primary] = count.total
            stale = manager.annotate(**_raw(f)).filter(_stale(f, primary))
            for value in stale.values_list(f"_raw_{f.attname}", flat=True).iterator():
                kid = crypto.key_id_of(value)
                count.by_key_id[primary] -= 1
                if kid is None:
                    count.unreadable += 1
                else:
                    count.by_key_id[kid] += 1
            counts.append(count)
    return counts


def rotate_field_keys(*, batch_size: int = 500) -> list[FieldKeyCount]:
    """Re-encrypt every value not under the primary key with it, one locked batch at a time.

    Safe to run again after an interruption: values already under the primary key are skipped.
    Raises DecryptionError (rolling back the current batch) on a value no configured key opens.
    """
    primary = crypto.primary_key_id()
    counts: list[FieldKeyCount] = []
    for model, fields in encrypted_fields():
        model_counts = {
            f.attname: FieldKeyCount(label=f"{model._meta.label}.{f.name}") for f in fields
        }
        database = router.db_for_write(model)
        stale = Q()
        for f in fields:
            stale |= _stale(f, primary)
        raw_columns = [f"_raw_{f.attname}" for f in fields]
        last_pk = None
        while True:
            with transaction.atomic(using=database):
                batch = model._base_manager.using(database).annotate(**_raw(*fields)).filter(stale)
                if last_pk is not None:
                    batch = batch.filter(pk__gt=last_pk)
                rows = list(
                    batch.select_for_update()
                    .order_by("pk")
                    .values_list("pk", *raw_columns)[:batch_size]
                )
                for pk, *values in rows:
                    changes = {}
                    for f, value in zip(fields, values, strict=True):
                        if value is not None and crypto.key_id_of(value) != primary:
                            changes[f.attname] = crypto.decrypt(value, context=f.context)
                            model_counts[f.attname].rotated += 1
                    model._base_manager.using(database).filter(pk=pk).update(**changes)
            if len(rows) < batch_size:
                break
            last_pk = rows[-1][0]
        counts.extend(model_counts.values())
    return counts


def _raw(*fields: EncryptedTextField) -> dict[str, Any]:
    # A plain-text view of the column: the stored ciphertext, not decrypted on load.
    return {
        f"_raw_{f.attname}": ExpressionWrapper(F(f.attname), output_field=TextField())
        for f in fields
    }


def _stale(f: EncryptedTextField, primary: str) -> Q:
    # Compared with = rather than LIKE, which is case-insensitive on SQLite.
    prefix = f"{crypto.VERSION}:{primary}:"
    head = Substr(F(f.attname), 1, len(prefix), output_field=TextField())
    return Q(**{f"{f.attname}__isnull": False}) & ~Q(Exact(head, prefix))
