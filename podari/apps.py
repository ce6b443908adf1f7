from django.apps import AppConfig


class PodariConfig(AppConfig):
    name = "podari"
    verbose_name = "Podari.Life site"

    def ready(self):
        from django.db.models.signals import post_delete

        from charity.models import Page
        from donations.models import Gift, Project, ProjectPhoto
        from podari import checks  # noqa: F401 (registers the system checks)
        from podari.models import delete_editor_images, delete_image_files
        from podari.page_cache import connect_gift_invalidation, connect_invalidation
        from stories.models import Story, StoryPhoto

        connect_invalidation(Story, Project, StoryPhoto, ProjectPhoto)
        # A gift changes totals and donor lists, never a story: see podari/page_cache.py.
        connect_gift_invalidation(Gift)
        for model in (Story, Project, StoryPhoto, ProjectPhoto):
            post_delete.connect(
                delete_image_files, sender=model, dispatch_uid=f"image-files-{model.__name__}"
            )
        for model in (Story, Project, Page):
            post_delete.connect(
                delete_editor_images, sender=model, dispatch_uid=f"editor-images-{model.__name__}"
            )
