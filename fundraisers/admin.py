from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.html import format_html

from fundraisers import services
from fundraisers.models import Fundraiser, FundraiserReport, Supporter
from ledger import figures


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text="Emailed to the supporter and kept on the page's record.",
    )


@admin.register(Supporter)
class SupporterAdmin(admin.ModelAdmin):
    list_display = ["email", "name", "is_trusted", "created_at"]
    list_filter = ["is_trusted"]
    search_fields = ["email", "name"]
    fields = ["email", "name", "is_trusted"]


class ReportInline(admin.TabularInline):
    model = FundraiserReport
    extra = 0
    fields = ["created_at", "reason", "details", "resolved"]
    readonly_fields = ["created_at", "reason", "details"]
    can_delete = False


@admin.register(Fundraiser)
class FundraiserAdmin(admin.ModelAdmin):
    """Pages wait here for approval. Decisions are actions, so each one records who made it
    and emails the supporter; the state is never typed in by hand."""

    list_display = ["title", "supporter", "project", "status", "held_reason", "ends_on", "open_reports"]
    list_filter = ["status", "occasion", "project"]
    search_fields = ["title", "slug", "supporter__email", "supporter__name"]
    list_select_related = ["supporter", "project"]
    actions = ["approve", "pause", "remove"]
    inlines = [ReportInline]
    readonly_fields = [
        "supporter", "project", "slug", "status", "held_reason", "moderation_reason", "moderated_by",
        "moderated_at", "page_figures", "public_link", "created_at", "updated_at",
    ]  # fmt: skip
    fields = [
        "public_link", "status", "held_reason", "moderation_reason", "moderated_by", "moderated_at",
        "supporter", "project", "slug", "title", "occasion", "goal_minor", "ends_on", "story", "image",
        "image_alt", "photo_permission", "thank_you_note", "page_figures", "created_at", "updated_at",
    ]  # fmt: skip

    def has_add_permission(self, request):
        return False  # supporters make pages; staff decide on them

    def has_delete_permission(self, request, obj=None):
        return False  # a page with gifts stays on record: remove it instead

    @admin.display(description="open reports")
    def open_reports(self, page):
        return page.reports.filter(resolved=False).count()

    @admin.display(description="raised on the page")
    def page_figures(self, page):
        page_figures = figures.fundraiser_figures(page)
        return f"{page_figures.raised} from {page_figures.gift_count} gift(s), goal {page_figures.goal}"

    @admin.display(description="page")
    def public_link(self, page):
        return format_html('<a href="{}">{}</a>', page.get_absolute_url(), page.get_absolute_url())

    @admin.action(description="Approve: make live", permissions=["change"])
    def approve(self, request, queryset):
        for page in queryset:
            services.moderate(page, Fundraiser.Status.LIVE, by=request.user)
        self.message_user(request, f"Approved {queryset.count()} page(s).", messages.SUCCESS)

    @admin.action(description="Pause, with a reason…", permissions=["change"])
    def pause(self, request, queryset):
        return self._with_reason(request, queryset, Fundraiser.Status.PAUSED, "pause", "Pause pages")

    @admin.action(description="Remove, with a reason…", permissions=["change"])
    def remove(self, request, queryset):
        return self._with_reason(request, queryset, Fundraiser.Status.REMOVED, "remove", "Remove pages")

    def _with_reason(self, request, queryset, status, action, title):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for page in queryset:
                services.moderate(page, status, by=request.user, reason=form.cleaned_data["reason"])
            self.message_user(request, f"{title}: done for {queryset.count()} page(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/fundraisers/fundraiser/reason.html",
            {
                **self.admin_site.each_context(request),
                "title": title,
                "pages": queryset,
                "form": form,
                "action": action,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


@admin.register(FundraiserReport)
class FundraiserReportAdmin(admin.ModelAdmin):
    list_display = ["fundraiser", "reason", "created_at", "resolved"]
    list_filter = ["resolved", "reason"]
    list_editable = ["resolved"]
    readonly_fields = ["fundraiser", "reason", "details", "created_at"]
