from django.apps import AppConfig


class DonorsConfig(AppConfig):
    name = "donors"
    verbose_name = "Donors and email"

    def ready(self):
        from donors import receivers  # noqa: F401  (signal receivers)
