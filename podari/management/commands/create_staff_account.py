"""`manage.py create_staff_account`: the first staff login for a new site.

Creates the superuser `admin` with a random password and prints it, once. If any
superuser already exists it creates nothing and says how to reset a password, so
`make run` can call it every time.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.urls import reverse

USERNAME = "admin"
EMAIL = "admin@example.com"


class Command(BaseCommand):
    help = "Create the superuser 'admin' with a random password, unless a superuser exists."

    def handle(self, *args, **options):
        # Without DEBUG, manage.py refuses to start unless SECRET_KEY is set; on a developer's
        # machine the reset command needs the same DEBUG=1 that `make run` gives this one.
        manage = ("DEBUG=1 " if settings.DEBUG else "") + ".venv/bin/python manage.py"
        users = get_user_model()._default_manager
        existing = users.filter(is_superuser=True).order_by("pk").first()
        if existing is not None:
            name = existing.get_username()
            self.stdout.write(
                f"Staff account exists ({name}). To reset its password: {manage} changepassword {name}"
            )
            return
        if users.filter(username=USERNAME).exists():
            # Someone made an ordinary user called admin; promoting it silently would be a surprise.
            self.stdout.write(
                f"A user '{USERNAME}' exists but is not a superuser. Create one with: "
                f"{manage} createsuperuser"
            )
            return

        password = secrets.token_urlsafe(12)
        users.create_superuser(username=USERNAME, email=EMAIL, password=password)
        admin_url = (settings.SITE_URL or "http://127.0.0.1:8000") + reverse("admin:index")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    self.style.SUCCESS("Staff account created. The password is shown only this once:"),
                    f"  Admin:    {admin_url}",
                    f"  Username: {USERNAME}",
                    f"  Password: {password}",
                    f"  (Forgot it? {manage} changepassword {USERNAME})",
                    "",
                ]
            )
        )
