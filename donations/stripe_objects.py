"""Reading Stripe's objects as they arrive in events: ids, metadata, amounts, and whether
an object is this site's.

The charity's Stripe account is shared with other tools, so the site acts only on
objects carrying its marker (or on Payment Links staff opted in); everything else is
stored and left alone (see donations/webhooks.py).
"""

import datetime
import uuid

from django.conf import settings

# Metadata keys this site reads on Stripe objects.
SITE_MARKER_KEY = "podari_site"
PAYMENT_LINK_PROJECT_KEY = "podari_project"


class NotThisSites(Exception):
    """The event is about money this site did not ask for (a ticket sale, another
    tool's subscription, the other mode's key). It is stored and never applied."""


def metadata(stripe_object):
    found = stripe_object.get("metadata")
    return found if isinstance(found, dict) else {}


def has_site_marker(stripe_object):
    return metadata(stripe_object).get(SITE_MARKER_KEY) == settings.STRIPE_SITE_MARKER


def object_id(value):
    """The id of a Stripe reference, whether sent as an id or as an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def payment_intent_id(stripe_object):
    return object_id(stripe_object.get("payment_intent"))


def payment_id(stripe_object):
    """The payment an object is about, as events wait for it: its payment intent, or for
    an invoice payment, the invoice (whose gift it ties to its payment intent)."""
    if stripe_object.get("object") == "invoice_payment":
        return object_id(stripe_object.get("invoice"))
    return payment_intent_id(stripe_object)


def charge_id(stripe_object):
    if stripe_object.get("object") == "charge":
        return stripe_object.get("id") or ""
    return object_id(stripe_object.get("charge"))


def as_uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def whole_number(value):
    """A whole number from metadata (always strings), or 0."""
    value = str(value or "")
    return int(value) if value.isdigit() else 0


def from_unix(value):
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC) if isinstance(value, int) else None


def donation_payment_link_project(session):
    """For a session from a Payment Link staff made for giving: the project slug it names
    ("" for the general fund). None when the link is not one of those."""
    link = object_id(session.get("payment_link"))
    if not link:
        return None
    if link in settings.DONATION_PAYMENT_LINKS:
        return settings.DONATION_PAYMENT_LINKS[link]
    named = metadata(session).get(PAYMENT_LINK_PROJECT_KEY)
    return str(named) if named is not None else None


def check_session_is_ours(session):
    """Raise NotThisSites unless this site started the session, or staff opted its
    Payment Link in. Subscription sessions count only with the marker (monthly gifts);
    other modes (setup) are never gifts here."""
    if session.get("mode") == "subscription" and has_site_marker(session):
        return
    if session.get("mode") != "payment":
        raise NotThisSites(f"A {session.get('mode')}-mode Checkout Session: not a gift on this site.")
    if has_site_marker(session) or donation_payment_link_project(session) is not None:
        return
    raise NotThisSites("A Checkout Session this site did not create (no site marker, no donation link).")


def session_amounts(session):
    """(amount, currency) in our own currency, and what the donor's card was charged.

    With Adaptive Pricing the donor may pay in theirs; currency_conversion then holds
    what we asked for."""
    charged = (session["amount_total"], (session.get("currency") or "").lower())
    conversion = session.get("currency_conversion")
    if isinstance(conversion, dict) and conversion.get("source_currency"):
        return (conversion["amount_total"], conversion["source_currency"].lower()), charged
    return charged, charged


def subscription_details(invoice):
    """An invoice's subscription and the subscription's metadata, as of the invoice.

    In this API version they live under parent.subscription_details."""
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    if not isinstance(details, dict):
        return "", {}
    found = details.get("metadata")
    return object_id(details.get("subscription")), found if isinstance(found, dict) else {}


def check_invoice_is_ours(invoice_metadata):
    if invoice_metadata.get(SITE_MARKER_KEY) != settings.STRIPE_SITE_MARKER:
        raise NotThisSites(
            "An invoice without this site's marker in parent.subscription_details.metadata "
            "(another tool's subscription, or a one-off invoice)."
        )


def invoice_payment_intent(invoice):
    """The payment intent that paid an invoice, when the invoice carries its payments.

    In this API version an invoice reaches its payments through invoice payments
    (`payments`, only present when included); invoice_payment.paid carries the same."""
    payments = invoice.get("payments")
    rows = payments.get("data") if isinstance(payments, dict) else None
    for row in rows if isinstance(rows, list) else []:
        payment = row.get("payment") if isinstance(row, dict) else None
        if isinstance(payment, dict) and row.get("status") in ("paid", None):
            found = object_id(payment.get("payment_intent"))
            if found:
                return found
    return ""


def objects_to_serialize_on(stripe_object):
    """The ids of the payments an event is about, which its transaction locks before
    anything else (see webhooks.process): a payment intent, a Checkout Session, an
    invoice (a charge's own id only when it names no payment intent)."""
    ids = {payment_intent_id(stripe_object)}
    kind = stripe_object.get("object")
    if kind == "checkout.session":
        ids.add(stripe_object.get("id") or "")
    elif kind == "invoice":
        ids.add(stripe_object.get("id") or "")
        ids.add(invoice_payment_intent(stripe_object))
    elif kind == "invoice_payment":
        ids.add(object_id(stripe_object.get("invoice")))
        payment = stripe_object.get("payment")
        if isinstance(payment, dict):
            ids.add(object_id(payment.get("payment_intent")))
    elif not any(ids):
        ids.add(charge_id(stripe_object))
    return sorted(i for i in ids if isinstance(i, str) and i)


def subscription_period_end(subscription):
    """When the subscription's current month ends: on its items since API 2025-03-31.basil,
    on the subscription itself before."""
    items = (subscription.get("items") or {}).get("data") or []
    ends = [item.get("current_period_end") for item in items]
    ends = [end for end in ends if isinstance(end, int)]
    return from_unix(min(ends) if ends else subscription.get("current_period_end"))


def subscription_resumes_at(subscription):
    """Until when the donor paused the subscription (None when it is not paused)."""
    pause = subscription.get("pause_collection")
    return from_unix(pause.get("resumes_at")) if isinstance(pause, dict) else None


def invoice_period_end(invoice):
    """The end of the month an invoice paid for: its lines' period (the invoice's own
    period_end is the start of that month for a subscription's invoice)."""
    lines = (invoice.get("lines") or {}).get("data") or []
    ends = [(line.get("period") or {}).get("end") for line in lines]
    ends = [end for end in ends if isinstance(end, int)]
    return from_unix(max(ends)) if ends else None
