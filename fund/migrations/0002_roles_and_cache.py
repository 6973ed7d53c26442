"""Create the staff roles, the legal director's permission, and the shared cache table."""

from django.core.management import call_command
from django.db import migrations

ROLES = ["coordinator", "treasurer", "auditor", "admin"]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    for name in ROLES:
        Group.objects.get_or_create(name=name)
    case_type, _ = ContentType.objects.get_or_create(app_label="cases", model="case")
    Permission.objects.get_or_create(
        content_type=case_type, codename="view_all_cases", defaults={"name": "Can see and assign all cases"}
    )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [
        ("fund", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_roles, remove_roles),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
