"""What Stripe's API answers reconciliation, built from real object shapes: the events in
tests/fixtures/stripe/*.json and the API objects in tests/fixtures/stripe/api/*.json."""

import copy
import secrets
import time

from tests.conftest import load_stripe_fixture

SUBSCRIPTION = "sub_1QcM4rB7WZ01zgkWp2Yt6Hn8"
HANDLED_TYPES = sorted(
    [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        "checkout.session.async_payment_failed",
        "checkout.session.expired",
        "charge.refunded",
        "charge.refund.updated",
        "charge.dispute.created",
        "charge.dispute.closed",
        "invoice.paid",
        "invoice_payment.paid",
        "invoice.payment_failed",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ]
)


def api_object(name, **fields):
    obj = load_stripe_fixture(f"api/{name}")
    obj.update(copy.deepcopy(fields))
    return obj


def event_object(name, **fields):
    obj = load_stripe_fixture(name)["data"]["object"]
    obj.update(copy.deepcopy(fields))
    return obj


def page(items, *, has_more=False, url="/v1/list"):
    return {"object": "list", "data": items, "has_more": has_more, "url": url}


def rate_limited():
    return 429, {"error": {"type": "rate_limit_error", "message": "Request rate limit exceeded."}}


def not_found(what="resource"):
    return 404, {
        "error": {"type": "invalid_request_error", "code": "resource_missing", "message": f"No such {what}"}
    }


def metadata(gift):
    return {
        "podari_site": "podari-life",
        "gift_public_id": str(gift.public_id),
        "project_id": str(gift.project_id),
        "project_slug": gift.project.slug,
    }


def paid_session(gift, *, payment_intent="pi_3QbXy2B7WZ01zgkW1aB2cD3e", paid_at=None, **fields):
    """The gift's Checkout Session as Stripe's API answers it: complete and paid, its
    payment intent expanded (as reconciliation asks)."""
    return event_object(
        "checkout_session_completed",
        id=gift.stripe_checkout_session_id,
        client_reference_id=str(gift.public_id),
        metadata=metadata(gift),
        amount_subtotal=gift.total_to_charge_minor,
        amount_total=gift.total_to_charge_minor,
        currency=gift.currency,
        payment_intent=api_object(
            "payment_intent",
            id=payment_intent,
            amount=gift.total_to_charge_minor,
            amount_received=gift.total_to_charge_minor,
            created=paid_at or int(time.time()),
            status="succeeded",
            metadata=metadata(gift),
        ),
        **fields,
    )


def event(name, *, obj, created=None):
    """An event as Stripe's list of events answers it."""
    data = load_stripe_fixture(name)
    data.update(
        id=f"evt_test_{secrets.token_hex(12)}", created=created or int(time.time()), pending_webhooks=1
    )
    data["data"]["object"] = obj
    return data


def charge(gift, *, charge_id=None, amount=None, payment_intent=None, **fields):
    fields.setdefault("metadata", metadata(gift))
    return api_object(
        "charge",
        id=charge_id or f"ch_test_{secrets.token_hex(8)}",
        amount=gift.total_to_charge_minor if amount is None else amount,
        amount_captured=gift.total_to_charge_minor if amount is None else amount,
        currency=gift.currency,
        captured=True,
        payment_intent=payment_intent or gift.stripe_payment_intent_id,
        **fields,
    )


def balance_transaction(source, *, fee=0, kind="charge", created=None, **fields):
    amount = source.get("amount", 0) if kind == "charge" else -source.get("amount", 0)
    return api_object(
        "balance_transaction",
        id=f"txn_test_{secrets.token_hex(8)}",
        amount=amount,
        fee=fee,
        net=amount - fee,
        currency=source.get("currency", "usd"),
        created=created or int(time.time()),
        type=kind,
        reporting_category={"adjustment": "dispute"}.get(kind, kind),
        source=source,
        **fields,
    )
