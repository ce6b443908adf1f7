from django.apps import AppConfig


class CharityConfig(AppConfig):
    name = "charity"
    verbose_name = "Who we are"

    def ready(self):
        from charity import checks  # noqa: F401  (registers the deploy check)
