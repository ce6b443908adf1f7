"""Third-party admin lists narrowed to fit a 1280 px screen."""

from axes.admin import AccessLogAdmin
from axes.models import AccessLog
from django.contrib import admin


class NarrowAccessLogAdmin(AccessLogAdmin):
    # The user agent is long and on the entry's page; the list keeps who, when and where.
    list_display = ("attempt_time", "logout_time", "ip_address", "username", "path_info")


if admin.site.is_registered(AccessLog):
    admin.site.unregister(AccessLog)
    admin.site.register(AccessLog, NarrowAccessLogAdmin)
