"""Giving: from a valid donate form to a Stripe Checkout Session (or the simulated one)."""

import json
import logging
import secrets
import time
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from donations import stripe_gateway, webhooks
from donations.models import Gift

logger = logging.getLogger(__name__)

SIMULATED_SESSION_PREFIX = "cs_test_simulated_"


def giving_is_configured():
    return bool(settings.STRIPE_SECRET_KEY) or settings.SIMULATED_CHECKOUT


def absolute_url(request, path):
    if settings.SITE_URL:
        return settings.SITE_URL + path
    return request.build_absolute_uri(path)


def checkout_session_params(gift, *, success_url, cancel_url):
    """Everything Stripe needs to take this gift, and to tie the payment back to it."""
    project = gift.project
    metadata = {
        # The marker tells this site's sessions from the rest of the charity's Stripe
        # account; webhooks act on nothing without it (see donations/webhooks.py).
        webhooks.SITE_MARKER_KEY: settings.STRIPE_SITE_MARKER,
        "gift_public_id": str(gift.public_id),
        "project_id": str(project.pk),
        "project_slug": project.slug,
    }
    params = {
        "mode": "payment",
        "submit_type": "donate",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": gift.currency,
                    "unit_amount": gift.amount_minor,
                    "product_data": {
                        "name": project.title,
                        "description": project.summary,
                    },
                },
            }
        ],
        "client_reference_id": str(gift.public_id),
        "metadata": metadata,
        "payment_intent_data": {
            "description": f"Gift to {project.title}",
            "metadata": metadata,
        },
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if gift.donor_email:
        params["customer_email"] = gift.donor_email
    return params


def start_checkout(request, gift):
    """Create the checkout session for a pending gift and return the URL to send the donor to.

    Raises StripeUnavailable (after marking the gift not started) when Stripe cannot
    be reached or refuses; the caller shows the donor a page to try again.
    """
    success_url = absolute_url(request, reverse("donations:thanks")) + "?session_id={CHECKOUT_SESSION_ID}"
    # Cancelling comes back to the filled form; the gift's id, not the donor's details, rides in the URL.
    cancel_url = (
        absolute_url(request, reverse("donations:donate")) + "?" + urlencode({"resume": gift.public_id})
    )
    if settings.SIMULATED_CHECKOUT:
        session_id = SIMULATED_SESSION_PREFIX + secrets.token_hex(16)
        session = stripe_gateway.CheckoutSession(
            id=session_id, url=reverse("donations:simulated_checkout", args=[session_id])
        )
    else:
        params = checkout_session_params(gift, success_url=success_url, cancel_url=cancel_url)
        try:
            session = stripe_gateway.create_checkout_session(
                params, idempotency_key=f"checkout-{gift.public_id}"
            )
        except stripe_gateway.StripeUnavailable:
            logger.exception("Could not start Stripe Checkout for gift %s", gift.pk)
            gift.mark_not_started()
            gift.save(update_fields=["status", "updated_at"])
            raise
    gift.mark_checkout_started(session.id)
    gift.save(update_fields=["stripe_checkout_session_id", "updated_at"])
    return session.url


def simulated_completed_event(gift):
    """A checkout.session.completed event shaped like Stripe's, for the simulated checkout."""
    session_id = gift.stripe_checkout_session_id
    return {
        "id": "evt_simulated_" + secrets.token_hex(12),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "mode": "payment",
                "submit_type": "donate",
                "status": "complete",
                "payment_status": "paid",
                "amount_subtotal": gift.amount_minor,
                "amount_total": gift.amount_minor,
                "currency": gift.currency,
                "client_reference_id": str(gift.public_id),
                "customer_details": {
                    "email": gift.donor_email or "donor@example.com",
                    "name": gift.donor_name or None,
                },
                "metadata": {
                    webhooks.SITE_MARKER_KEY: settings.STRIPE_SITE_MARKER,
                    "gift_public_id": str(gift.public_id),
                    "project_id": str(gift.project_id),
                },
                "payment_intent": "pi_simulated_" + secrets.token_hex(12),
                "livemode": False,
            }
        },
    }


def pay_simulated_checkout(gift):
    """Send a simulated payment through the same signature check and handlers as Stripe's."""
    payload = json.dumps(simulated_completed_event(gift))
    event = webhooks.receive(payload.encode(), stripe_gateway.sign_payload(payload))
    webhooks.process(event)


def find_simulated_gift(session_id):
    if not settings.SIMULATED_CHECKOUT or not session_id.startswith(SIMULATED_SESSION_PREFIX):
        return None
    return Gift.objects.select_related("project").filter(stripe_checkout_session_id=session_id).first()
