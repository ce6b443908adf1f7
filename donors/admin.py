from django.contrib import admin, messages

from donors import mailer
from donors.models import Email, SignInLink, StoryAnnouncement


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin):
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
class SignInLinkAdmin(admin.ModelAdmin):
    list_display = ["created_at", "donor", "used_at"]
    readonly_fields = ["donor", "created_at", "used_at"]
    fields = readonly_fields
    list_select_related = ["donor"]

    def has_add_permission(self, request):
        return False


@admin.register(StoryAnnouncement)
class StoryAnnouncementAdmin(admin.ModelAdmin):
    list_display = ["story", "announced_at"]
    readonly_fields = ["story", "announced_at"]
    list_select_related = ["story"]

    def has_add_permission(self, request):
        return False
