import uuid

from django.db import models

from fund.security.fields import EncryptedTextField


class Secret(models.Model):
    row_key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    label = models.CharField(max_length=50)
    note = EncryptedTextField(blank=True)
    phone = EncryptedTextField(null=True, blank=True)

    def __str__(self) -> str:
        return f"secret #{self.pk}"


class RenamedSecret(models.Model):
    """Keeps the context of the model it was renamed from, so old values still decrypt."""

    row_key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    note = EncryptedTextField(context="cryptoapp.OldSecret.note")

    def __str__(self) -> str:
        return f"renamed secret #{self.pk}"
