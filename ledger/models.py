"""The ledger: where each project's money came from and what it paid for.

Gifts (online and offline) are `donations.Gift` rows; what they add up to per project,
currency and month is stored in `GiftMonth`, moved by `Gift.save()` in the gift's own
transaction with database arithmetic, like the project's stored total. Spending is one
`FundUse` row per payment. Every figure shown anywhere is computed from these two tables
by `ledger.figures`.
"""

from django.conf import settings
from django.db import connections, models, router
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift


def month_of(moment):
    """The first day of the month `moment` falls in, in the site's time zone."""
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def _key_fields(key):
    project_id, currency, month, offline = key
    return {"project_id": project_id, "currency": currency, "month": month, "offline": offline}


# GiftMonthQuerySet._add_gift: add one gift to its month's row, or make the row with it.
ADD_GIFT_SQL = """
    INSERT INTO ledger_giftmonth (project_id, currency, month, offline, net_minor, gift_count)
    VALUES (%s, %s, %s, %s, %s, 1)
    ON CONFLICT (project_id, currency, month, offline) DO UPDATE SET
        net_minor = ledger_giftmonth.net_minor + excluded.net_minor,
        gift_count = ledger_giftmonth.gift_count + 1
"""


class GiftMonthQuerySet(models.QuerySet):
    def with_gifts(self):
        # A month whose every gift was refunded or moved keeps a row at zero; it says nothing.
        return self.filter(gift_count__gt=0)

    def move(self, before_row, after_row):
        """Apply the change in one gift's contribution (rows of Gift.TOTAL_FIELDS, or None).

        Called by Gift.save() under the gift's row lock, after the project totals moved.
        The month rows are touched in key order so two moves cannot deadlock.
        """
        before = self.contribution(before_row)
        after = self.contribution(after_row)
        if before == after:
            return
        if before and after and before[0] == after[0]:
            # Same month and project, a different net (a refund, a dispute): one UPDATE.
            self._add(before[0], after[1] - before[1], 0)
            return
        changes = [(c[0], -c[1], -1) for c in [before] if c] + [(c[0], c[1], 1) for c in [after] if c]
        for key, net, count in sorted(changes):
            if count > 0:
                self._add_gift(key, net)
            else:
                self._add(key, net, count)

    @staticmethod
    def contribution(row):
        """((project id, currency, month, offline), net) of a gift row that counts, else None."""
        if row is None:
            return None
        counted = Gift._contribution_of(row)
        if counted is None:
            return None
        project_id, currency, net = counted
        month = month_of(row["paid_at"] or row["created_at"])
        return (project_id, currency, month, row["source"] != Gift.Source.STRIPE), net

    def _add(self, key, net, count):
        GiftMonth.objects.filter(**_key_fields(key)).update(
            net_minor=F("net_minor") + net, gift_count=F("gift_count") + count
        )

    def _add_gift(self, key, net):
        """Count one more gift in its month, making the month's row for its first gift.

        One INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite alike), the database
        adding to the stored sums under the row's lock: a concurrent first gift of the
        same month waits for this row and then adds to it. The ORM cannot add on conflict.
        """
        connection = connections[router.db_for_write(GiftMonth)]
        project_id, currency, month, offline = key
        month = connection.ops.adapt_datefield_value(month)
        with connection.cursor() as cursor:
            cursor.execute(ADD_GIFT_SQL, [project_id, currency, month, offline, net])

    def rebuild(self, project_ids):
        """Set the month rows of these projects from their gifts (after a bulk load or repair).

        Called by ProjectQuerySet.recount_totals() while it holds the projects' row locks.
        """
        GiftMonth.objects.filter(project_id__in=project_ids).delete()
        rows = (
            Gift.objects.counted()
            .filter(project_id__in=project_ids)
            .annotate(
                month=TruncMonth(
                    Coalesce("paid_at", "created_at"),
                    output_field=models.DateField(),
                    tzinfo=timezone.get_default_timezone(),
                ),
                offline=~Q(source=Gift.Source.STRIPE),
            )
            .values("project_id", "currency", "month", "offline")
            .annotate(net=Sum(Gift.net_expression()), n=Count("*"))
            .order_by()
        )
        GiftMonth.objects.bulk_create(
            GiftMonth(
                project_id=row["project_id"],
                currency=row["currency"],
                month=row["month"],
                offline=row["offline"],
                net_minor=row["net"],
                gift_count=row["n"],
            )
            for row in rows
        )


class GiftMonth(models.Model):
    """What a project's counted gifts in one currency and month add up to: a stored sum.

    Kept exact by Gift.save() in the same transaction as the gift, so the project page,
    its CSV and JSON, the home page and the dashboard read a few dozen rows instead of
    summing every gift. `net_minor` is after refunds and disputes, by the month the gift
    was received (a later refund lowers the month of its gift).
    """

    project = models.ForeignKey("donations.Project", on_delete=models.CASCADE, related_name="gift_months")
    currency = models.CharField(max_length=3)
    month = models.DateField(help_text="First day of the month, in the site's time zone.")
    offline = models.BooleanField(help_text="Gifts that did not come through Stripe.")
    net_minor = models.BigIntegerField(default=0)
    gift_count = models.IntegerField(default=0)

    objects = GiftMonthQuerySet.as_manager()

    class Meta:
        ordering = ["month", "project", "currency", "offline"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "currency", "month", "offline"], name="one_gift_month"
            ),
        ]

    def __str__(self):
        return f"{self.project_id} {self.currency} {self.month:%Y-%m}{' offline' if self.offline else ''}"


class OfflineGiftManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().exclude(source=Gift.Source.STRIPE)


class OfflineGift(Gift):
    """A gift that did not come through Stripe: a bank transfer, a check, cash, an event's takings.

    The same Gift row as an online gift, so it counts in every total through Gift.save().
    """

    objects = OfflineGiftManager()

    class Meta:
        proxy = True
        ordering = ["-paid_at", "-pk"]
        verbose_name = "offline gift"

    def __str__(self):
        return f"Offline gift #{self.pk} to {self.project}"


class FundUseQuerySet(models.QuerySet):
    def with_public_stories(self):
        from stories.models import Story

        return self.prefetch_related(
            models.Prefetch(
                "stories",
                queryset=Story.objects.published().only("title", "slug", "publish_at").order_by("publish_at"),
                to_attr="public_stories",
            )
        )


class FundUse(models.Model):
    """Money a project's gifts paid out: what it bought, when, and the stories that report it."""

    project = models.ForeignKey("donations.Project", on_delete=models.PROTECT, related_name="fund_uses")
    amount_minor = models.PositiveBigIntegerField("amount (minor units)")
    currency = models.CharField(max_length=3)
    spent_on = models.DateField("date paid", default=timezone.localdate)
    purpose = models.CharField(
        "what it paid for",
        max_length=300,
        help_text="Finishes the sentence 'Donors' $5,000 paid for …', e.g. 'the clinical description "
        "of CAR-T therapy for Russia's Ministry of Health'.",
    )
    recipient = models.CharField(
        "paid to",
        max_length=200,
        blank=True,
        help_text="The organisation that received the money (optional).",
    )
    stories = models.ManyToManyField(
        "stories.Story",
        related_name="fund_uses",
        blank=True,
        help_text="The stories that report this spending (it may have none yet).",
    )
    note = models.TextField(blank=True, help_text="For staff only: invoice number, approvals.")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FundUseQuerySet.as_manager()

    class Meta:
        ordering = ["spent_on", "pk"]
        verbose_name = "use of funds"
        verbose_name_plural = "uses of funds"
        permissions = [
            ("view_dashboard", "Can see the reporting dashboard"),
            ("export_csv", "Can export gifts and uses of funds as CSV"),
        ]

    def __str__(self):
        from donations.money import format_money

        return f"{format_money(self.amount_minor, self.currency)} for {self.purpose}"

    def save(self, *args, **kwargs):
        self.currency = self.currency.lower()
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("donations:project_detail", args=[self.project.slug]) + "#ledger"


class VerifiedFigure(models.Model):
    """A figure for the home page that staff have checked, e.g. '70+' 'doctors trained since 2011'."""

    value = models.CharField(max_length=30, help_text="e.g. 70+")
    label = models.CharField(max_length=120, help_text="e.g. doctors trained since 2011")
    source_url = models.CharField(
        "where it is shown to be true",
        max_length=300,
        blank=True,
        help_text="A page of this site (/projects/doctors-education/) or another (https://…).",
    )
    position = models.PositiveIntegerField(default=0, help_text="Lower comes first.")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self):
        return f"{self.value} {self.label}"
