"""The one place this site talks to Stripe.

Each function makes one call through the official `stripe` library and returns plain
data, so the rest of the code (and its tests) never handles Stripe objects or the
network. Tests point STRIPE_API_BASE at a local stub server and see the exact
parameters Stripe would receive.
"""

import logging
from dataclasses import dataclass

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)

# Events older than this are refused even with a valid signature (replay protection).
SIGNATURE_TOLERANCE_SECONDS = 300


class StripeUnavailable(Exception):
    """Stripe could not be reached or refused the request. The message is for logs only."""


class InvalidSignature(Exception):
    """A webhook body that Stripe did not sign with our endpoint's secret."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


def _client():
    base_addresses = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base_addresses,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        # A donor waits on this call. Even when every try times out, it ends (longest_wait_seconds)
        # well before nginx (proxy_read_timeout) or gunicorn (timeout) gives up on the request,
        # so a slow Stripe gives the donor our "try again" page, not a 504 or a killed worker
        # (tests/donations/test_stripe_timeouts.py reads all three and checks it).
        http_client=stripe.RequestsClient(
            timeout=(settings.STRIPE_CONNECT_TIMEOUT_SECONDS, settings.STRIPE_TIMEOUT_SECONDS)
        ),
    )


def longest_wait_seconds(*, connect=None, read=None, retries=None):
    """The longest one call to Stripe can take: every try waiting the whole connect and read
    timeouts, plus stripe-python's longest sleep before each retry.

    requests' read timeout bounds each wait for bytes from Stripe; Stripe's small JSON answer
    comes at once, so it bounds the wait for the answer. The sleep before retry n is
    min(0.5 s × 2^(n-1), 5 s), jittered down to no less than half, never below 0.5 s
    (stripe._http_client.HTTPClient._sleep_time_seconds; it does not read Retry-After).
    """
    connect = settings.STRIPE_CONNECT_TIMEOUT_SECONDS if connect is None else connect
    read = settings.STRIPE_TIMEOUT_SECONDS if read is None else read
    retries = settings.STRIPE_MAX_NETWORK_RETRIES if retries is None else retries
    first, most = stripe.HTTPClient.INITIAL_DELAY, stripe.HTTPClient.MAX_DELAY
    sleeps = sum(max(first, min(first * 2 ** (n - 1), most)) for n in range(1, retries + 1))
    return (retries + 1) * (connect + read) + sleeps


def create_checkout_session(params, *, idempotency_key):
    try:
        session = _client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as exc:
        raise StripeUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return CheckoutSession(id=session.id, url=session.url)


def create_billing_portal_session(customer_id, return_url):
    """A Stripe customer portal page where a monthly donor updates their card or cancels.
    Returns its URL (short-lived; create one for each visit)."""
    try:
        session = _client().v1.billing_portal.sessions.create(
            params={"customer": customer_id, "return_url": return_url}
        )
    except stripe.StripeError as exc:
        raise StripeUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return session.url


def verify_signature(payload: bytes, signature_header):
    """Raise InvalidSignature unless Stripe signed this exact body recently."""
    try:
        payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(
            payload,
            signature_header,
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=SIGNATURE_TOLERANCE_SECONDS,
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError, TypeError) as exc:
        # TypeError: a header with non-ASCII characters cannot even be compared.
        raise InvalidSignature(str(exc)) from exc


def sign_payload(payload: str) -> str:
    """A Stripe-Signature header for a body, as Stripe computes it (simulated checkout)."""
    return stripe.WebhookSignature.generate_signature_header(payload, settings.STRIPE_WEBHOOK_SECRET)


def _already_gone(exc):
    return getattr(exc, "code", None) == "resource_missing"


def cancel_subscription(subscription_id, *, comment):
    """Cancel a monthly gift at once (no further charge). Returns Stripe's status for it
    ("canceled"), or "missing" when Stripe has no such subscription any more."""
    try:
        subscription = _client().v1.subscriptions.cancel(
            subscription_id, params={"cancellation_details": {"comment": comment}}
        )
    except stripe.StripeError as exc:
        if _already_gone(exc):
            return "missing"
        raise StripeUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return subscription.status


def _update_subscription(subscription_id, params):
    try:
        subscription = _client().v1.subscriptions.update(subscription_id, params=params)
    except stripe.StripeError as exc:
        raise StripeUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return subscription.status


def update_subscription_amounts(subscription_id, *, items, currency, metadata):
    """Charge new monthly amounts from the next invoice on (no proration: the month paid
    stays as it was). `items`: each subscription item's id, product and new unit_amount;
    `metadata`: the amounts the site splits each invoice by. Returns Stripe's status."""
    return _update_subscription(
        subscription_id,
        {
            "items": [
                {
                    "id": item["id"],
                    "price_data": {
                        "currency": currency,
                        "product": item["product"],
                        "unit_amount": item["unit_amount"],
                        "recurring": {"interval": "month"},
                    },
                }
                for item in items
            ],
            "proration_behavior": "none",
            "metadata": metadata,
        },
    )


def pause_subscription(subscription_id, *, resumes_at):
    """No charge until `resumes_at` (Unix seconds): Stripe voids the invoices meanwhile."""
    return _update_subscription(
        subscription_id, {"pause_collection": {"behavior": "void", "resumes_at": resumes_at}}
    )


def resume_subscription(subscription_id):
    """End a pause now ("" unsets pause_collection in Stripe's API)."""
    return _update_subscription(subscription_id, {"pause_collection": ""})


def create_refund(payment_intent_id, *, idempotency_key, metadata=None):
    """Refund what is left of a payment (Stripe refunds the rest when no amount is given).

    Returns {"id", "status", "amount", "currency"}. The ledger changes only when Stripe's
    `charge.refunded` event arrives, as for a refund made in Stripe's dashboard."""
    params = {"payment_intent": payment_intent_id, "reason": "requested_by_customer"}
    if metadata:
        params["metadata"] = metadata
    try:
        refund = _client().v1.refunds.create(params=params, options={"idempotency_key": idempotency_key})
    except stripe.StripeError as exc:
        raise StripeUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return {"id": refund.id, "status": refund.status, "amount": refund.amount, "currency": refund.currency}


def delete_customer(customer_id):
    """Delete a Stripe customer: its name, email, address and cards go from Stripe, and any
    subscription it still had is cancelled. Returns True when deleted, or already gone."""
    try:
        customer = _client().v1.customers.delete(customer_id)
    except stripe.StripeError as exc:
        if _already_gone(exc):
            return True
        raise StripeUnavailable(f"{type(exc).__name__}: {exc}") from exc
    return bool(getattr(customer, "deleted", False))


# Reading Stripe's records, for reconciliation (ledger/reconciliation.py). Each function
# is one call and returns plain dicts. With the simulated checkout they answer from the
# site's own simulated Stripe (donations/simulated_stripe.py) instead.


class RateLimited(StripeUnavailable):
    """Stripe answered 429: too many requests on the account (shared with other tools)."""


class StripeNotFound(Exception):
    """Stripe has no such object (for this key's account and mode)."""


@dataclass(frozen=True)
class Page:
    """One page of a Stripe list: its objects as plain dicts, newest first, and whether
    more follow (ask again with starting_after= the last one's id)."""

    items: list
    has_more: bool


# Stripe's largest page.
PAGE_SIZE = 100


def _call(request):
    try:
        return request()
    except stripe.RateLimitError as exc:
        raise RateLimited(f"{type(exc).__name__}: {exc}") from exc
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            raise StripeNotFound(str(exc)) from exc
        raise StripeUnavailable(f"{type(exc).__name__}: {exc}") from exc
    except stripe.StripeError as exc:
        raise StripeUnavailable(f"{type(exc).__name__}: {exc}") from exc


def _plain(stripe_object):
    """A Stripe object as the JSON Stripe sent (decimal strings stay strings)."""
    return stripe_object.to_dict(for_json=True)


def _page(result):
    return Page(items=[_plain(item) for item in result.data], has_more=bool(result.has_more))


def _simulated():
    """The simulated Stripe, when the simulated checkout stands in for Stripe."""
    if not settings.SIMULATED_CHECKOUT:
        return None
    from donations import simulated_stripe

    return simulated_stripe


def _window(created_gte, created_lt):
    window = {"gte": created_gte}
    if created_lt is not None:
        window["lt"] = created_lt
    return window


def list_events(*, created_gte, types, starting_after=None, delivery_success=False):
    """Events of these types created since `created_gte` (Unix seconds) whose delivery to
    the account's webhook endpoints did not succeed (yet), newest first. Stripe keeps 30 days."""
    if simulated := _simulated():
        return simulated.list_events(
            created_gte=created_gte,
            types=types,
            starting_after=starting_after,
            delivery_success=delivery_success,
        )
    params = {
        "delivery_success": delivery_success,
        "created": {"gte": created_gte},
        "types": sorted(types),
        "limit": PAGE_SIZE,
    }
    if starting_after:
        params["starting_after"] = starting_after
    return _call(lambda: _page(_client().v1.events.list(params=params)))


def retrieve_checkout_session(session_id):
    """A Checkout Session, its payment intent expanded (for the time it was paid)."""
    if simulated := _simulated():
        return simulated.retrieve_checkout_session(session_id)
    params = {"expand": ["payment_intent"]}
    return _call(lambda: _plain(_client().v1.checkout.sessions.retrieve(session_id, params=params)))


def retrieve_invoice(invoice_id):
    """An invoice with its payments (which name the payment intent)."""
    if simulated := _simulated():
        return simulated.retrieve_invoice(invoice_id)
    params = {"expand": ["payments"]}
    return _call(lambda: _plain(_client().v1.invoices.retrieve(invoice_id, params=params)))


def retrieve_subscription(subscription_id):
    if simulated := _simulated():
        return simulated.retrieve_subscription(subscription_id)
    return _call(lambda: _plain(_client().v1.subscriptions.retrieve(subscription_id)))


def retrieve_charge(charge_id):
    if simulated := _simulated():
        return simulated.retrieve_charge(charge_id)
    return _call(lambda: _plain(_client().v1.charges.retrieve(charge_id)))


def list_balance_transactions(*, created_gte=None, created_lt=None, payout=None, starting_after=None):
    """Balance transactions created in [created_gte, created_lt) (Unix seconds), or those
    an automatic payout paid out, newest first, each with its source (the charge, refund
    or dispute) expanded."""
    if simulated := _simulated():
        return simulated.list_balance_transactions(
            created_gte=created_gte, created_lt=created_lt, payout=payout, starting_after=starting_after
        )
    params = {"limit": PAGE_SIZE, "expand": ["data.source"]}
    if payout:
        params["payout"] = payout
    else:
        params["created"] = _window(created_gte, created_lt)
    if starting_after:
        params["starting_after"] = starting_after
    return _call(lambda: _page(_client().v1.balance_transactions.list(params=params)))


def list_payouts(*, created_gte, created_lt, starting_after=None):
    """Payouts created in [created_gte, created_lt) (Unix seconds), newest first."""
    if simulated := _simulated():
        return simulated.list_payouts(
            created_gte=created_gte, created_lt=created_lt, starting_after=starting_after
        )
    params = {"limit": PAGE_SIZE, "created": _window(created_gte, created_lt)}
    if starting_after:
        params["starting_after"] = starting_after
    return _call(lambda: _page(_client().v1.payouts.list(params=params)))


def retrieve_payment_intent(payment_intent_id):
    if simulated := _simulated():
        return simulated.retrieve_payment_intent(payment_intent_id)
    return _call(lambda: _plain(_client().v1.payment_intents.retrieve(payment_intent_id)))
