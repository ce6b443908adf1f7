import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.utils import timezone

from campaigns.models import Match
from donations.money import parse_major_amount, to_major
from ledger.services import Origin, finish_match
from podari import page_cache

# The form's amounts, typed in the match's currency ("5,000"), and the fields they fill.
AMOUNTS = {
    "cap": "cap_minor",
    "per_donor_cap": "per_donor_cap_minor",
    "per_gift_cap": "per_gift_cap_minor",
    "minimum_gift": "minimum_gift_minor",
    "target": "target_minor",
}


class MatchForm(forms.ModelForm):
    """A match with its amounts in its own currency, as staff think of them."""

    cap = forms.CharField(label="total cap", help_text="In the match's currency, e.g. 5,000.")
    per_donor_cap = forms.CharField(required=False, label="cap per donor", help_text="Empty: none.")
    per_gift_cap = forms.CharField(required=False, label="cap per gift", help_text="Empty: none.")
    minimum_gift = forms.CharField(required=False, help_text="Smaller gifts are not matched. Empty: any.")
    target = forms.CharField(
        required=False, label="challenge target",
        help_text="Challenge only: what donors' gifts to the projects while it runs must reach.",
    )  # fmt: skip

    class Meta:
        model = Match
        fields = [
            "name", "sponsor", "sponsor_public_name", "projects", "ratio", "currency",
            "matches_monthly_renewals", "time_zone", "starts_at", "ends_at", "kind", "remainder",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name, field in AMOUNTS.items():
                value = getattr(self.instance, field)
                self.initial[name] = "" if value is None else str(to_major(value, self.instance.currency))

    def clean(self):
        cleaned = super().clean()
        currency = (cleaned.get("currency") or "").lower()
        for name, field in AMOUNTS.items():
            text = (cleaned.get(name) or "").strip()
            if not text:
                setattr(self.instance, field, 0 if field == "minimum_gift_minor" else None)
                continue
            try:
                setattr(self.instance, field, parse_major_amount(text, currency))
            except ValueError as exc:
                self.add_error(name, str(exc))
        if self.instance.cap_minor is None and "cap" not in self.errors:
            self.add_error("cap", "Enter the most the sponsor will match.")
        return cleaned


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    """Matches: staff set them up, pause, resume and finish them. The balance (matched so
    far) is moved only by payments, refunds and disputes, never typed in."""

    list_display = [
        "name",
        "sponsor_public_name",
        "ratio_label",
        "progress",
        "starts_at",
        "ends_at",
        "status",
    ]
    list_filter = ["status", "kind", "currency"]
    search_fields = ["name", "sponsor_public_name", "sponsor__email"]
    form = MatchForm
    raw_id_fields = ["sponsor"]
    filter_horizontal = ["projects"]
    readonly_fields = ["matched_minor", "status"]
    actions = ["pause", "resume", "finish"]
    fieldsets = [
        (None, {"fields": ["name", "sponsor", "sponsor_public_name", "projects", "status", "matched_minor"]}),
        ("Money", {"fields": ["ratio", "currency", "cap", "per_donor_cap", "per_gift_cap", "minimum_gift",
                              "matches_monthly_renewals"]}),
        ("When", {"fields": ["time_zone", "starts_at", "ends_at"],
                  "description": "Start and end are in the match's time zone."}),
        ("Conditions", {"fields": ["kind", "target", "remainder"]}),
    ]  # fmt: skip

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Start and end are typed and shown in the match's own time zone (the one chosen
        on the form, or saved), not the site's: "midnight in New York" means just that."""
        zone = request.POST.get("time_zone")
        if not zone and object_id:
            zone = Match.objects.filter(pk=object_id).values_list("time_zone", flat=True).first()
        try:
            zone = zoneinfo.ZoneInfo(zone or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)  # the form then says the zone is unknown
        with timezone.override(zone):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            # Drawn here, in the zone: a TemplateResponse would render after it is gone.
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
        return response

    def has_delete_permission(self, request, obj=None):
        # Its pledges are ledger entries: finish a match, never delete it.
        return False

    @admin.display(description="ratio")
    def ratio_label(self, match):
        return f"{match.ratio}:1"

    @admin.display(description="matched")
    def progress(self, match):
        return match.progress_text()

    def _set_status(self, request, queryset, frm, to, verb):
        # update(): only the status, never a balance read before a payment moved it. It
        # sends no signal, so the pages that say "doubled" are told here.
        changed = queryset.filter(status=frm).update(status=to)
        page_cache.invalidate_pages_on_commit()
        self.message_user(request, f"{changed} match(es) {verb}.", messages.SUCCESS)

    @admin.action(description="Pause the selected matches (no gift is matched until resumed)")
    def pause(self, request, queryset):
        self._set_status(request, queryset, Match.Status.ACTIVE, Match.Status.PAUSED, "paused")

    @admin.action(description="Resume the selected paused matches")
    def resume(self, request, queryset):
        self._set_status(request, queryset, Match.Status.PAUSED, Match.Status.ACTIVE, "resumed")

    @admin.action(description="Finish the selected matches (challenge target, unused remainder)")
    def finish(self, request, queryset):
        origin = Origin.staff(request.user, "Match finished")
        for match in queryset:
            finish_match(match, origin=origin, at=timezone.now())
        self.message_user(request, f"{queryset.count()} match(es) finished.", messages.SUCCESS)
