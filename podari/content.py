"""Pieces that stories and projects share: the people in them, and consent for their photos."""

from django.core.exceptions import ValidationError
from django.db import models

from podari.models import ImageWithRenditions

CONSENT_MISSING = (
    "This photo shows a child: tick “Guardian’s consent on file” once a parent or guardian "
    "has agreed in writing, or replace the photo. Until then it cannot be published."
)


class ChildPhotoConsent(models.Model):
    """Two boxes beside a photo. A photo of a child goes public only with a guardian's consent."""

    image_shows_child = models.BooleanField(
        "shows a child", default=False, help_text="Tick if a child can be seen or recognized in the photo."
    )
    image_guardian_consent = models.BooleanField(
        "guardian’s consent on file",
        default=False,
        help_text="A parent or guardian agreed in writing that this photo may be published.",
    )

    class Meta:
        abstract = True

    @property
    def lacks_child_consent(self):
        return self.image_shows_child and not self.image_guardian_consent

    def check_child_consent(self):
        if self.lacks_child_consent:
            raise ValidationError({"image_guardian_consent": CONSENT_MISSING}, code="child_consent")


class PullQuote(models.Model):
    """A few words from a person in the story, with their name and role."""

    quote = models.TextField(
        "pull quote",
        blank=True,
        max_length=400,
        help_text="A sentence or two someone in the story said, shown large. Leave empty for none.",
    )
    quote_name = models.CharField("quoted person’s name", max_length=120, blank=True)
    quote_role = models.CharField(
        "quoted person’s role",
        max_length=160,
        blank=True,
        help_text="E.g. “Mother of Masha, 7” or “Hematologist, FNKC”.",
    )

    class Meta:
        abstract = True

    def check_pull_quote(self):
        if self.quote.strip() and not self.quote_name.strip():
            raise ValidationError({"quote_name": "Say who said the quote."}, code="quote_name")


class GalleryPhoto(ImageWithRenditions, ChildPhotoConsent):
    """One photo in a story's or a project's gallery: validated and resized like the hero image."""

    caption = models.CharField(max_length=250, blank=True, help_text="Shown under the photo. Optional.")
    position = models.PositiveIntegerField(default=0, help_text="Lower comes first.")

    class Meta:
        abstract = True
        ordering = ["position", "pk"]

    def __str__(self):
        return self.caption or self.image_alt
