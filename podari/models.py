from django.core.files.base import ContentFile
from django.db import models

from podari.images import (
    make_renditions,
    make_social_card,
    prepared_from,
    random_name,
    store_renditions,
    store_social_card,
    validate_image_file,
)


class ImageWithRenditions(models.Model):
    """An uploaded picture with required alt text and stored WebP renditions.

    The stored original is the cleaned upload (see podari/images.py) under a random name;
    pages only ever show the renditions, which have random names of their own.
    """

    image = models.ImageField(
        upload_to="images/%Y/%m/",
        validators=[validate_image_file],
        width_field="image_width",
        height_field="image_height",
        help_text="JPEG, PNG or WebP. Pages show resized copies, never the original.",
    )
    image_width = models.PositiveIntegerField(editable=False, null=True)
    image_height = models.PositiveIntegerField(editable=False, null=True)
    image_alt = models.CharField(
        "image description (alt text)",
        max_length=250,
        help_text="What the picture shows, for people who cannot see it.",
    )
    # {"source": <image name>, "items": [{"width", "height", "name"}, ...],
    #  "card": {"width": 1200, "height": 630, "name"} for models with social cards}
    image_renditions = models.JSONField(default=dict, blank=True, editable=False)

    # Pages of their own (stories, projects) get a 1200×630 picture for link previews.
    has_social_card = False

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # Renditions are made once, when the picture changes, never while a page renders.
        previous = self.image_renditions or {}
        if self.image and not self.image._committed:
            prepared = prepared_from(self.image)
            self.image.save(random_name(prepared.extension), ContentFile(prepared.content), save=False)
            self.image_width, self.image_height = prepared.width, prepared.height
            self.image_renditions = {
                "source": self.image.name,
                "items": store_renditions(prepared.renditions),
            }
            if self.has_social_card:
                self.image_renditions["card"] = store_social_card(prepared.content)
        elif previous.get("source") != (self.image.name or None):
            self.image_renditions = {"source": self.image.name or None, "items": make_renditions(self.image)}
            if self.has_social_card and self.image:
                self.image_renditions["card"] = make_social_card(self.image)
        # The old files go after commit, once nothing refers to them (podari/media_registry.py).
        super().save(*args, **kwargs)

    @property
    def renditions(self):
        return self.image_renditions.get("items") or []

    @property
    def social_card(self):
        return self.image_renditions.get("card")
