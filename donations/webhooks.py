"""Stripe webhook events: verify, store once, then apply.

An event is stored by its Stripe id before anything else happens, so a delivery that
arrives twice (even at the same moment) is applied once, and an event whose handler
failed stays on record to be replayed from the admin. Handlers never call Stripe and
never return anything HTTP-shaped; they lock the gift they change, so events about
one gift apply one after another whatever order they arrive in.
"""

import json
import logging
import traceback

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from donations import stripe_gateway
from donations.models import Gift, Project, StripeEvent

logger = logging.getLogger(__name__)


class InvalidEvent(Exception):
    """Signed by Stripe but not shaped like an event."""


def receive(payload: bytes, signature_header) -> StripeEvent:
    """Verify a delivery and store its event (once). Raises InvalidSignature or InvalidEvent."""
    stripe_gateway.verify_signature(payload, signature_header)
    try:
        data = json.loads(payload)
        event_id, event_type = data["id"], data["type"]
        if not isinstance(data["data"]["object"], dict) or not isinstance(event_id, str):
            raise TypeError("event data is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidEvent(str(exc)) from exc
    event, _ = StripeEvent.objects.get_or_create(
        stripe_id=event_id,
        defaults={
            "type": str(event_type)[:100],
            "api_version": str(data.get("api_version") or "")[:50],
            "livemode": bool(data.get("livemode")),
            "payload": data,
        },
    )
    return event


def process(event: StripeEvent) -> StripeEvent:
    """Apply a stored event unless it already was. Re-raises a handler's exception
    after recording it on the event, so the caller can answer 5xx and Stripe retries."""
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().get(pk=event.pk)
            if event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
                return event
            handler = HANDLERS.get(event.type)
            if handler is not None:
                handler(event.data_object)
            event.status = StripeEvent.Status.PROCESSED if handler else StripeEvent.Status.IGNORED
            event.attempts += 1
            event.last_error = ""
            event.processed_at = timezone.now()
            event.save()
            return event
    except Exception:
        logger.exception("Stripe event %s (%s) failed", event.stripe_id, event.type)
        StripeEvent.objects.filter(pk=event.pk).update(
            status=StripeEvent.Status.FAILED,
            attempts=F("attempts") + 1,
            last_error=traceback.format_exc()[-4000:],
        )
        raise


# Finding and creating gifts


def _metadata(stripe_object):
    metadata = stripe_object.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _locked_gift(*, session_id=None, gift_id=None, payment_intent_id=None):
    gifts = Gift.objects.select_for_update()
    if session_id:
        gift = gifts.filter(stripe_checkout_session_id=session_id).first()
        if gift:
            return gift
    if gift_id and str(gift_id).isdigit():
        gift = gifts.filter(pk=int(gift_id)).first()
        # A gift already tied to another checkout session or payment is not this one. A
        # charge names no session: its refund may arrive before the session's completion.
        if gift and session_id and gift.stripe_checkout_session_id not in (None, session_id):
            gift = None
        if gift and payment_intent_id and gift.stripe_payment_intent_id not in (None, payment_intent_id):
            gift = None
        if gift:
            return gift
    if payment_intent_id:
        return gifts.filter(stripe_payment_intent_id=payment_intent_id).first()
    return None


def _project_for(metadata):
    project_id = str(metadata.get("project_id", ""))
    project = Project.objects.filter(pk=int(project_id)).first() if project_id.isdigit() else None
    if project is None:
        project = Project.general_fund()
    if project is None:
        # Raising keeps the event failed and replayable until staff create a general fund.
        raise RuntimeError("No project in the event's metadata and no general fund to attribute it to.")
    return project


def _session_amount(session):
    """The amount in our own currency. With Adaptive Pricing the donor may pay in
    theirs; currency_conversion then holds what we asked for."""
    conversion = session.get("currency_conversion")
    if isinstance(conversion, dict) and conversion.get("source_currency"):
        return conversion["amount_total"], conversion["source_currency"].lower()
    return session["amount_total"], session["currency"].lower()


def _payment_intent_id(stripe_object):
    payment_intent = stripe_object.get("payment_intent")
    if isinstance(payment_intent, dict):
        return payment_intent.get("id")
    return payment_intent or None


def _gift_for_session(session, *, create=True):
    metadata = _metadata(session)
    gift = _locked_gift(
        session_id=session["id"],
        gift_id=metadata.get("gift_id") or session.get("client_reference_id"),
        payment_intent_id=_payment_intent_id(session),
    )
    if gift is None and create:
        amount_minor, currency = _session_amount(session)
        gift = Gift(
            project=_project_for(metadata),
            amount_minor=amount_minor,
            currency=currency,
        )
        gift.flag(
            "Recorded from Stripe's event alone: no gift on this site matched checkout "
            f"session {session['id']} (a Payment Link, or a lost record)."
        )
    if gift is not None:
        gift.stripe_checkout_session_id = session["id"]
    return gift


# Handlers: one per event type, each given the event's data.object as a dict.


def _record_session_payment(gift, session):
    details = session.get("customer_details") or {}
    amount_minor, currency = _session_amount(session)
    gift.record_payment(
        amount_minor=amount_minor,
        currency=currency,
        payment_intent_id=_payment_intent_id(session),
        donor_name=details.get("name") or "",
        donor_email=details.get("email") or "",
    )


def checkout_session_completed(session):
    gift = _gift_for_session(session)
    if session.get("payment_status") in ("paid", "no_payment_required"):
        _record_session_payment(gift, session)
    elif _payment_intent_id(session):
        # Delayed payment methods complete unpaid; async_payment_* follows.
        gift.stripe_payment_intent_id = _payment_intent_id(session)
    gift.save()


def checkout_session_async_payment_succeeded(session):
    gift = _gift_for_session(session)
    _record_session_payment(gift, session)
    gift.save()


def checkout_session_async_payment_failed(session):
    gift = _gift_for_session(session, create=False)
    if gift is not None:
        gift.mark_failed()
        gift.save()


def checkout_session_expired(session):
    gift = _gift_for_session(session, create=False)
    if gift is not None:
        gift.mark_abandoned()
        gift.save()


def charge_refunded(charge):
    metadata = _metadata(charge)
    payment_intent_id = _payment_intent_id(charge)
    gift = _locked_gift(gift_id=metadata.get("gift_id"), payment_intent_id=payment_intent_id)
    currency = charge["currency"].lower()
    if gift is None:
        # A refund that outran its checkout.session.completed, for a gift we never saw.
        gift = Gift(project=_project_for(metadata), amount_minor=charge["amount"], currency=currency)
        gift.flag(f"Recorded from a refund of charge {charge['id']}: no matching gift on this site.")
    if not gift.is_paid and charge.get("paid"):
        gift.record_payment(
            amount_minor=charge["amount"], currency=currency, payment_intent_id=payment_intent_id
        )
    gift.apply_refund(amount_refunded_minor=charge["amount_refunded"], charge_id=charge["id"])
    gift.save()


HANDLERS = {
    "checkout.session.completed": checkout_session_completed,
    "checkout.session.async_payment_succeeded": checkout_session_async_payment_succeeded,
    "checkout.session.async_payment_failed": checkout_session_async_payment_failed,
    "checkout.session.expired": checkout_session_expired,
    "charge.refunded": charge_refunded,
}
