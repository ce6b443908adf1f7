from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from markdownx.models import MarkdownxField

from donations.models import Project
from podari.content import ChildPhotoConsent, GalleryPhoto, PullQuote
from podari.images import validate_image_file
from podari.markdown import render_markdown, validate_markdown
from podari.models import ImageWithRenditions


class StoryQuerySet(models.QuerySet):
    def published(self):
        """Stories the public may see: published, and dated now or earlier.

        A story scheduled for later appears by itself when its time comes; no job runs.
        """
        return self.filter(status=Story.Status.PUBLISHED, publish_at__lte=timezone.now())

    def next_publish_at(self):
        """When the next scheduled story goes live (None if none is scheduled)."""
        return (
            self.filter(status=Story.Status.PUBLISHED, publish_at__gt=timezone.now())
            .order_by("publish_at")
            .values_list("publish_at", flat=True)
            .first()
        )


class Story(ImageWithRenditions, ChildPhotoConsent, PullQuote):
    """An impact story: what gifts paid for, linked to the projects it reports on."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    # Summary and picture may wait while the story is a draft; clean() asks for them on publishing.
    summary = models.CharField(
        max_length=300,
        blank=True,
        help_text="One or two sentences for lists, feeds and link previews. Needed to publish.",
    )
    image = models.ImageField(
        upload_to="images/%Y/%m/",
        blank=True,
        validators=[validate_image_file],
        width_field="image_width",
        height_field="image_height",
        help_text="JPEG, PNG or WebP. Pages show resized copies, never the original. Needed to publish.",
    )
    image_alt = models.CharField(
        "image description (alt text)",
        max_length=250,
        blank=True,
        help_text="What the picture shows, for people who cannot see it. Needed to publish.",
    )
    body = MarkdownxField(
        validators=[validate_markdown],
        help_text="Markdown. Drag an image into the editor to upload it.",
    )
    body_html = models.TextField(editable=False, blank=True)
    author_name = models.CharField(max_length=120, default="Podari.Life team")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    publish_at = models.DateTimeField(
        "publish date",
        default=timezone.now,
        db_index=True,
        help_text="A published story dated in the future stays hidden until then.",
    )
    projects = models.ManyToManyField(
        Project, related_name="stories", blank=True, help_text="The projects this story reports on."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StoryQuerySet.as_manager()
    has_social_card = True

    class Meta:
        ordering = ["-publish_at", "-pk"]
        verbose_name_plural = "stories"

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        # A draft may hold any photo; a published (or scheduled) story needs consent.
        if self.status == self.Status.PUBLISHED:
            self.check_ready_to_publish()
            self.check_child_consent()
        self.check_pull_quote()

    def check_ready_to_publish(self):
        """Lists, feeds, link previews and screen readers need these once the story is public."""
        needed = "Needed to publish or schedule the story; a draft may save without it."
        missing = {
            field: needed
            for field, value in (
                ("summary", self.summary.strip()),
                ("image", self.image),
                ("image_alt", self.image_alt.strip()),
            )
            if not value
        }
        if missing:
            raise ValidationError(missing, code="not_ready_to_publish")

    @property
    def site_url(self):
        """Where "View on site" goes: the page once public, the staff preview before."""
        if self.is_public:
            return self.get_absolute_url()
        return reverse("stories:preview", args=[self.pk])

    def photos_must_have_consent(self):
        return self.status == self.Status.PUBLISHED

    def save(self, *args, **kwargs):
        self.body_html = render_markdown(self.body)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("stories:detail", args=[self.slug])

    @property
    def is_public(self):
        return self.status == self.Status.PUBLISHED and self.publish_at <= timezone.now()

    def previous_story(self):
        return (
            Story.objects.published()
            .filter(
                models.Q(publish_at__lt=self.publish_at)
                | models.Q(publish_at=self.publish_at, pk__lt=self.pk)
            )
            .order_by("-publish_at", "-pk")
            .only("title", "slug")
            .first()
        )

    def next_story(self):
        return (
            Story.objects.published()
            .filter(
                models.Q(publish_at__gt=self.publish_at)
                | models.Q(publish_at=self.publish_at, pk__gt=self.pk)
            )
            .order_by("publish_at", "pk")
            .only("title", "slug")
            .first()
        )


class StoryPhoto(GalleryPhoto):
    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="photos")

    class Meta(GalleryPhoto.Meta):
        verbose_name = "gallery photo"
