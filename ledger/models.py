"""The ledger: one record of every movement of money, and the stored sums read from it.

`Entry` is the record: one append-only row per movement (a payment, the fee a donor
covered, a refund, a dispute step, a move between projects, an offline gift, a use of
funds). Entries are never updated or deleted; a correction is a new entry. Every money
figure the site shows is read from entries through `ledger.figures`, directly or from a
stored sum kept in the same transaction as the entries that move it (the project's
total, `GiftMonth`, a gift's `net_minor`); `manage.py check_ledger` recomputes each stored
sum from the entries. Money is written only by the named functions of `ledger.services`.
"""

from django.conf import settings
from django.db import connections, models, router
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift


class AppendOnly(Exception):
    """Ledger entries are never changed or removed: record a correcting entry instead."""


class EntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("Ledger entries are never updated; record a correcting entry instead.")

    def delete(self):
        raise AppendOnly("Ledger entries are never deleted; record a correcting entry instead.")

    def counting(self):
        """Entries that count on this site: every offline and staff entry, and Stripe
        entries of the key's mode (test payments never count on a live site)."""
        return self.filter(Q(livemode__isnull=True) | Q(livemode=settings.STRIPE_LIVEMODE))

    def of_gifts(self):
        return self.filter(gift__isnull=False)

    def raised(self):
        """What gifts brought their projects: the project account of gift entries."""
        return self.of_gifts().filter(account=Entry.Account.PROJECT)

    def matched(self):
        """What sponsors' matches pledged, net of returns (the match account, less settlements)."""
        return self.filter(kind__in=Entry.MATCH_BALANCE_KINDS)

    def used(self):
        """Money paid out of projects (negative amounts; a voided use gives it back)."""
        return self.filter(kind__in=Entry.FUND_USE_KINDS)


class Entry(models.Model):
    """One movement of money, in minor units of one currency. Append-only.

    A gift's entries sit on three accounts, so that each of its figures is one sum:
    - `project`: what the gift gives its project (payments, refunds of the gift's share,
      money a dispute holds or gives back, moves between projects, offline gifts);
    - `fee`: what the donor added to cover Stripe's fee, and refunds of it;
    - `held`: what a dispute holds until the bank decides; a lost dispute takes it away.
    The sum of all of a gift's entries is what the donor gave, net: charged, less refunds
    and lost chargebacks. A use of funds is a negative entry on its project's account.
    """

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        COVERED_FEE = "covered_fee", "Fee covered by the donor"
        REFUND = "refund", "Refund"
        REFUND_REVERSAL = "refund_reversal", "Failed refund given back"
        DISPUTE_HOLD = "dispute_hold", "Held by a dispute"
        DISPUTE_RELEASE = "dispute_release", "Dispute won: given back"
        DISPUTE_LOSS = "dispute_loss", "Dispute lost"
        MOVE_OUT = "move_out", "Moved to another project"
        MOVE_IN = "move_in", "Moved from another project"
        OFFLINE_GIFT = "offline_gift", "Offline gift"
        OFFLINE_CORRECTION = "offline_correction", "Offline gift corrected"
        FUND_USE = "fund_use", "Use of funds"
        FUND_USE_CORRECTION = "fund_use_correction", "Use of funds corrected"
        MATCH_PLEDGE = "match_pledge", "Matched by a sponsor"
        MATCH_PLEDGE_RETURN = "match_pledge_return", "Match returned to the sponsor"
        MATCH_SETTLED = "match_settled", "Match paid in by the sponsor"

    class Account(models.TextChoices):
        PROJECT = "project", "The project's money"
        FEE = "fee", "Fee the donor covered"
        HELD = "held", "Held by a dispute"
        MATCH = "match", "Pledged by a match's sponsor"

    class Source(models.TextChoices):
        STRIPE = "stripe", "A Stripe event"
        STAFF = "staff", "Staff"
        RECONCILIATION = "reconciliation", "Reconciliation with Stripe"
        MIGRATION = "migration", "Recorded before the ledger existed"

    CHARGED_KINDS = (Kind.PAYMENT, Kind.COVERED_FEE, Kind.OFFLINE_GIFT, Kind.OFFLINE_CORRECTION)
    REFUND_KINDS = (Kind.REFUND, Kind.REFUND_REVERSAL)
    FUND_USE_KINDS = (Kind.FUND_USE, Kind.FUND_USE_CORRECTION)
    # What a match has pledged, net of returns: its running balance (Match.matched_minor).
    MATCH_BALANCE_KINDS = (Kind.MATCH_PLEDGE, Kind.MATCH_PLEDGE_RETURN)
    # What matches pledged to one project: the balance's kinds, and the pledges that moved
    # in and out with their gifts (on the match account; they add up to nothing per match).
    MATCH_PLEDGED_KINDS = (*MATCH_BALANCE_KINDS, Kind.MOVE_OUT, Kind.MOVE_IN)

    # What makes the entry one of a kind: a redelivered event, or a step applied twice,
    # finds its key taken and writes nothing (see ledger.services).
    key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    account = models.CharField(max_length=10, choices=Account.choices, default=Account.PROJECT)
    project = models.ForeignKey("donations.Project", on_delete=models.PROTECT, related_name="entries")
    gift = models.ForeignKey(
        "donations.Gift", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    fund_use = models.ForeignKey(
        "ledger.FundUse", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    # A match's entries are the sponsor's money, not the donor's: they belong to the
    # match, and name the gift that triggered them (or the sponsor's gift that paid them
    # in) apart from `gift`, so that none of a donor's own sums can include them.
    match = models.ForeignKey(
        "campaigns.Match", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    matched_gift = models.ForeignKey(
        "donations.Gift", on_delete=models.PROTECT, null=True, blank=True, related_name="match_entries"
    )
    amount_minor = models.BigIntegerField("amount (minor units; negative takes away)")
    currency = models.CharField(max_length=3)
    occurred_at = models.DateTimeField(help_text="When it happened: Stripe's time for Stripe's entries.")
    source = models.CharField(max_length=15, choices=Source.choices)
    stripe_event_id = models.CharField(max_length=255, blank=True)
    # The Stripe object the movement is about: a payment intent, refund, dispute or invoice.
    stripe_object_id = models.CharField(max_length=255, blank=True)
    # The amount as Stripe stated it, when the donor paid in another currency (Adaptive
    # Pricing) and this entry holds its conversion into the gift's currency.
    stated_amount_minor = models.BigIntegerField(null=True, blank=True)
    stated_currency = models.CharField(max_length=3, blank=True)
    livemode = models.BooleanField(
        null=True, blank=True, help_text="Stripe's mode, for Stripe's entries only; empty for offline money."
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reconciliation_run = models.ForeignKey(
        "ledger.ReconciliationRun", on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    note = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "pk"]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["gift", "account"], name="entry_gift_idx"),
            models.Index(fields=["project", "currency", "kind"], name="entry_project_idx"),
            models.Index(fields=["stripe_object_id"], name="entry_stripe_object_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(gift__isnull=True, fund_use__isnull=False, match__isnull=True)
                | Q(gift__isnull=False, fund_use__isnull=True, match__isnull=True)
                | Q(gift__isnull=True, fund_use__isnull=True, match__isnull=False),
                name="entry_of_a_gift_a_use_or_a_match",
            ),
            models.CheckConstraint(condition=~Q(amount_minor=0), name="entry_moves_money"),
        ]

    def __str__(self):
        from donations.money import format_signed_money

        return f"{self.get_kind_display()}: {format_signed_money(self.amount_minor, self.currency)}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("Ledger entries are never updated; record a correcting entry instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Ledger entries are never deleted; record a correcting entry instead.")


class ReconciliationRun(models.Model):
    """One run of `manage.py reconcile_stripe`: what it looked at, found and repaired."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        INTERRUPTED = "interrupted", "Interrupted (resumes where it stopped)"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    repair = models.BooleanField(help_text="Off: a dry run, which only lists what it finds.")
    started_by = models.CharField(max_length=150, blank=True, help_text="A person, or the scheduled task.")
    checks = models.JSONField(default=list, blank=True, help_text="What this run looked at.")
    summary = models.JSONField(default=dict, blank=True)
    # Where each step stopped (Stripe's pagination cursor), so an interrupted run resumes.
    cursors = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        kind = "repair" if self.repair else "dry run"
        return f"Reconciliation {self.pk} ({kind}) of {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"


class ReconciliationCheckpoint(models.Model):
    """How far reconciliation has read a Stripe list (undelivered events): one row per list."""

    name = models.CharField(max_length=50, primary_key=True)
    # Unix seconds of the newest item handled; the next run lists from here.
    created_after = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name} since {self.created_after}"


class Difference(models.Model):
    """Something reconciliation found where the ledger and Stripe disagree, for Finance."""

    class Kind(models.TextChoices):
        MISSING_IN_LEDGER = "missing_in_ledger", "Stripe has money from this site the ledger lacks"
        MISSING_IN_STRIPE = "missing_in_stripe", "The ledger has a payment Stripe lacks"
        AMOUNT = "amount", "Amounts differ"
        STATUS = "status", "Statuses differ"
        FEE = "fee", "Covered fee differs from Stripe's fee"
        PAYOUT = "payout", "A payout does not add up"
        UNDELIVERED_EVENT = "undelivered_event", "An event Stripe could not deliver"
        STALE = "stale", "Open longer than it should be"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="differences")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    stripe_object_id = models.CharField(max_length=255, blank=True)
    gift = models.ForeignKey(
        "donations.Gift", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    description = models.TextField()
    ledger_amount_minor = models.BigIntegerField(null=True, blank=True)
    stripe_amount_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    repaired = models.BooleanField(default=False)
    found_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-found_at", "pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.stripe_object_id or self.description[:40]}"


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

    def move(self, before, after):
        """Apply the change in one gift's contribution: (key, net) pairs or None, from
        ledger.services, under the gift's row lock, after the project totals moved.
        The month rows are touched in key order so two moves cannot deadlock."""
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
        """Set the month rows of these projects from their gifts' stored nets (after a
        bulk load or repair). Called by ProjectQuerySet.recount_totals() while it holds
        the projects' row locks."""
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
            .annotate(net=Sum("net_minor"), n=Count("*"))
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
    """What a project's counted gifts in one currency and month add up to: a stored sum of
    ledger entries, by the month each gift was received (a later refund lowers its month).

    Moved by ledger.services in the same transaction as the entries, so the project page,
    its CSV and JSON, the home page and the dashboard read a few dozen rows instead of
    summing every entry; `manage.py check_ledger` recomputes it from the entries.
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

    The same Gift row as an online gift, so it counts in every total; recorded, corrected
    and voided through ledger.services, each change an entry of its own.
    """

    objects = OfflineGiftManager()

    class Meta:
        proxy = True
        ordering = ["-paid_at", "-pk"]
        verbose_name = "offline gift"

    def __str__(self):
        return f"Offline gift #{self.pk} to {self.project}"


class FundUseQuerySet(models.QuerySet):
    def current(self):
        """Uses of funds not voided."""
        return self.filter(voided_at__isnull=True)

    def with_paid_amounts(self):
        """Annotate paid_minor: what each use took from its project, from its entries."""
        return self.annotate(paid_minor=-Coalesce(Sum("entries__amount_minor"), 0))

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
    """Money a project's gifts paid out: what it bought, when, and the stories that report it.

    The money itself is the use's ledger entries (recorded, corrected and voided through
    ledger.services); `amount_minor` and `currency` say what it is now, for forms and lists.
    """

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
    # A use recorded in error is voided, never deleted: its entries are given back.
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    void_reason = models.TextField(blank=True, editable=False)

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
