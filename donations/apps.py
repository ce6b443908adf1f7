from django.apps import AppConfig


class DonationsConfig(AppConfig):
    name = "donations"

    def ready(self):
        from auditlog.registry import auditlog

        from donations import (
            checks,  # noqa: F401  (registers system checks)
            handlers,  # noqa: F401  (registers the webhook handlers)
        )
        from donations.models import Project

        # A project's currency and goal are money: every change is kept, with who and when.
        auditlog.register(Project, include_fields=["currency", "goal_minor"])
