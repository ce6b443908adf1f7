from datetime import datetime, time

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils import timezone

from donations.models import Gift
from donations.money import format_money, parse_major_amount, to_major
from ledger import figures
from ledger.exports import CHUNK_SIZE, streaming_csv
from ledger.models import FundUse, OfflineGift, VerifiedFigure
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
        rows = (self.csv_row(obj) for obj in queryset.iterator(chunk_size=CHUNK_SIZE))
        return streaming_csv(self.csv_filename, self.csv_header, rows)


def major(amount_minor, currency):
    return str(to_major(amount_minor or 0, currency))


class GiftCsvExportMixin(CsvExportMixin):
    csv_filename = "gifts.csv"
    csv_header = [
        "id", "date", "project", "source", "status", "amount", "refunded", "held_by_dispute", "net",
        "currency", "fee_covered", "frequency", "donor_name", "donor_email", "note", "livemode",
        "stripe_payment_intent",
    ]  # fmt: skip

    def csv_row(self, gift):
        c = gift.currency
        return [
            gift.pk,
            (gift.paid_at or gift.created_at).isoformat(),
            gift.project.title,
            gift.get_source_display(),
            gift.get_status_display(),
            major(gift.amount_minor, c),
            major(gift.amount_refunded_minor, c),
            major(gift.amount_disputed_minor, c),
            major(gift.net_minor, c),
            c,
            major(gift.fee_covered_minor, c),
            gift.get_frequency_display(),
            gift.donor_name,
            gift.donor_email,
            gift.note,
            "live" if gift.livemode else "test",
            gift.stripe_payment_intent_id or "",
        ]


class OfflineGiftForm(forms.ModelForm):
    """An offline gift in the project's money ("29,745"), with the day it was received."""

    amount = forms.CharField(help_text="In the currency below, e.g. 29,745 or 250.50.")
    received_on = forms.DateField(
        label="date received", initial=timezone.localdate, help_text="The day the money arrived."
    )

    class Meta:
        model = OfflineGift
        fields = ["project", "source", "currency", "donor", "donor_name", "note"]
        help_texts = {
            "currency": "Three letters, e.g. usd; the project's progress bar counts its own currency only.",
            "donor_name": "Optional. Shown publicly only if you tick it on the gift later; never by default.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [c for c in Gift.Source.choices if c[0] != Gift.Source.STRIPE]
        self.fields["currency"].initial = settings.DEFAULT_CURRENCY
        if self.instance.pk:
            self.initial["amount"] = str(to_major(self.instance.amount_minor, self.instance.currency))
            self.initial["received_on"] = timezone.localdate(self.instance.paid_at)

    def clean(self):
        cleaned = super().clean()
        currency = (cleaned.get("currency") or "").lower()
        cleaned["currency"] = currency
        if cleaned.get("amount") and currency:
            try:
                amount = parse_major_amount(cleaned["amount"], currency)
            except ValueError as exc:
                self.add_error("amount", str(exc))
            else:
                if amount <= 0:
                    self.add_error("amount", "Enter an amount above zero.")
                self.instance.amount_minor = amount
        if cleaned.get("received_on"):
            # Noon in the site's time zone: the gift falls in the month it was received.
            self.instance.paid_at = timezone.make_aware(datetime.combine(cleaned["received_on"], time(12)))
        return cleaned


@admin.register(OfflineGift)
class OfflineGiftAdmin(DonorDataAdmin, GiftCsvExportMixin, admin.ModelAdmin):
    """Gifts that did not come through Stripe. They are Gift rows, so they count like any gift."""

    form = OfflineGiftForm
    list_display = ["paid_at", "project", "source", "amount", "donor_name", "note"]
    list_filter = ["source", "project", "currency"]
    search_fields = ["donor_name", "note"]
    list_select_related = ["project"]
    raw_id_fields = ["donor"]
    date_hierarchy = "paid_at"
    fields = ["project", "source", "amount", "currency", "received_on", "donor", "donor_name", "note"]
    csv_filename = "offline-gifts.csv"
    # Only for staff who may see donors (podari/donor_data_admin.py).
    donor_fields = donor_list_display = donor_search_fields = donor_lookups = ["donor", "donor_name", "note"]
    donor_csv_columns = ["donor_name", "donor_email", "note"]

    def has_delete_permission(self, request, obj=None):
        # A record of money received: correct it, never make it disappear.
        return False

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, gift):
        return format_money(gift.amount_minor, gift.currency)

    def save_model(self, request, obj, form, change):
        obj.source = form.cleaned_data["source"]
        if not change:
            obj.status = Gift.Status.SUCCEEDED
            obj.livemode = settings.STRIPE_LIVEMODE
            obj.created_at = obj.paid_at
        # Gift.save() moves the project total and the ledger by what changed, under the row lock.
        obj.save()


class FundUseForm(forms.ModelForm):
    amount = forms.CharField(help_text="In the currency below, e.g. 5,000 or 5000.00.")
    confirm_overspend = forms.BooleanField(
        label="Record it even though it is more than the project has available",
        required=False,
        help_text="Only needed when this payment is larger than the project's available balance.",
    )

    class Meta:
        model = FundUse
        fields = ["project", "currency", "spent_on", "purpose", "recipient", "stories", "note"]
        help_texts = {"currency": "Three letters, e.g. usd. Empty: the project's currency."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].required = False
        if self.instance.pk:
            self.initial["amount"] = str(to_major(self.instance.amount_minor, self.instance.currency))

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
        # The books balance: spending more than was given needs someone to say so.
        left = figures.available(project, currency, excluding_use=self.instance)
        if amount > left and not cleaned.get("confirm_overspend"):
            shown = format_money(left, currency) if left >= 0 else "−" + format_money(-left, currency)
            self.add_error(
                "confirm_overspend",
                f"{project} has {shown} available in {currency.upper()}; this payment of "
                f"{format_money(amount, currency)} is more. Tick the box to record it anyway.",
            )
        return cleaned


@admin.register(FundUse)
class FundUseAdmin(CsvExportMixin, admin.ModelAdmin):
    form = FundUseForm
    list_display = ["spent_on", "project", "amount", "purpose", "recipient", "reported"]
    list_filter = ["project", "currency", "spent_on"]
    search_fields = ["purpose", "recipient", "note"]
    date_hierarchy = "spent_on"
    filter_horizontal = ["stories"]
    list_select_related = ["project", "recorded_by"]
    fields = [
        "project", "amount", "currency", "spent_on", "purpose", "recipient", "stories", "note",
        "confirm_overspend",
    ]  # fmt: skip
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
    ]

    def get_queryset(self, request):
        # iterator(chunk_size=...) prefetches per chunk, so the export streams too.
        return super().get_queryset(request).prefetch_related("stories")

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, use):
        return format_money(use.amount_minor, use.currency)

    @admin.display(description="reported in a story", boolean=True)
    def reported(self, use):
        return bool(use.stories.all())

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)

    def csv_row(self, use):
        return [
            use.pk,
            use.spent_on.isoformat(),
            use.project.title,
            major(use.amount_minor, use.currency),
            use.currency,
            use.purpose,
            use.recipient,
            " ".join(settings.SITE_URL + s.get_absolute_url() for s in use.stories.all()),
            str(use.recorded_by or ""),
        ]


@admin.register(VerifiedFigure)
class VerifiedFigureAdmin(admin.ModelAdmin):
    list_display = ["value", "label", "source_url", "position"]
    list_editable = ["position"]
