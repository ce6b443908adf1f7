"""What each kind of email says: subject, plain text and HTML from templates/email/.

Built when the email is sent (by a task), from what the database holds then.
"""

from collections import defaultdict

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from charity.models import Charity
from donations.models import Gift, RecurringGift
from donations.money import format_money
from donors import links, notices


def absolute(path):
    return settings.SITE_URL + path


def receipt_number(gift):
    """Stable and unique: the year it was paid and the gift's number."""
    paid = timezone.localtime(gift.paid_at or gift.created_at)
    return f"PL-{paid.year}-{gift.pk:07d}"


def payment_method(gift):
    if gift.source != Gift.Source.STRIPE:
        return gift.get_source_display()
    if gift.recurring_gift_id:
        return "Card, monthly gift through Stripe"
    return "Online payment through Stripe"


def charity():
    # Read from the database each time, not the footer's cache: a worker's local cache
    # would not hear that staff changed the facts.
    return Charity.load()


def receipt_context(gift):
    """Everything a receipt shows; the receipt email and the printable page both use it."""
    total = gift.amount_minor + gift.fee_covered_minor
    return {
        "gift": gift,
        "number": receipt_number(gift),
        "date": timezone.localtime(gift.paid_at or gift.created_at),
        "amount": format_money(gift.amount_minor, gift.currency),
        "fee_covered": format_money(gift.fee_covered_minor, gift.currency) if gift.fee_covered_minor else "",
        "total": format_money(total, gift.currency),
        "currency": gift.currency.upper(),
        "project": gift.project.title,
        "method": payment_method(gift),
        "monthly": bool(gift.recurring_gift_id),
        "charity": charity(),
    }


def _image_url(obj, width=960):
    """The rendition closest to `width` without going over, as an absolute URL."""
    renditions = obj.renditions
    if not renditions:
        return ""
    fitting = [r for r in renditions if r["width"] <= width] or renditions[:1]
    url = default_storage.url(fitting[-1]["name"])
    return url if url.startswith(("http://", "https://")) else absolute(url)


# One function per kind: (subject, context, extra headers).


def _receipt(email):
    context = receipt_context(email.gift)
    return f"Your receipt {context['number']} from {settings.SITE_NAME}", context, {}


def _refund(email):
    gift = email.gift
    refunded = email.data.get("refunded_minor", gift.amount_refunded_minor)
    context = {
        "gift": gift,
        "number": receipt_number(gift),
        "refunded": format_money(refunded, gift.currency),
        "amount": format_money(gift.amount_minor + gift.fee_covered_minor, gift.currency),
        "whole": refunded >= gift.amount_minor,
        "project": gift.project.title,
    }
    return f"We refunded your gift to {gift.project.title}", context, {}


def statement_gifts(donor, year):
    """The donor's gifts paid in `year` (in the site's time zone) that kept any money."""
    from donors.statements import year_bounds

    start, end = year_bounds(year)
    return (
        Gift.objects.filter(
            donor=donor,
            paid_at__gte=start,
            paid_at__lt=end,
            status__in=Gift.COUNTED_STATUSES,
            livemode=settings.STRIPE_LIVEMODE,
        )
        .select_related("project")
        .order_by("paid_at", "pk")
    )


def _statement(email):
    year = email.data["year"]
    rows, totals = [], defaultdict(int)
    for gift in statement_gifts(email.donor, year):
        given = gift.amount_minor + gift.fee_covered_minor - gift.amount_refunded_minor
        totals[gift.currency] += given
        rows.append(
            {
                "date": timezone.localtime(gift.paid_at),
                "number": receipt_number(gift),
                "project": gift.project.title,
                "amount": format_money(given, gift.currency),
            }
        )
    context = {
        "year": year,
        "donor": email.donor,
        "rows": rows,
        "totals": [format_money(total, currency) for currency, total in sorted(totals.items())],
        "charity": charity(),
    }
    return f"Your {year} giving to {settings.SITE_NAME}", context, {}


def _impact(email):
    story = email.story
    unsubscribe_url = absolute(reverse("donors:unsubscribe", args=[links.preferences_token(email.donor)]))
    context = {
        "story": story,
        "story_url": absolute(story.get_absolute_url()),
        "image_url": _image_url(story),
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": absolute(
            reverse("donors:preferences", args=[links.preferences_token(email.donor)])
        ),
    }
    headers = {
        # RFC 8058: mail programs show an unsubscribe button that POSTs here, no page needed.
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return story.title, context, headers


def _sign_in(email):
    token = links.sign_in_token(email.data["link_id"])
    context = {
        "url": absolute(reverse("donors:sign_in", args=[token])),
        "minutes": settings.DONOR_LINK_MAX_AGE_SECONDS // 60,
    }
    return f"Your link to manage your giving to {settings.SITE_NAME}", context, {}


def _payment_failed(email):
    recurring = RecurringGift.objects.select_related("project").get(pk=email.data["recurring_gift_id"])
    context = {
        "recurring": recurring,
        "amount": format_money(recurring.amount_minor, recurring.currency),
        "manage_url": absolute(reverse("donors:request_link")),
    }
    return f"Your monthly gift to {recurring.project.title} could not be paid", context, {}


BUILDERS = {
    "receipt": _receipt,
    "refund": _refund,
    "statement": _statement,
    "impact": _impact,
    "sign_in": _sign_in,
    "payment_failed": _payment_failed,
    **notices.BUILDERS,
}


def build_message(email, *, connection=None):
    subject, context, headers = BUILDERS[email.kind](email)
    context.update(
        SITE_NAME=settings.SITE_NAME,
        SITE_URL=settings.SITE_URL,
        CONTACT_EMAIL=settings.CONTACT_EMAIL,
        manage_url=absolute(reverse("donors:request_link")),
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"email/{email.kind}.txt", context),
        to=[email.to],
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(render_to_string(f"email/{email.kind}.html", context), "text/html")
    return message
