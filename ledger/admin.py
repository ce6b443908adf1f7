from datetime import datetime, time

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from campaigns.models import Match
from donations.models import Gift
from donations.money import format_money, format_signed_money, iso_currencies, parse_major_amount, to_major
from ledger import figures, services
from ledger.exports import CHUNK_SIZE, streaming_csv
from ledger.models import Entry, FundUse, OfflineGift, VerifiedFigure
from podari.donor_data_admin import DonorDataAdmin

# The admin's home page links the reporting desk for those who may see it.
admin.site.index_template = "admin/podari_index.html"


class CsvExportMixin:
    """'Export as CSV' for a change list: the rows it shows with its current filters, streamed."""

    csv_filename = "export.csv"
    csv_header = []

    def csv_row(self, obj):
        raise NotImplementedError

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_export"
        return [
            path("export.csv", self.admin_site.admin_view(self.export_csv_view), name=name),
            *super().get_urls(),
        ]

    def has_export_permission(self, request):
        return self.has_view_permission(request) and request.user.has_perm("ledger.export_csv")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_export": self.has_export_permission(request)}
        return super().changelist_view(request, extra_context)

    def export_csv_view(self, request):
        if not self.has_export_permission(request):
            raise PermissionDenied
        # The change list applies the same filters, search and ordering as the page it came from.
        queryset = self.get_changelist_instance(request).queryset
        return streaming_csv(self.csv_filename, self.csv_header, self.export_rows(queryset))

    def export_rows(self, queryset):
        return (self.csv_row(obj) for obj in queryset.iterator(chunk_size=CHUNK_SIZE))


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def major(amount_minor, currency):
    return str(to_major(amount_minor or 0, currency))


class GiftCsvExportMixin(CsvExportMixin):
    csv_filename = "gifts.csv"
    # Each figure is a sum of the gift's ledger entries (ledger.figures.GiftMoney).
    csv_header = [
        "id", "date", "project", "source", "status", "amount", "fee_covered", "refunded",
        "held_by_dispute", "lost_to_dispute", "net", "given", "currency", "frequency", "donor_name",
        "donor_email", "note", "livemode", "stripe_payment_intent",
    ]  # fmt: skip

    def export_rows(self, queryset):
        # Each chunk's figures come from its gifts' ledger entries in one query.
        for chunk in _chunks(queryset.iterator(chunk_size=CHUNK_SIZE), CHUNK_SIZE):
            for gift in figures.with_money(chunk):
                yield self.csv_row(gift)

    def csv_row(self, gift):
        c, money = gift.currency, gift.money
        return [
            gift.pk,
            (gift.paid_at or gift.created_at).isoformat(),
            gift.project.title,
            gift.get_source_display(),
            gift.get_status_display(),
            major(gift.amount_minor, c),
            major(money.covered_fee_minor, c),
            major(money.refunded_minor, c),
            major(money.held_minor, c),
            major(money.lost_minor, c),
            major(money.net_minor, c),
            major(money.given_minor, c),
            c,
            gift.get_frequency_display(),
            gift.donor_name,
            gift.donor_email,
            gift.note,
            {True: "live", False: "test"}.get(gift.livemode, ""),
            gift.stripe_payment_intent_id or "",
        ]


class LedgerChangeForm(forms.ModelForm):
    """A money record staff add or correct: the amount in the record's own money
    ("29,745"), a currency from the ISO list (empty: the project's), and, for a change
    that would leave a project with less than nothing available, an explicit tick.
    A correction says why; ledger.services records it as entries of its own."""

    amount = forms.CharField(help_text="In the currency below, e.g. 29,745 or 250.50.")
    currency = forms.ChoiceField(
        required=False, help_text="Empty: the project's currency. The ledger keeps each currency apart."
    )
    confirm_overspend = forms.BooleanField(
        label="Record it even though it leaves the project with less than nothing available",
        required=False,
        help_text="Only needed when this change takes more than the project has available.",
    )
    reason = forms.CharField(
        required=False,
        max_length=500,
        label="why it changes",
        help_text="Needed when correcting a record: kept with the ledger's correcting entries.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = [("", "The project's currency"), *iso_currencies()]
        if self.instance.pk:
            self.initial["amount"] = str(to_major(self.instance.amount_minor, self.instance.currency))
            self.initial["currency"] = self.instance.currency

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project")
        if project is None:
            return cleaned
        currency = (cleaned.get("currency") or project.currency).lower()
        cleaned["currency"] = self.instance.currency = currency
        try:
            amount = parse_major_amount(cleaned.get("amount") or "", currency)
        except ValueError as exc:
            self.add_error("amount", str(exc))
            return cleaned
        if amount <= 0:
            self.add_error("amount", "Enter an amount above zero.")
            return cleaned
        self.instance.amount_minor = amount
        if self.instance.pk and self.money_changed() and not (cleaned.get("reason") or "").strip():
            self.add_error(
                "reason", "Say why the amount, currency or project changes: it is kept in the ledger."
            )
        return cleaned

    def money_changed(self):
        before = type(self.instance).objects.filter(pk=self.instance.pk).values(*MONEY_FIELDS).first()
        return before != {name: getattr(self.instance, name) for name in MONEY_FIELDS}

    def check_available(self, changes):
        """Show an overspend as the form's error, unless the box is ticked."""
        try:
            services.check_available(changes, allow_overspend=self.cleaned_data.get("confirm_overspend"))
        except services.WouldOverspend as exc:
            self.add_error("confirm_overspend", f"{exc} Tick the box to record it anyway.")


MONEY_FIELDS = ("amount_minor", "currency", "project_id")


class OfflineGiftForm(LedgerChangeForm):
    """An offline gift, with the day it was received."""

    received_on = forms.DateField(
        label="date received", initial=timezone.localdate, help_text="The day the money arrived."
    )
    settles_match = forms.ModelChoiceField(
        queryset=Match.objects.select_related("sponsor"),
        required=False,
        label="settles a match",
        help_text="The sponsor paying what its match pledged to this project: the pledge is marked "
        "paid by as much, so the money counts once. Only when recording a new gift.",
    )

    class Meta:
        model = OfflineGift
        fields = ["project", "fundraiser", "source", "currency", "donor", "donor_name", "note"]
        help_texts = {
            "fundraiser": "Optional. A supporter's page of the same project this gift was given on: "
            "it then counts on the page too.",
            "donor_name": "Optional. Shown publicly only if you tick it on the gift later; never by default.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [c for c in Gift.Source.choices if c[0] != Gift.Source.STRIPE]
        if self.instance.pk:
            self.initial["received_on"] = timezone.localdate(self.instance.paid_at)

    def clean(self):
        cleaned = super().clean()
        page, project = cleaned.get("fundraiser"), cleaned.get("project")
        if page is not None and project is not None and page.project_id != project.pk:
            self.add_error("fundraiser", "Choose a page of the gift's project: its gifts go to that project.")
        if cleaned.get("received_on"):
            # Noon in the site's time zone: the gift falls in the month it was received.
            self.instance.paid_at = timezone.make_aware(datetime.combine(cleaned["received_on"], time(12)))
        if self.instance.pk and not self.errors:
            old = Gift.objects.get(pk=self.instance.pk)
            self.check_available(services.offline_gift_changes(old, self.instance))
        match = cleaned.get("settles_match")
        if match is not None:
            if self.instance.pk:
                self.add_error(
                    "settles_match", "Choose the match when recording the gift, not when correcting it."
                )
            elif cleaned.get("currency") and cleaned["currency"] != match.currency:
                self.add_error("settles_match", f"The match is in {match.currency.upper()}.")
            elif cleaned.get("project") and not match.projects.filter(pk=cleaned["project"].pk).exists():
                self.add_error("settles_match", "The match does not cover this project.")
        return cleaned


@admin.register(OfflineGift)
class OfflineGiftAdmin(DonorDataAdmin, GiftCsvExportMixin, admin.ModelAdmin):
    """Gifts that did not come through Stripe: recorded, corrected and voided through the
    ledger, each change an entry with who made it and why. Never deleted."""

    form = OfflineGiftForm
    list_display = ["paid_at", "project", "source", "amount", "status", "donor_name", "note"]
    list_filter = ["source", "status", "project", "currency"]
    search_fields = ["donor_name", "note"]
    list_select_related = ["project"]
    raw_id_fields = ["donor", "fundraiser"]
    date_hierarchy = "paid_at"
    fields = [
        "project", "fundraiser", "source", "amount", "currency", "received_on", "donor", "donor_name",
        "note", "settles_match", "reason", "confirm_overspend",
    ]  # fmt: skip
    csv_filename = "offline-gifts.csv"
    actions = ["void"]
    # Only for staff who may see donors (podari/donor_data_admin.py).
    donor_fields = donor_list_display = donor_search_fields = donor_lookups = ["donor", "donor_name", "note"]
    donor_csv_columns = ["donor_name", "donor_email", "note"]

    def has_delete_permission(self, request, obj=None):
        # A record of money received: correct or void it, never make it disappear.
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == Gift.Status.VOID:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, gift):
        return format_money(gift.amount_minor, gift.currency)

    def save_model(self, request, obj, form, change):
        obj.source = form.cleaned_data["source"]
        if not change:
            services.record_offline_gift(
                obj,
                by=request.user,
                fundraiser=obj.fundraiser,
                settles_match=form.cleaned_data.get("settles_match"),
            )
            return
        try:
            services.correct_offline_gift(
                obj,
                by=request.user,
                reason=form.cleaned_data.get("reason", ""),
                allow_overspend=form.cleaned_data.get("confirm_overspend", False),
            )
        except services.WouldOverspend as exc:
            # Spent meanwhile: nothing was changed.
            self.message_user(request, f"Not saved: {exc}", messages.ERROR)

    @admin.action(description="Void the selected offline gifts (recorded in error)…", permissions=["change"])
    def void(self, request, queryset):
        return void_action(self, request, queryset, services.void_offline_gift, "offline gifts")


class FundUseForm(LedgerChangeForm):
    class Meta:
        model = FundUse
        fields = ["project", "currency", "spent_on", "purpose", "recipient", "stories", "note"]

    def clean(self):
        cleaned = super().clean()
        project = cleaned.get("project")
        if project is None or self.errors:
            return cleaned
        if self.instance.pk:
            old = FundUse.objects.get(pk=self.instance.pk)
            changes = services.fund_use_changes(old, self.instance)
        else:
            changes = {(project, self.instance.currency): -self.instance.amount_minor}
        self.check_available(changes)
        return cleaned


class VoidForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the ledger's correcting entries, with your name and the time.",
    )
    confirm_overspend = forms.BooleanField(
        label="Void them even if that leaves a project with less than nothing available", required=False
    )


def void_action(model_admin, request, queryset, void, plural):
    """Void records through the ledger, after asking why."""
    if "apply" in request.POST:
        form = VoidForm(request.POST)
        if form.is_valid():
            voided, refused = 0, []
            for record in queryset:
                try:
                    with transaction.atomic():
                        if void(record, by=request.user, reason=form.cleaned_data["reason"],
                                allow_overspend=form.cleaned_data["confirm_overspend"]):  # fmt: skip
                            voided += 1
                except services.WouldOverspend as exc:
                    refused.append(str(exc))
            model_admin.message_user(request, f"Voided {voided} of the {plural}.", messages.SUCCESS)
            for reason in refused:
                model_admin.message_user(request, f"Not voided: {reason}", messages.ERROR)
            return None
    else:
        form = VoidForm()
    return TemplateResponse(
        request,
        "admin/ledger/void.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": f"Void {plural}",
            "records": queryset,
            "form": form,
            "opts": model_admin.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


@admin.register(FundUse)
class FundUseAdmin(CsvExportMixin, admin.ModelAdmin):
    form = FundUseForm
    list_display = ["spent_on", "project", "amount", "purpose", "recipient", "reported", "voided"]
    list_filter = ["project", "currency", "spent_on", ("voided_at", admin.EmptyFieldListFilter)]
    search_fields = ["purpose", "recipient", "note"]
    date_hierarchy = "spent_on"
    filter_horizontal = ["stories"]
    list_select_related = ["project", "recorded_by"]
    fields = [
        "project", "amount", "currency", "spent_on", "purpose", "recipient", "stories", "note",
        "reason", "confirm_overspend",
    ]  # fmt: skip
    actions = ["void"]
    csv_filename = "uses-of-funds.csv"
    csv_header = [
        "id",
        "date",
        "project",
        "amount",
        "currency",
        "purpose",
        "paid_to",
        "stories",
        "recorded_by",
        "voided",
    ]

    def get_queryset(self, request):
        # iterator(chunk_size=...) prefetches per chunk, so the export streams too.
        return super().get_queryset(request).with_paid_amounts().prefetch_related("stories")

    def has_delete_permission(self, request, obj=None):
        # Money paid out: correct or void it, never make it disappear.
        return False

    @admin.display(description="amount", ordering="paid_minor")
    def amount(self, use):
        return format_money(use.paid_minor, use.currency)

    @admin.display(description="reported in a story", boolean=True)
    def reported(self, use):
        return bool(use.stories.all())

    @admin.display(description="voided", boolean=True)
    def voided(self, use):
        return use.voided_at is not None

    def save_model(self, request, obj, form, change):
        allow = form.cleaned_data.get("confirm_overspend", False)
        try:
            if not change:
                services.record_fund_use(obj, by=request.user, allow_overspend=allow)
            else:
                reason = form.cleaned_data.get("reason", "")
                services.correct_fund_use(obj, by=request.user, reason=reason, allow_overspend=allow)
        except services.WouldOverspend as exc:
            self.message_user(request, f"Not saved: {exc}", messages.ERROR)

    @admin.action(description="Void the selected uses of funds (recorded in error)…", permissions=["change"])
    def void(self, request, queryset):
        return void_action(self, request, queryset, services.void_fund_use, "uses of funds")

    def csv_row(self, use):
        return [
            use.pk,
            use.spent_on.isoformat(),
            use.project.title,
            major(use.paid_minor, use.currency),
            use.currency,
            use.purpose,
            use.recipient,
            " ".join(settings.SITE_URL + s.get_absolute_url() for s in use.stories.all()),
            str(use.recorded_by or ""),
            "voided" if use.voided_at else "",
        ]


@admin.register(Entry)
class EntryAdmin(admin.ModelAdmin):
    """Every movement of money, as recorded: read only (entries are never changed)."""

    # The source is a filter, and a gift or a use of funds share one column: fits 1280 px.
    list_display = ["occurred", "kind", "account", "signed_amount", "project_name", "gift_or_use"]
    list_filter = ["kind", "account", "source", "currency", "livemode", "project"]
    search_fields = ["key", "stripe_event_id", "stripe_object_id"]
    list_select_related = ["project", "gift", "gift__project", "fund_use"]
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in Entry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="amount", ordering="amount_minor")
    def signed_amount(self, entry):
        return format_signed_money(entry.amount_minor, entry.currency)

    @admin.display(description="when", ordering="occurred_at")
    def occurred(self, entry):
        return timezone.localtime(entry.occurred_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="project", ordering="project__title")
    def project_name(self, entry):
        return entry.project.tag_name

    @admin.display(description="for")
    def gift_or_use(self, entry):
        return (
            f"Gift #{entry.gift_id}" if entry.gift_id else (str(entry.fund_use) if entry.fund_use_id else "—")
        )


@admin.register(VerifiedFigure)
class VerifiedFigureAdmin(admin.ModelAdmin):
    list_display = ["value", "label", "source_url", "position"]
    list_editable = ["position"]
