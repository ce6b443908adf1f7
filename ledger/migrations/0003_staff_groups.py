"""Two staff groups: Editors (stories, project texts and pictures, the site's pages and
the home page's checked figures; no donor data) and
Finance (gifts, offline gifts, uses of funds, the audit log, exports and the dashboard).

Superusers see everything anyway. Staff are given a group in the admin (or with
`manage.py create_staff_account --group Editors`).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Editors": [
        "stories.add_story", "stories.change_story", "stories.delete_story", "stories.view_story",
        "donations.change_project", "donations.view_project",
        "ledger.add_verifiedfigure", "ledger.change_verifiedfigure", "ledger.delete_verifiedfigure",
        "ledger.view_verifiedfigure",
        "charity.view_charity", "charity.add_page", "charity.change_page", "charity.view_page",
        "charity.add_pagedocument", "charity.change_pagedocument", "charity.delete_pagedocument",
        "charity.view_pagedocument",
    ],
    "Finance": [
        "donations.view_project", "donations.view_gift", "donations.change_gift",
        "donations.view_giftmove", "donations.view_donor", "donations.view_recurringgift",
        "donations.view_stripeevent",
        "ledger.add_offlinegift", "ledger.change_offlinegift", "ledger.view_offlinegift",
        "ledger.add_funduse", "ledger.change_funduse", "ledger.view_funduse",
        "ledger.view_dashboard", "ledger.export_csv",
        "stories.view_story",
        "auditlog.view_logentry",
    ],
}  # fmt: skip


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations ran; these groups need them now.
    for app_config in apps.get_app_configs():
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_fill_gift_months"),
        ("donations", "0005_donors_and_monthly_gifts"),
        ("stories", "0001_initial"),
        ("charity", "0001_initial"),
        ("auditlog", "0017_add_actor_email"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
