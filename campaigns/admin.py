import zoneinfo

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.utils import timezone

from campaigns import services as matching
from campaigns.models import Match
from ledger.services import Origin


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
    raw_id_fields = ["sponsor"]
    filter_horizontal = ["projects"]
    readonly_fields = ["matched_minor", "status"]
    actions = ["pause", "resume", "finish"]
    fieldsets = [
        (None, {"fields": ["name", "sponsor", "sponsor_public_name", "projects", "status", "matched_minor"]}),
        ("Money", {"fields": ["ratio", "currency", "cap_minor", "per_donor_cap_minor", "per_gift_cap_minor",
                              "minimum_gift_minor", "matches_monthly_renewals"]}),
        ("When", {"fields": ["time_zone", "starts_at", "ends_at"],
                  "description": "Start and end are in the match's time zone."}),
        ("Conditions", {"fields": ["kind", "target_minor", "remainder"]}),
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
        # update(): only the status, never a balance read before a payment moved it.
        changed = queryset.filter(status=frm).update(status=to)
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
            with transaction.atomic():
                matching.finish(match, origin, timezone.now())
        self.message_user(request, f"{queryset.count()} match(es) finished.", messages.SUCCESS)
