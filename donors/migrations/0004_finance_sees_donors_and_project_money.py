"""What the Finance group (ledger/migrations/0003_staff_groups.py) needs besides: a
project's currency and goal, and donors' consent history. Editors and the plain Staff
group get no donor data and no project money."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP_PERMISSIONS = {
    "Finance": ["donations.change_project_money", "donors.view_consentchange"],
}


def grant(apps, schema_editor, group_permissions=GROUP_PERMISSIONS):
    # Permissions are normally made after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in group_permissions.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("donors", "0003_consent_log"),
        ("donations", "0012_project_money_permission"),
        ("ledger", "0003_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
