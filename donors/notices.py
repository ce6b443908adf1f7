"""What the privacy emails say: confirming stories after an unsubscribe, a data export ready
to download, an erasure to confirm. Built like the others (donors/emails.py), when sent."""

from django.conf import settings
from django.urls import reverse

from donors import links


def _absolute(path):
    return settings.SITE_URL + path


def _confirm_stories(email):
    context = {
        "url": _absolute(reverse("donors:confirm_stories", args=[links.confirm_stories_token(email)])),
        "project": email.gift.project.title if email.gift_id else "",
        "days": settings.DONOR_CONFIRM_LINK_MAX_AGE_SECONDS // 86400,
    }
    return f"Do you want stories from {settings.SITE_NAME} again?", context, {}


def _export_ready(email):
    from donors.models import PrivacyRequest

    request = PrivacyRequest(pk=email.data["request"])
    context = {
        "url": _absolute(reverse("donors:data", args=[links.request_token(request, links.EXPORT_SALT)])),
        "days": settings.DATA_EXPORT_DAYS,
    }
    return f"Your data from {settings.SITE_NAME} is ready to download", context, {}


def _confirm_erasure(email):
    from donors.models import PrivacyRequest

    request = PrivacyRequest(pk=email.data["request"])
    context = {
        "url": _absolute(reverse("donors:erase", args=[links.request_token(request, links.ERASURE_SALT)])),
        "hours": settings.DONOR_ERASURE_LINK_MAX_AGE_SECONDS // 3600,
    }
    return f"Confirm: erase your data at {settings.SITE_NAME}", context, {}


BUILDERS = {
    "confirm_stories": _confirm_stories,
    "export_ready": _export_ready,
    "confirm_erasure": _confirm_erasure,
}
