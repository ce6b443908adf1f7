"""Matches: a sponsor promises to add to donors' gifts (1:1, 2:1, …) up to a cap.

The money a match adds is the sponsor's own gift: ledger entries on the `match` account
(ledger.models.Entry), written by campaigns.services when a donor's payment is recorded,
never at checkout. `matched_minor` is the match's running balance: the stored sum of its
pledges, moved only by database arithmetic under the match's row lock.
"""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Min, Q
from django.utils import timezone

from donations.money import format_money

# How a match's ratio is said to donors: a 1:1 match doubles a gift.
MULTIPLIED = {1: "doubled", 2: "tripled", 3: "quadrupled"}


def multiplied(ratio):
    """'doubled', 'tripled': what a match of `ratio`:1 does to a gift, in a word."""
    return MULTIPLIED.get(ratio, f"multiplied by {ratio + 1}")


def time_zone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class MatchQuerySet(models.QuerySet):
    def running(self, at=None):
        """Matches open at `at` (now): active, started and not ended."""
        at = at or timezone.now()
        return self.filter(status=Match.Status.ACTIVE, starts_at__lte=at, ends_at__gt=at)

    def with_balance(self):
        return self.filter(matched_minor__lt=F("cap_minor"))

    def offered_for(self, project, currency=None, at=None):
        """The match a gift to `project` made now would be matched by, or None (see
        campaigns.services.allocate: the earliest-ending one with money left)."""
        matches = self.running(at).with_balance().filter(projects=project)
        if currency:
            matches = matches.filter(currency=currency)
        return matches.order_by("ends_at", "pk").first()

    def next_change_at(self, now=None):
        """The next start or end of an active match after `now`, or None: the moment pages
        start or stop saying "your gift is doubled" with no save to tell the cache."""
        now = now or timezone.now()
        moments = self.filter(status=Match.Status.ACTIVE).aggregate(
            starts=Min("starts_at", filter=Q(starts_at__gt=now)),
            ends=Min("ends_at", filter=Q(ends_at__gt=now)),
        )
        return min((m for m in moments.values() if m is not None), default=None)

    def ended_unfinished(self, now=None):
        """Matches whose end has passed and which nobody has finished yet (paused ones too)."""
        return self.filter(ends_at__lte=now or timezone.now()).exclude(status=Match.Status.FINISHED)


class Match(models.Model):
    class Kind(models.TextChoices):
        UNCONDITIONAL = "unconditional", "Unconditional: every matched gift is matched"
        CHALLENGE = "challenge", "Challenge: paid only if donors reach the target"

    class Remainder(models.TextChoices):
        SPONSOR = "sponsor", "Returned to the sponsor (not paid)"
        GENERAL_FUND = "general_fund", "Given to the general fund"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused by staff"
        FINISHED = "finished", "Finished"

    name = models.CharField(max_length=200, help_text="For staff, e.g. 'Giving Tuesday 2025'.")
    # Kept when a sponsor asks to be erased (unlinked, as a donor's gifts are): its
    # pledges are the ledger's.
    sponsor = models.ForeignKey(
        "donations.Donor", on_delete=models.SET_NULL, null=True, related_name="matches"
    )
    sponsor_public_name = models.CharField(
        max_length=200, help_text="As donors read it: 'Matched by …' (the sponsor agreed to be named)."
    )
    projects = models.ManyToManyField("donations.Project", related_name="matches")
    ratio = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="1 = 1:1 (doubles a gift), 2 = 2:1 (triples it).",
    )
    cap_minor = models.PositiveBigIntegerField("total cap (minor units)")
    currency = models.CharField(
        max_length=3, default="usd", help_text="Only gifts in this currency are matched."
    )
    per_donor_cap_minor = models.PositiveBigIntegerField(
        "cap per donor (minor units)", null=True, blank=True, help_text="The most matched for one donor."
    )
    per_gift_cap_minor = models.PositiveBigIntegerField(
        "cap per gift (minor units)", null=True, blank=True, help_text="The most matched for one gift."
    )
    minimum_gift_minor = models.PositiveBigIntegerField("minimum gift (minor units)", default=0)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(
        max_length=64, choices=time_zone_choices, default=settings.TIME_ZONE,
        help_text="The start and end are shown to donors in this time zone.",
    )  # fmt: skip
    kind = models.CharField(max_length=15, choices=Kind.choices, default=Kind.UNCONDITIONAL)
    target_minor = models.PositiveBigIntegerField(
        "challenge target (minor units)", null=True, blank=True,
        help_text="Challenge only: what donors' gifts to the projects during the match must reach.",
    )  # fmt: skip
    remainder = models.CharField(
        "unused remainder", max_length=15, choices=Remainder.choices, default=Remainder.SPONSOR
    )
    matches_monthly_renewals = models.BooleanField(
        default=False, help_text="Off: a monthly gift is matched for its first payment only."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # The running balance: what the match has pledged, net of returns. Only
    # campaigns.services moves it, by arithmetic under the row lock; save() never writes it.
    matched_minor = models.BigIntegerField("matched so far (minor units)", default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MatchQuerySet.as_manager()

    class Meta:
        ordering = ["-ends_at", "pk"]
        verbose_name_plural = "matches"
        constraints = [
            # The last guard against over-matching: no interleaving can pledge past the cap.
            models.CheckConstraint(
                condition=Q(matched_minor__gte=0) & Q(matched_minor__lte=F("cap_minor")),
                name="match_within_cap",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="match_ends_after_start"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        """Save what the match is, never its balance: an admin form loaded before a
        payment was matched must not write the old balance back."""
        self.currency = self.currency.lower()
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "matched_minor"
            ]
        super().save(*args, **kwargs)

    def clean(self):
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError({"time_zone": "Not a known time zone."}) from None
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The match must end after it starts."})
        if self.kind == self.Kind.CHALLENGE and not self.target_minor:
            raise ValidationError({"target_minor": "A challenge needs a target."})
        if self.cap_minor is not None and self.cap_minor < self.matched_minor:
            raise ValidationError({"cap_minor": f"It has matched {self.matched} already."})

    @property
    def left_minor(self):
        return max(self.cap_minor - self.matched_minor, 0)

    @property
    def matched(self):
        return format_money(self.matched_minor, self.currency)

    @property
    def cap(self):
        return format_money(self.cap_minor, self.currency)

    @property
    def multiplied(self):
        """'doubled', 'tripled': what the match does to a gift, in a word."""
        return multiplied(self.ratio)

    def is_running(self, at=None):
        at = at or timezone.now()
        return self.status == self.Status.ACTIVE and self.starts_at <= at < self.ends_at

    def time_left(self, now=None):
        """'2 days left', '5 hours left', or '' once ended: computed on the server, so
        every visitor reads the same words."""
        seconds = (self.ends_at - (now or timezone.now())).total_seconds()
        if seconds <= 0:
            return ""
        for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
            if seconds >= size:
                n = int(seconds // size)
                return f"{n} {unit}{'s' if n != 1 else ''} left"
        return "less than a minute left"

    def progress_text(self, now=None):
        """'$3,200 of $5,000 matched, 2 days left'."""
        text = f"{self.matched} of {self.cap} matched"
        left = self.time_left(now) if self.is_running(now) else ""
        return f"{text}, {left}" if left else text

    @property
    def progress_percent(self):
        return min(100, self.matched_minor * 100 // self.cap_minor) if self.cap_minor else 0
