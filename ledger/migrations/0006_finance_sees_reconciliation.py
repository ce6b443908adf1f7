"""Finance sees the ledger's entries (read only) and reconciliation with Stripe: its runs
and the differences they found (the Finance page, /admin/reconciliation/). Superusers see
them anyway; Editors never."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = ["view_entry", "view_reconciliationrun", "view_difference"]


def give_finance_reconciliation(apps, schema_editor):
    app_config = apps.get_app_config("ledger")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    finance, _ = Group.objects.get_or_create(name="Finance")
    finance.permissions.add(
        *Permission.objects.filter(content_type__app_label="ledger", codename__in=PERMISSIONS)
    )


def take_back(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Finance"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="ledger", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_entries_from_records"),
    ]

    operations = [migrations.RunPython(give_finance_reconciliation, take_back)]
