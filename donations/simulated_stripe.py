"""The simulated checkout's Stripe: answers reconciliation's list and retrieve calls from
the events the simulated checkout sent (`SimulatedStripeEvent`), shaped like Stripe's
answers, so `make run` can show a lost webhook being found and applied.

Only reached through donations/stripe_gateway.py when settings.SIMULATED_CHECKOUT is on.
Refunds, disputes and payouts are never simulated: Stripe lists none.
"""

import copy
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from donations.models import Gift, RecurringGift, SimulatedStripeEvent
from donations.money import fee_fixed_minor
from donations.stripe_gateway import PAGE_SIZE, Page, StripeNotFound

# Stripe expires an unpaid Checkout Session after 24 hours.
SESSION_LIFETIME = timedelta(hours=24)


def record(event, *, delivered):
    """Keep an event the simulated Stripe sent (or lost on the way)."""
    SimulatedStripeEvent.objects.create(
        stripe_id=event["id"],
        type=event["type"],
        object_id=event["data"]["object"].get("id") or "",
        created=event["created"],
        payload=event,
        delivered=delivered,
    )


def _after(rows, cursor):
    """The rows after the cursor's row, in the list's order (newest first)."""
    return rows.filter(Q(created__lt=cursor.created) | Q(created=cursor.created, pk__lt=cursor.pk))


def list_events(*, created_gte, types, starting_after=None, delivery_success=False):
    rows = SimulatedStripeEvent.objects.filter(
        delivered=delivery_success, created__gte=created_gte, type__in=list(types)
    ).order_by("-created", "-pk")
    if starting_after:
        cursor = SimulatedStripeEvent.objects.filter(stripe_id=starting_after).first()
        rows = _after(rows, cursor) if cursor else rows
    found = list(rows[: PAGE_SIZE + 1])
    return Page(items=[row.payload for row in found[:PAGE_SIZE]], has_more=len(found) > PAGE_SIZE)


def _latest(object_id, *types):
    rows = SimulatedStripeEvent.objects.filter(object_id=object_id).order_by("-created", "-pk")
    if types:
        rows = rows.filter(type__in=types)
    return rows.first()


def retrieve_checkout_session(session_id):
    from donations.services import SIMULATED_SESSION_PREFIX, _simulated_metadata

    event = _latest(session_id)
    if event is not None:
        session = copy.deepcopy(event.payload["data"]["object"])
        if session.get("payment_intent"):
            # Expanded, as reconciliation asks for it.
            session["payment_intent"] = {
                "id": session["payment_intent"],
                "object": "payment_intent",
                "created": event.created,
            }
        if session.get("subscription"):
            first = _first_invoice(session["subscription"])
            session["invoice"] = first.object_id if first else None
        return session
    gift = Gift.objects.filter(stripe_checkout_session_id=session_id).first()
    if gift is None or not session_id.startswith(SIMULATED_SESSION_PREFIX):
        raise StripeNotFound(f"No such checkout.session: '{session_id}'")
    expires_at = gift.created_at + SESSION_LIFETIME
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": "subscription" if gift.is_monthly else "payment",
        "status": "expired" if timezone.now() >= expires_at else "open",
        "payment_status": "unpaid",
        "amount_total": gift.total_to_charge_minor,
        "currency": gift.currency,
        "created": int(gift.created_at.timestamp()),
        "expires_at": int(expires_at.timestamp()),
        "metadata": _simulated_metadata(gift),
        "payment_intent": None,
        "subscription": None,
        "invoice": None,
        "livemode": False,
    }


def _first_invoice(subscription_id):
    return (
        SimulatedStripeEvent.objects.filter(
            type="invoice.paid",
            payload__data__object__parent__subscription_details__subscription=subscription_id,
            payload__data__object__billing_reason="subscription_create",
        )
        .order_by("created", "pk")
        .first()
    )


def retrieve_invoice(invoice_id):
    event = _latest(invoice_id, "invoice.paid")
    if event is None:
        raise StripeNotFound(f"No such invoice: '{invoice_id}'")
    invoice = copy.deepcopy(event.payload["data"]["object"])
    payments = SimulatedStripeEvent.objects.filter(
        type="invoice_payment.paid", payload__data__object__invoice=invoice_id
    ).order_by("created", "pk")
    invoice["payments"] = {
        "object": "list",
        "data": [row.payload["data"]["object"] for row in payments],
        "has_more": False,
    }
    return invoice


def retrieve_subscription(subscription_id):
    event = _latest(subscription_id, "customer.subscription.updated", "customer.subscription.deleted")
    if event is not None:
        return copy.deepcopy(event.payload["data"]["object"])
    # Never changed since the donor's checkout started it: active, as the session made it.
    session = SimulatedStripeEvent.objects.filter(
        type="checkout.session.completed", payload__data__object__subscription=subscription_id
    ).first()
    recurring = RecurringGift.objects.filter(stripe_subscription_id=subscription_id).first()
    if session is None and recurring is None:
        raise StripeNotFound(f"No such subscription: '{subscription_id}'")
    started = session.created if session else int(recurring.created_at.timestamp())
    metadata = session.payload["data"]["object"].get("metadata", {}) if session else {}
    return {
        "id": subscription_id,
        "object": "subscription",
        "status": "active",
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "customer": (session.payload["data"]["object"].get("customer") if session else None)
        or recurring.stripe_customer_id,
        "livemode": False,
        "metadata": metadata,
        "start_date": started,
    }


def _charges():
    """(created, charge) of every payment the simulated Stripe took, newest first."""
    charges = []
    rows = SimulatedStripeEvent.objects.filter(
        type__in=["checkout.session.completed", "invoice_payment.paid"]
    ).order_by("-created", "-pk")
    for row in rows:
        data = row.payload["data"]["object"]
        if row.type == "checkout.session.completed":
            if data.get("mode") != "payment" or data.get("payment_status") != "paid":
                continue
            payment_intent, amount, metadata = (
                data.get("payment_intent"),
                data["amount_total"],
                data["metadata"],
            )
        else:
            payment_intent, amount, metadata = data["payment"]["payment_intent"], data["amount_paid"], {}
        suffix = payment_intent.removeprefix("pi_simulated_")
        charge = {
            "id": f"ch_simulated_{suffix}",
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": 0,
            "currency": data["currency"],
            "created": row.created,
            "disputed": False,
            "livemode": False,
            "metadata": metadata,
            "paid": True,
            "payment_intent": payment_intent,
            "refunded": False,
            "status": "succeeded",
            "balance_transaction": f"txn_simulated_{suffix}",
        }
        charges.append(charge)
    return charges


def _stripe_fee(amount, currency):
    """Stripe's fee as the fee-cover offer assumes it (a percentage, half up, and the
    currency's fixed part)."""
    return (amount * settings.FEE_COVER_PERCENT_BP + 5_000) // 10_000 + fee_fixed_minor(currency)


def retrieve_charge(charge_id):
    for charge in _charges():
        if charge["id"] == charge_id:
            return charge
    raise StripeNotFound(f"No such charge: '{charge_id}'")


def _transaction(charge):
    fee = _stripe_fee(charge["amount"], charge["currency"])
    return {
        "id": charge["balance_transaction"],
        "object": "balance_transaction",
        "amount": charge["amount"],
        "currency": charge["currency"],
        "created": charge["created"],
        "available_on": charge["created"],
        "fee": fee,
        "fee_details": [{"amount": fee, "currency": charge["currency"], "type": "stripe_fee"}],
        "net": charge["amount"] - fee,
        "reporting_category": "charge",
        "source": charge,
        "status": "available",
        "type": "charge",
    }


def list_balance_transactions(*, created_gte=None, created_lt=None, payout=None, starting_after=None):
    if payout:
        return Page(items=[], has_more=False)  # the simulated Stripe never pays out
    rows = [
        _transaction(charge)
        for charge in _charges()
        if (created_gte is None or charge["created"] >= created_gte)
        and (created_lt is None or charge["created"] < created_lt)
    ]
    if starting_after:
        ids = [row["id"] for row in rows]
        rows = rows[ids.index(starting_after) + 1 :] if starting_after in ids else rows
    return Page(items=rows[:PAGE_SIZE], has_more=len(rows) > PAGE_SIZE)


def list_payouts(*, created_gte, created_lt, starting_after=None):
    return Page(items=[], has_more=False)


def retrieve_payment_intent(payment_intent_id):
    for charge in _charges():
        if charge["payment_intent"] == payment_intent_id:
            return {
                "id": payment_intent_id,
                "object": "payment_intent",
                "amount": charge["amount"],
                "amount_received": charge["amount"],
                "currency": charge["currency"],
                "created": charge["created"],
                "latest_charge": charge["id"],
                "livemode": False,
                "status": "succeeded",
            }
    raise StripeNotFound(f"No such payment_intent: '{payment_intent_id}'")
