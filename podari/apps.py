from django.apps import AppConfig


class PodariConfig(AppConfig):
    name = "podari"
    verbose_name = "Podari.Life site"

    def ready(self):
        from donations.models import Gift, Project
        from podari.page_cache import connect_invalidation
        from stories.models import Story

        connect_invalidation(Story, Project, Gift)
