"""`manage.py create_staff_account`: a staff login with a random password, printed once.

    manage.py create_staff_account --username olga --email olga@example.org
    manage.py create_staff_account --superuser      # what `make run` does on a developer's machine
    manage.py create_staff_account --username fiona --group Finance

Without --superuser the account is ordinary staff: a member of the "Staff" group, which may
write stories and projects and read gifts, but not manage users, change gifts or read Stripe's
raw events. With --group the account joins one of the two roles instead (made by
ledger/migrations/0003_staff_groups.py): Editors (stories and project texts, no donor data)
or Finance (gifts, offline gifts, uses of funds, the audit trail, exports and the dashboard).
Only --superuser gives every permission, and only when asked for.

Nothing is changed when the user already exists (an existing account is never promoted), and
with --superuser nothing is created while any superuser exists, so `make run` can call it
every time.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction
from django.urls import reverse

USERNAME = "admin"
EMAIL = "admin@example.com"
STAFF_GROUP = "Staff"
# What everyday staff need in the admin: (app label, model, actions).
STAFF_PERMISSIONS = [
    ("stories", "story", ["add", "change", "delete", "view"]),
    ("donations", "project", ["add", "change", "view"]),
    ("donations", "gift", ["view"]),
    # Reading and deciding on supporters' fundraiser pages and their reports.
    ("fundraisers", "fundraiser", ["change", "view"]),
    ("fundraisers", "fundraiserreport", ["change", "view"]),
    ("fundraisers", "supporter", ["change", "view"]),
]


def staff_group():
    """The "Staff" group with exactly STAFF_PERMISSIONS (created, or brought up to date)."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    wanted = [
        Permission.objects.get(content_type__app_label=app, codename=f"{action}_{model}")
        for app, model, actions in STAFF_PERMISSIONS
        for action in actions
    ]
    group.permissions.set(wanted)
    return group


class Command(BaseCommand):
    help = "Create a staff account with a random password; a superuser only with --superuser."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=USERNAME, help=f"Default: {USERNAME}.")
        parser.add_argument("--email", default=EMAIL, help=f"Default: {EMAIL}.")
        parser.add_argument(
            "--superuser",
            action="store_true",
            help="Give the account every permission. Skipped while any superuser exists.",
        )
        parser.add_argument(
            "--group",
            choices=["Editors", "Finance"],
            help=f"Join this role instead of the {STAFF_GROUP} group.",
        )

    def handle(self, *args, username, email, superuser, group=None, **options):
        # Without DEBUG, manage.py refuses to start unless SECRET_KEY is set; on a developer's
        # machine the reset command needs the same DEBUG=1 that `make run` gives this one.
        manage = ("DEBUG=1 " if settings.DEBUG else "") + ".venv/bin/python manage.py"
        users = get_user_model()._default_manager
        existing = users.filter(username=username).first()
        if existing is None and superuser:
            existing = users.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            # Never promote or demote an account here: that is a decision for the admin's user page.
            name = existing.get_username()
            kind = "Superuser" if existing.is_superuser else "Staff account" if existing.is_staff else "User"
            self.stdout.write(f"{kind} {name} exists. To reset its password: {manage} changepassword {name}")
            return

        password = secrets.token_urlsafe(12)
        with transaction.atomic():
            if superuser:
                users.create_superuser(username=username, email=email, password=password)
            else:
                user = users.create_user(username=username, email=email, password=password, is_staff=True)
                user.groups.add(Group.objects.get(name=group) if group else staff_group())
        admin_url = (settings.SITE_URL or "http://127.0.0.1:8000") + reverse("admin:index")
        kind = "Superuser" if superuser else f"Staff account (group {group or STAFF_GROUP})"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    self.style.SUCCESS(f"{kind} created. The password is shown only this once:"),
                    f"  Admin:    {admin_url}",
                    f"  Username: {username}",
                    f"  Password: {password}",
                    f"  (Forgot it? {manage} changepassword {username})",
                    "",
                ]
            )
        )
