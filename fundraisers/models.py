"""Supporters' fundraiser pages: a supporter asks friends to give to one project.

A gift made on a page is an ordinary gift to the page's project, tagged with the page
(`donations.Gift.fundraiser`): the project counts it once, and the page's own figures are
sums of its gifts' ledger entries (ledger.figures.fundraiser_figures).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone

from podari.markdown import render_markdown, validate_markdown
from podari.models import ImageWithRenditions

from . import moderation

STORY_MAX_LENGTH = 5_000
THANK_YOU_MAX_LENGTH = 2_000


class Supporter(models.Model):
    """Someone who runs fundraiser pages. Signs in by emailed link, like donors."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    is_trusted = models.BooleanField(
        "trusted",
        default=False,
        help_text="Their new and edited pages go live without waiting for staff "
        "(text with links or flagged words still waits).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name or self.email

    @staticmethod
    def normalize_email(email):
        return (email or "").strip().lower()


class SupporterSignInLink(models.Model):
    """An emailed sign-in link: works once, for DONOR_LINK_MAX_AGE_SECONDS."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    supporter = models.ForeignKey(Supporter, on_delete=models.CASCADE, related_name="sign_in_links")
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Sign-in link for {self.supporter}"

    def use(self):
        """Mark the link used; False if it was used already (two clicks at once: one wins)."""
        now = timezone.now()
        claimed = SupporterSignInLink.objects.filter(pk=self.pk, used_at__isnull=True).update(used_at=now)
        self.used_at = now
        return claimed == 1


class FundraiserQuerySet(models.QuerySet):
    def live(self):
        """Public: approved and neither paused nor removed (ended pages stay readable)."""
        return self.filter(status=Fundraiser.Status.LIVE)


class Fundraiser(ImageWithRenditions):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        LIVE = "live", "Live"
        PAUSED = "paused", "Paused by staff"
        REMOVED = "removed", "Removed by staff"

    class Occasion(models.TextChoices):
        BIRTHDAY = "birthday", "A birthday"
        OTHER = "other", "Another occasion"

    supporter = models.ForeignKey(Supporter, on_delete=models.PROTECT, related_name="fundraisers")
    # Chosen once: gifts already made went to it, so it never changes (see save()).
    project = models.ForeignKey("donations.Project", on_delete=models.PROTECT, related_name="fundraisers")
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=120)
    story = models.TextField(
        "your story",
        validators=[MaxLengthValidator(STORY_MAX_LENGTH), validate_markdown],
        help_text="Why this matters to you. Markdown: *italic*, **bold**, lists. "
        f"At most {STORY_MAX_LENGTH:,} characters.",
    )
    story_html = models.TextField(editable=False, default="")
    # The supporter's word that they may publish the photo, and that a parent or guardian
    # agreed for any child in it (the same rule as podari.content.ChildPhotoConsent).
    photo_permission = models.BooleanField(default=False)
    goal_minor = models.PositiveBigIntegerField(
        "goal (minor units)", validators=[MinValueValidator(100)], help_text="In the project's currency."
    )
    occasion = models.CharField(max_length=10, choices=Occasion.choices, default=Occasion.BIRTHDAY)
    ends_on = models.DateField("last day of giving")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    held_reason = models.CharField(
        max_length=200, blank=True, help_text="Why its text waits for a person even from a trusted supporter."
    )
    moderation_reason = models.TextField(
        blank=True, help_text="Why staff paused or removed it (emailed to the supporter)."
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    thank_you_note = models.TextField(
        blank=True,
        validators=[MaxLengthValidator(THANK_YOU_MAX_LENGTH)],
        help_text="Shown on the page to everyone who gave. Plain text.",
    )
    # The end of the last digest of new gifts emailed to the supporter.
    digest_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FundraiserQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_project_id = instance.__dict__.get("project_id")
        return instance

    def clean(self):
        if self.goal_minor is not None and self.goal_minor > 10**12:
            raise ValidationError({"goal_minor": "Enter a smaller goal."})

    def save(self, *args, **kwargs):
        loaded = getattr(self, "_loaded_project_id", None)
        if loaded is not None and loaded != self.project_id:
            raise ValidationError("A fundraiser's project never changes: its gifts went to it.")
        # Rendered and sanitised once, on save, never while a page is drawn.
        self.story_html = render_markdown(self.story)
        super().save(*args, **kwargs)
        self._loaded_project_id = self.project_id

    def get_absolute_url(self):
        return reverse("fundraisers:detail", args=[self.slug])

    def get_donate_url(self):
        return reverse("donations:donate") + f"?fundraiser={self.slug}"

    @property
    def currency(self):
        return self.project.currency

    def has_ended(self, today=None):
        return self.ends_on < (today or timezone.localdate())

    @property
    def is_public(self):
        return self.status == self.Status.LIVE

    def refusal(self, today=None):
        """Why the page takes no gift now, in words for the donor; "" when it takes gifts."""
        if self.status == self.Status.PENDING:
            return "This fundraiser is waiting for our team to check it, and cannot take gifts yet."
        if self.status in (self.Status.PAUSED, self.Status.REMOVED):
            return "This fundraiser is not taking gifts."
        if self.has_ended(today):
            return "This fundraiser has ended and takes no more gifts."
        if not self.project.accepts_gifts:
            return "The project this fundraiser supports is not taking gifts."
        return ""

    @property
    def accepts_gifts(self):
        return not self.refusal()

    # Moderation: every change of state names who made it and, for a pause or removal, why.

    def submitted(self):
        """After the supporter created or edited the page: live at once only for a trusted
        supporter whose text holds nothing a person must read first."""
        self.held_reason = moderation.held_reasons(self.title, self.story, self.image_alt)
        if self.supporter.is_trusted and not self.held_reason:
            self.status = self.Status.LIVE
        elif self.status != self.Status.REMOVED:
            self.status = self.Status.PENDING

    def approve(self, by):
        self._moderate(self.Status.LIVE, by, "")
        self.held_reason = ""

    def pause(self, by, reason):
        self._moderate(self.Status.PAUSED, by, reason)

    def remove(self, by, reason):
        self._moderate(self.Status.REMOVED, by, reason)

    def _moderate(self, status, by, reason):
        self.status = status
        self.moderated_by = by
        self.moderated_at = timezone.now()
        self.moderation_reason = reason


class FundraiserReport(models.Model):
    """A visitor's report of a page, for staff to look at. Names nobody who reported."""

    class Reason(models.TextChoices):
        MISLEADING = "misleading", "It is misleading or a scam"
        ABUSIVE = "abusive", "It is abusive or hateful"
        PRIVACY = "privacy", "It shows someone without their consent"
        OTHER = "other", "Something else"

    fundraiser = models.ForeignKey(Fundraiser, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    details = models.TextField(blank=True, validators=[MaxLengthValidator(2000)])
    created_at = models.DateTimeField(default=timezone.now)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Report of {self.fundraiser}: {self.get_reason_display()}"
