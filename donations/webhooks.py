"""Stripe webhook events: verify, store once, then apply.

An event is stored by its Stripe id and applied in the same transaction, so a delivery
that arrives twice (even at the same moment) is applied once: the second waits on the
first's row. A handler that fails has its changes undone and the failure recorded on the
stored event, which stays on record to be replayed from the admin (and Stripe, answered
5xx, delivers it again). Handlers never call Stripe and never return anything
HTTP-shaped; they lock the gift they change, so events about one gift apply one after
another whatever order they arrive in.
"""

import datetime
import json
import logging
import re
import traceback
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from donations import signals, stripe_gateway
from donations.models import Donor, Gift, Project, RecurringGift, StripeEvent, unique_row

logger = logging.getLogger(__name__)


# Metadata keys this site reads on Stripe objects.
SITE_MARKER_KEY = "podari_site"
PAYMENT_LINK_PROJECT_KEY = "podari_project"


class InvalidEvent(Exception):
    """Signed by Stripe but not shaped like an event."""


# JSON nested deeper than any Stripe object: deeper bodies are refused before parsing,
# since Python's parser would raise RecursionError on them.
MAX_JSON_DEPTH = 64


# A handler raises these two before it changes anything, so nothing needs undoing and
# the event's outcome is recorded in the same transaction (see _apply).


class NotThisSites(Exception):
    """The event is about money this site did not ask for (a ticket sale, another
    tool's subscription, the other mode's key). It is stored and never applied."""


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
        event_id, event_type = data["id"], data["type"]
        if not isinstance(data["data"]["object"], dict) or not isinstance(event_id, str):
            raise TypeError("event data is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidEvent(str(exc)) from exc
    return StripeEvent(
        stripe_id=event_id[:255],
        type=str(event_type)[:100],
        api_version=str(data.get("api_version") or "")[:50],
        livemode=data.get("livemode") is True,
        payload=data,
        payment_intent_id=_payment_intent_id(data["data"]["object"])[:255],
    )


def process(event: StripeEvent) -> StripeEvent:
    """Store a received event (once) and apply it unless it already was; or apply a
    stored one again (a replay). A handler's exception undoes the whole transaction;
    it is then recorded on the stored event and re-raised, so the caller can answer 5xx
    and Stripe retries."""
    try:
        with transaction.atomic():
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
                payment_intent_id=event.payment_intent_id,
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
    through the caller's transaction, which undoes all of it: no savepoint is needed."""
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


def _apply_waiting_events(payment_intent_id):
    """Apply refunds and disputes that arrived before this payment was recorded."""
    if not payment_intent_id or not StripeEvent.objects.any_waiting_for(payment_intent_id):
        return
    waiting = StripeEvent.objects.select_for_update().filter(
        payment_intent_id=payment_intent_id, status=StripeEvent.Status.UNMATCHED
    )
    # Applied in Stripe's order (sorted below), not the table's order of arrival.
    waiting = waiting.order_by()
    for event in sorted(waiting, key=lambda e: (e.created, e.pk)):
        _apply(HANDLERS[event.type], event)
        event.attempts += 1
        event.processed_at = timezone.now()
        event.save(update_fields=PROCESSING_FIELDS)


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
    Payment Link in. Subscription sessions count only with the marker (monthly gifts);
    other modes (setup) are never gifts here."""
    if session.get("mode") == "subscription" and _has_site_marker(session):
        return
    if session.get("mode") != "payment":
        raise NotThisSites(f"A {session.get('mode')}-mode Checkout Session: not a gift on this site.")
    if _has_site_marker(session) or _donation_payment_link_project(session) is not None:
        return
    raise NotThisSites("A Checkout Session this site did not create (no site marker, no donation link).")


def _locked_gift_for_session(session):
    gifts = Gift.objects.select_for_update()
    gift = unique_row(gifts.filter(stripe_checkout_session_id=session["id"]))
    if gift is None and _has_site_marker(session):
        public_id = _uuid(_metadata(session).get("gift_public_id"))
        if public_id:
            gift = unique_row(gifts.filter(public_id=public_id))
            # A gift already tied to another checkout session is not this one.
            if gift and gift.stripe_checkout_session_id not in (None, session["id"]):
                gift = None
    return _remember_locked(gift)


def _locked_gift_for_charge(charge_like):
    """The gift a charge, refund or dispute is about: by payment intent or charge id,
    or by this site's marker and the gift's public id. Never by anything else."""
    gifts = Gift.objects.select_for_update()
    payment_intent_id = _payment_intent_id(charge_like)
    if payment_intent_id:
        gift = unique_row(gifts.filter(stripe_payment_intent_id=payment_intent_id))
        if gift:
            return _remember_locked(gift)
    charge_id = _charge_id(charge_like)
    if charge_id:
        gift = gifts.filter(stripe_charge_id=charge_id).first()
        if gift:
            return _remember_locked(gift)
    if _has_site_marker(charge_like):
        public_id = _uuid(_metadata(charge_like).get("gift_public_id"))
        gift = unique_row(gifts.filter(public_id=public_id)) if public_id else None
        if gift and gift.stripe_payment_intent_id not in (None, payment_intent_id):
            gift = None
        return _remember_locked(gift)
    return None


def _remember_locked(gift):
    """Each handler saves the gift it locked before anything else changes the row, so
    the gift's save need not read the row again (see Gift.remember_locked_row)."""
    if gift is not None:
        gift.remember_locked_row()
    return gift


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _project_for(metadata, slug=None):
    project = None
    if slug:
        project = unique_row(Project.objects.filter(slug=slug))
    project_id = str(metadata.get("project_id", ""))
    if project is None and project_id.isdigit():
        project = unique_row(Project.objects.filter(pk=int(project_id)))
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


def _gift_for_session(session):
    """The session's gift, locked; None when this site has none."""
    _check_session_is_ours(session)
    gift = _locked_gift_for_session(session)
    if gift is not None:
        gift.stripe_checkout_session_id = session["id"]
    return gift


def _gift_rebuilt_from_session(session):
    """A gift for a session this site started whose record is lost (or a donation link's)."""
    metadata = _metadata(session)
    (amount_minor, currency), _ = _session_amounts(session)
    link_project = _donation_payment_link_project(session)
    gift = Gift(
        project=_project_for(metadata if _has_site_marker(session) else {}, slug=link_project),
        amount_minor=0,
        currency=currency,
        livemode=session.get("livemode") is True,
    )
    gift.amount_minor = _without_fee(gift, amount_minor, metadata if _has_site_marker(session) else {})
    if link_project is None:
        gift.flag(
            "Recorded from Stripe's event alone: no gift on this site matched checkout "
            f"session {session['id']}, though this site started it (a lost record)."
        )
    gift.stripe_checkout_session_id = session["id"]
    return gift


def _save_session_gift(session, change):
    """Apply change(gift) to the session's gift and save it; a lost gift is made anew."""
    gift = _gift_for_session(session)
    if gift is None:
        gift = _gift_rebuilt_from_session(session)
        change(gift)
        try:
            # Inserted in a savepoint: when two events about this session arrive
            # together, the second insert waits for the first, fails on the unique
            # session id, and then finds and locks the gift the first one made.
            with transaction.atomic():
                gift.save()
            return gift
        except IntegrityError:
            gift = _gift_for_session(session)
            if gift is None:
                raise
    change(gift)
    gift.save()
    return gift


# Handlers: one per event type, each given the event's data.object as a dict and the event.


def _from_unix(value):
    return datetime.datetime.fromtimestamp(value, tz=datetime.UTC) if isinstance(value, int) else None


def _int(value):
    """A whole number from metadata (always strings), or 0."""
    value = str(value or "")
    return int(value) if value.isdigit() else 0


def _id(value):
    """The id of a Stripe reference, whether sent as an id or as an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _without_fee(gift, total_minor, metadata):
    """Split what the donor paid into the gift and the fee they chose to cover.

    Checkout charges amount + fee; only the amount counts for the project. The fee is
    the gift's own (from the form) or, for a record rebuilt from Stripe, its metadata."""
    fee = gift.fee_covered_minor or _int(metadata.get("fee_covered_minor"))
    if fee and total_minor <= fee:
        gift.flag(f"Stripe reported {total_minor}, not more than the fee of {fee} the donor covered.")
        fee = 0
    gift.fee_covered_minor = fee
    return total_minor - fee


def _record_session_payment(gift, session):
    details = session.get("customer_details") or {}
    (amount_minor, currency), (charged_minor, charged_currency) = _session_amounts(session)
    amount_minor = _without_fee(gift, amount_minor, _metadata(session) if _has_site_marker(session) else {})
    gift.record_payment(
        amount_minor=amount_minor,
        currency=currency,
        payment_intent_id=_payment_intent_id(session) or None,
        donor_name=details.get("name") or "",
        donor_email=details.get("email") or "",
        charged_amount_minor=charged_minor,
        charged_currency=charged_currency,
    )


def checkout_session_completed(session, event):
    if session.get("mode") == "subscription":
        return _monthly_checkout_completed(session, event)

    def change(gift):
        if session.get("payment_status") in ("paid", "no_payment_required"):
            _record_session_payment(gift, session)
        elif _payment_intent_id(session):
            # Delayed payment methods complete unpaid; async_payment_* follows.
            gift.stripe_payment_intent_id = _payment_intent_id(session)

    gift = _save_session_gift(session, change)
    _apply_waiting_events(gift.stripe_payment_intent_id)


def checkout_session_async_payment_succeeded(session, event):
    if session.get("mode") == "subscription":
        return _monthly_checkout_completed(session, event)
    gift = _save_session_gift(session, lambda gift: _record_session_payment(gift, session))
    _apply_waiting_events(gift.stripe_payment_intent_id)


def checkout_session_async_payment_failed(session, event):
    gift = _gift_for_session(session)
    if gift is not None:
        gift.mark_failed()
        gift.save()


def checkout_session_expired(session, event):
    gift = _gift_for_session(session)
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
        gift.apply_refund(amount_refunded_minor=refunded, as_of=event.created, charge_id=charge["id"])
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


# Monthly gifts: Checkout in subscription mode, then one Gift for each paid invoice.


def _subscription_details(invoice):
    """An invoice's subscription and the subscription's metadata, as of the invoice.

    In this API version they live under parent.subscription_details."""
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    if not isinstance(details, dict):
        return "", {}
    metadata = details.get("metadata")
    return _id(details.get("subscription")), metadata if isinstance(metadata, dict) else {}


def _check_invoice_is_ours(metadata):
    if metadata.get(SITE_MARKER_KEY) != settings.STRIPE_SITE_MARKER:
        raise NotThisSites(
            "An invoice without this site's marker in parent.subscription_details.metadata "
            "(another tool's subscription, or a one-off invoice)."
        )


def _locked_recurring_gift(*, subscription_id="", session_id="", metadata=None):
    """The monthly gift a subscription, session or invoice is about, locked: by Stripe's
    ids, or by this site's marker and the record's public id. Never by anything else."""
    metadata = metadata or {}
    recurring = RecurringGift.objects.select_for_update()
    if subscription_id:
        found = recurring.filter(stripe_subscription_id=subscription_id).first()
        if found:
            return found
    if session_id:
        found = recurring.filter(stripe_checkout_session_id=session_id).first()
        if found:
            return found
    public_id = _uuid(metadata.get("recurring_gift_public_id"))
    if public_id and metadata.get(SITE_MARKER_KEY) == settings.STRIPE_SITE_MARKER:
        found = recurring.filter(public_id=public_id).first()
        # A record already tied to another subscription is not this one.
        if found and found.stripe_subscription_id in (None, subscription_id or None):
            return found
    return None


def _recurring_gift_from_metadata(metadata, *, livemode, amount_minor, currency):
    """Rebuild a lost monthly record from what this site put in Stripe's metadata."""
    fee = _int(metadata.get("fee_covered_minor"))
    return RecurringGift(
        project=_project_for(metadata),
        amount_minor=_int(metadata.get("amount_minor")) or max(0, amount_minor - fee),
        currency=(metadata.get("currency") or currency or "").lower(),
        fee_covered_minor=fee,
        livemode=livemode,
    )


def _save_rebuilt(recurring, *, subscription_id="", session_id="", metadata=None):
    """Save a record rebuilt from Stripe at once, in a savepoint: when two events about
    one subscription arrive together, the second insert waits for the first, fails on
    the unique subscription id, and then finds and locks the record the first one made."""
    recurring.stripe_subscription_id = subscription_id or None
    if session_id:
        recurring.stripe_checkout_session_id = session_id
    try:
        with transaction.atomic():
            recurring.save()
    except IntegrityError:
        recurring = _locked_recurring_gift(
            subscription_id=subscription_id, session_id=session_id, metadata=metadata
        )
    return recurring


def _remember_customer(donor, customer_id):
    """The donor's Stripe customer, for the customer portal ("manage my giving")."""
    if donor is not None and customer_id and not donor.stripe_customer_id:
        Donor.objects.filter(pk=donor.pk, stripe_customer_id="").update(stripe_customer_id=customer_id)


def _monthly_checkout_completed(session, event):
    """The donor finished a monthly Checkout: Stripe has created the subscription.

    The money itself is recorded from invoice.paid (one gift per invoice), which may
    arrive before or after this event."""
    _check_session_is_ours(session)
    metadata = _metadata(session)
    subscription_id = _id(session.get("subscription"))
    recurring = _locked_recurring_gift(
        subscription_id=subscription_id, session_id=session["id"], metadata=metadata
    )
    if recurring is None:
        total = session.get("amount_total") or 0
        recurring = _recurring_gift_from_metadata(
            metadata,
            livemode=session.get("livemode") is True,
            amount_minor=total,
            currency=session.get("currency"),
        )
        recurring = _save_rebuilt(
            recurring, subscription_id=subscription_id, session_id=session["id"], metadata=metadata
        )
    details = session.get("customer_details") or {}
    donor = Donor.for_email(details.get("email"), name=details.get("name") or "")
    recurring.donor = recurring.donor or donor
    recurring.stripe_checkout_session_id = session["id"]
    customer_id = _id(session.get("customer"))
    if subscription_id:
        recurring.mark_started(subscription_id=subscription_id, customer_id=customer_id, as_of=event.created)
    recurring.save()
    _remember_customer(recurring.donor, customer_id)

    # The gift the form left pending becomes the first month's payment when its invoice arrives.
    first = _locked_gift_for_session(session)
    if first is not None:
        first.stripe_checkout_session_id = session["id"]
        first.recurring_gift = recurring
        first.frequency = Gift.Frequency.MONTHLY
        first.donor_email = first.donor_email or details.get("email") or ""
        first.donor_name = first.donor_name or details.get("name") or ""
        first.attach_donor()
        first.save()


def _invoice_payment_intent(invoice):
    """The payment intent that paid an invoice, when the invoice carries its payments.

    In this API version an invoice reaches its payments through invoice payments
    (`payments`, only present when included); invoice_payment.paid carries the same."""
    payments = invoice.get("payments")
    rows = payments.get("data") if isinstance(payments, dict) else None
    for row in rows if isinstance(rows, list) else []:
        payment = row.get("payment") if isinstance(row, dict) else None
        if isinstance(payment, dict) and row.get("status") in ("paid", None):
            payment_intent = _id(payment.get("payment_intent"))
            if payment_intent:
                return payment_intent
    return ""


def _locked_gift_for_invoice(invoice, recurring, metadata):
    gifts = Gift.objects.select_for_update()
    gift = unique_row(gifts.filter(stripe_invoice_id=invoice["id"]))
    if gift is not None:
        return _remember_locked(gift)
    if invoice.get("billing_reason") == "subscription_create":
        # The first invoice pays for the gift the donor made on the form.
        public_id = _uuid(metadata.get("gift_public_id"))
        gift = unique_row(gifts.filter(public_id=public_id, stripe_invoice_id=None)) if public_id else None
        if gift is not None and gift.recurring_gift_id in (None, recurring.pk):
            return _remember_locked(gift)
    # A later month: a new gift, named and dedicated as the donor's earlier ones.
    earlier = recurring.payments.order_by("-created_at").first() if recurring.pk else None
    gift = Gift(
        project=recurring.project,
        recurring_gift=recurring,
        frequency=Gift.Frequency.MONTHLY,
        amount_minor=recurring.amount_minor,
        currency=recurring.currency,
        fee_covered_minor=recurring.fee_covered_minor,
        livemode=invoice.get("livemode") is True,
        donor=recurring.donor,
    )
    if earlier is not None:
        for field in ("donor_name", "donor_email", "show_name_publicly", "dedication", "dedication_name"):
            setattr(gift, field, getattr(earlier, field))
    return gift


def invoice_paid(invoice, event):
    subscription_id, metadata = _subscription_details(invoice)
    _check_invoice_is_ours(metadata)
    if not invoice.get("amount_paid"):
        return  # nothing was charged (a zero invoice): no gift
    recurring = _locked_recurring_gift(subscription_id=subscription_id, metadata=metadata)
    if recurring is None:
        recurring = _recurring_gift_from_metadata(
            metadata,
            livemode=invoice.get("livemode") is True,
            amount_minor=invoice["amount_paid"],
            currency=invoice.get("currency"),
        )
        recurring = _save_rebuilt(recurring, subscription_id=subscription_id, metadata=metadata)
    recurring.donor = recurring.donor or Donor.for_email(
        invoice.get("customer_email"), name=invoice.get("customer_name") or ""
    )
    recurring.mark_started(
        subscription_id=subscription_id, customer_id=_id(invoice.get("customer")), as_of=event.created
    )
    # A paid month makes a past-due gift active again (unless newer news says otherwise).
    recurring.set_state(as_of=event.created, status=RecurringGift.Status.ACTIVE)
    recurring.save()
    _remember_customer(recurring.donor, _id(invoice.get("customer")))

    gift = _locked_gift_for_invoice(invoice, recurring, metadata)
    gift.recurring_gift = recurring
    gift.frequency = Gift.Frequency.MONTHLY
    gift.stripe_invoice_id = invoice["id"]
    gift.donor = gift.donor or recurring.donor
    currency = (invoice.get("currency") or "").lower()
    gift.record_payment(
        amount_minor=_without_fee(gift, invoice["amount_paid"], metadata),
        currency=currency,
        payment_intent_id=_invoice_payment_intent(invoice) or None,
        donor_name=invoice.get("customer_name") or "",
        donor_email=invoice.get("customer_email") or "",
    )
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
    gift.paid_at = _from_unix(paid_at) or gift.paid_at
    gift.save()
    _apply_waiting_invoice_payments(invoice["id"])
    _apply_waiting_events(gift.stripe_payment_intent_id)


def _apply_waiting_invoice_payments(invoice_id):
    waiting = StripeEvent.objects.select_for_update().filter(
        type="invoice_payment.paid",
        status=StripeEvent.Status.UNMATCHED,
        payload__data__object__invoice=invoice_id,
    )
    for event in sorted(waiting, key=lambda e: (e.created, e.pk)):
        _apply(HANDLERS[event.type], event)
        event.attempts += 1
        event.processed_at = timezone.now()
        event.save(update_fields=PROCESSING_FIELDS)


def invoice_payment_paid(invoice_payment, event):
    """Ties a monthly payment to its payment intent, so that refunds and disputes of it
    (which name only the payment intent and charge) find their gift."""
    invoice_id = _id(invoice_payment.get("invoice"))
    payment = invoice_payment.get("payment")
    payment_intent = _id(payment.get("payment_intent")) if isinstance(payment, dict) else ""
    if not payment_intent:
        return  # paid out of band: no card payment to refund or dispute
    gift = _remember_locked(unique_row(Gift.objects.select_for_update().filter(stripe_invoice_id=invoice_id)))
    if gift is None:
        raise WaitingForGift(
            f"No monthly payment on this site for invoice {invoice_id} (yet): another tool's "
            "invoice, or one whose invoice.paid has not arrived."
        )
    if gift.stripe_payment_intent_id is None:
        gift.stripe_payment_intent_id = payment_intent
        gift.save()
    elif gift.stripe_payment_intent_id != payment_intent:
        gift.flag(f"Invoice {invoice_id} was paid by a second payment, {payment_intent}.")
        gift.save()
    _apply_waiting_events(payment_intent)


def invoice_payment_failed(invoice, event):
    subscription_id, metadata = _subscription_details(invoice)
    _check_invoice_is_ours(metadata)
    recurring = _locked_recurring_gift(subscription_id=subscription_id, metadata=metadata)
    if recurring is None or not recurring.is_running:
        # A first payment fails on Checkout's own page, before any subscription exists.
        return
    if recurring.set_state(as_of=event.created, status=RecurringGift.Status.PAST_DUE):
        recurring.save()
        signals.payment_failed.send(sender=RecurringGift, recurring_gift=recurring)


CANCELLATION_REASONS = {
    "cancellation_requested": "Cancelled at the donor's request",
    "payment_failed": "Payments failed",
    "payment_disputed": "A payment was disputed",
}


def _cancellation_reason(subscription):
    details = subscription.get("cancellation_details") or {}
    reason = details.get("reason")
    parts = [
        CANCELLATION_REASONS.get(reason, reason or ""),
        f"feedback: {details['feedback']}" if details.get("feedback") else "",
        details.get("comment") or "",
    ]
    return "; ".join(part for part in parts if part)


def _apply_subscription(subscription, event, *, deleted):
    metadata = _metadata(subscription)
    recurring = _locked_recurring_gift(subscription_id=subscription.get("id", ""), metadata=metadata)
    if recurring is None:
        if not _has_site_marker(subscription):
            raise NotThisSites("A subscription this site did not create (no site marker).")
        items = ((subscription.get("items") or {}).get("data")) or [{}]
        unit_amount = ((items[0].get("price") or {}).get("unit_amount")) or 0
        recurring = _recurring_gift_from_metadata(
            metadata,
            livemode=subscription.get("livemode") is True,
            amount_minor=unit_amount,
            currency=subscription.get("currency"),
        )
        recurring = _save_rebuilt(recurring, subscription_id=subscription.get("id"), metadata=metadata)
    status = (
        RecurringGift.Status.CANCELLED
        if deleted
        else RecurringGift.STRIPE_STATUSES.get(subscription.get("status"))
    )
    # Cancelling at the period's end (or on a set date) is how donors usually cancel in the portal.
    ending = bool(subscription.get("cancel_at_period_end") or subscription.get("cancel_at"))
    cancelled = status == RecurringGift.Status.CANCELLED
    ended_at = subscription.get("ended_at") or subscription.get("canceled_at")
    recurring.set_state(
        as_of=event.created,
        status=status,
        cancel_at_period_end=ending and not cancelled,
        cancelled_at=_from_unix(ended_at),
        reason=_cancellation_reason(subscription) if (ending or cancelled) else "",
    )
    # An update can be the first news of a subscription the form's record is waiting for.
    recurring.stripe_subscription_id = recurring.stripe_subscription_id or subscription.get("id")
    recurring.stripe_customer_id = recurring.stripe_customer_id or _id(subscription.get("customer"))
    if recurring.is_running and not recurring.started_at:
        recurring.started_at = _from_unix(subscription.get("start_date")) or timezone.now()
    recurring.save()


def customer_subscription_updated(subscription, event):
    _apply_subscription(subscription, event, deleted=False)


def customer_subscription_deleted(subscription, event):
    _apply_subscription(subscription, event, deleted=True)


HANDLERS = {
    "checkout.session.completed": checkout_session_completed,
    "checkout.session.async_payment_succeeded": checkout_session_async_payment_succeeded,
    "checkout.session.async_payment_failed": checkout_session_async_payment_failed,
    "checkout.session.expired": checkout_session_expired,
    "charge.refunded": charge_refunded,
    "charge.refund.updated": charge_refund_updated,
    "charge.dispute.created": charge_dispute_created,
    "charge.dispute.closed": charge_dispute_closed,
    "invoice.paid": invoice_paid,
    "invoice_payment.paid": invoice_payment_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "customer.subscription.updated": customer_subscription_updated,
    "customer.subscription.deleted": customer_subscription_deleted,
}
