from datetime import timedelta

from django.db import migrations, models
from django.db.models import F


def expire_in_90_days(apps, schema_editor):
    ApiToken = apps.get_model("fund", "ApiToken")
    ApiToken.objects.update(expires_at=F("created_at") + timedelta(days=90))


class Migration(migrations.Migration):
    """Tokens expire and are bound to their owner's password (tokens issued before have no stamp,
    so they stop working at their next use: issue new ones)."""

    dependencies = [("fund", "0008_ledger_integrity")]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(expire_in_90_days, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="password_stamp",
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="revoked_reason",
            field=models.CharField(blank=True, max_length=100),
        ),
    ]
