"""Staff decisions on fundraiser pages: each saved with who decided, then the supporter is
emailed after the decision commits."""

from django.db import transaction
from django.urls import reverse

from fundraisers import emails
from fundraisers.models import Fundraiser
from fundraisers.tasks import send_supporter_email

WORDS = {
    Fundraiser.Status.LIVE: (
        "Your fundraiser page is live",
        "It takes gifts now. Share its address with your friends.",
    ),
    Fundraiser.Status.PAUSED: (
        "Your fundraiser page is paused",
        "It takes no gifts while it is paused. Edit it, or reply to this email, "
        "and our team will look again.",
    ),
    Fundraiser.Status.REMOVED: (
        "Your fundraiser page was removed",
        "It is no longer on the site. Gifts already made still go to the project. "
        "Write to us if you have questions.",
    ),
}


def moderate(page, status, *, by, reason=""):
    """Approve, pause or remove a page (under a row lock, so a supporter's edit saved at
    the same moment is not overwritten with old text)."""
    with transaction.atomic():
        locked = Fundraiser.objects.select_for_update().select_related("supporter").get(pk=page.pk)
        if status == Fundraiser.Status.LIVE:
            locked.approve(by)
        elif status == Fundraiser.Status.PAUSED:
            locked.pause(by, reason)
        else:
            locked.remove(by, reason)
        locked.save(
            update_fields=[
                "status", "held_reason", "moderated_by", "moderated_at", "moderation_reason", "updated_at",
            ]
        )  # fmt: skip
        headline, next_step = WORDS[status]
        context = {
            "headline": headline,
            "next_step": next_step,
            "title": locked.title,
            "reason": reason,
            "url": emails.absolute(reverse("fundraisers:owner", args=[locked.slug])),
        }
        transaction.on_commit(
            lambda: send_supporter_email.enqueue(
                locked.supporter.email, "fundraiser_moderated", f"{headline}: {locked.title}", context
            )
        )
    return locked
