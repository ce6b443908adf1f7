from django import template

from donors.models import Email
from podari import text as text_rules

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


@register.filter
def masked_email(address):
    """ada.lovelace@example.com → a•••@e•••.com: enough for its owner to recognise, too little
    for whoever else sees a page opened from a forwarded email."""
    local, _, domain = (address or "").partition("@")
    if not local or not domain:
        return "•••"
    host, dot, tld = domain.rpartition(".")
    if not host:
        host, dot, tld = domain, "", ""
    return f"{local[0]}•••@{host[0]}•••{dot}{tld}"


@register.filter
def typed_by_donor(text, max_length=80):
    """What a donor typed (their name, the name a gift honours), as an email may show it: one
    line, at most `max_length` characters, never a clickable link (podari/text.py)."""
    return text_rules.typed_by_donor(text, int(max_length))


@register.simple_tag
def retention_periods():
    """What the site keeps and for how long, as configured: for the Privacy page."""
    from donors.retention import PERIODS

    return [(period.what, str(period)) for period in PERIODS]
