from django import template

from donors.models import Email

register = template.Library()


@register.simple_tag
def receipt_state(gift):
    """ "sent" once this gift's receipt was handed to the mail server, "queued" while it
    waits for the worker, "" when there is none (no address, or not decided yet)."""
    if gift is None or gift.pk is None:
        return ""
    statuses = set(Email.objects.filter(gift=gift, kind=Email.Kind.RECEIPT).values_list("status", flat=True))
    if Email.Status.SENT in statuses:
        return "sent"
    if statuses & {Email.Status.PENDING, Email.Status.SENDING, Email.Status.RETRYING}:
        return "queued"
    return ""
