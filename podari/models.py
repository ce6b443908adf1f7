import re

from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction

from podari.images import (
    delete_files,
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
        if previous.get("source") != self.image_renditions.get("source"):
            # The old files go only once the new picture is safely recorded.
            old_files = image_files(previous)
            transaction.on_commit(lambda: delete_files(old_files))
        super().save(*args, **kwargs)

    @property
    def renditions(self):
        return self.image_renditions.get("items") or []

    @property
    def social_card(self):
        return self.image_renditions.get("card")


def image_files(image_renditions):
    """Every stored file behind one picture: its original and its renditions."""
    image_renditions = image_renditions or {}
    card = image_renditions.get("card") or {}
    return (
        [image_renditions.get("source")]
        + [r["name"] for r in image_renditions.get("items") or []]
        + [card.get("name")]
    )


def delete_image_files(sender, instance, **kwargs):
    """post_delete receiver: a deleted story or project takes its picture's files with it."""
    files = image_files(instance.image_renditions)
    if instance.image and instance.image.name not in files:
        files.append(instance.image.name)
    transaction.on_commit(lambda: delete_files(files))


# The Markdown that may show pictures dropped into the editor, by model.
MARKDOWN_FIELDS = {"stories.story": "body", "donations.project": "description", "charity.page": "body"}


def editor_images(text):
    """Names of the editor's pictures a Markdown text shows."""
    prefix = re.escape(default_storage.url(settings.MARKDOWNX_MEDIA_PATH))
    return {settings.MARKDOWNX_MEDIA_PATH + name for name in re.findall(prefix + r"([\w.-]+)", text or "")}


def shown_anywhere(name):
    url = default_storage.url(name)
    return any(
        apps.get_model(label).objects.filter(**{f"{field}__contains": url}).exists()
        for label, field in MARKDOWN_FIELDS.items()
    )


def delete_editor_images(sender, instance, **kwargs):
    """post_delete receiver: pictures only a deleted text showed go too (one may be in several)."""
    names = editor_images(getattr(instance, MARKDOWN_FIELDS[instance._meta.label_lower]))

    def delete_unused():
        delete_files(name for name in names if not shown_anywhere(name))

    if names:
        transaction.on_commit(delete_unused)
