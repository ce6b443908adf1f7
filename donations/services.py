"""Giving: from a valid donate form to a Stripe Checkout Session (or the simulated one)."""

import calendar
import datetime
import json
import logging
import secrets
import time
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from donations import simulated_stripe, stripe_gateway, webhooks
from donations.models import Gift, RecurringGift
from donations.money import fee_to_cover, format_money
from ledger import figures

logger = logging.getLogger(__name__)

SIMULATED_SESSION_PREFIX = "cs_test_simulated_"


def giving_is_configured():
    return bool(settings.STRIPE_SECRET_KEY) or settings.SIMULATED_CHECKOUT


def absolute_url(request, path):
    if settings.SITE_URL:
        return settings.SITE_URL + path
    return request.build_absolute_uri(path)


def _price_data(gift, *, name, description, unit_amount):
    price_data = {
        "currency": gift.currency,
        "unit_amount": unit_amount,
        "product_data": {"name": name, "description": description},
    }
    if gift.is_monthly:
        price_data["recurring"] = {"interval": "month"}
    return {"quantity": 1, "price_data": price_data}


def checkout_session_params(gift, *, success_url, cancel_url):
    """Everything Stripe needs to take this gift, and to tie the payment back to it.

    A monthly gift is a subscription-mode session with a monthly price; the fee the donor
    chose to cover is a line of its own, so Stripe's total is the gift plus that fee."""
    project = gift.project
    metadata = {
        # The marker tells this site's sessions from the rest of the charity's Stripe
        # account; webhooks act on nothing without it (see donations/webhooks.py).
        webhooks.SITE_MARKER_KEY: settings.STRIPE_SITE_MARKER,
        "gift_public_id": str(gift.public_id),
        "project_id": str(project.pk),
        "project_slug": project.slug,
    }
    if gift.fee_covered_minor:
        metadata["fee_covered_minor"] = str(gift.fee_covered_minor)
    if gift.fundraiser_id:
        # Which supporter's page the gift was made on, for anyone reading the payment at Stripe.
        metadata["fundraiser_id"] = str(gift.fundraiser_id)
    # The same amounts as the donate form's button and fee line, and, for a monthly gift, the
    # cadence on both lines: Stripe's total is then "$25.87 per month" as the form said.
    amount = format_money(gift.amount_minor, gift.currency)
    fee = format_money(gift.fee_covered_minor, gift.currency)
    if gift.is_monthly:
        gift_line = (
            f"Monthly gift: {project.title}",
            f"{amount} per month until you stop it. {project.summary}",
        )
        fee_line = (
            "Covering the card fee, per month",
            f"{fee} per month, so that all of your {amount} per month reaches the project.",
        )
    else:
        gift_line = (project.title, project.summary)
        fee_line = ("Covering the card fee", f"{fee}, so that all of your {amount} gift reaches the project.")
    line_items = [
        _price_data(gift, name=gift_line[0], description=gift_line[1].strip(), unit_amount=gift.amount_minor)
    ]
    if gift.fee_covered_minor:
        line_items.append(
            _price_data(gift, name=fee_line[0], description=fee_line[1], unit_amount=gift.fee_covered_minor)
        )
    params = {
        "mode": "payment",
        # Allowed in subscription mode too since API version 2024-11-20.acacia.
        "submit_type": "donate",
        "line_items": line_items,
        "client_reference_id": str(gift.public_id),
        "metadata": metadata,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if gift.is_monthly:
        # If an invoice arrives before the checkout event, the subscription's metadata
        # (copied onto each invoice) is all there is to rebuild the record from.
        metadata.update(
            recurring_gift_public_id=str(gift.recurring_gift.public_id),
            amount_minor=str(gift.amount_minor),
            currency=gift.currency,
        )
        params["mode"] = "subscription"
        params["subscription_data"] = {
            "description": f"Monthly gift to {project.title}",
            "metadata": metadata,
        }
    else:
        params["payment_intent_data"] = {"description": f"Gift to {project.title}", "metadata": metadata}
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
    if gift.recurring_gift_id:
        RecurringGift.objects.filter(pk=gift.recurring_gift_id).update(stripe_checkout_session_id=session.id)
    return session.url


SIMULATED_API_VERSION = "2026-10-28.endive"


def _simulated_event(event_type, data_object, *, created=None):
    """An event envelope shaped like Stripe's around a simulated object."""
    return {
        "id": "evt_simulated_" + secrets.token_hex(12),
        "object": "event",
        "api_version": SIMULATED_API_VERSION,
        "created": created or int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": data_object},
    }


def _send_simulated(event, *, lose=False):
    """Through the same signature check and handlers as Stripe's deliveries. The
    simulated Stripe keeps every event; a lost one is never delivered, and only
    reconciliation (`manage.py reconcile_stripe`) finds it."""
    simulated_stripe.record(event, delivered=not lose)
    if lose:
        return
    payload = json.dumps(event)
    stored = webhooks.receive(payload.encode(), stripe_gateway.sign_payload(payload))
    webhooks.process(stored)


def _simulated_metadata(gift):
    recurring = gift.recurring_gift
    metadata = {
        webhooks.SITE_MARKER_KEY: settings.STRIPE_SITE_MARKER,
        "gift_public_id": str(gift.public_id),
        "project_id": str(gift.project_id),
    }
    if gift.fee_covered_minor:
        metadata["fee_covered_minor"] = str(gift.fee_covered_minor)
    if recurring is not None:
        metadata.update(
            recurring_gift_public_id=str(recurring.public_id),
            amount_minor=str(recurring.amount_minor),
            currency=recurring.currency,
        )
        # The monthly gift's current split (the donor may have changed the amount since).
        metadata.pop("fee_covered_minor", None)
        if recurring.fee_covered_minor:
            metadata["fee_covered_minor"] = str(recurring.fee_covered_minor)
    return metadata


def month_later(unix_time, months=1):
    """The same day `months` later (the month's last day if shorter), as Stripe bills."""
    when = datetime.datetime.fromtimestamp(unix_time, tz=datetime.UTC)
    year, month = divmod(when.month - 1 + months, 12)
    year, month = when.year + year, month + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return int(when.replace(year=year, month=month, day=day).timestamp())


def simulated_completed_event(gift, *, subscription_id=None, customer_id=None):
    """A checkout.session.completed event shaped like Stripe's, for the simulated checkout."""
    total = gift.amount_minor + gift.fee_covered_minor
    session = {
        "id": gift.stripe_checkout_session_id,
        "object": "checkout.session",
        "mode": "payment",
        "submit_type": "donate",
        "status": "complete",
        "payment_status": "paid",
        "amount_subtotal": total,
        "amount_total": total,
        "currency": gift.currency,
        "client_reference_id": str(gift.public_id),
        "customer": customer_id,
        "customer_details": {
            "email": gift.donor_email or "donor@example.com",
            "name": gift.donor_name or None,
        },
        "metadata": _simulated_metadata(gift),
        "payment_intent": "pi_simulated_" + secrets.token_hex(12),
        "subscription": None,
        "livemode": False,
    }
    if gift.is_monthly:
        # Subscription mode: no payment intent on the session; the invoice carries the payment.
        session.update(mode="subscription", payment_intent=None, subscription=subscription_id)
    return _simulated_event("checkout.session.completed", session)


def _simulated_invoice_events(recurring, *, billing_reason, email, name):
    """invoice.paid for one month, then the invoice_payment.paid that ties it to its payment."""
    first = recurring.payments.order_by("created_at").first()
    now = int(time.time())
    invoice_id = "in_simulated_" + secrets.token_hex(12)
    payment_intent = "pi_simulated_" + secrets.token_hex(12)
    total = recurring.amount_minor + recurring.fee_covered_minor
    invoice = {
        "id": invoice_id,
        "object": "invoice",
        "amount_due": total,
        "amount_paid": total,
        "amount_remaining": 0,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "currency": recurring.currency,
        "customer": recurring.stripe_customer_id,
        "customer_email": email,
        "customer_name": name,
        "livemode": False,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "metadata": _simulated_metadata(first),
                "subscription": recurring.stripe_subscription_id,
            },
        },
        "period_start": now,
        "period_end": now,
        # The month paid for, as Stripe states it on the invoice's line.
        "lines": {
            "object": "list",
            "data": [{"object": "line_item", "period": {"start": now, "end": month_later(now)}}],
        },
        "status": "paid",
        "status_transitions": {"finalized_at": now, "paid_at": now},
        "total": total,
    }
    invoice_payment = {
        "id": "inpay_simulated_" + secrets.token_hex(12),
        "object": "invoice_payment",
        "amount_paid": total,
        "amount_requested": total,
        "created": now,
        "currency": recurring.currency,
        "invoice": invoice_id,
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": payment_intent},
        "status": "paid",
        "status_transitions": {"canceled_at": None, "paid_at": now},
    }
    return [
        _simulated_event("invoice.paid", invoice),
        _simulated_event("invoice_payment.paid", invoice_payment),
    ]


def pay_simulated_checkout(gift, *, lose_webhook=False):
    """Send a simulated payment through the same signature check and handlers as Stripe's.

    A monthly gift gets what Stripe sends for one: the completed subscription-mode
    session, then the first month's invoice. With `lose_webhook`, Stripe takes the money
    but its events never arrive (see reconciliation in the README)."""
    if not gift.is_monthly:
        _send_simulated(simulated_completed_event(gift), lose=lose_webhook)
        return
    subscription_id = "sub_simulated_" + secrets.token_hex(12)
    customer_id = "cus_simulated_" + secrets.token_hex(8)
    _send_simulated(
        simulated_completed_event(gift, subscription_id=subscription_id, customer_id=customer_id),
        lose=lose_webhook,
    )
    recurring = RecurringGift.objects.get(pk=gift.recurring_gift_id)
    if lose_webhook:
        # Stripe has made the subscription; the site has not heard of it.
        recurring.stripe_subscription_id = subscription_id
        recurring.stripe_customer_id = customer_id
    for event in _simulated_invoice_events(
        recurring,
        billing_reason="subscription_create",
        email=gift.donor_email or "donor@example.com",
        name=gift.donor_name or None,
    ):
        _send_simulated(event, lose=lose_webhook)


def _check_simulated(recurring):
    if not settings.SIMULATED_CHECKOUT:
        raise ValueError("Simulated payments need DEBUG on and no Stripe key.")
    if not (recurring.stripe_subscription_id or "").startswith("sub_simulated_"):
        raise ValueError(f"{recurring} is not a simulated monthly gift.")


def simulate_next_monthly_payment(recurring):
    """Simulated mode only: Stripe charges the next month (invoice.paid), through the webhook path."""
    _check_simulated(recurring)
    first = recurring.payments.order_by("created_at").first()
    donor_email = recurring.donor.email if recurring.donor else (first.donor_email if first else "")
    for event in _simulated_invoice_events(
        recurring,
        billing_reason="subscription_cycle",
        email=donor_email or "donor@example.com",
        name=(first.donor_name if first else "") or None,
    ):
        _send_simulated(event)


def cancel_simulated_subscription(
    recurring, *, reason="cancellation_requested", comment=None, lose_webhook=False
):
    """Simulated mode only: the donor cancels; Stripe sends customer.subscription.deleted
    (which never arrives, with `lose_webhook`)."""
    _check_simulated(recurring)
    now = int(time.time())
    first = recurring.payments.order_by("created_at").first()
    subscription = {
        "id": recurring.stripe_subscription_id,
        "object": "subscription",
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": now,
        "cancellation_details": {"comment": comment, "feedback": None, "reason": reason},
        "currency": recurring.currency,
        "customer": recurring.stripe_customer_id,
        "ended_at": now,
        "items": {
            "object": "list",
            "data": [
                {
                    "object": "subscription_item",
                    "price": {
                        "object": "price",
                        "currency": recurring.currency,
                        "unit_amount": recurring.amount_minor,
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                    "quantity": 1,
                }
            ],
        },
        "livemode": False,
        "metadata": _simulated_metadata(first) if first else {},
        "start_date": int(recurring.started_at.timestamp()) if recurring.started_at else now,
        "status": "canceled",
    }
    _send_simulated(_simulated_event("customer.subscription.deleted", subscription), lose=lose_webhook)


def create_billing_portal_session(donor, return_url):
    """The URL of Stripe's customer portal, where a monthly donor updates their card or
    cancels. None when the donor has no Stripe customer (never gave monthly) or in the
    simulated checkout (use cancel_simulated_subscription there). Raises StripeUnavailable."""
    if settings.SIMULATED_CHECKOUT:
        return None
    customer_id = donor.stripe_customer_id or (
        RecurringGift.objects.filter(donor=donor)
        .exclude(stripe_customer_id="")
        .order_by("-created_at")
        .values_list("stripe_customer_id", flat=True)
        .first()
    )
    if not customer_id:
        return None
    return stripe_gateway.create_billing_portal_session(customer_id, return_url)


def find_simulated_gift(session_id):
    if not settings.SIMULATED_CHECKOUT or not session_id.startswith(SIMULATED_SESSION_PREFIX):
        return None
    return Gift.objects.select_related("project").filter(stripe_checkout_session_id=session_id).first()


# Staff acting for a donor who phoned (the donor's profile in the admin, donors/admin.py).


class CannotRefund(Exception):
    """The gift has nothing Stripe could refund; the message says why, for staff."""


def refund_gift(gift, *, by):
    """Ask Stripe to refund what is left of a paid online gift; returns Stripe's refund.

    Nothing changes here: the gift's status and the ledger change when Stripe's
    `charge.refunded` webhook arrives, so a refund counts once whoever made it."""
    if gift.status not in (Gift.Status.SUCCEEDED, Gift.Status.PARTIALLY_REFUNDED):
        raise CannotRefund(f"Gift #{gift.pk} is {gift.get_status_display().lower()}: nothing to refund.")
    if not gift.stripe_payment_intent_id or gift.stripe_payment_intent_id.startswith("pi_simulated_"):
        raise CannotRefund(f"Gift #{gift.pk} has no Stripe payment to refund (simulated or offline).")
    refunded_so_far = figures.gift_money(gift).refunded_minor
    return stripe_gateway.create_refund(
        gift.stripe_payment_intent_id,
        # The same request twice (a double click, a retry) makes one refund at Stripe.
        idempotency_key=f"podari-refund-{gift.public_id}-{refunded_so_far}",
        metadata={"gift_public_id": str(gift.public_id), "refunded_by": by.get_username()},
    )


def cancel_monthly_gift(recurring, *, comment):
    """Cancel a monthly gift at Stripe (the simulated Stripe in simulated checkout). Its
    status changes when `customer.subscription.deleted` arrives. Raises StripeUnavailable."""
    if settings.SIMULATED_CHECKOUT and (recurring.stripe_subscription_id or "").startswith("sub_simulated_"):
        cancel_simulated_subscription(recurring, reason="cancellation_requested", comment=comment)
        return "canceled"
    return stripe_gateway.cancel_subscription(recurring.stripe_subscription_id, comment=comment)


# A monthly donor's own changes, from their giving page: the amount and a pause (a cancellation
# is cancel_monthly_gift above). Each asks Stripe (or the simulated Stripe) to make it; the
# record changes only when the subscription's webhook arrives, as for a change in Stripe's portal.

PAUSE_MONTHS = (1, 2, 3)


def _amounts_metadata(amount_minor, fee_minor):
    """The subscription's metadata that its invoices are split by (Stripe removes a key set to "")."""
    return {"amount_minor": str(amount_minor), "fee_covered_minor": str(fee_minor) if fee_minor else ""}


def change_monthly_amount(recurring, amount_minor):
    """Charge `amount_minor` a month from the next month on, covering the card fee again if
    the donor covered it. No proration: the month already paid stays as it was."""
    fee = fee_to_cover(amount_minor, recurring.currency) if recurring.fee_covered_minor else 0
    if settings.SIMULATED_CHECKOUT:
        _check_simulated(recurring)
        _send_simulated_update(recurring, amount_minor=amount_minor, fee_minor=fee)
        return
    subscription = stripe_gateway.retrieve_subscription(recurring.stripe_subscription_id)
    items = (subscription.get("items") or {}).get("data") or []
    # Checkout made two lines: the gift, at its amount, and the covered fee, if any.
    gift_item = next((i for i in items if i["price"]["unit_amount"] == recurring.amount_minor), items[0])
    updates = [
        {
            "id": item["id"],
            "product": item["price"]["product"],
            "unit_amount": amount_minor if item is gift_item else fee,
        }
        for item in items
    ]
    stripe_gateway.update_subscription_amounts(
        recurring.stripe_subscription_id,
        items=updates,
        currency=recurring.currency,
        metadata=_amounts_metadata(amount_minor, fee),
    )


def pause_monthly_gift(recurring, months):
    """No charge for `months` months: Stripe voids the invoices until then."""
    if months not in PAUSE_MONTHS:
        raise ValueError(f"A pause is {PAUSE_MONTHS} months, not {months}.")
    resumes_at = month_later(int(time.time()), months)
    if settings.SIMULATED_CHECKOUT:
        _check_simulated(recurring)
        _send_simulated_update(recurring, resumes_at=resumes_at)
        return
    stripe_gateway.pause_subscription(recurring.stripe_subscription_id, resumes_at=resumes_at)


def resume_monthly_gift(recurring):
    """End a pause now: the next month is charged as usual."""
    if settings.SIMULATED_CHECKOUT:
        _check_simulated(recurring)
        _send_simulated_update(recurring, resumes_at=None)
        return
    stripe_gateway.resume_subscription(recurring.stripe_subscription_id)


# For _send_simulated_update: a change that leaves any pause as it is (None ends a pause).
_KEEP_PAUSE = object()


def _send_simulated_update(recurring, *, amount_minor=None, fee_minor=None, resumes_at=_KEEP_PAUSE):
    """customer.subscription.updated, as Stripe sends it after the change."""
    now = int(time.time())
    first = recurring.payments.order_by("created_at").first()
    metadata = _simulated_metadata(first) if first else {}
    if amount_minor is not None:
        metadata.update(_amounts_metadata(amount_minor, fee_minor))
    else:
        amount_minor, fee_minor = recurring.amount_minor, recurring.fee_covered_minor
    if resumes_at is _KEEP_PAUSE:
        resumes_at = int(recurring.paused_until.timestamp()) if recurring.is_paused else None
    period_end = (
        int(recurring.current_period_end.timestamp()) if recurring.current_period_end else month_later(now)
    )
    subscription = _simulated_subscription(
        recurring, metadata=metadata, amounts=(amount_minor, fee_minor), period_end=period_end
    )
    subscription["pause_collection"] = {"behavior": "void", "resumes_at": resumes_at} if resumes_at else None
    _send_simulated(_simulated_event("customer.subscription.updated", subscription, created=now))


def _simulated_subscription(recurring, *, metadata, amounts, period_end, status="active"):
    lines = [amount for amount in amounts if amount]
    return {
        "id": recurring.stripe_subscription_id,
        "object": "subscription",
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "currency": recurring.currency,
        "customer": recurring.stripe_customer_id,
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [
                {
                    "object": "subscription_item",
                    "id": f"si_simulated_{recurring.pk}_{index}",
                    "current_period_end": period_end,
                    "price": {
                        "object": "price",
                        "currency": recurring.currency,
                        "product": f"prod_simulated_{recurring.pk}_{index}",
                        "unit_amount": amount,
                        "recurring": {"interval": "month", "interval_count": 1},
                    },
                    "quantity": 1,
                }
                for index, amount in enumerate(lines)
            ],
        },
        "livemode": False,
        "metadata": metadata,
        "pause_collection": None,
        "start_date": int(recurring.started_at.timestamp()) if recurring.started_at else int(time.time()),
        "status": status,
    }
