from django.db import models

from podari.images import delete_renditions, make_renditions, validate_image_file


class ImageWithRenditions(models.Model):
    """An uploaded picture with required alt text and stored WebP renditions."""

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
    # {"source": <image name>, "items": [{"width", "height", "name"}, ...]}
    image_renditions = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # Renditions are made once, when the picture changes, never while a page renders.
        if self.image_renditions.get("source") != (self.image.name or None):
            if self.image and not self.image._committed:
                self.image.save(self.image.name, self.image.file, save=False)
            delete_renditions(self.image_renditions.get("items"))
            self.image_renditions = {
                "source": self.image.name or None,
                "items": make_renditions(self.image),
            }
        super().save(*args, **kwargs)

    @property
    def renditions(self):
        return self.image_renditions.get("items") or []
