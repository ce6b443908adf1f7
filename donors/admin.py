import copy

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin, messages

from donations.models import Donor
from donors import mailer
from donors.models import ConsentChange, Email, SignInLink, StoryAnnouncement
from podari.donor_data_admin import HIDDEN, DonorDataAdmin, may_see_donors


@admin.register(Email)
class EmailAdmin(DonorDataAdmin, admin.ModelAdmin):
    """Every email the site decided to send, with its fate: staff see failures and send again."""

    list_display = ["created_at", "kind", "to", "status", "attempts", "sent_at", "short_error"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["to", "key"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    readonly_fields = [
        "key", "kind", "to", "donor", "gift", "story", "data", "status", "attempts", "last_error",
        "created_at", "attempted_at", "sent_at",
    ]  # fmt: skip
    fields = readonly_fields
    list_select_related = []
    # The address, and errors that quote it, only for staff who may see donors.
    donor_fields = donor_list_display = ["to", "donor", "last_error", "short_error"]
    donor_search_fields = donor_lookups = ["to", "donor"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="last error")
    def short_error(self, email):
        return email.last_error[:80]

    @admin.action(description="Send the selected emails again (those not sent)", permissions=["change"])
    def send_again(self, request, queryset):
        count = mailer.send_again(queryset.exclude(status=Email.Status.SENT))
        self.message_user(request, f"{count} email(s) queued to be sent again.", messages.SUCCESS)


@admin.register(SignInLink)
class SignInLinkAdmin(DonorDataAdmin, admin.ModelAdmin):
    list_display = ["created_at", "donor", "used_at"]
    readonly_fields = ["donor", "created_at", "used_at"]
    fields = readonly_fields
    list_select_related = ["donor"]
    donor_fields = donor_list_display = donor_lookups = ["donor"]

    def has_add_permission(self, request):
        return False


@admin.register(StoryAnnouncement)
class StoryAnnouncementAdmin(admin.ModelAdmin):
    list_display = ["story", "announced_at"]
    readonly_fields = ["story", "announced_at"]
    list_select_related = ["story"]

    def has_add_permission(self, request):
        return False


@admin.register(ConsentChange)
class ConsentChangeAdmin(DonorDataAdmin, admin.ModelAdmin):
    """Every change of consent to impact emails: when, how, which gift or link. Read only."""

    list_display = ["at", "donor", "wants_impact_emails", "method", "gift"]
    list_filter = ["method", "wants_impact_emails"]
    search_fields = ["donor__email"]
    readonly_fields = fields = ["at", "donor", "wants_impact_emails", "method", "gift", "email"]
    list_select_related = ["donor"]
    date_hierarchy = "at"
    donor_fields = donor_list_display = donor_search_fields = donor_lookups = ["donor", "donor__email"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Donor)
class DonorAdmin(admin.ModelAdmin):
    """Donors, for staff with the donor-viewing permission (it is this model's view permission)."""

    list_display = ["email", "name", "wants_impact_emails", "created_at"]
    list_filter = ["wants_impact_emails"]
    search_fields = ["email", "name"]
    date_hierarchy = "created_at"
    readonly_fields = fields = [
        "email", "name", "wants_impact_emails", "impact_consent_at", "stripe_customer_id", "created_at",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Erasure, with its reason and what it keeps, is the way a donor leaves.
        return False


# Gift fields whose values the audit log shows only to staff who may see donors.
AUDITED_DONOR_FIELDS = {
    "donor_name", "donor_email", "dedication_name", "note", "donor", "reason", "show_name_publicly",
}  # fmt: skip


class DonorAwareLogEntryAdmin(LogEntryAdmin):
    """django-auditlog's log, with donors' names and emails shown only to staff who may see
    donors, and no search through the values changed for staff who may not."""

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        return fields if may_see_donors(request.user) else [f for f in fields if f != "changes"]

    def _masked(self, entry):
        request = getattr(self, "request", None)
        if request is not None and may_see_donors(request.user):
            return entry
        changes = entry.changes if isinstance(entry.changes, dict) else None
        if not changes or not AUDITED_DONOR_FIELDS & changes.keys():
            return entry
        entry = copy.copy(entry)
        entry.changes = {
            name: [HIDDEN, HIDDEN] if name in AUDITED_DONOR_FIELDS else value
            for name, value in changes.items()
        }
        return entry

    def msg(self, obj):
        return super().msg(self._masked(obj))

    msg.short_description = LogEntryAdmin.msg.short_description


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, DonorAwareLogEntryAdmin)
