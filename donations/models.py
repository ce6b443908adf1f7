import uuid

from django.conf import settings
from django.db import models, transaction
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from markdownx.models import MarkdownxField

from podari.markdown import render_markdown
from podari.models import ImageWithRenditions


def default_currency():
    return settings.DEFAULT_CURRENCY


class ProjectQuerySet(models.QuerySet):
    def accepting_gifts(self):
        return self.exclude(status=Project.Status.CLOSED)

    def recount_totals(self):
        """Set the stored totals of these projects from their gifts, in one UPDATE.

        Gift.save() keeps the totals exact as gifts change; this is for after bulk
        inserts or hand repairs that bypass it (`manage.py recount_totals`). Totals
        count gifts in the project's own currency that succeeded, net of refunds; a
        fully refunded gift no longer counts at all.
        """
        counted = Gift.objects.filter(
            project=OuterRef("pk"),
            currency=OuterRef("currency"),
            status__in=Gift.COUNTED_STATUSES,
        ).values("project")
        raised = counted.annotate(total=Sum(F("amount_minor") - F("amount_refunded_minor"))).values("total")
        # COUNT(*), not COUNT(id): the id is not in gift_totals_idx, so counting it would
        # read the table; COUNT(*) stays an index-only scan like the sum above.
        count = counted.annotate(n=Count("*")).values("n")
        return self.update(
            raised_minor=Coalesce(Subquery(raised), 0),
            gift_count=Coalesce(Subquery(count), 0),
        )


class Project(ImageWithRenditions):
    """Something gifts pay for: CAR-T therapy, doctors' education, the general fund."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active: raising money"
        FUNDED = "funded", "Funded"
        CLOSED = "closed", "Closed: no longer taking gifts"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.CharField(max_length=300, help_text="One or two sentences for cards and search results.")
    description = MarkdownxField(help_text="Markdown.")
    description_html = models.TextField(editable=False, blank=True)
    goal_minor = models.PositiveBigIntegerField(
        "goal (minor units)",
        null=True,
        blank=True,
        help_text="In cents for USD: 500000 is $5,000. Leave empty for no goal.",
    )
    currency = models.CharField(max_length=3, default=default_currency)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    is_general_fund = models.BooleanField(
        "general fund",
        default=False,
        help_text="Gifts go here when a donor picks no project ('where most needed').",
    )
    is_featured = models.BooleanField("featured on the home page", default=False)
    position = models.PositiveIntegerField(default=0, help_text="Lower comes first in lists.")
    # Kept exact by Gift.save() in the same transaction as the gift, so pages read two
    # columns instead of summing every gift (see ProjectQuerySet.recount_totals).
    raised_minor = models.BigIntegerField("raised, net of refunds (minor units)", default=0, editable=False)
    gift_count = models.PositiveIntegerField("gifts counted", default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["position", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_general_fund"],
                condition=Q(is_general_fund=True),
                name="only_one_general_fund",
            ),
        ]

    def __str__(self):
        return self.title

    @classmethod
    def from_db(cls, db, field_names, values):
        project = super().from_db(db, field_names, values)
        project._loaded_currency = (
            values[field_names.index("currency")] if "currency" in field_names else None
        )
        return project

    def save(self, *args, **kwargs):
        self.currency = self.currency.lower()
        self.description_html = render_markdown(self.description)
        super().save(*args, **kwargs)
        if getattr(self, "_loaded_currency", self.currency) != self.currency:
            # Only gifts in the project's currency count, so a new currency means a new total.
            Project.objects.filter(pk=self.pk).recount_totals()
            self.refresh_from_db(fields=["raised_minor", "gift_count"])
        self._loaded_currency = self.currency

    def get_absolute_url(self):
        return reverse("donations:project_detail", args=[self.slug])

    def get_donate_url(self):
        return reverse("donations:donate") + f"?project={self.slug}"

    @property
    def accepts_gifts(self):
        return self.status != self.Status.CLOSED

    @property
    def progress_percent(self):
        """Whole percent of the goal raised, capped at 100; None without a goal."""
        if not self.goal_minor:
            return None
        return min(100, self.raised_minor * 100 // self.goal_minor)

    @classmethod
    def status_order(cls):
        """Active projects first, then funded, then closed (not alphabetical)."""
        return Case(
            When(status=cls.Status.ACTIVE, then=0),
            When(status=cls.Status.FUNDED, then=1),
            default=2,
        )

    @classmethod
    def general_fund(cls):
        return cls.objects.filter(is_general_fund=True).first()


# The fields a gift's contribution to its project's total is made of.
TOTAL_FIELDS = {"project_id", "currency", "status", "amount_minor", "amount_refunded_minor"}
UNKNOWN = object()


class GiftQuerySet(models.QuerySet):
    def counted(self):
        return self.filter(status__in=Gift.COUNTED_STATUSES)

    def public_donors(self):
        return self.counted().filter(show_name_publicly=True).exclude(donor_name="")


class Gift(models.Model):
    """One gift, recorded first when the donor submits the form, then settled by Stripe's webhooks."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending: waiting for Stripe"
        NOT_STARTED = "not_started", "Not started: Stripe could not be reached"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned: checkout expired"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"

    class Frequency(models.TextChoices):
        ONE_TIME = "one_time", "One-time"

    class Dedication(models.TextChoices):
        NONE = "", "No dedication"
        HONOUR = "honour", "In honour of"
        MEMORY = "memory", "In memory of"

    PAID_STATUSES = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED)
    COUNTED_STATUSES = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED)
    UNSETTLED_STATUSES = (Status.PENDING, Status.NOT_STARTED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="gifts")
    amount_minor = models.PositiveBigIntegerField("amount (minor units)")
    currency = models.CharField(max_length=3)
    amount_refunded_minor = models.PositiveBigIntegerField("refunded (minor units)", default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.ONE_TIME)

    donor_name = models.CharField(max_length=200, blank=True)
    donor_email = models.EmailField(blank=True)
    show_name_publicly = models.BooleanField("show name on the donor list", default=False)
    dedication = models.CharField(max_length=10, choices=Dedication.choices, blank=True, default="")
    dedication_name = models.CharField(max_length=200, blank=True)

    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True)

    needs_review = models.BooleanField(
        default=False, help_text="Something about this gift needs a person to look."
    )
    review_reason = models.TextField(blank=True)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    objects = GiftQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Project totals read only this index (an index-only scan on PostgreSQL).
            models.Index(
                fields=["project", "status", "currency"],
                include=["amount_minor", "amount_refunded_minor"],
                name="gift_totals_idx",
            ),
            # The newest named donors on a project page, without scanning its other gifts.
            models.Index(
                fields=["project", "-paid_at"],
                condition=Q(show_name_publicly=True, status__in=["succeeded", "partially_refunded"]),
                name="gift_public_donors_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded_minor__lte=F("amount_minor")),
                name="refund_not_above_amount",
            ),
        ]

    def __str__(self):
        return f"Gift #{self.pk} to {self.project}"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            after = self._contribution()
            self._move_project_totals(getattr(self, "_counted_as", None), after)
            self._counted_as = after

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            before = getattr(self, "_counted_as", None)
            deleted = super().delete(*args, **kwargs)
            self._move_project_totals(before, None)
            return deleted

    @classmethod
    def from_db(cls, db, field_names, values):
        gift = super().from_db(db, field_names, values)
        if TOTAL_FIELDS.issubset(field_names):
            gift._counted_as = gift._contribution()
        else:
            gift._counted_as = UNKNOWN
        return gift

    def _contribution(self):
        """What this gift adds to its project's total: (project id, currency, net) or None."""
        if self.status not in self.COUNTED_STATUSES:
            return None
        return (self.project_id, self.currency, self.net_minor)

    def _move_project_totals(self, before, after):
        """Apply the change in this gift's contribution to the stored project totals.

        F() expressions make the database do the arithmetic under the project row's lock,
        so concurrent gifts to one project add up exactly.
        """
        if before is UNKNOWN:
            Project.objects.filter(pk=self.project_id).recount_totals()
            return
        if before == after:
            return
        for contribution, sign in ((before, -1), (after, 1)):
            if contribution is not None:
                project_id, currency, net_minor = contribution
                Project.objects.filter(pk=project_id, currency=currency).update(
                    raised_minor=F("raised_minor") + sign * net_minor,
                    gift_count=F("gift_count") + sign,
                )

    @property
    def is_paid(self):
        return self.status in self.PAID_STATUSES

    @property
    def net_minor(self):
        return self.amount_minor - self.amount_refunded_minor

    def flag(self, reason):
        self.needs_review = True
        self.review_reason = "\n".join(filter(None, [self.review_reason, reason]))

    def _settled_status(self):
        if self.amount_refunded_minor >= self.amount_minor:
            return self.Status.REFUNDED
        if self.amount_refunded_minor > 0:
            return self.Status.PARTIALLY_REFUNDED
        return self.Status.SUCCEEDED

    # State changes. Each is safe to apply twice and in any order relative to the others.

    def mark_checkout_started(self, session_id):
        self.stripe_checkout_session_id = session_id

    def mark_not_started(self):
        if self.status == self.Status.PENDING:
            self.status = self.Status.NOT_STARTED

    def record_payment(
        self, *, amount_minor, currency, payment_intent_id=None, donor_name="", donor_email=""
    ):
        """Stripe says the money arrived: trust its amount and currency over ours."""
        if (amount_minor, currency) != (self.amount_minor, self.currency) and self.amount_minor:
            self.flag(
                f"Stripe reported {amount_minor} {currency}, the form asked for "
                f"{self.amount_minor} {self.currency}."
            )
        self.amount_minor = amount_minor
        self.currency = currency
        self.amount_refunded_minor = min(self.amount_refunded_minor, amount_minor)
        if payment_intent_id:
            self.stripe_payment_intent_id = payment_intent_id
        self.donor_name = self.donor_name or donor_name or ""
        self.donor_email = self.donor_email or donor_email or ""
        self.paid_at = self.paid_at or timezone.now()
        self.status = self._settled_status()

    def mark_failed(self):
        if self.status in self.UNSETTLED_STATUSES:
            self.status = self.Status.FAILED

    def mark_abandoned(self):
        if self.status in self.UNSETTLED_STATUSES:
            self.status = self.Status.ABANDONED

    def apply_refund(self, *, amount_refunded_minor, charge_id=""):
        """Apply the charge's cumulative refunded amount; a stale event never lowers it."""
        self.amount_refunded_minor = max(self.amount_refunded_minor, amount_refunded_minor)
        if self.amount_minor:
            self.amount_refunded_minor = min(self.amount_refunded_minor, self.amount_minor)
        if charge_id:
            self.stripe_charge_id = charge_id
        if self.is_paid:
            self.status = self._settled_status()


class StripeEvent(models.Model):
    """Every verified webhook event, stored before it is applied, so it can be replayed."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Stored, no handler"
        FAILED = "failed", "Failed"

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    api_version = models.CharField(max_length=50, blank=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.stripe_id}"

    @property
    def data_object(self):
        return self.payload["data"]["object"]
