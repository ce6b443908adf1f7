from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from donations import webhooks
from donations.models import (
    AmountMeaning,
    Gift,
    GiftMove,
    Project,
    ProjectMilestone,
    ProjectPhoto,
    RecurringGift,
    StripeEvent,
)
from donations.money import (
    currency_label,
    format_money,
    format_signed_money,
    parse_major_amount,
    project_currencies,
    to_major,
)
from donors.actions import resend_receipts
from ledger import figures, services
from ledger.admin import GiftCsvExportMixin
from ledger.figures import ProjectLedger
from podari.donor_data_admin import DonorDataAdmin, may_see_donors
from podari.gallery_admin import PICTURE_FIELDS, GalleryInline, OptionalInlineFormSet, PhotoConsentAdmin

MONEY_PERMISSION = "donations.change_project_money"


class ProjectAdminForm(forms.ModelForm):
    """The goal in the project's own money ("5,000" dollars), not in minor units.

    The currency (sent to Stripe) and the goal are money: only staff with the finance
    permission may change them, the currency only to one of PROJECT_CURRENCIES, and
    django-auditlog keeps every change (donations/apps.py). For everyone else they show,
    disabled: what is posted for them is ignored."""

    goal = forms.CharField(
        required=False,
        help_text="In the project's currency, e.g. 5,000 or 5000.00. Leave empty for no goal.",
    )
    currency = forms.ChoiceField(help_text="Gifts to the project are in this currency; Stripe charges it.")
    may_change_money = True  # set per request by ProjectAdmin.get_form
    may_change_text = True

    class Meta:
        model = Project
        fields = [
            "title", "short_name", "slug", "summary", "description", "image", "image_alt",
            "image_shows_child", "image_guardian_consent", "quote", "quote_name", "quote_role",
            "currency", "status", "is_general_fund", "is_featured", "position",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.goal_minor:
            self.initial["goal"] = str(to_major(self.instance.goal_minor, self.instance.currency))
        current = (self.instance.currency or settings.DEFAULT_CURRENCY).lower()
        codes = project_currencies()
        # A currency set before the list existed stays shown (and kept) until it is changed.
        codes += [current] if current not in codes else []
        self.fields["currency"].choices = [(code, currency_label(code)) for code in codes]
        self.initial.setdefault("currency", current)
        for name, field in self.fields.items():
            money = name in ("currency", "goal")
            if (money and not self.may_change_money) or (not money and not self.may_change_text):
                field.disabled = True

    def clean(self):
        cleaned = super().clean()
        if not self.may_change_money:
            return cleaned  # the disabled goal and currency are the instance's own
        text = (cleaned.get("goal") or "").strip()
        currency = (cleaned.get("currency") or self.instance.currency or "").lower()
        self.instance.goal_minor = None
        if text and currency:
            try:
                self.instance.goal_minor = parse_major_amount(text, currency) or None
            except ValueError as exc:
                self.add_error("goal", str(exc))
        return cleaned


class MajorAmountInlineForm(forms.ModelForm):
    """An amount typed in the project's own money ("100" dollars), stored in minor units."""

    amount = forms.CharField(help_text="In the project's currency, e.g. 100 or 12,000.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.amount_minor is not None and self.instance.project_id:
            self.initial["amount"] = str(to_major(self.instance.amount_minor, self.instance.project.currency))

    def clean(self):
        cleaned = super().clean()
        text = (cleaned.get("amount") or "").strip()
        if text:
            try:
                amount_minor = parse_major_amount(text, self.instance.project.currency)
            except ValueError as exc:
                self.add_error("amount", str(exc))
            else:
                if amount_minor <= 0:
                    self.add_error("amount", "Enter an amount above zero.")
                self.instance.amount_minor = amount_minor
        return cleaned


class MilestoneInlineForm(MajorAmountInlineForm):
    class Meta:
        model = ProjectMilestone
        fields = ["amount", "title", "story"]


class AmountMeaningInlineForm(MajorAmountInlineForm):
    class Meta:
        model = AmountMeaning
        fields = ["amount", "sentence"]


class MilestoneInline(admin.TabularInline):
    model = ProjectMilestone
    form = MilestoneInlineForm
    formset = OptionalInlineFormSet
    extra = 1
    autocomplete_fields = ["story"]
    verbose_name_plural = "milestones (the project's total raised when each step is paid for)"


class AmountMeaningInline(admin.TabularInline):
    model = AmountMeaning
    form = AmountMeaningInlineForm
    formset = OptionalInlineFormSet
    extra = 1
    verbose_name = "what an amount does"
    verbose_name_plural = "what each amount does (shown on the donate form beside the preset amounts)"


class ProjectPhotoInline(GalleryInline):
    model = ProjectPhoto


MONEY_FIELDS = [
    "goal", "currency", "status", "is_general_fund", "raised", "gift_count",
    "monthly_donors", "monthly_revenue", "ledger",
]  # fmt: skip


@admin.register(Project)
class ProjectAdmin(PhotoConsentAdmin, admin.ModelAdmin):
    form = ProjectAdminForm
    inlines = [MilestoneInline, AmountMeaningInline, ProjectPhotoInline]

    class Media:
        # The description's live preview in the site's own styles (see stories.admin).
        css = {"all": ["css/admin-editor.css"]}

    # General fund and featured are filters, not columns: the money columns fit 1280 px.
    list_display = [
        "title",
        "status_name",
        "goal",
        "raised",
        "gift_count",
        "monthly_donors",
        "monthly_revenue",
    ]
    list_filter = ["status", "is_general_fund", "is_featured"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = [
        "raised", "gift_count", "monthly_donors", "monthly_revenue", "ledger", "withdraw_photo_link",
    ]  # fmt: skip
    actions = ["recount_totals"]
    fieldsets = [
        (None, {"fields": ["title", "short_name", "slug", "summary", "description"]}),
        ("Picture", {"fields": PICTURE_FIELDS}),
        ("Pull quote", {"fields": ["quote", "quote_name", "quote_role"]}),
        (
            "Money",
            {"fields": [*MONEY_FIELDS]},
        ),
        ("Listing", {"fields": ["is_featured", "position"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_monthly_giving()

    def has_change_permission(self, request, obj=None):
        # Finance may open a project to change its currency and goal, and nothing else.
        return super().has_change_permission(request, obj) or request.user.has_perm(MONEY_PERMISSION)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        may_change_text = super().has_change_permission(request, obj) or (
            obj is None and self.has_add_permission(request)
        )
        return type(
            form.__name__,
            (form,),
            {"may_change_money": request.user.has_perm(MONEY_PERMISSION), "may_change_text": may_change_text},
        )

    def get_inline_instances(self, request, obj=None):
        if obj is not None and not super().has_change_permission(request, obj):
            return []  # Finance changes the money, not the milestones, texts or photos
        return super().get_inline_instances(request, obj)

    @admin.display(description="monthly", ordering="monthly_donors")
    def monthly_donors(self, project):
        return getattr(project, "monthly_donors", 0)

    @admin.display(description="status", ordering="status")
    def status_name(self, project):
        # "Active: raising money" → "Active": the filter and the project page say the rest.
        return project.get_status_display().split(":")[0]

    @admin.display(description="a month", ordering="monthly_minor")
    def monthly_revenue(self, project):
        # Active and past-due monthly gifts in the project's currency: what comes in each month.
        return format_money(getattr(project, "monthly_minor", 0), project.currency)

    @admin.display(description="goal")
    def goal(self, project):
        return format_money(project.goal_minor, project.currency) if project.goal_minor else "—"

    @admin.display(description="raised, net", ordering="raised_minor")
    def raised(self, project):
        return format_money(project.raised_minor, project.currency)

    @admin.display(description="gifts", ordering="gift_count")
    def gift_count(self, project):
        return project.gift_count

    @admin.display(description="raised, used, available (the public ledger)")
    def ledger(self, project):
        if not project.pk:
            return "—"
        return (
            "; ".join(
                f"{f.currency.upper()}: {f.raised} raised, {f.used} used, {f.available} available"
                for f in ProjectLedger(project).figures
            )
            or "Nothing given or spent yet."
        )

    @admin.action(
        description="Recount the totals of the selected projects from their gifts", permissions=["change"]
    )
    def recount_totals(self, request, queryset):
        # Totals stay exact by themselves; this repairs them after a hand edit in the database.
        # The list's queryset carries the monthly-giving sums (GROUP BY), which cannot be
        # locked row by row: recount the same projects from a plain queryset.
        updated = Project.objects.filter(pk__in=list(queryset.values_list("pk", flat=True))).recount_totals()
        self.message_user(request, f"Recounted the totals of {updated} project(s).", messages.SUCCESS)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        from markdownx.widgets import AdminMarkdownxWidget

        if db_field.name == "description":
            kwargs["widget"] = AdminMarkdownxWidget
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class MoveGiftsForm(forms.Form):
    to_project = forms.ModelChoiceField(
        queryset=Project.objects.all(), label="Move to", help_text="The project these gifts will count for."
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with each gift, with your name and the time, e.g. 'donor asked by email'.",
    )


# Stripe's record of the money, and the ledger's: shown, never edited here.
STRIPE_FIELDS = [
    "public_id", "project", "source", "amount", "fee_covered", "refunded", "held_by_dispute",
    "lost_to_dispute", "counts_for", "ledger_entries", "status", "dispute_status", "frequency",
    "recurring_gift", "fundraiser", "owner_sees", "livemode", "stripe_checkout_session_id",
    "stripe_payment_intent_id", "stripe_charge_id", "stripe_invoice_id", "stripe_dispute_id", "paid_at",
    "created_at", "updated_at",
]  # fmt: skip
# What staff may correct: how the donor is named and thanked, and the review flag.
EDITABLE_FIELDS = [
    "donor_name", "donor_email", "show_name_publicly", "dedication", "dedication_name",
    "needs_review", "review_reason",
]  # fmt: skip


# What only staff with the donor-viewing permission see of a gift (podari/donor_data_admin.py).
GIFT_DONOR_FIELDS = (
    "donor_name", "donor_email", "show_name_publicly", "dedication", "dedication_name", "note",
    "wants_impact_emails", "donor",
)  # fmt: skip


class GiftStatusFilter(admin.SimpleListFilter):
    """Abandoned checkouts (a donor who left Stripe's page) are hidden unless asked for:
    they are most rows and no money."""

    title = "status"
    parameter_name = "status__exact"  # as the field's own filter had it: bookmarks keep working
    ANY = "any"

    def lookups(self, request, model_admin):
        return [(self.ANY, "Any, abandoned included"), *Gift.Status.choices]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset.exclude(status=Gift.Status.ABANDONED)
        if self.value() == self.ANY:
            return queryset
        return queryset.filter(status=self.value())

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        choices[0]["display"] = "All but abandoned"
        return choices


class FrequencyFilter(admin.SimpleListFilter):
    title = "one-time or monthly"
    parameter_name = "frequency__exact"

    def lookups(self, request, model_admin):
        return Gift.Frequency.choices

    def queryset(self, request, queryset):
        return queryset.filter(frequency=self.value()) if self.value() else queryset


class NeedsReviewFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "needs_review__exact"

    def lookups(self, request, model_admin):
        return [("1", "Needs review"), ("0", "Nothing to review")]

    def queryset(self, request, queryset):
        if self.value() in ("1", "0"):
            return queryset.filter(needs_review=self.value() == "1")
        return queryset


@admin.register(Gift)
class GiftAdmin(DonorDataAdmin, GiftCsvExportMixin, admin.ModelAdmin):
    # Short columns, so the list fits a 1280 px screen beside the filters without scrolling sideways.
    list_display = ["date", "donor_shown", "amount", "project_name", "status_name"]
    list_display_links = ["date"]
    list_filter = [
        GiftStatusFilter,
        NeedsReviewFilter,
        FrequencyFilter,
        "source",
        "project",
        "dispute_status",
        "livemode",
        "created_at",
        "currency",
    ]
    search_fields = [
        "donor_name", "donor_email", "stripe_checkout_session_id", "stripe_payment_intent_id",
        "stripe_charge_id", "stripe_invoice_id", "public_id",
    ]  # fmt: skip
    date_hierarchy = "created_at"
    list_select_related = ["project"]
    readonly_fields = [*STRIPE_FIELDS, "moves", "moves_plain"]
    fields = [*STRIPE_FIELDS, "moves", *EDITABLE_FIELDS]
    actions = ["move_to_another_project", resend_receipts]
    donor_fields = GIFT_DONOR_FIELDS
    donor_list_display = ["donor_shown"]
    donor_search_fields = ["donor_name", "donor_email"]
    donor_lookups = GIFT_DONOR_FIELDS
    donor_csv_columns = ["donor_name", "donor_email", "note"]
    donor_field_substitutes = {"moves": "moves_plain"}

    def has_add_permission(self, request):
        # Gifts come from Stripe; a hand-made one would claim money that never arrived.
        return False

    def has_delete_permission(self, request, obj=None):
        # A gift is a record of money received; refunds come from Stripe, not deletion.
        return False

    def save_model(self, request, obj, form, change):
        # Only the fields staff changed are written: the rest of this instance was read
        # when the form was opened, and a webhook may have paid or refunded the gift since.
        changed = [name for name in form.changed_data if name in EDITABLE_FIELDS]
        if changed:
            obj.save(update_fields=[*changed, "updated_at"])

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, gift):
        # A monthly payment says so here: a column of its own would not fit 1280 px.
        money = format_money(gift.amount_minor, gift.currency)
        return f"{money} monthly" if gift.frequency == Gift.Frequency.MONTHLY else money

    @admin.display(description="date", ordering="created_at")
    def date(self, gift):
        return timezone.localtime(gift.created_at).strftime("%Y-%m-%d")

    @admin.display(description="donor", ordering="donor_name")
    def donor_shown(self, gift):
        return gift.donor_name or gift.donor_email or "—"

    @admin.display(description="project", ordering="project__title")
    def project_name(self, gift):
        return gift.project.tag_name

    @admin.display(description="status", ordering="status")
    def status_name(self, gift):
        # "Pending: waiting for Stripe" → "Pending": the filter and the gift page say the rest.
        # Review in words beside the status, not a column of red icons that is mostly empty.
        status = gift.get_status_display().split(":")[0]
        if gift.needs_review:
            return format_html('{} · <strong class="needs-review">needs review</strong>', status)
        return status

    @admin.display(description="moved between projects")
    def moves(self, gift):
        lines = [
            f"{move.moved_at:%Y-%m-%d %H:%M} by {move.moved_by}: {move.from_project} → "
            f"{move.to_project} ({move.reason})"
            for move in gift.moves.select_related("moved_by", "from_project", "to_project")
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"

    def _money(self, gift):
        if not hasattr(gift, "money"):
            gift.money = figures.gift_money(gift)
        return gift.money

    @admin.display(description="moved between projects")
    def moves_plain(self, gift):
        # The reason staff typed may name the donor ("Zinaida asked by phone").
        lines = [
            f"{move.moved_at:%Y-%m-%d %H:%M} by {move.moved_by}: {move.from_project} → {move.to_project}"
            for move in gift.moves.select_related("moved_by", "from_project", "to_project")
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"

    @admin.display(description="fee covered by the donor (not counted)")
    def fee_covered(self, gift):
        return self._money(gift).money("covered_fee")

    @admin.display(description="refunded (gift and covered fee)")
    def refunded(self, gift):
        return self._money(gift).money("refunded")

    @admin.display(description="held by a dispute")
    def held_by_dispute(self, gift):
        return self._money(gift).money("held")

    @admin.display(description="lost to a dispute")
    def lost_to_dispute(self, gift):
        return self._money(gift).money("lost")

    @admin.display(description="counts for its project now")
    def counts_for(self, gift):
        return self._money(gift).money("net")

    @admin.display(description="ledger entries")
    def ledger_entries(self, gift):
        lines = [
            f"{timezone.localtime(e.occurred_at):%Y-%m-%d %H:%M} {e.get_kind_display()} "
            f"({e.get_account_display().lower()}, {e.project}): "
            f"{format_signed_money(e.amount_minor, e.currency)} — {e.get_source_display()}"
            f"{' ' + e.stripe_event_id if e.stripe_event_id else ''}"
            for e in gift.entries.select_related("project").order_by("occurred_at", "pk")
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"

    @admin.action(description="Move to another project…", permissions=["change"])
    def move_to_another_project(self, request, queryset):
        if "apply" in request.POST:
            form = MoveGiftsForm(request.POST)
            if form.is_valid():
                to_project = form.cleaned_data["to_project"]
                moved = 0
                for gift in queryset:
                    if services.move_gift(
                        gift, to_project, by=request.user, reason=form.cleaned_data["reason"]
                    ):
                        moved += 1
                self.message_user(request, f"Moved {moved} gift(s) to {to_project}.", messages.SUCCESS)
                return None
        else:
            form = MoveGiftsForm()
        return TemplateResponse(
            request,
            "admin/donations/gift/move_to_project.html",
            {
                **self.admin_site.each_context(request),
                "title": "Move gifts to another project",
                "gifts": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            # Money that arrived, from the ledger: checkouts never paid have no entries.
            response.context_data["filtered_totals"] = figures.totals_of(changelist.queryset)
        return response


@admin.register(RecurringGift)
class RecurringGiftAdmin(DonorDataAdmin, admin.ModelAdmin):
    """Monthly gifts: Stripe's subscriptions as this site knows them. Read only: donors
    change or cancel them in Stripe's customer portal, and Stripe's events update them here."""

    list_display = [
        "id",
        "created_at",
        "project",
        "monthly_amount",
        "status",
        "cancel_at_period_end",
        "donor",
    ]
    list_filter = ["status", "project", "cancel_at_period_end", "livemode", "currency"]
    search_fields = ["donor__email", "stripe_subscription_id", "stripe_customer_id", "public_id"]
    list_select_related = ["project", "donor"]
    date_hierarchy = "created_at"
    fields = [
        "public_id", "project", "donor", "monthly_amount", "fee_covered", "status", "cancel_at_period_end",
        "started_at", "cancelled_at", "cancellation_reason", "livemode", "stripe_checkout_session_id",
        "stripe_subscription_id", "stripe_customer_id", "payments_made", "created_at", "updated_at",
    ]  # fmt: skip
    readonly_fields = fields
    donor_fields = donor_list_display = ["donor", "cancellation_reason"]
    donor_search_fields = donor_lookups = ["donor__email", "donor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="every month", ordering="amount_minor")
    def monthly_amount(self, recurring):
        return format_money(recurring.amount_minor, recurring.currency)

    @admin.display(description="fee covered each month")
    def fee_covered(self, recurring):
        return format_money(recurring.fee_covered_minor, recurring.currency)

    @admin.display(description="payments")
    def payments_made(self, recurring):
        lines = [
            f"{gift.paid_at or gift.created_at:%Y-%m-%d}: {format_money(gift.amount_minor, gift.currency)} "
            f"({gift.get_status_display()}) #{gift.pk}"
            for gift in recurring.payments.order_by("created_at")
        ]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["stripe_id", "type", "status", "livemode", "attempts", "received_at", "processed_at"]
    list_filter = ["status", "type", "livemode"]
    search_fields = ["stripe_id", "type", "payment_id"]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_fields(self, request, obj=None):
        fields = [
            "stripe_id", "type", "status", "note", "livemode", "api_version", "payment_id",
            "attempts", "received_at", "processed_at", "last_error",
        ]  # fmt: skip
        # Payloads hold donors' names, emails and card details: only for staff who may see donors.
        if may_see_donors(request.user):
            fields.append("payload")
        return fields

    def get_readonly_fields(self, request, obj=None):
        # Events are Stripe's words: never edited, only replayed.
        return self.get_fields(request, obj)

    def get_search_fields(self, request):
        return self.search_fields

    @admin.action(description="Replay the selected events", permissions=["change"])
    def replay(self, request, queryset):
        replayed, failed = 0, 0
        for event in queryset.exclude(status__in=StripeEvent.FINAL_STATUSES):
            try:
                webhooks.process(event)
                replayed += 1
            except Exception:
                failed += 1
        if replayed:
            self.message_user(request, f"{replayed} event(s) applied.", messages.SUCCESS)
        if failed:
            self.message_user(
                request, f"{failed} event(s) failed again; see their last error.", messages.ERROR
            )
        if not replayed and not failed:
            self.message_user(request, "Nothing to replay: the selected events were already applied.")


@admin.register(GiftMove)
class GiftMoveAdmin(DonorDataAdmin, admin.ModelAdmin):
    """The log of gifts moved between projects: read only, for finance and audits."""

    list_display = ["moved_at", "gift", "from_project", "to_project", "moved_by", "reason"]
    # The reason staff typed may name the donor.
    donor_fields = donor_list_display = donor_search_fields = donor_lookups = ["reason"]
    list_filter = ["to_project", "from_project"]
    list_select_related = ["gift", "gift__project", "from_project", "to_project", "moved_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
