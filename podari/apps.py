from django.apps import AppConfig


class PodariConfig(AppConfig):
    name = "podari"
    verbose_name = "Podari.Life site"

    def ready(self):
        from donations.models import Gift, Project, ProjectPhoto
        from podari import checks, media_registry  # noqa: F401 (registers the system checks)
        from podari.page_cache import connect_gift_invalidation, connect_invalidation
        from stories.models import Story, StoryPhoto

        connect_invalidation(Story, Project, StoryPhoto, ProjectPhoto)
        # A gift changes totals and donor lists, never a story: see podari/page_cache.py.
        connect_gift_invalidation(Gift)
        # Files a story, project, page or photo stops referring to go once nothing does.
        media_registry.connect()
