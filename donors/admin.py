import copy

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from donations.models import Donor
from donors import mailer, privacy
from donors.models import ConsentChange, Email, PrivacyRequest, SignInLink, StoryAnnouncement
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


class PrivacyActionForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
        help_text="Kept with the request, with your name and the time, e.g. “asked by letter of March 3”. "
        "Name no donor here: after an erasure the record says what was done, not to whom.",
    )
    confirm = forms.BooleanField(required=False)


@admin.register(Donor)
class DonorAdmin(admin.ModelAdmin):
    """Donors, for staff with the donor-viewing permission (it is this model's view permission).

    A donor who asks by letter or phone for their data or to be erased: *Send them their data*
    emails them a download link; *Erase* does what *Erase me* does, without the emailed
    confirmation (your reason stands in for it)."""

    actions = ["send_their_data", "erase"]

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

    def has_export_donor_data_permission(self, request):
        return request.user.has_perm("donors.export_donor_data")

    def has_erase_donor_permission(self, request):
        return request.user.has_perm("donors.erase_donor")

    def _privacy_action(self, request, queryset, *, action, title, explanation, needs_confirm):
        form = PrivacyActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            if needs_confirm and not form.cleaned_data["confirm"]:
                form.add_error("confirm", "Tick the box to confirm: an erasure cannot be undone.")
            else:
                return form.cleaned_data["reason"]
        return TemplateResponse(
            request,
            "admin/donors/donor/privacy_action.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "explanation": explanation,
                "donors": queryset,
                "form": form,
                "needs_confirm": needs_confirm,
                "action": action,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(
        description="Send the selected donors their data (emails a download link)…",
        permissions=["export_donor_data"],
    )
    def send_their_data(self, request, queryset):
        reason = self._privacy_action(
            request,
            queryset,
            action="send_their_data",
            title="Send donors their data",
            explanation="Each donor is emailed a link to a download of everything the site holds about them "
            f"(JSON and CSV), which works for {settings.DATA_EXPORT_DAYS} days.",
            needs_confirm=False,
        )
        if not isinstance(reason, str):
            return reason
        for donor in queryset:
            privacy.request_export(donor, by=request.user, reason=reason)
        self.message_user(
            request, f"{queryset.count()} download(s) being built; each donor is emailed a link."
        )
        return None

    @admin.action(description="Erase the selected donors…", permissions=["erase_donor"])
    def erase(self, request, queryset):
        reason = self._privacy_action(
            request,
            queryset,
            action="erase",
            title="Erase donors",
            explanation="Their monthly gifts are cancelled at Stripe first; then their names, addresses, "
            "dedications and notes are removed everywhere; their gifts stay, with every amount, date, "
            "project, fee, Stripe id and receipt number, under “Anonymous donor”; their Stripe customers "
            "are deleted. Under Privacy requests you can follow each one.",
            needs_confirm=True,
        )
        if not isinstance(reason, str):
            return reason
        for donor in queryset:
            privacy.erase_by_staff(donor, by=request.user, reason=reason)
        self.message_user(
            request, f"{queryset.count()} erasure(s) started; see Privacy requests.", messages.SUCCESS
        )
        return None


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(DonorDataAdmin, admin.ModelAdmin):
    """Requests for data and erasure, with what was done: never editable, only tried again."""

    list_display = [
        "created_at",
        "kind",
        "status",
        "requested_by",
        "completed_at",
        "needs_stripe_follow_up",
        "donor",
    ]
    list_filter = ["kind", "status", "created_at"]
    readonly_fields = fields = [
        "kind", "status", "donor", "requested_by", "reason", "created_at", "confirmed_at", "completed_at",
        "summary", "error", "stripe_follow_up", "expires_at",
    ]  # fmt: skip
    list_select_related = ["requested_by", "donor"]
    date_hierarchy = "created_at"
    actions = ["try_again"]
    donor_fields = donor_list_display = donor_lookups = ["donor"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_erase_donor_permission(self, request):
        return request.user.has_perm("donors.erase_donor")

    @admin.display(description="Stripe follow-up", boolean=True)
    def needs_stripe_follow_up(self, obj):
        return bool(obj.stripe_follow_up)

    @admin.action(
        description="Try the selected failed erasures (or Stripe follow-ups) again",
        permissions=["erase_donor"],
    )
    def try_again(self, request, queryset):
        tried = sum(1 for obj in queryset if privacy.retry(obj))
        self.message_user(request, f"{tried} request(s) tried again.")


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
