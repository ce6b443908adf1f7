"""What each kind of email says: subject, plain text and HTML from templates/email/.

Built when the email is sent (by a task), from what the database holds then.
"""

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from charity.models import Charity
from donations.models import Gift, RecurringGift
from donations.money import format_money, format_with_cadence
from donors import links, notices
from ledger import figures
from ledger.models import Entry


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
    """Everything a receipt shows, from the gift's ledger entries; the receipt email and
    the printable page both use it. A receipt printed after a refund or a lost chargeback
    says so, and states what is left to deduct (nothing, when it is void)."""
    money = figures.gift_money(gift)
    return {
        "gift": gift,
        "number": receipt_number(gift),
        "date": timezone.localtime(gift.paid_at or gift.created_at),
        "amount": money.money("gift"),
        "fee_covered": money.money("covered_fee") if money.covered_fee_minor else "",
        "total": money.money("charged"),
        "refunded": money.money("refunded") if money.refunded_minor else "",
        "lost": money.money("lost") if money.lost_minor else "",
        "given": money.money("given"),
        "changed_since": bool(money.refunded_minor or money.lost_minor),
        "void": money.is_void,
        "currency": gift.currency.upper(),
        "project": gift.project.title,
        "method": payment_method(gift),
        "monthly": bool(gift.recurring_gift_id),
        # The sponsor's gift, named apart: the donor deducts only their own.
        "matches": figures.matches_of(gift),
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
    entries = list(Entry.objects.filter(pk__in=email.data.get("entry_ids", []), gift=gift))
    context = {
        "gift": gift,
        "number": receipt_number(gift),
        "project": gift.project.title,
        **figures.refund_notice(gift, entries),
    }
    return f"We refunded your gift to {gift.project.title}", context, {}


def _statement(email):
    year = email.data["year"]
    context = statement_context(email.donor, year)
    return f"Your {year} giving to {settings.SITE_NAME}", context, {}


def statement_context(donor, year):
    """A year's statement, as emailed and as the donor's own page shows it."""
    gifts, totals = figures.statement(donor, year)
    rows = [
        {
            "date": timezone.localtime(gift.paid_at),
            "number": receipt_number(gift),
            "project": gift.project.title,
            "amount": gift.money.money("given"),
            "charged": gift.money.money("charged"),
            "changed": gift.money.given_minor != gift.money.charged_minor,
        }
        for gift in gifts
    ]
    return {
        "year": year,
        "donor": donor,
        "rows": rows,
        "totals": totals,
        "matches": figures.sponsor_matches(donor, year),
        "match_totals": figures.sponsor_match_totals(donor, year),
        "charity": charity(),
    }


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
        # What the card is charged each month: the gift and the fee the donor covers.
        "amount": format_money(recurring.monthly_charge_minor, recurring.currency),
        "manage_url": absolute(reverse("donors:request_link")),
    }
    return f"Your monthly gift to {recurring.project.title} could not be paid", context, {}


def _monthly_cancelled(email):
    recurring = RecurringGift.objects.select_related("project").get(pk=email.data["recurring_gift_id"])
    context = {
        "recurring": recurring,
        "amount": format_with_cadence(recurring.monthly_charge_minor, recurring.currency, True),
        "restart_url": absolute(
            f"{recurring.project.get_donate_url()}&frequency=monthly&amount={recurring.amount_minor}"
        ),
    }
    return f"Your monthly gift to {recurring.project.title} is cancelled", context, {}


def _dedication(email):
    gift = Gift.objects.select_related("project").get(pk=email.data["gift_id"])
    giver = gift.donor_name or "Someone"
    context = {
        "gift": gift,
        "giver": giver,
        "honoree": gift.dedication_name,
        "words": "in memory of" if gift.dedication == Gift.Dedication.MEMORY else "in honor of",
        "message": gift.dedication_message,
        # Only if the donor chose to tell it; as given (a monthly gift: a month's gift).
        "amount": format_with_cadence(gift.amount_minor, gift.currency, gift.is_monthly)
        if gift.dedication_shows_amount
        else "",
        "project_url": absolute(gift.project.get_absolute_url()),
    }
    return f"A gift {context['words']} {gift.dedication_name}", context, {}


BUILDERS = {
    "receipt": _receipt,
    "refund": _refund,
    "statement": _statement,
    "impact": _impact,
    "sign_in": _sign_in,
    "payment_failed": _payment_failed,
    "monthly_cancelled": _monthly_cancelled,
    "dedication": _dedication,
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
