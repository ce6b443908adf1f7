"""Finance sets up, pauses, resumes and finishes matches (they name a sponsor, a donor).
Superusers can anyway; Editors never."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["add_match", "change_match", "view_match"]


def give_finance_matches(apps, schema_editor):
    app_config = apps.get_app_config("campaigns")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    finance, _ = Group.objects.get_or_create(name="Finance")
    finance.permissions.add(
        *Permission.objects.filter(content_type__app_label="campaigns", codename__in=PERMISSIONS)
    )


def take_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Finance"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="campaigns", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_matches"),
        ("ledger", "0003_staff_groups"),
    ]

    operations = [migrations.RunPython(give_finance_matches, take_back)]
