import copy

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_http_methods

from donations import services as giving
from donations.models import Donor, Gift, RecurringGift
from donations.money import format_money
from donations.stripe_gateway import StripeUnavailable
from donors import mailer, privacy
from donors.actions import resend_receipt
from donors.models import ConsentChange, Email, PrivacyRequest, SignInLink, StoryAnnouncement
from ledger import figures
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


# Acting for a donor who phones (refund, cancel a monthly gift, resend a receipt) changes
# gifts: the Finance group's permission, on top of seeing donors.
DONOR_ACTIONS_PERMISSION = "donations.change_gift"


def _when(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _table(headers, rows, empty):
    if not rows:
        return empty
    head = format_html_join("", "<th scope='col'>{}</th>", ((h,) for h in headers))
    body = format_html_join(
        "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows)
    )
    return format_html(
        '<table class="donor-profile"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body
    )


@admin.register(Donor)
class DonorAdmin(admin.ModelAdmin):
    """Donors, for staff with the donor-viewing permission (it is this model's view permission).

    The profile shows the donor's gifts (their money from the ledger), monthly gifts, emails
    and consent, with what staff do for a donor who phones: refund a gift through Stripe,
    cancel a monthly gift, resend a receipt; each is kept in the audit log.
    A donor who asks by letter or phone for their data or to be erased: *Send them their data*
    emails them a download link; *Erase* does what *Erase me* does, without the emailed
    confirmation (your reason stands in for it)."""

    actions = ["send_their_data", "erase"]

    list_display = ["email", "name", "wants_impact_emails", "created_at"]
    list_filter = ["wants_impact_emails"]
    search_fields = ["email", "name"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "email", "name", "wants_impact_emails", "impact_consent_at", "stripe_customer_id", "created_at",
        "gifts", "monthly_gifts", "emails_sent", "consent_history",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["email", "name", "stripe_customer_id", "created_at"]}),
        ("Gifts", {"fields": ["gifts"]}),
        ("Monthly gifts", {"fields": ["monthly_gifts"]}),
        ("Emails sent", {"fields": ["emails_sent"]}),
        ("Consent to stories", {"fields": ["wants_impact_emails", "impact_consent_at", "consent_history"]}),
    ]

    class Media:
        css = {"all": ["css/admin-donor.css"]}

    def _may_act(self, request):
        return may_see_donors(request.user) and request.user.has_perm(DONOR_ACTIONS_PERMISSION)

    def get_fieldsets(self, request, obj=None):
        # Staff who may act for the donor get the same tables with the action buttons.
        if not self._may_act(request):
            return self.fieldsets
        swap = {"gifts": "gifts_with_actions", "monthly_gifts": "monthly_gifts_with_actions"}
        return [
            (name, {**options, "fields": [swap.get(f, f) for f in options["fields"]]})
            for name, options in self.fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "gifts_with_actions", "monthly_gifts_with_actions"]

    @staticmethod
    def _action_link(donor, action, pk, label):
        url = reverse("admin:donors_donor_act", args=[donor.pk, action, pk])
        return format_html('<a class="button" href="{}">{}</a>', url, label)

    @admin.display(description="gifts")
    def gifts(self, donor):
        return self._gifts(donor, with_actions=False)

    @admin.display(description="gifts")
    def gifts_with_actions(self, donor):
        return self._gifts(donor, with_actions=True)

    @admin.display(description="monthly gifts")
    def monthly_gifts(self, donor):
        return self._monthly_gifts(donor, with_actions=False)

    @admin.display(description="monthly gifts")
    def monthly_gifts_with_actions(self, donor):
        return self._monthly_gifts(donor, with_actions=True)

    def _gifts(self, donor, *, with_actions):
        gifts = figures.with_money(
            Gift.objects.filter(Q(donor=donor) | Q(donor_email__iexact=donor.email))
            .select_related("project")
            .order_by("-created_at")
        )
        rows = []
        for gift in gifts:
            actions = []
            if with_actions and gift.status in Gift.PAID_STATUSES:
                actions.append(self._action_link(donor, "resend-receipt", gift.pk, "Resend receipt"))
            if with_actions and gift.status in (Gift.Status.SUCCEEDED, Gift.Status.PARTIALLY_REFUNDED):
                actions.append(self._action_link(donor, "refund", gift.pk, "Refund…"))
            rows.append(
                (
                    _when(gift.created_at),
                    gift.project.tag_name,
                    gift.get_frequency_display(),
                    gift.money.money("charged"),
                    gift.money.money("refunded"),
                    gift.money.money("net"),
                    gift.get_status_display().split(":")[0],
                    format_html_join(" ", "{}", ((a,) for a in actions)),
                )
            )
        return _table(
            ["Date", "Project", "Once or monthly", "Charged", "Refunded", "Counts now", "Status", ""],
            rows,
            "No gifts.",
        )

    def _monthly_gifts(self, donor, *, with_actions):
        rows = []
        for recurring in donor.recurring_gifts.select_related("project").order_by("-created_at"):
            running = recurring.status in RecurringGift.RUNNING_STATUSES and recurring.stripe_subscription_id
            rows.append(
                (
                    _when(recurring.started_at or recurring.created_at),
                    recurring.project.tag_name,
                    format_money(recurring.amount_minor, recurring.currency) + " a month",
                    recurring.get_status_display(),
                    self._action_link(donor, "cancel-monthly", recurring.pk, "Cancel…")
                    if with_actions and running
                    else "",
                )
            )
        return _table(["Since", "Project", "Amount", "Status", ""], rows, "No monthly gifts.")

    @admin.display(description="emails sent")
    def emails_sent(self, donor):
        emails = Email.objects.filter(Q(donor=donor) | Q(to__iexact=donor.email)).order_by("-created_at")[:50]
        rows = [
            (_when(e.sent_at or e.created_at), e.get_kind_display(), e.get_status_display()) for e in emails
        ]
        return _table(["When", "Email", "Status"], rows, "No emails.")

    @admin.display(description="consent history")
    def consent_history(self, donor):
        changes = donor.consent_changes.order_by("-at")
        rows = [
            (_when(c.at), "Wants stories" if c.wants_impact_emails else "No stories", c.get_method_display())
            for c in changes
        ]
        return _table(["When", "Consent", "How"], rows, "No consent given or withdrawn.")

    def get_urls(self):
        act = self.admin_site.admin_view(self.act_view)
        return [
            path("<int:donor_id>/<slug:action>/<int:pk>/", act, name="donors_donor_act"),
            *super().get_urls(),
        ]

    ACTIONS = {
        "refund": "Refund this gift through Stripe",
        "cancel-monthly": "Cancel this monthly gift",
        "resend-receipt": "Resend this receipt",
    }

    @staticmethod
    def _log(obj, request, what, **details):
        LogEntry.objects.log_create(
            obj,
            force_log=True,
            action=LogEntry.Action.UPDATE,
            changes={"staff action": ["", what]},
            actor=request.user,
            additional_data=details or None,
        )

    @method_decorator(require_http_methods(["GET", "POST"]))
    def act_view(self, request, donor_id, action, pk):
        """A confirmation page (GET), then the action (POST), back on the donor's profile."""
        if action not in self.ACTIONS:
            raise Http404
        if not self._may_act(request):
            raise PermissionDenied
        donor = get_object_or_404(Donor, pk=donor_id)
        if action == "cancel-monthly":
            target = get_object_or_404(RecurringGift, pk=pk, donor=donor)
        else:
            target = get_object_or_404(
                Gift.objects.filter(Q(donor=donor) | Q(donor_email__iexact=donor.email)), pk=pk
            )
        profile = reverse("admin:donations_donor_change", args=[donor.pk])
        if request.method == "POST":
            self._act(request, action, target)
            return redirect(profile)
        return TemplateResponse(
            request,
            "admin/donors/donor/confirm_action.html",
            {
                **self.admin_site.each_context(request),
                "title": self.ACTIONS[action],
                "donor": donor,
                "target": target,
                "action": action,
                "profile": profile,
                "opts": self.model._meta,
            },
        )

    def _act(self, request, action, target):
        if action == "resend-receipt":
            if resend_receipt(target, by=request.user):
                self._log(target, request, "receipt resent")
                self.message_user(request, f"The receipt of gift #{target.pk} is queued to be sent again.")
            else:
                self.message_user(request, f"Gift #{target.pk} has no receipt to send.", messages.WARNING)
            return
        try:
            if action == "refund":
                refund = giving.refund_gift(target, by=request.user)
                self._log(
                    target, request, "refund asked of Stripe", refund=refund["id"], status=refund["status"]
                )
                self.message_user(
                    request,
                    f"Stripe is refunding {format_money(refund['amount'], refund['currency'])} of gift "
                    f"#{target.pk} (refund {refund['id']}, {refund['status']}). The gift and the ledger's "
                    "totals change when Stripe's refund webhook arrives, usually within a minute.",
                    messages.SUCCESS,
                )
            else:
                comment = f"Cancelled by {request.user.get_username()} for the donor, by phone."
                status = giving.cancel_monthly_gift(target, comment=comment)
                self._log(target, request, "monthly gift cancelled at Stripe", stripe_status=status)
                self.message_user(
                    request,
                    f"Monthly gift #{target.pk} is cancelled at Stripe: no further charge. Its status here "
                    "changes when Stripe's webhook arrives.",
                    messages.SUCCESS,
                )
        except giving.CannotRefund as exc:
            self.message_user(request, str(exc), messages.WARNING)
        except StripeUnavailable:
            self.message_user(
                request, "Stripe could not be reached or refused: nothing changed. Try again.", messages.ERROR
            )

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
