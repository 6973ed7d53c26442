"""Key rotation: count encrypted values by key id, and re-encrypt them under the primary key.

Every EncryptedTextField, and the second-factor secrets allauth keeps in mfa_authenticator.data.
"""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.db import models, router, transaction
from django.db.models import Count, ExpressionWrapper, F, Q, TextField
from django.db.models.functions import Substr
from django.db.models.lookups import Exact

from fund.security import crypto
from fund.security.fields import EncryptedTextField, Sealed
from fund.security.mfa import (
    SECRET_CONTEXT,
    decrypt_secret,
    encrypt_secret,
    secrets_in,
    with_secrets,
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
    counts.append(count_second_factor_keys())
    return counts


def count_second_factor_keys() -> FieldKeyCount:
    """Count the second-factor secrets by the key id they are under."""
    count = FieldKeyCount(label=SECRET_CONTEXT)
    for data in _with_secrets().values_list("data", flat=True).iterator():
        for value in secrets_in(data):
            count.total += 1
            kid = crypto.key_id_of(value)
            if kid is None:
                count.unreadable += 1
            else:
                count.by_key_id[kid] += 1
    return count


def rotate_second_factor_keys(*, batch_size: int = 500) -> FieldKeyCount:
    """Re-encrypt the second-factor secrets not under the primary key, a locked batch at a time."""
    primary = crypto.primary_key_id()
    count = FieldKeyCount(label=SECRET_CONTEXT)

    def renewed(value: str) -> str:
        if crypto.key_id_of(value) == primary:
            return value
        count.rotated += 1
        return encrypt_secret(decrypt_secret(value))

    ids = list(_with_secrets().order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            batch = _with_secrets().filter(pk__in=ids[start : start + batch_size])
            for authenticator in batch.select_for_update().order_by("pk"):
                data = with_secrets(authenticator.data, renewed)
                if data != authenticator.data:
                    authenticator.data = data
                    authenticator.save(update_fields=["data"])
    return count


def _with_secrets() -> models.QuerySet[Authenticator]:
    # A passkey's data is its public key: nothing secret to encrypt.
    found: models.QuerySet[Authenticator] = Authenticator.objects.exclude(
        type=Authenticator.Type.WEBAUTHN
    )
    return found


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
        row_key = fields[0].row_key
        last_pk = None
        while True:
            with transaction.atomic(using=database):
                batch = model._base_manager.using(database).annotate(**_raw(*fields)).filter(stale)
                if last_pk is not None:
                    batch = batch.filter(pk__gt=last_pk)
                rows = list(
                    batch.select_for_update()
                    .order_by("pk")
                    .values_list("pk", row_key, *raw_columns)[:batch_size]
                )
                for pk, row, *values in rows:
                    changes = {}
                    for f, value in zip(fields, values, strict=True):
                        if value is not None and crypto.key_id_of(value) != primary:
                            plaintext = crypto.decrypt(value, context=f.context, row=str(row))
                            changes[f.attname] = Sealed(
                                crypto.encrypt(plaintext, context=f.context, row=str(row))
                            )
                            model_counts[f.attname].rotated += 1
                    model._base_manager.using(database).filter(pk=pk).update(**changes)
            if len(rows) < batch_size:
                break
            last_pk = rows[-1][0]
        counts.extend(model_counts.values())
    counts.append(rotate_second_factor_keys(batch_size=batch_size))
    return counts


def _raw(*fields: EncryptedTextField) -> dict[str, Any]:
    # A plain-text view of the column: the stored ciphertext, not decrypted on load.
    return {
        f"_raw_{f.attname}": ExpressionWrapper(F(f.attname), output_field=TextField())
        for f in fields
    }


def _stale(f: EncryptedTextField, primary: str) -> Q:
    # Compared with = rather than LIKE, whose wildcards would need escaping.
    prefix = f"{crypto.VERSION}:{primary}:"
    head = Substr(F(f.attname), 1, len(prefix), output_field=TextField())
    return Q(**{f"{f.attname}__isnull": False}) & ~Q(Exact(head, prefix))
