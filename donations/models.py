import contextvars
import copy
import uuid
from contextlib import contextmanager
from dataclasses import dataclass

from auditlog.context import auditlog_disabled, disable_auditlog
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Sum, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from markdownx.models import MarkdownxField

from podari.content import ChildPhotoConsent, GalleryPhoto, PullQuote
from podari.db import insert_unless_exists
from podari.markdown import render_markdown, validate_markdown
from podari.models import ImageWithRenditions


def default_currency():
    return settings.DEFAULT_CURRENCY


def key_livemode():
    return settings.STRIPE_LIVEMODE


# Stored sums of ledger entries, written only by ledger.services (inside
# money_writes()), in the same transaction as the entries that move them.
GIFT_STORED_SUMS = frozenset({"net_minor"})
PROJECT_STORED_SUMS = frozenset({"raised_minor", "gift_count"})

_money_writes = contextvars.ContextVar("money_writes", default=False)


class MoneyWriteOutsideLedger(Exception):
    """A stored sum of the ledger was about to be written by something else than
    ledger.services: the ledger's entries would no longer add up to it."""


@contextmanager
def money_writes():
    """Let the ledger's services write stored sums (and nothing else may)."""
    token = _money_writes.set(True)
    try:
        yield
    finally:
        _money_writes.reset(token)


def refuse_stored_sums(fields, stored):
    touched = stored.intersection(fields)
    if touched and not _money_writes.get():
        raise MoneyWriteOutsideLedger(
            f"{', '.join(sorted(touched))} change only with the ledger entries that make them "
            "(ledger.services), never by update() or save()."
        )


class ProjectQuerySet(models.QuerySet):
    def accepting_gifts(self):
        return self.exclude(status=Project.Status.CLOSED)

    def listed(self):
        """The projects the Projects page lists, and the home page counts: one source, so
        the two cannot disagree. The general fund is not a project of its own: the page
        offers it apart ("Give where it is needed most")."""
        return self.filter(is_general_fund=False).order_by(Project.status_order(), "position", "title")

    def add_to_totals(self, project_id, currency, raised_minor, gift_count):
        """Add to one project's stored totals (negative numbers take away), if the
        project is in this currency.

        The database does the arithmetic on the row as it stands, under the row lock the
        UPDATE takes, so gifts paid at the same moment add up exactly; nothing read
        earlier is written back. One plain statement, since every payment runs it:
        building it through the ORM (an update() with F() expressions) cost about eight
        times as much as running it.
        """
        refuse_stored_sums({"raised_minor"}, PROJECT_STORED_SUMS)
        meta = self.model._meta
        connection = transaction.get_connection(self.db)
        quote = connection.ops.quote_name
        raised, count = (quote(meta.get_field(name).column) for name in ("raised_minor", "gift_count"))
        sql = (
            f"UPDATE {quote(meta.db_table)} "  # noqa: S608 (names from the model's meta)
            f"SET {raised} = {raised} + %s, {count} = {count} + %s "
            f"WHERE {quote(meta.pk.column)} = %s AND {quote(meta.get_field('currency').column)} = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [raised_minor, gift_count, project_id, currency])

    def with_monthly_giving(self):
        """Annotate monthly_donors (monthly gifts still running) and monthly_minor (what
        they bring each month, in the project's currency), in the same query."""
        running = Q(
            recurring_gifts__status__in=RecurringGift.RUNNING_STATUSES,
            recurring_gifts__livemode=settings.STRIPE_LIVEMODE,
        )
        return self.annotate(
            monthly_donors=Count("recurring_gifts", filter=running),
            monthly_minor=Coalesce(
                Sum(
                    "recurring_gifts__amount_minor",
                    filter=running & Q(recurring_gifts__currency=F("currency")),
                ),
                0,
            ),
        )

    def with_monthly_donor_count(self):
        """Annotate monthly_donors alone: what the project page shows with every request.

        Raw SQL because the page builds this query every time it is drawn, and Django
        takes over a millisecond to build the same count as a Subquery (measured in
        bench/profile.md); the names come from the models, the values are parameters.
        """
        recurring = connection.ops.quote_name(RecurringGift._meta.db_table)
        project = connection.ops.quote_name(self.model._meta.db_table)
        running = RecurringGift.RUNNING_STATUSES
        count = RawSQL(  # noqa: S611 (names from the models, values as parameters)
            f"SELECT COUNT(*) FROM {recurring} WHERE {recurring}.project_id = {project}.id "  # noqa: S608
            f"AND {recurring}.status IN ({', '.join(['%s'] * len(running))}) AND {recurring}.livemode = %s",
            (*running, settings.STRIPE_LIVEMODE),
            output_field=models.IntegerField(),
        )
        return self.annotate(monthly_donors=count)

    def with_match_flag(self):
        """Annotate in_a_match: whether any match (campaigns.Match) covers the project, so
        that a page of a project no match ever covered reads no match figures at all."""
        through = Project.matches.through
        return self.annotate(in_a_match=Exists(through.objects.filter(project_id=OuterRef("pk"))))

    def update(self, **kwargs):
        refuse_stored_sums(kwargs, PROJECT_STORED_SUMS)
        return super().update(**kwargs)

    def recount_totals(self):
        """Set the stored totals of these projects (and their ledger months) from their
        gifts' stored nets; returns how many. For after a bulk load or a repair; each
        gift's net is itself checked against its entries by `manage.py check_ledger`.

        Totals count gifts in the project's own currency that count in the key's mode.
        The project rows are locked first, and the sums are read by a later statement:
        on PostgreSQL that statement sees every gift committed while it waited for the
        locks, and a gift paid after that waits for the recount to commit and then adds
        itself on top. Summing in the locking statement itself would read a snapshot
        taken before the wait and write over a gift paid meanwhile.
        """
        from ledger.models import GiftMonth

        with transaction.atomic(), money_writes():
            ids = list(self.select_for_update().order_by("pk").values_list("pk", flat=True))
            counted = (
                Gift.objects.counted()
                .filter(project=OuterRef("pk"), currency=OuterRef("currency"))
                .values("project")
            )
            raised = counted.annotate(total=Sum("net_minor")).values("total")
            # COUNT(*), not COUNT(id): the id is not in gift_net_idx, so counting it
            # would read the table; COUNT(*) stays an index-only scan like the sum.
            count = counted.annotate(n=Count("*")).values("n")
            updated = Project.objects.filter(pk__in=ids).update(
                raised_minor=Coalesce(Subquery(raised), 0),
                gift_count=Coalesce(Subquery(count), 0),
            )
            GiftMonth.objects.rebuild(ids)
            transaction.on_commit(_pages_changed)
        return updated


def _pages_changed():
    from podari.page_cache import bump_content_version

    bump_content_version()


class Project(ImageWithRenditions, ChildPhotoConsent, PullQuote):
    """Something gifts pay for: CAR-T therapy, doctors' education, the general fund."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active: raising money"
        FUNDED = "funded", "Funded"
        CLOSED = "closed", "Closed: no longer taking gifts"

    title = models.CharField(max_length=200)
    short_name = models.CharField(
        max_length=40,
        blank=True,
        help_text="A few words for story tags, e.g. “CAR-T therapy”. Empty: the title is used.",
    )
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.CharField(max_length=300, help_text="One or two sentences for cards and search results.")
    description = MarkdownxField(help_text="Markdown.", validators=[validate_markdown])
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
    # Stored sums of the ledger, moved by ledger.services in the same transaction as the
    # entries, so pages read two columns instead of summing every entry.
    raised_minor = models.BigIntegerField("raised, net of refunds (minor units)", default=0, editable=False)
    gift_count = models.PositiveIntegerField("gifts counted", default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectQuerySet.as_manager()
    has_social_card = True

    # Changed only by database arithmetic (ledger.services) or a recount, never by saving a project.
    STORED_TOTALS = PROJECT_STORED_SUMS

    class Meta:
        ordering = ["position", "title"]
        # The currency (sent to Stripe) and the goal are money: Finance's, and audited.
        permissions = [("change_project_money", "Can change a project's currency and goal")]
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
        if not self._state.adding and not kwargs.get("force_insert") and kwargs.get("update_fields") is None:
            # The totals in this instance were read when it was loaded (an admin form,
            # a second or more ago). Webhooks change them meanwhile with F() arithmetic;
            # writing them back would undo those gifts.
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in self.STORED_TOTALS
            ]
        super().save(*args, **kwargs)
        if getattr(self, "_loaded_currency", self.currency) != self.currency:
            # Only gifts in the project's currency count, so a new currency means a new total.
            Project.objects.filter(pk=self.pk).recount_totals()
            self.refresh_from_db(fields=["raised_minor", "gift_count"])
        self._loaded_currency = self.currency

    def clean(self):
        super().clean()
        # A project is public as soon as it is saved, so its photo needs consent at once.
        self.check_child_consent()
        self.check_pull_quote()

    def photos_must_have_consent(self):
        return True  # public as soon as saved

    def get_absolute_url(self):
        return reverse("donations:project_detail", args=[self.slug])

    @property
    def tag_name(self):
        return self.short_name or self.title

    @cached_property
    def milestone_progress(self):
        """Where the project stands against its milestones (see MilestoneProgress).

        Reads `self.milestones.all()`, so a list of projects prefetches them once.
        """
        return MilestoneProgress.of(self)

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


class ProjectPhoto(GalleryPhoto):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="photos")

    class Meta(GalleryPhoto.Meta):
        verbose_name = "gallery photo"


class ProjectMilestone(models.Model):
    """A step on the way to a project's goal: "$12,000: the next patient's cell product"."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    amount_minor = models.PositiveBigIntegerField(
        "amount (minor units)", help_text="The project's total raised when this step is paid for."
    )
    title = models.CharField(
        max_length=160,
        help_text="What it pays for, to follow “to go to…”, e.g. “fund the next patient’s cell product”.",
    )
    story = models.ForeignKey(
        "stories.Story",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The story that reports this milestone reached, once there is one.",
    )

    class Meta:
        ordering = ["amount_minor", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["project", "amount_minor"], name="one_milestone_per_amount"),
        ]

    def __str__(self):
        return self.title


@dataclass(frozen=True)
class MilestoneProgress:
    """The next milestone and how close it is, from the stored total, in whole minor units."""

    reached: list
    next: ProjectMilestone | None
    to_go_minor: int = 0
    percent: int = 0  # whole percent of the next milestone's amount raised so far, rounded down

    @classmethod
    def of(cls, project):
        raised = project.raised_minor
        milestones = sorted(project.milestones.all(), key=lambda m: (m.amount_minor, m.pk))
        reached = [m for m in milestones if m.amount_minor <= raised]
        upcoming = [m for m in milestones if m.amount_minor > raised]
        if not upcoming:
            return cls(reached=reached, next=None)
        following = upcoming[0]
        return cls(
            reached=reached,
            next=following,
            to_go_minor=following.amount_minor - raised,
            percent=max(raised, 0) * 100 // following.amount_minor,
        )


class AmountMeaning(models.Model):
    """What a preset amount does for a project: "$100 pays for a day of a nurse's care"."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="amount_meanings")
    amount_minor = models.PositiveBigIntegerField("amount (minor units)")
    sentence = models.CharField(
        max_length=160,
        help_text="What this amount does, to follow the amount, e.g. “pays for a day of a nurse’s care”.",
    )

    class Meta:
        ordering = ["amount_minor"]
        constraints = [
            models.UniqueConstraint(fields=["project", "amount_minor"], name="one_meaning_per_amount"),
        ]

    def __str__(self):
        return self.sentence


class GiftQuerySet(models.QuerySet):
    def counted(self):
        """Gifts that count in public totals: money left on their project, from a Stripe
        payment of the key's mode or from offline (test payments never count live)."""
        return self.filter(net_minor__gt=0).filter(
            Q(livemode__isnull=True) | Q(livemode=settings.STRIPE_LIVEMODE)
        )

    def public_donors(self):
        return self.counted().filter(show_name_publicly=True).exclude(donor_name="")

    def locked_for_change(self):
        """Gifts locked to be changed by a handler, each with what a change needs of its
        project (its title names the gift in the audit log; its currency): read in the
        same query, and only the gift's row locked."""
        gift_fields = [field.name for field in Gift._meta.concrete_fields]
        return (
            self.select_for_update(of=("self",))
            .select_related("project")
            .only(*gift_fields, "project__title", "project__currency")
        )

    def update(self, **kwargs):
        refuse_stored_sums(kwargs, GIFT_STORED_SUMS)
        return super().update(**kwargs)


def unique_row(queryset):
    """The first row of a lookup by a unique field, or None (without .first()'s ORDER BY)."""
    return next(iter(queryset.order_by()[:1]), None)


class Gift(models.Model):
    """One gift, recorded first when the donor submits the form, then settled by Stripe's webhooks.

    The money is the gift's ledger entries (ledger.Entry), written by ledger.services:
    `amount_minor`, `currency` and `fee_covered_minor` say what the gift is (asked for, then
    as Stripe charged it); `net_minor` is the stored sum of what it gives its project now.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending: waiting for Stripe"
        NOT_STARTED = "not_started", "Not started: Stripe could not be reached"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        ABANDONED = "abandoned", "Abandoned: checkout expired"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"
        VOID = "void", "Void: recorded in error"

    class Frequency(models.TextChoices):
        ONE_TIME = "one_time", "One-time"
        MONTHLY = "monthly", "Monthly"

    class Source(models.TextChoices):
        STRIPE = "stripe", "Online (Stripe)"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CHEQUE = "cheque", "Check"
        CASH = "cash", "Cash"
        EVENT = "event", "Event takings"

    class Dedication(models.TextChoices):
        NONE = "", "No dedication"
        HONOUR = "honour", "In honor of"
        MEMORY = "memory", "In memory of"

    class DisputeStatus(models.TextChoices):
        NONE = "", "No dispute"
        OPEN = "open", "Disputed: money held back"
        WON = "won", "Dispute won: money returned"
        LOST = "lost", "Dispute lost"

    class OwnerSees(models.TextChoices):
        NAME_AND_AMOUNT = "name_amount", "My name and the amount"
        NAME = "name", "My name only"
        ANONYMOUS = "anonymous", "Nothing: I give anonymously"

    PAID_STATUSES = (Status.SUCCEEDED, Status.PARTIALLY_REFUNDED, Status.REFUNDED)
    UNSETTLED_STATUSES = (Status.PENDING, Status.NOT_STARTED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="gifts")
    amount_minor = models.PositiveBigIntegerField("amount (minor units)")
    currency = models.CharField(max_length=3)
    # The stored sum of the gift's entries on its project's account: what it gives its
    # project now, after refunds, disputes and moves (see ledger.services).
    net_minor = models.BigIntegerField("counts for (minor units)", default=0, db_default=0, editable=False)
    dispute_status = models.CharField(
        max_length=10, choices=DisputeStatus.choices, blank=True, default="", db_default=""
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.ONE_TIME)
    livemode = models.BooleanField(
        "live mode",
        null=True,
        blank=True,
        default=key_livemode,
        help_text="Stripe's mode (test payments never count on a live site); empty for offline gifts.",
    )

    donor_name = models.CharField(max_length=200, blank=True)
    donor_email = models.EmailField(blank=True)
    show_name_publicly = models.BooleanField("show name on the donor list", default=False)
    dedication = models.CharField(max_length=10, choices=Dedication.choices, blank=True, default="")
    dedication_name = models.CharField(max_length=200, blank=True)
    # The donor may have the honoree's family told of the dedication by email, once the gift
    # is paid: their own words, and the amount only if they choose.
    dedication_notify_email = models.EmailField("tell by email", blank=True)
    dedication_message = models.TextField("message to them", blank=True)
    dedication_shows_amount = models.BooleanField("tell them the amount", default=False)
    # "Email me stories", as ticked on the donate form: applied to the donor only once this
    # gift is paid, and never over an unsubscribe (see donors/consent.py).
    wants_impact_emails = models.BooleanField(
        "asked for stories on the donate form", default=False, db_default=False
    )

    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_dispute_id = models.CharField(max_length=255, blank=True, default="", db_default="")
    # One gift per paid invoice of a monthly gift.
    stripe_invoice_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    recurring_gift = models.ForeignKey(
        "RecurringGift", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    donor = models.ForeignKey("Donor", on_delete=models.SET_NULL, null=True, blank=True, related_name="gifts")
    source = models.CharField(
        max_length=20, choices=Source.choices, default=Source.STRIPE, db_default=Source.STRIPE
    )
    # What the donor added so all of amount_minor reaches the project (Stripe's fee);
    # charged on top of amount_minor and never counted in a project's total.
    fee_covered_minor = models.PositiveBigIntegerField(default=0, db_default=0)
    note = models.TextField(
        blank=True, default="", db_default="", help_text="For offline gifts: where it came from."
    )
    # What the donor's card was charged when Adaptive Pricing showed them their own
    # currency; refunds and disputes arrive in it and are converted with these amounts.
    charged_amount_minor = models.PositiveBigIntegerField(null=True, blank=True)
    charged_currency = models.CharField(max_length=3, blank=True, default="", db_default="")
    # The Stripe time of the newest refund information applied, so an older event
    # (a charge.refunded sent before a refund failed) never undoes a newer one.
    refunds_as_of = models.BigIntegerField(null=True, blank=True, editable=False)

    # A gift made on a supporter's fundraiser page: still one gift to `project`, counted
    # once there; the page's figures are sums of its gifts' entries (ledger.figures).
    fundraiser = models.ForeignKey(
        "fundraisers.Fundraiser", on_delete=models.PROTECT, null=True, blank=True, related_name="gifts"
    )
    owner_sees = models.CharField(
        "the page's owner sees",
        max_length=12,
        choices=OwnerSees.choices,
        default=OwnerSees.ANONYMOUS,
        db_default=OwnerSees.ANONYMOUS,
        help_text="What the donor let the fundraiser's owner see. Never their email.",
    )

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
            # Project totals are recounted from this index alone (an index-only scan on PostgreSQL).
            models.Index(
                fields=["project", "currency"],
                include=["net_minor", "livemode"],
                name="gift_net_idx",
            ),
            # The named donors on a project page, without scanning its other gifts.
            models.Index(
                fields=["project", "-paid_at"],
                condition=Q(show_name_publicly=True, net_minor__gt=0),
                name="gift_named_donors_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(net_minor__gte=0), name="gift_net_not_negative"),
        ]

    def __str__(self):
        return f"Gift #{self.pk} to {self.project}"

    def save(self, *args, **kwargs):
        """Save what the gift is; never its stored sum, which only ledger.services moves
        (an instance loaded earlier, by an admin form, may hold an old one)."""
        if kwargs.get("update_fields") is not None:
            refuse_stored_sums(kwargs["update_fields"], GIFT_STORED_SUMS)
        elif not self._state.adding and not kwargs.get("force_insert") and not _money_writes.get():
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name not in GIFT_STORED_SUMS
            ]
        elif self._state.adding and self.net_minor and not _money_writes.get():
            raise MoneyWriteOutsideLedger(
                "A new gift counts for nothing until the ledger records its payment."
            )
        super().save(*args, **kwargs)

    def remember_locked_row(self):
        """Keep this gift as just read with select_for_update(): save_changes() then writes
        only what differs from it, and audits exactly that, without reading the row again.
        Only for a gift this transaction has just locked."""
        self.__dict__.pop("_locked_row", None)
        self._locked_row = copy.copy(self)

    def save_changes(self):
        """Save a gift: a new one is inserted (the audit log records its creation); a
        locked one writes the fields that differ from the row as locked, with one audit
        entry of the values before and after."""
        old = self.__dict__.pop("_locked_row", None)
        if self._state.adding or old is None or old.pk != self.pk:
            self.save()
            return
        fields = [
            f.name
            for f in self._meta.concrete_fields
            if not f.primary_key and getattr(self, f.attname) != getattr(old, f.attname)
        ]
        if not _money_writes.get():
            fields = [name for name in fields if name not in GIFT_STORED_SUMS]
        fields.append("updated_at")  # auto_now: written on every save
        audit_update(old, self, fields)
        with disable_auditlog():
            self.save(update_fields=fields)

    def delete(self, *args, **kwargs):
        if self.entries.exists():
            raise MoneyWriteOutsideLedger("A gift with ledger entries is voided, never deleted.")
        return super().delete(*args, **kwargs)

    @property
    def is_paid(self):
        return self.status in self.PAID_STATUSES

    @property
    def is_monthly(self):
        return self.frequency == self.Frequency.MONTHLY

    @property
    def total_to_charge_minor(self):
        """What Checkout charges for this gift: the gift and the fee the donor chose to
        cover (what was charged is in the ledger: ledger.figures.GiftMoney)."""
        return self.amount_minor + self.fee_covered_minor

    @property
    def is_offline(self):
        return self.source != self.Source.STRIPE

    @property
    def counts_in_this_mode(self):
        return self.livemode is None or self.livemode == settings.STRIPE_LIVEMODE

    def flag(self, reason):
        self.needs_review = True
        self.review_reason = "\n".join(filter(None, [self.review_reason, reason]))

    # State changes that move no money (ledger.services records the money).

    def mark_checkout_started(self, session_id):
        self.stripe_checkout_session_id = session_id

    def mark_not_started(self):
        if self.status == self.Status.PENDING:
            self.status = self.Status.NOT_STARTED

    def attach_donor(self):
        """Tie the gift to its donor (by email), for receipts and self-service."""
        if self.donor_id is None and self.donor_email:
            self.donor = Donor.for_email(self.donor_email, name=self.donor_name)

    def mark_failed(self):
        if self.status in self.UNSETTLED_STATUSES:
            self.status = self.Status.FAILED

    def mark_abandoned(self):
        if self.status in self.UNSETTLED_STATUSES:
            self.status = self.Status.ABANDONED

    def split_charge_amount(self, amount, currency, *, charge_amount=None):
        """An amount Stripe states of the charge (a refund, a dispute), in this gift's
        currency, as (the gift's share, the covered fee's share). None when it cannot be
        converted from amounts Stripe stated.

        The charge is the gift plus the fee the donor covered, so each part of an amount
        taken back is the same share of the charge: a full refund is exactly the gift and
        exactly the fee. With Adaptive Pricing the charge is in the donor's currency and
        is converted by the two totals Stripe stated. Integer arithmetic, rounding half up.
        """
        currency = (currency or "").lower()
        ours = self.amount_minor + self.fee_covered_minor
        if currency == self.currency:
            charged = charge_amount or ours
            in_ours = amount if charged == ours else _share(amount, ours, charged)
        elif currency and currency == self.charged_currency and self.charged_amount_minor:
            charged = charge_amount or self.charged_amount_minor
            in_ours = _share(amount, ours, charged)
        else:
            return None
        if not ours:
            return None
        gift_share = _share(in_ours, self.amount_minor, ours)
        return gift_share, in_ours - gift_share


def audit_update(old, new, fields):
    """Record an update in the audit log as django-auditlog's own receiver would, with
    `old` (the row as locked) as the values before: the receiver would read it again."""
    from auditlog.diff import model_instance_diff
    from auditlog.models import LogEntry
    from auditlog.registry import auditlog

    if auditlog_disabled.get() or not auditlog.contains(type(new)):
        return
    changes = model_instance_diff(
        old, new, fields_to_check=fields, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
    )
    if not changes:
        return
    project_field = Gift._meta.get_field("project")
    if isinstance(new, Gift) and not project_field.is_cached(new):
        # The entry names the gift by its project (str(gift)), which needs only the title:
        # not the whole project row (its texts and pictures) a handler that locked the gift
        # has not loaded. Any other field of it is still read on demand.
        project_field.set_cached_value(new, Project.objects.only("id", "title").get(pk=new.project_id))
    LogEntry.objects.log_create(new, action=LogEntry.Action.UPDATE, changes=changes)


def _share(amount, part, whole):
    """amount × part / whole, rounded half up, in integers."""
    return (amount * part * 2 + whole) // (whole * 2)


class GiftMove(models.Model):
    """A paid gift credited to another project by a member of staff: the record of who and why."""

    gift = models.ForeignKey(Gift, on_delete=models.PROTECT, related_name="moves")
    from_project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    to_project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="+")
    moved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    moved_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-moved_at"]

    def __str__(self):
        return f"Gift #{self.gift_id}: {self.from_project} → {self.to_project}"


class Donor(models.Model):
    """A person who gave, known by email. Never shown publicly."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)
    wants_impact_emails = models.BooleanField(
        "email me stories about what my gift does",
        default=False,
        help_text="Given by the donor: a paid gift's tick or a confirmed link (see its consent history).",
    )
    impact_consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email"]

    def __str__(self):
        return self.name or self.email

    @staticmethod
    def normalize_email(email):
        return (email or "").strip().lower()

    @classmethod
    def for_email(cls, email, *, name=""):
        """The donor with this email, created if new. Returns None without an email."""
        email = cls.normalize_email(email)
        if not email:
            return None
        try:
            return cls.objects.get(email=email)
        except cls.DoesNotExist:
            pass
        # Without get_or_create's savepoint: a donor whose two gifts arrive at the same
        # moment is inserted once, and the other insert finds the first one's row.
        donor = cls(email=email, name=name or "")
        if insert_unless_exists(donor, "email"):
            return donor
        return cls.objects.get(email=email)


class RecurringGift(models.Model):
    """A monthly gift: one Stripe subscription. Each paid invoice becomes a Gift."""

    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Checkout started"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due: the last payment failed"
        CANCELLED = "cancelled", "Cancelled"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="recurring_gifts")
    donor = models.ForeignKey(
        Donor, on_delete=models.PROTECT, null=True, blank=True, related_name="recurring_gifts"
    )
    amount_minor = models.PositiveBigIntegerField("monthly amount (minor units)")
    currency = models.CharField(max_length=3)
    fee_covered_minor = models.PositiveBigIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INCOMPLETE)
    livemode = models.BooleanField(default=key_livemode)
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True)
    # From the subscription's webhooks: when the current month ends (the next charge), and
    # until when the donor paused it (Stripe's pause_collection.resumes_at).
    current_period_end = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True)
    # Stripe's time of the newest subscription state applied: an older event never wins.
    state_as_of = models.BigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # Still giving: counted as monthly donors and in monthly recurring revenue.
    RUNNING_STATUSES = (Status.ACTIVE, Status.PAST_DUE)

    # Stripe's subscription statuses, as this site names them (others leave the status as is).
    STRIPE_STATUSES = {
        "active": Status.ACTIVE,
        "trialing": Status.ACTIVE,
        "past_due": Status.PAST_DUE,
        "unpaid": Status.PAST_DUE,
        "canceled": Status.CANCELLED,
        "incomplete_expired": Status.CANCELLED,
        "incomplete": Status.INCOMPLETE,
    }

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Monthly gift #{self.pk} to {self.project}"

    @classmethod
    def begin(cls, gift):
        """The record of a monthly gift a donor has just asked for; `gift` (pending) is
        its first payment. Stripe creates the subscription after that payment."""
        recurring = cls.objects.create(
            project=gift.project,
            donor=gift.donor,
            amount_minor=gift.amount_minor,
            currency=gift.currency,
            fee_covered_minor=gift.fee_covered_minor,
            livemode=gift.livemode,
        )
        gift.recurring_gift = recurring
        gift.frequency = Gift.Frequency.MONTHLY
        gift.save(update_fields=["recurring_gift", "frequency", "updated_at"])
        return recurring

    @property
    def is_running(self):
        return self.status in self.RUNNING_STATUSES

    @property
    def is_paused(self):
        return self.paused_until is not None and self.paused_until > timezone.now()

    @property
    def next_charge_at(self):
        """When Stripe charges next, as its webhooks said: the end of the current month. None
        while paused (Stripe voids the invoices until the pause ends) or ending."""
        if not self.is_running or self.cancel_at_period_end or self.is_paused:
            return None
        return self.current_period_end

    @property
    def monthly_charge_minor(self):
        """What Stripe charges each month: the gift and the fee the donor chose to cover."""
        return self.amount_minor + self.fee_covered_minor

    def set_state(self, *, as_of, status=None, cancel_at_period_end=None, cancelled_at=None, reason=None):
        """Apply the subscription's state as Stripe stated it at `as_of` (Unix seconds).

        Older information than what was applied changes nothing, and a cancelled
        subscription stays cancelled: Stripe cannot start a cancelled one again.
        Returns whether anything was applied.
        """
        if self.state_as_of is not None and as_of < self.state_as_of:
            return False
        if self.status == self.Status.CANCELLED and status != self.Status.CANCELLED:
            return False
        self.state_as_of = as_of
        if status is not None:
            self.status = status
        if cancel_at_period_end is not None:
            self.cancel_at_period_end = cancel_at_period_end
        if status == self.Status.CANCELLED:
            self.cancel_at_period_end = False
            self.cancelled_at = self.cancelled_at or cancelled_at or timezone.now()
        if reason is not None:
            self.cancellation_reason = reason
        return True

    def mark_started(self, *, subscription_id, customer_id="", as_of):
        """The first payment went through: Stripe created the subscription."""
        self.stripe_subscription_id = self.stripe_subscription_id or subscription_id
        self.stripe_customer_id = self.stripe_customer_id or customer_id or ""
        self.started_at = self.started_at or timezone.now()
        if self.status == self.Status.INCOMPLETE:
            self.set_state(as_of=as_of, status=self.Status.ACTIVE)


class StripeEventQuerySet(models.QuerySet):
    def insert_unless_stored(self, event):
        """Insert a new event unless one with its Stripe id is stored. True when this
        inserted it (event.pk is then set). A second delivery of the event, even at the
        same moment, waits on the unique Stripe id until the first one's transaction
        ends, then inserts nothing (see insert_unless_exists)."""
        return insert_unless_exists(event, "stripe_id")

    def any_waiting_for(self, payment_id):
        """Whether an event about this payment is stored, waiting for its gift.

        Asked on every payment and almost always answered no, so it is one plain
        statement: building exists() through the ORM cost more than running it."""
        meta = self.model._meta
        connection = transaction.get_connection(self.db)
        quote = connection.ops.quote_name
        column = meta.get_field("payment_id").column
        sql = (
            f"SELECT 1 FROM {quote(meta.db_table)} "  # noqa: S608 (names from the model's meta)
            f"WHERE {quote(column)} = %s AND {quote(meta.get_field('status').column)} = %s LIMIT 1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [payment_id, self.model.Status.UNMATCHED.value])
            return cursor.fetchone() is not None


class StripeEvent(models.Model):
    """Every verified webhook event, stored before it is applied, so it can be replayed."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Stored, no handler"
        SKIPPED = "skipped", "Stored, not this site's"
        UNMATCHED = "unmatched", "Stored, waiting for its gift"
        FAILED = "failed", "Failed"

    # Statuses whose events are never applied again (by a retry or a replay).
    FINAL_STATUSES = (Status.PROCESSED, Status.IGNORED, Status.SKIPPED)

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    api_version = models.CharField(max_length=50, blank=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    note = models.CharField(max_length=500, blank=True, help_text="Why it was skipped or is waiting.")
    # The payment the event is about: its payment intent, or for an invoice payment, the
    # invoice. An event that arrives before its payment is recorded (a refund, a dispute,
    # an invoice payment) waits here, found by this id, and is applied when it is.
    payment_id = models.CharField(max_length=255, blank=True, db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    objects = StripeEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.stripe_id}"

    @property
    def data_object(self):
        return self.payload["data"]["object"]

    @property
    def created(self):
        """Stripe's time for the event, in whole seconds."""
        created = self.payload.get("created")
        return created if isinstance(created, int) else 0


class SimulatedStripeEvent(models.Model):
    """Simulated checkout only: every event the simulated Stripe sent, and whether it
    reached the webhook (a donor can pay "without the webhook" to try reconciliation).
    Reconciliation's list and retrieve calls are answered from these, as Stripe answers
    them from its own records (donations/simulated_stripe.py)."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    # The id of the event's data.object: a session, invoice, subscription...
    object_id = models.CharField(max_length=255, db_index=True)
    created = models.BigIntegerField(help_text="Stripe's time, Unix seconds.")
    payload = models.JSONField()
    delivered = models.BooleanField()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self):
        return f"{self.type} {self.stripe_id}"
