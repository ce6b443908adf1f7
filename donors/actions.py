"""Admin actions other apps' admins offer (the gift list's "Resend receipt")."""

import uuid

from django.contrib import admin, messages
from django.db import transaction

from donations.models import Gift
from donors.models import Email


def resend_receipt(gift, *, by):
    """Queue the receipt of a paid gift again; returns False for a gift with no receipt."""
    to = gift.donor_email or (gift.donor.email if gift.donor_id else "")
    if gift.status not in Gift.PAID_STATUSES or not to:
        return False
    # A new email of its own: the first receipt's record stays as it was.
    Email.objects.queue(
        kind=Email.Kind.RECEIPT,
        key=f"receipt:{gift.pk}:resent:{uuid.uuid4().hex}",
        to=to,
        donor_id=gift.donor_id,
        gift=gift,
        data={"resent_by": by.get_username()},
    )
    return True


@admin.action(description="Resend the receipt of the selected paid gifts", permissions=["change"])
def resend_receipts(modeladmin, request, queryset):
    resent = 0
    with transaction.atomic():
        for gift in queryset.filter(status__in=Gift.PAID_STATUSES).select_related("donor"):
            resent += resend_receipt(gift, by=request.user)
    modeladmin.message_user(request, f"{resent} receipt(s) queued to be sent again.", messages.SUCCESS)
