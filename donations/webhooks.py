"""Stripe webhook events: verify, store once, then apply.

An event is stored by its Stripe id and applied in the same transaction, so a delivery
that arrives twice (even at the same moment) is applied once: the second waits on the
first's row. A handler that fails has its changes undone and the failure recorded on the
stored event, which stays on record to be replayed from the admin (and Stripe, answered
5xx, delivers it again). Handlers never call Stripe and never return anything
HTTP-shaped. Before a handler runs, the transaction locks the ids of the payments the
event is about (serialize_on), so events about one payment apply one after another
whatever order they arrive in, and one that must wait for its payment cannot miss it.

The handlers live in donations/handlers.py, each registered for its event type with
@handles(...).
"""

import json
import logging
import re
import traceback

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from donations import stripe_gateway
from donations.models import StripeEvent
from donations.stripe_objects import SITE_MARKER_KEY, NotThisSites, objects_to_serialize_on, payment_id
from podari.db import serialize_on

logger = logging.getLogger(__name__)

__all__ = ["SITE_MARKER_KEY", "NotThisSites", "WaitingForGift", "HANDLERS", "handles", "receive", "process"]

# Event type → handler(data_object, event), filled by @handles in donations/handlers.py.
HANDLERS = {}


def handles(event_type):
    """Register a handler for one Stripe event type (donations/handlers.py)."""

    def register(handler):
        if event_type in HANDLERS:
            raise ValueError(f"Two handlers for {event_type}.")
        HANDLERS[event_type] = handler
        return handler

    return register


class InvalidEvent(Exception):
    """Signed by Stripe but not shaped like an event."""


# JSON nested deeper than any Stripe object: deeper bodies are refused before parsing,
# since Python's parser would raise RecursionError on them.
MAX_JSON_DEPTH = 64


# A handler raises these two (NotThisSites comes from donations.stripe_objects) before it
# changes anything, so nothing needs undoing and the event's outcome is recorded in the
# same transaction (see _apply).


class WaitingForGift(Exception):
    """A refund or dispute of a payment this site has not recorded yet. It is stored
    and applied when the payment arrives (see _apply_waiting_events)."""


# A JSON string (escapes included), and every byte that is not a bracket: what is left
# of a body without its strings and other bytes is its brackets, counted in a short loop.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def _nesting_depth_ok(payload: bytes) -> bool:
    # An unterminated string leaves its brackets counted: such a body is refused either way.
    depth = 0
    for byte in _JSON_STRING.sub(b"", payload).translate(None, _NOT_BRACKETS):
        if byte in (0x7B, 0x5B):  # { [
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return False
        else:
            depth -= 1
    return True


def _refuse_constant(name):
    raise ValueError(f"{name} is not a number Stripe sends")


def receive(payload: bytes, signature_header) -> StripeEvent:
    """Verify a delivery and read its event, not yet stored (process() stores it).
    Raises InvalidSignature or InvalidEvent."""
    stripe_gateway.verify_signature(payload, signature_header)
    if not _nesting_depth_ok(payload):
        raise InvalidEvent("JSON nested deeper than any Stripe event")
    try:
        data = json.loads(payload, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise InvalidEvent(str(exc)) from exc
    return read_event(data)


def read_event(data) -> StripeEvent:
    """An event, not yet stored, from a verified delivery's JSON, or as read from
    Stripe's API with this site's key (reconciliation lists the events Stripe could not
    deliver), which is as trustworthy. Raises InvalidEvent."""
    try:
        event_id, event_type = data["id"], data["type"]
        if not isinstance(data["data"]["object"], dict) or not isinstance(event_id, str):
            raise TypeError("event data is not an object")
    except (KeyError, TypeError) as exc:
        raise InvalidEvent(str(exc)) from exc
    return StripeEvent(
        stripe_id=event_id[:255],
        type=str(event_type)[:100],
        api_version=str(data.get("api_version") or "")[:50],
        livemode=data.get("livemode") is True,
        payload=data,
        payment_id=payment_id(data["data"]["object"])[:255],
    )


def process(event: StripeEvent) -> StripeEvent:
    """Store a received event (once) and apply it unless it already was; or apply a
    stored one again (a replay). A handler's exception undoes the whole transaction;
    it is then recorded on the stored event and re-raised, so the caller can answer 5xx
    and Stripe retries."""
    try:
        with transaction.atomic():
            # Locks first, before the event's row or any other: events about one payment
            # run one after another, and none waits for a row while holding one of these.
            serialize_on(objects_to_serialize_on(event.data_object))
            new = event.pk is None
            if new:
                # Stored as a first attempt is most likely to end (applied); an attempt
                # that ends otherwise updates the row below, in the same transaction.
                _begin_attempt(event)
                new = StripeEvent.objects.insert_unless_stored(event)
            if not new:
                event = StripeEvent.objects.select_for_update().get(stripe_id=event.stripe_id)
                if event.status in StripeEvent.FINAL_STATUSES:
                    return event
                _begin_attempt(event)
            as_stored = _processing_state(event) if new else None
            if event.status == StripeEvent.Status.PROCESSED:
                _apply(HANDLERS[event.type], event)
            if _processing_state(event) != as_stored:
                event.save(update_fields=PROCESSING_FIELDS)
    except Exception:
        # Everything the attempt did is undone (the event's row too, if it was new):
        # record the failure on its own, keeping the event for replay.
        logger.exception("Stripe event %s (%s) failed", event.stripe_id, event.type)
        _store_failure(event, traceback.format_exc())
        raise
    return event


def _begin_attempt(event):
    """Count an attempt, and decide what needs no handler: events of other types are
    ignored, and events of the other mode skipped."""
    event.attempts += 1
    event.last_error = ""
    event.note = ""
    event.processed_at = timezone.now()
    if event.type not in HANDLERS:
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
            f"A {_mode(event.livemode)} event, and this site runs a {_mode(settings.STRIPE_LIVEMODE)} key."
        )
    else:
        event.status = StripeEvent.Status.PROCESSED  # unless the handler says otherwise


def _processing_state(event):
    return tuple(getattr(event, name) for name in PROCESSING_FIELDS)


def _store_failure(event, error):
    """Record a failed attempt on the event's row, storing the event first if it is not.
    Its processed_at stays that of the last attempt that succeeded."""
    StripeEvent.objects.bulk_create(
        [
            StripeEvent(
                stripe_id=event.stripe_id,
                type=event.type,
                api_version=event.api_version,
                livemode=event.livemode,
                payload=event.payload,
                payment_id=event.payment_id,
            )
        ],
        ignore_conflicts=True,
    )
    StripeEvent.objects.filter(stripe_id=event.stripe_id).exclude(
        status__in=StripeEvent.FINAL_STATUSES
    ).update(
        status=StripeEvent.Status.FAILED,
        attempts=F("attempts") + 1,
        last_error=error[-4000:],
        note="",
    )


# What applying an event changes on it (the payload, as Stripe sent it, never changes).
PROCESSING_FIELDS = ["status", "attempts", "last_error", "note", "processed_at"]


def _mode(livemode):
    return "live" if livemode else "test"


def _apply(handler, event):
    """Run the handler and set the event's status from how it ended. Any exception but
    NotThisSites and WaitingForGift (raised before the handler changes anything) leaves
    through the caller's transaction, which undoes all of it: no savepoint is needed.

    First the transaction locks the payments the event is about: an event that finds its
    payment missing and waits, and the recording of that payment (which then applies
    the events waiting for it), run one after the other, never both at once: process()
    has locked the payments the event is about."""
    try:
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


def apply_waiting_events(payment):
    """Apply the events that arrived before this payment was recorded: refunds and disputes
    (by its payment intent), invoice payments (by its invoice). Called by a handler that just
    recorded or tied the payment, under the payment's lock: process() (or _apply_waiting)
    took it for the event being applied."""
    if payment and StripeEvent.objects.any_waiting_for(payment):
        _apply_waiting(StripeEvent.objects.filter(payment_id=payment))


def _apply_waiting(events):
    waiting = events.select_for_update().filter(status=StripeEvent.Status.UNMATCHED).order_by()
    # Applied in Stripe's order (sorted here), not the table's order of arrival.
    for event in sorted(waiting, key=lambda e: (e.created, e.pk)):
        # Its payment's lock is held already; an invoice payment also names its payment
        # intent, whose refunds wait without locking anything this transaction holds.
        serialize_on(objects_to_serialize_on(event.data_object))
        _apply(HANDLERS[event.type], event)
        event.attempts += 1
        event.processed_at = timezone.now()
        event.save(update_fields=PROCESSING_FIELDS)


def apply_all_waiting():
    """Try every waiting event again, each in its own transaction: the periodic sweep
    that applies an event whose payment was recorded by a path that did not look for
    it. Returns (applied, still waiting)."""
    applied = waiting = 0
    ids = StripeEvent.objects.filter(status=StripeEvent.Status.UNMATCHED).order_by("received_at")
    for event in ids.iterator():
        try:
            event = process(event)
        except Exception:
            waiting += 1  # recorded as failed on the event, for a person to look at
            continue
        if event.status == StripeEvent.Status.UNMATCHED:
            waiting += 1
        else:
            applied += 1
    return applied, waiting
