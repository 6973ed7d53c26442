"""Security events for admins (sign-in attacks, removed second factors), append-only in the database
too, like the access log."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

APPEND_ONLY = """
CREATE FUNCTION fund_refuse_security_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'security events are append-only: % refused', TG_OP USING ERRCODE = 'DF006';
END $$;
CREATE TRIGGER fund_securityevent_append_only BEFORE UPDATE OR DELETE ON fund_securityevent
    FOR EACH ROW EXECUTE FUNCTION fund_refuse_security_event_change();
CREATE TRIGGER fund_securityevent_no_truncate BEFORE TRUNCATE ON fund_securityevent
    FOR EACH STATEMENT EXECUTE FUNCTION fund_refuse_security_event_change();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('fund', '0009_api_token_lifetime'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SecurityEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('login_attack', 'sign-in attack'), ('factor_removed', 'second factor removed')], max_length=20)),
                ('detail', models.CharField(max_length=200)),
                ('at', models.DateTimeField(auto_now_add=True, db_index=True)),
                ('account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.RunSQL(APPEND_ONLY, migrations.RunSQL.noop),
    ]
