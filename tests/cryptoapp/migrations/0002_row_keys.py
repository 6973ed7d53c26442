import uuid

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cryptoapp", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="renamedsecret",
            name="row_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="secret",
            name="row_key",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
