"""Encrypt the second-factor secrets allauth stored in clear: TOTP secrets and recovery-code seeds.

From now on fund.security.adapters.StaffMFAAdapter encrypts them as they are created. The context
is written out here, as it must never change (fund.security.mfa.SECRET_CONTEXT).
"""

from django.db import migrations

CONTEXT = "mfa.Authenticator.data"
KEYS = ("secret", "seed")
LISTS = ("migrated_codes",)


def _change(data, change):
    changed = dict(data)
    for key in KEYS:
        if isinstance(data.get(key), str):
            changed[key] = change(data[key])
    for key in LISTS:
        if data.get(key) is not None:
            changed[key] = [change(value) for value in data[key]]
    return changed


def encrypt(apps, schema_editor):
    from fund.security import crypto

    def seal(value):
        # Already encrypted (a value written after the adapter was configured): leave it.
        if crypto.key_id_of(value) is not None:
            return value
        return crypto.encrypt(value, context=CONTEXT)

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.exclude(type="webauthn").iterator():
        authenticator.data = _change(authenticator.data, seal)
        authenticator.save(update_fields=["data"])


def decrypt(apps, schema_editor):
    from fund.security import crypto

    Authenticator = apps.get_model("mfa", "Authenticator")
    for authenticator in Authenticator.objects.exclude(type="webauthn").iterator():
        authenticator.data = _change(
            authenticator.data, lambda value: crypto.decrypt(value, context=CONTEXT)
        )
        authenticator.save(update_fields=["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("fund", "0010_security_events"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
