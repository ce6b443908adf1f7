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
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from donations import signals, stripe_gateway
from donations.models import Gift, Project, StripeEvent

logger = logging.getLogger(__name__)


# Metadata keys this site reads on Stripe objects.
SITE_MARKER_KEY = "podari_site"
PAYMENT_LINK_PROJECT_KEY = "podari_project"


class InvalidEvent(Exception):
    """Signed by Stripe but not shaped like an event."""


# JSON nested deeper than any Stripe object: deeper bodies are refused before parsing,
# since Python's parser would raise RecursionError on them.
MAX_JSON_DEPTH = 64


class NotThisSites(Exception):
    """The event is about money this site did not ask for (a ticket sale, another
    tool's subscription, the other mode's key). It is stored and never applied."""


class WaitingForGift(Exception):
    """A refund or dispute of a payment this site has not recorded yet. It is stored
    and applied when the payment arrives (see _apply_waiting_events)."""


def _nesting_depth_ok(payload: bytes) -> bool:
    depth = deepest = 0
    in_string = escaped = False
    for byte in payload:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):  # { [
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return False
        elif byte in (0x7D, 0x5D):
            depth -= 1
    return True


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number Stripe sends")


def receive(payload: bytes, signature_header) -> StripeEvent:
    """Verify a delivery and store its event (once). Raises InvalidSignature or InvalidEvent."""
    stripe_gateway.verify_signature(payload, signature_header)
    if not _nesting_depth_ok(payload):
        raise InvalidEvent("JSON nested deeper than any Stripe event")
    try:
        data = json.loads(payload, parse_constant=_refuse_constant)
        event_id, event_type = data["id"], data["type"]
        if not isinstance(data["data"]["object"], dict) or not isinstance(event_id, str):
            raise TypeError("event data is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidEvent(str(exc)) from exc
    event, _ = StripeEvent.objects.get_or_create(
        stripe_id=event_id[:255],
        defaults={
            "type": str(event_type)[:100],
            "api_version": str(data.get("api_version") or "")[:50],
            "livemode": data.get("livemode") is True,
            "payload": data,
            "payment_intent_id": _payment_intent_id(data["data"]["object"])[:255],
        },
    )
    return event


def process(event: StripeEvent) -> StripeEvent:
    """Apply a stored event unless it already was. Re-raises a handler's exception
    after recording it on the event, so the caller can answer 5xx and Stripe retries."""
    try:
        with transaction.atomic():
            event = StripeEvent.objects.select_for_update().get(pk=event.pk)
            if event.status in StripeEvent.FINAL_STATUSES:
                return event
            handler = HANDLERS.get(event.type)
            event.attempts += 1
            event.last_error = ""
            event.processed_at = timezone.now()
            if handler is None:
                event.status = StripeEvent.Status.IGNORED
            elif event.livemode != settings.STRIPE_LIVEMODE:
                logger.error(
                    "Stripe event %s is %s but the key is %s: stored, not applied.",
                    event.stripe_id,
                    _mode(event.livemode),
                    _mode(settings.STRIPE_LIVEMODE),
                )
                event.status = StripeEvent.Status.SKIPPED
                event.note = (
                    f"A {_mode(event.livemode)} event, and this site runs a "
                    f"{_mode(settings.STRIPE_LIVEMODE)} key."
                )
            else:
                _apply(handler, event)
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


def _mode(livemode):
    return "live" if livemode else "test"


def _apply(handler, event):
    """Run the handler and set the event's status from how it ended."""
    try:
        # A savepoint, so a handler that gave up half-way leaves nothing behind.
        with transaction.atomic():
            handler(event.data_object, event)
    except NotThisSites as exc:
        event.status = StripeEvent.Status.SKIPPED
        event.note = str(exc)[:500]
    except WaitingForGift as exc:
        event.status = StripeEvent.Status.UNMATCHED
        event.note = str(exc)[:500]
    else:
        event.status = StripeEvent.Status.PROCESSED
        event.note = ""


def _apply_waiting_events(payment_intent_id):
    """Apply refunds and disputes that arrived before this payment was recorded."""
    if not payment_intent_id:
        return
    waiting = StripeEvent.objects.select_for_update().filter(
        payment_intent_id=payment_intent_id, status=StripeEvent.Status.UNMATCHED
    )
    for event in sorted(waiting, key=lambda e: (e.created, e.pk)):
        _apply(HANDLERS[event.type], event)
        event.attempts += 1
        event.processed_at = timezone.now()
        event.save()


# What belongs to this site


def _metadata(stripe_object):
    metadata = stripe_object.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _has_site_marker(stripe_object):
    return _metadata(stripe_object).get(SITE_MARKER_KEY) == settings.STRIPE_SITE_MARKER


def _donation_payment_link_project(session):
    """For a session from a Payment Link staff made for giving: the project slug it names
    ("" for the general fund). None when the link is not one of those."""
    link = session.get("payment_link")
    if isinstance(link, dict):
        link = link.get("id")
    if not link:
        return None
    if link in settings.DONATION_PAYMENT_LINKS:
        return settings.DONATION_PAYMENT_LINKS[link]
    named = _metadata(session).get(PAYMENT_LINK_PROJECT_KEY)
    return str(named) if named is not None else None


def _check_session_is_ours(session):
    """Raise NotThisSites unless this site started the session, or staff opted its
    Payment Link in. Sessions of other modes (setup, subscription) are not gifts here."""
    if session.get("mode") != "payment":
        raise NotThisSites(f"A {session.get('mode')}-mode Checkout Session: not a gift on this site.")
    if _has_site_marker(session) or _donation_payment_link_project(session) is not None:
        return
    raise NotThisSites("A Checkout Session this site did not create (no site marker, no donation link).")


def _locked_gift_for_session(session):
    gifts = Gift.objects.select_for_update()
    gift = gifts.filter(stripe_checkout_session_id=session["id"]).first()
    if gift is None and _has_site_marker(session):
        public_id = _uuid(_metadata(session).get("gift_public_id"))
        if public_id:
            gift = gifts.filter(public_id=public_id).first()
            # A gift already tied to another checkout session is not this one.
            if gift and gift.stripe_checkout_session_id not in (None, session["id"]):
                gift = None
    return gift


def _locked_gift_for_charge(charge_like):
    """The gift a charge, refund or dispute is about: by payment intent or charge id,
    or by this site's marker and the gift's public id. Never by anything else."""
    gifts = Gift.objects.select_for_update()
    payment_intent_id = _payment_intent_id(charge_like)
    if payment_intent_id:
        gift = gifts.filter(stripe_payment_intent_id=payment_intent_id).first()
        if gift:
            return gift
    charge_id = _charge_id(charge_like)
    if charge_id:
        gift = gifts.filter(stripe_charge_id=charge_id).first()
        if gift:
            return gift
    if _has_site_marker(charge_like):
        public_id = _uuid(_metadata(charge_like).get("gift_public_id"))
        gift = gifts.filter(public_id=public_id).first() if public_id else None
        if gift and gift.stripe_payment_intent_id not in (None, payment_intent_id):
            gift = None
        return gift
    return None


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _project_for(metadata, slug=None):
    project = None
    if slug:
        project = Project.objects.filter(slug=slug).first()
    project_id = str(metadata.get("project_id", ""))
    if project is None and project_id.isdigit():
        project = Project.objects.filter(pk=int(project_id)).first()
    if project is None:
        project = Project.general_fund()
    if project is None:
        # Raising keeps the event failed and replayable until staff create a general fund.
        raise RuntimeError("No project in the event's metadata and no general fund to attribute it to.")
    return project


def _session_amounts(session):
    """(amount, currency) in our own currency, and what the donor's card was charged.

    With Adaptive Pricing the donor may pay in theirs; currency_conversion then holds
    what we asked for."""
    charged = (session["amount_total"], (session.get("currency") or "").lower())
    conversion = session.get("currency_conversion")
    if isinstance(conversion, dict) and conversion.get("source_currency"):
        return (conversion["amount_total"], conversion["source_currency"].lower()), charged
    return charged, charged


def _payment_intent_id(stripe_object):
    payment_intent = stripe_object.get("payment_intent")
    if isinstance(payment_intent, dict):
        payment_intent = payment_intent.get("id")
    return payment_intent if isinstance(payment_intent, str) else ""


def _charge_id(stripe_object):
    if stripe_object.get("object") == "charge":
        return stripe_object.get("id") or ""
    charge = stripe_object.get("charge")
    if isinstance(charge, dict):
        charge = charge.get("id")
    return charge if isinstance(charge, str) else ""


def _gift_for_session(session, *, create=True):
    _check_session_is_ours(session)
    gift = _locked_gift_for_session(session)
    if gift is None and create:
        metadata = _metadata(session)
        (amount_minor, currency), _ = _session_amounts(session)
        link_project = _donation_payment_link_project(session)
        gift = Gift(
            project=_project_for(metadata if _has_site_marker(session) else {}, slug=link_project),
            amount_minor=amount_minor,
            currency=currency,
            livemode=session.get("livemode") is True,
        )
        if link_project is None:
            gift.flag(
                "Recorded from Stripe's event alone: no gift on this site matched checkout "
                f"session {session['id']}, though this site started it (a lost record)."
            )
        gift.stripe_checkout_session_id = session["id"]
        try:
            # Saved at once, in a savepoint: when two events about this session arrive
            # together, the second insert waits for the first, fails on the unique
            # session id, and then finds and locks the gift the first one made.
            with transaction.atomic():
                gift.save()
        except IntegrityError:
            gift = _locked_gift_for_session(session)
    if gift is not None:
        gift.stripe_checkout_session_id = session["id"]
    return gift


# Handlers: one per event type, each given the event's data.object as a dict and the event.


def _record_session_payment(gift, session):
    details = session.get("customer_details") or {}
    (amount_minor, currency), (charged_minor, charged_currency) = _session_amounts(session)
    gift.record_payment(
        amount_minor=amount_minor,
        currency=currency,
        payment_intent_id=_payment_intent_id(session) or None,
        donor_name=details.get("name") or "",
        donor_email=details.get("email") or "",
        charged_amount_minor=charged_minor,
        charged_currency=charged_currency,
    )


def _gift_paid_on_commit(gift, was_paid):
    """Receipts and other side effects, once the gift is recorded as paid for the first time.

    Stand-in until Gift.save() sends gift_paid and gift_refunded itself (the monthly-giving
    branch): then remove this and the refund hunk below. Sent twice meanwhile, they still
    make one email each (donors.models.Email's unique key)."""
    if gift.is_paid and not was_paid:
        transaction.on_commit(lambda: signals.gift_paid.send(sender=Gift, gift=gift))


def checkout_session_completed(session, event):
    gift = _gift_for_session(session)
    was_paid = gift.pk is not None and gift.is_paid
    if session.get("payment_status") in ("paid", "no_payment_required"):
        _record_session_payment(gift, session)
    elif _payment_intent_id(session):
        # Delayed payment methods complete unpaid; async_payment_* follows.
        gift.stripe_payment_intent_id = _payment_intent_id(session)
    gift.save()
    _gift_paid_on_commit(gift, was_paid)
    _apply_waiting_events(gift.stripe_payment_intent_id)


def checkout_session_async_payment_succeeded(session, event):
    gift = _gift_for_session(session)
    was_paid = gift.pk is not None and gift.is_paid
    _record_session_payment(gift, session)
    gift.save()
    _gift_paid_on_commit(gift, was_paid)
    _apply_waiting_events(gift.stripe_payment_intent_id)


def checkout_session_async_payment_failed(session, event):
    gift = _gift_for_session(session, create=False)
    if gift is not None:
        gift.mark_failed()
        gift.save()


def checkout_session_expired(session, event):
    gift = _gift_for_session(session, create=False)
    if gift is not None:
        gift.mark_abandoned()
        gift.save()


def _gift_for_charge_event(charge_like):
    gift = _locked_gift_for_charge(charge_like)
    if gift is None:
        if _payment_intent_id(charge_like):
            raise WaitingForGift(
                f"No gift on this site has payment {_payment_intent_id(charge_like)} (yet): "
                "another tool's sale, or a payment whose checkout event has not arrived."
            )
        raise NotThisSites("About a charge that belongs to no gift on this site.")
    return gift


def charge_refunded(charge, event):
    gift = _gift_for_charge_event(charge)
    currency = (charge.get("currency") or "").lower()
    if not gift.is_paid and charge.get("paid"):
        if currency != gift.currency:
            raise WaitingForGift("Refund of a payment in another currency that is not recorded yet.")
        gift.record_payment(
            amount_minor=charge["amount"],
            currency=currency,
            payment_intent_id=_payment_intent_id(charge) or None,
        )
    refunded = gift.convert_from_charge(
        charge["amount_refunded"], currency, charge_amount=charge.get("amount")
    )
    if refunded is None:
        gift.flag(
            f"A refund of {charge['amount_refunded']} {currency} could not be converted to the gift's "
            f"{gift.currency}; not applied to the total."
        )
    else:
        refunded_before = gift.amount_refunded_minor
        gift.apply_refund(amount_refunded_minor=refunded, as_of=event.created, charge_id=charge["id"])
        if gift.amount_refunded_minor > refunded_before:
            transaction.on_commit(lambda: signals.gift_refunded.send(sender=Gift, gift=gift))
    gift.save()


def charge_refund_updated(refund, event):
    if refund.get("status") not in ("failed", "canceled"):
        return  # pending and succeeded refunds are counted from charge.refunded
    gift = _gift_for_charge_event(refund)
    amount = gift.convert_from_charge(refund["amount"], refund.get("currency"))
    if amount is None:
        gift.flag(
            f"Refund {refund['id']} failed, in a currency that could not be converted; check the total."
        )
    else:
        gift.apply_failed_refund(refund_id=refund["id"], amount_minor=amount, as_of=event.created)
    gift.save()


def _disputed_amount(gift, dispute):
    amount = gift.convert_from_charge(dispute["amount"], dispute.get("currency"))
    if amount is None:
        # Hold back all that is left rather than guess: a person looks at it.
        gift.flag(f"Dispute {dispute['id']} is in a currency that could not be converted; all of it is held.")
        amount = gift.amount_minor
    return amount


def charge_dispute_created(dispute, event):
    gift = _gift_for_charge_event(dispute)
    gift.open_dispute(
        dispute_id=dispute["id"], amount_minor=_disputed_amount(gift, dispute), reason=dispute.get("reason")
    )
    gift.save()


def charge_dispute_closed(dispute, event):
    gift = _gift_for_charge_event(dispute)
    # "warning_closed" ends an inquiry that never became a chargeback: no money was lost.
    won = dispute.get("status") in ("won", "warning_closed")
    gift.close_dispute(dispute_id=dispute["id"], won=won, amount_minor=_disputed_amount(gift, dispute))
    gift.save()


HANDLERS = {
    "checkout.session.completed": checkout_session_completed,
    "checkout.session.async_payment_succeeded": checkout_session_async_payment_succeeded,
    "checkout.session.async_payment_failed": checkout_session_async_payment_failed,
    "checkout.session.expired": checkout_session_expired,
    "charge.refunded": charge_refunded,
    "charge.refund.updated": charge_refund_updated,
    "charge.dispute.created": charge_dispute_created,
    "charge.dispute.closed": charge_dispute_closed,
}
