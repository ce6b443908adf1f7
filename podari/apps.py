from django.apps import AppConfig


class PodariConfig(AppConfig):
    name = "podari"
    verbose_name = "Podari.Life site"

    def ready(self):
        from podari import cache_wiring, checks, media_registry  # noqa: F401 (checks registers system checks)

        # Which cached pages each model's changes make stale: the one map, in cache_wiring.
        cache_wiring.connect()
        # Files a story, project, page or photo stops referring to go once nothing does.
        media_registry.connect()
