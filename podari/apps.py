from django.apps import AppConfig


class PodariConfig(AppConfig):
    name = "podari"
    verbose_name = "Podari.Life site"

    def ready(self):
        from django.db.models.signals import post_delete

        from charity.models import Page
        from donations.models import Project, ProjectPhoto
        from podari import cache_wiring, checks  # noqa: F401 (checks registers the system checks)
        from podari.models import delete_editor_images, delete_image_files
        from stories.models import Story, StoryPhoto

        # Which cached pages each model's changes make stale: the one map, in cache_wiring.
        cache_wiring.connect()
        for model in (Story, Project, StoryPhoto, ProjectPhoto):
            post_delete.connect(
                delete_image_files, sender=model, dispatch_uid=f"image-files-{model.__name__}"
            )
        for model in (Story, Project, Page):
            post_delete.connect(
                delete_editor_images, sender=model, dispatch_uid=f"editor-images-{model.__name__}"
            )
