from django.apps import AppConfig


class FundraisersConfig(AppConfig):
    name = "fundraisers"
    verbose_name = "Supporters' fundraisers"
    default_auto_field = "django.db.models.BigAutoField"
