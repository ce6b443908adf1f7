"""What each Stripe event does: one handler per event type, registered with @handles.

A handler is given the event's data.object (a dict) and the stored event. It locks the
gift or monthly gift it changes, records money only through ledger.services, never
calls Stripe and never returns anything HTTP-shaped (see donations/webhooks.py).
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from donations import signals
from donations import stripe_objects as so
from donations.models import Donor, Gift, Project, RecurringGift, unique_row
from donations.stripe_objects import NotThisSites
from donations.webhooks import (
    WaitingForGift,
    apply_waiting_events,
    handles,
)
from ledger import services
from ledger.services import Origin

# Finding the gift an event is about: by Stripe's ids, or by this site's marker and
# the gift's public id. Never by anything else (client_reference_id, other metadata).


def _locked(queryset):
    """The one row of a lookup, locked; a gift is remembered as locked (save_changes)."""
    if queryset.model is Gift:
        found = unique_row(queryset.locked_for_change())
        if found is not None:
            found.remember_locked_row()
        return found
    return unique_row(queryset.select_for_update())


def _locked_gift_for_session(session):
    gift = _locked(Gift.objects.filter(stripe_checkout_session_id=session["id"]))
    if gift is None and so.has_site_marker(session):
        public_id = so.as_uuid(so.metadata(session).get("gift_public_id"))
        if public_id:
            gift = _locked(Gift.objects.filter(public_id=public_id))
            # A gift already tied to another checkout session is not this one.
            if gift and gift.stripe_checkout_session_id not in (None, session["id"]):
                gift = None
    return gift


def _locked_gift_for_charge(charge_like):
    payment_intent = so.payment_intent_id(charge_like)
    if payment_intent:
        gift = _locked(Gift.objects.filter(stripe_payment_intent_id=payment_intent))
        if gift:
            return gift
    charge = so.charge_id(charge_like)
    if charge:
        gift = _locked(Gift.objects.filter(stripe_charge_id=charge))
        if gift:
            return gift
    if so.has_site_marker(charge_like):
        public_id = so.as_uuid(so.metadata(charge_like).get("gift_public_id"))
        gift = _locked(Gift.objects.filter(public_id=public_id)) if public_id else None
        if gift and gift.stripe_payment_intent_id not in (None, payment_intent):
            gift = None
        return gift
    return None


def _project_for(gift, metadata, *, slug=None):
    """The project an event names (a Payment Link's slug, or this site's metadata); the
    general fund, with the gift flagged, when it names one that does not exist."""
    project = None
    # What a gift needs of its project (its id, and its title for the audit log), not the
    # whole row with its texts and pictures.
    projects = Project.objects.only("id", "title", "currency")
    if slug:
        project = unique_row(projects.filter(slug=slug))
        if project is None:
            gift.flag(
                f"The Payment Link names project “{slug}”, which does not exist: given to the general fund."
            )
    project_id = str(metadata.get("project_id", ""))
    if project is None and project_id.isdigit():
        project = unique_row(projects.filter(pk=int(project_id)))
        if project is None:
            gift.flag(
                f"The checkout named project #{project_id}, which does not exist: given to the general fund."
            )
    if project is None:
        project = unique_row(projects.filter(is_general_fund=True))
    if project is None:
        # Raising keeps the event failed and replayable until staff create a general fund.
        raise RuntimeError("No project in the event's metadata and no general fund to attribute it to.")
    return project


# One-time gifts: Checkout in payment mode


def _gift_rebuilt_from_session(session):
    """A gift for a session this site started whose record is lost (or a donation link's)."""
    metadata = so.metadata(session) if so.has_site_marker(session) else {}
    (amount, currency), _ = so.session_amounts(session)
    link_project = so.donation_payment_link_project(session)
    gift = Gift(amount_minor=0, currency=currency, livemode=session.get("livemode") is True)
    gift.project = _project_for(gift, metadata, slug=link_project)
    gift.fee_covered_minor = so.whole_number(metadata.get("fee_covered_minor"))
    gift.amount_minor = _split_fee(gift, amount)[0]
    if link_project is None:
        gift.flag(
            "Recorded from Stripe's event alone: no gift on this site matched checkout "
            f"session {session['id']}, though this site started it (a lost record)."
        )
    gift.stripe_checkout_session_id = session["id"]
    return gift


def _session_gift(session):
    """The session's gift, locked; a gift rebuilt from the session (not saved) when this
    site has lost its record. Events about one session are serialized, so a rebuilt
    gift is never made twice."""
    so.check_session_is_ours(session)
    gift = _locked_gift_for_session(session)
    if gift is None:
        return _gift_rebuilt_from_session(session)
    gift.stripe_checkout_session_id = session["id"]
    return gift


def _split_fee(gift, total_minor):
    """(gift, covered fee) of what the donor paid: Checkout charges the gift plus the fee
    the donor chose to cover (the gift's own, from the form or its metadata)."""
    fee = gift.fee_covered_minor
    if fee and total_minor <= fee:
        gift.flag(f"Stripe reported {total_minor}, not more than the fee of {fee} the donor covered.")
        fee = 0
    return total_minor - fee, fee


def _tie_donor(gift, details):
    """Tie the gift to the person who paid. The address Stripe's Checkout confirmed is the
    payer's: receipts, consent and "Manage my giving" go with it, not with what was typed
    into the form."""
    gift.donor_name = gift.donor_name or details.get("name") or ""
    confirmed = Donor.normalize_email(details.get("email"))
    if confirmed and confirmed != Donor.normalize_email(gift.donor_email):
        gift.donor_email, gift.donor = confirmed, None
    gift.attach_donor()


def _record_session_payment(gift, session, event):
    (amount, currency), (charged, charged_currency) = so.session_amounts(session)
    if charged_currency and charged_currency != currency:
        gift.charged_amount_minor, gift.charged_currency = charged, charged_currency
    gift.stripe_payment_intent_id = so.payment_intent_id(session) or gift.stripe_payment_intent_id
    _tie_donor(gift, session.get("customer_details") or {})
    amount_minor, fee = _split_fee(gift, amount)
    services.record_payment(
        gift,
        amount_minor=amount_minor,
        currency=currency,
        fee_covered_minor=fee,
        paid_at=so.from_unix(event.created),
        origin=Origin.stripe(event),
        stripe_object_id=gift.stripe_payment_intent_id or session["id"],
    )
    apply_waiting_events(gift.stripe_payment_intent_id)


def _save(gift):
    """Save a gift whose money did not change (inserted, if rebuilt from an event)."""
    gift.save_changes()


@handles("checkout.session.completed")
def checkout_session_completed(session, event):
    if session.get("mode") == "subscription":
        return _monthly_checkout_completed(session, event)
    gift = _session_gift(session)
    if session.get("payment_status") in ("paid", "no_payment_required"):
        _record_session_payment(gift, session, event)
        return
    # Delayed payment methods complete unpaid; async_payment_* follows.
    gift.stripe_payment_intent_id = so.payment_intent_id(session) or gift.stripe_payment_intent_id
    _tie_donor(gift, session.get("customer_details") or {})
    _save(gift)


@handles("checkout.session.async_payment_succeeded")
def checkout_session_async_payment_succeeded(session, event):
    if session.get("mode") == "subscription":
        return _monthly_checkout_completed(session, event)
    _record_session_payment(_session_gift(session), session, event)


@handles("checkout.session.async_payment_failed")
def checkout_session_async_payment_failed(session, event):
    so.check_session_is_ours(session)
    gift = _locked_gift_for_session(session)
    if gift is not None:
        gift.mark_failed()
        _save(gift)


@handles("checkout.session.expired")
def checkout_session_expired(session, event):
    so.check_session_is_ours(session)
    gift = _locked_gift_for_session(session)
    if gift is not None:
        gift.mark_abandoned()
        _save(gift)


# Refunds and disputes: about a charge, found by its payment intent.


def _paid_gift_for_charge_event(charge_like):
    """The paid gift a refund or dispute is about, locked. One whose payment is not
    recorded yet waits for it (and is applied when it is, whatever the order)."""
    gift = _locked_gift_for_charge(charge_like)
    if gift is None or not gift.is_paid:
        if so.payment_intent_id(charge_like):
            raise WaitingForGift(
                f"No paid gift on this site has payment {so.payment_intent_id(charge_like)} (yet): "
                "another tool's sale, or a payment whose checkout event has not arrived."
            )
        raise NotThisSites("About a charge that belongs to no gift on this site.")
    return gift


@handles("charge.refunded")
def charge_refunded(charge, event):
    gift = _paid_gift_for_charge_event(charge)
    services.record_refund(
        gift,
        refunded_total=charge["amount_refunded"],
        currency=(charge.get("currency") or "").lower(),
        charge_amount=charge.get("amount"),
        as_of=event.created,
        origin=Origin.stripe(event),
        charge_id=charge["id"],
    )


@handles("charge.refund.updated")
def charge_refund_updated(refund, event):
    if refund.get("status") not in ("failed", "canceled"):
        return  # pending and succeeded refunds are counted from charge.refunded
    gift = _paid_gift_for_charge_event(refund)
    services.record_failed_refund(
        gift,
        refund_id=refund["id"],
        amount=refund["amount"],
        currency=(refund.get("currency") or "").lower(),
        as_of=event.created,
        origin=Origin.stripe(event),
    )


@handles("charge.dispute.created")
def charge_dispute_created(dispute, event):
    gift = _paid_gift_for_charge_event(dispute)
    services.record_dispute_opened(
        gift,
        dispute_id=dispute["id"],
        amount=dispute["amount"],
        currency=(dispute.get("currency") or "").lower(),
        reason=dispute.get("reason") or "",
        occurred_at=so.from_unix(event.created) or timezone.now(),
        origin=Origin.stripe(event),
    )


@handles("charge.dispute.closed")
def charge_dispute_closed(dispute, event):
    gift = _paid_gift_for_charge_event(dispute)
    services.record_dispute_closed(
        gift,
        dispute_id=dispute["id"],
        # "warning_closed" ends an inquiry that never became a chargeback: no money was lost.
        won=dispute.get("status") in ("won", "warning_closed"),
        amount=dispute["amount"],
        currency=(dispute.get("currency") or "").lower(),
        occurred_at=so.from_unix(event.created) or timezone.now(),
        origin=Origin.stripe(event),
    )


# Monthly gifts: Checkout in subscription mode, then one Gift for each paid invoice.


def _locked_recurring_gift(*, subscription_id="", session_id="", metadata=None):
    """The monthly gift a subscription, session or invoice is about, locked: by Stripe's
    ids, or by this site's marker and the record's public id. Never by anything else."""
    metadata = metadata or {}
    if subscription_id:
        found = _locked(RecurringGift.objects.filter(stripe_subscription_id=subscription_id))
        if found:
            return found
    if session_id:
        found = _locked(RecurringGift.objects.filter(stripe_checkout_session_id=session_id))
        if found:
            return found
    public_id = so.as_uuid(metadata.get("recurring_gift_public_id"))
    if public_id and metadata.get(so.SITE_MARKER_KEY) == settings.STRIPE_SITE_MARKER:
        found = _locked(RecurringGift.objects.filter(public_id=public_id))
        # A record already tied to another subscription is not this one.
        if found and found.stripe_subscription_id in (None, subscription_id or None):
            return found
    return None


def _recurring_gift_from_metadata(metadata, *, livemode, amount_minor, currency):
    """Rebuild a lost monthly record from what this site put in Stripe's metadata."""
    fee = so.whole_number(metadata.get("fee_covered_minor"))
    recurring = RecurringGift(
        amount_minor=so.whole_number(metadata.get("amount_minor")) or max(0, amount_minor - fee),
        currency=(metadata.get("currency") or currency or "").lower(),
        fee_covered_minor=fee,
        livemode=livemode,
    )
    placeholder = Gift()
    recurring.project = _project_for(placeholder, metadata)
    return recurring


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
    so.check_session_is_ours(session)
    metadata = so.metadata(session)
    subscription_id = so.object_id(session.get("subscription"))
    recurring = _locked_recurring_gift(
        subscription_id=subscription_id, session_id=session["id"], metadata=metadata
    )
    if recurring is None:
        recurring = _recurring_gift_from_metadata(
            metadata,
            livemode=session.get("livemode") is True,
            amount_minor=session.get("amount_total") or 0,
            currency=session.get("currency"),
        )
        recurring = _save_rebuilt(
            recurring, subscription_id=subscription_id, session_id=session["id"], metadata=metadata
        )
    details = session.get("customer_details") or {}
    donor = Donor.for_email(details.get("email"), name=details.get("name") or "")
    recurring.donor = recurring.donor or donor
    recurring.stripe_checkout_session_id = session["id"]
    customer_id = so.object_id(session.get("customer"))
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
        _tie_donor(first, details)
        _save(first)


def _locked_gift_for_invoice(invoice, recurring, metadata):
    gift = _locked(Gift.objects.filter(stripe_invoice_id=invoice["id"]))
    if gift is not None:
        return gift
    if invoice.get("billing_reason") == "subscription_create":
        # The first invoice pays for the gift the donor made on the form.
        public_id = so.as_uuid(metadata.get("gift_public_id"))
        gift = (
            _locked(Gift.objects.filter(public_id=public_id, stripe_invoice_id=None)) if public_id else None
        )
        if gift is not None and gift.recurring_gift_id in (None, recurring.pk):
            return gift
    # A later month: a new gift, named and dedicated as the donor's earlier ones.
    earlier = recurring.payments.order_by("-created_at").first() if recurring.pk else None
    gift = Gift(
        # Its id, and its title for the audit log: not the project's texts and pictures.
        project=Project.objects.only("id", "title", "currency").get(pk=recurring.project_id),
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


@handles("invoice.paid")
def invoice_paid(invoice, event):
    subscription_id, metadata = so.subscription_details(invoice)
    so.check_invoice_is_ours(metadata)
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
    customer_id = so.object_id(invoice.get("customer"))
    recurring.mark_started(subscription_id=subscription_id, customer_id=customer_id, as_of=event.created)
    # A paid month makes a past-due gift active again (unless newer news says otherwise).
    if recurring.set_state(as_of=event.created, status=RecurringGift.Status.ACTIVE):
        recurring.current_period_end = so.invoice_period_end(invoice) or recurring.current_period_end
    recurring.save()
    _remember_customer(recurring.donor, customer_id)

    gift = _locked_gift_for_invoice(invoice, recurring, metadata)
    gift.recurring_gift = recurring
    gift.frequency = Gift.Frequency.MONTHLY
    gift.stripe_invoice_id = invoice["id"]
    gift.donor = gift.donor or recurring.donor
    gift.fee_covered_minor = gift.fee_covered_minor or so.whole_number(metadata.get("fee_covered_minor"))
    gift.stripe_payment_intent_id = so.invoice_payment_intent(invoice) or gift.stripe_payment_intent_id
    _tie_donor(gift, {"name": invoice.get("customer_name"), "email": invoice.get("customer_email")})
    amount_minor, fee = _split_fee(gift, invoice["amount_paid"])
    paid_at = (invoice.get("status_transitions") or {}).get("paid_at")
    services.record_payment(
        gift,
        amount_minor=amount_minor,
        currency=(invoice.get("currency") or "").lower(),
        fee_covered_minor=fee,
        paid_at=so.from_unix(paid_at) or so.from_unix(event.created),
        origin=Origin.stripe(event),
        stripe_object_id=invoice["id"],
    )
    apply_waiting_events(invoice["id"])
    apply_waiting_events(gift.stripe_payment_intent_id)


@handles("invoice_payment.paid")
def invoice_payment_paid(invoice_payment, event):
    """Ties a monthly payment to its payment intent, so that refunds and disputes of it
    (which name only the payment intent and charge) find their gift."""
    invoice_id = so.object_id(invoice_payment.get("invoice"))
    payment = invoice_payment.get("payment")
    payment_intent = so.object_id(payment.get("payment_intent")) if isinstance(payment, dict) else ""
    if not payment_intent:
        return  # paid out of band: no card payment to refund or dispute
    gift = _locked(Gift.objects.filter(stripe_invoice_id=invoice_id))
    if gift is None:
        raise WaitingForGift(
            f"No monthly payment on this site for invoice {invoice_id} (yet): another tool's "
            "invoice, or one whose invoice.paid has not arrived."
        )
    if gift.stripe_payment_intent_id is None:
        gift.stripe_payment_intent_id = payment_intent
        _save(gift)
    elif gift.stripe_payment_intent_id != payment_intent:
        gift.flag(f"Invoice {invoice_id} was paid by a second payment, {payment_intent}.")
        _save(gift)
    apply_waiting_events(payment_intent)


@handles("invoice.payment_failed")
def invoice_payment_failed(invoice, event):
    subscription_id, metadata = so.subscription_details(invoice)
    so.check_invoice_is_ours(metadata)
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


def apply_subscription(subscription, event, *, deleted):
    """Apply a subscription's state as Stripe states it (an event, or reconciliation)."""
    metadata = so.metadata(subscription)
    recurring = _locked_recurring_gift(subscription_id=subscription.get("id", ""), metadata=metadata)
    was_cancelled = recurring is not None and recurring.status == RecurringGift.Status.CANCELLED
    if recurring is None:
        if not so.has_site_marker(subscription):
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
    applied = recurring.set_state(
        as_of=event.created,
        status=status,
        cancel_at_period_end=ending and not cancelled,
        cancelled_at=so.from_unix(ended_at),
        reason=_cancellation_reason(subscription) if (ending or cancelled) else "",
    )
    if applied:
        # The donor's page shows these: the next charge, a pause, and a changed amount (the
        # site writes the new amounts into the subscription's metadata when it changes them).
        period_end = so.subscription_period_end(subscription)
        recurring.current_period_end = period_end or recurring.current_period_end
        recurring.paused_until = so.subscription_resumes_at(subscription)
        if amount := so.whole_number(metadata.get("amount_minor")):
            recurring.amount_minor = amount
            recurring.fee_covered_minor = so.whole_number(metadata.get("fee_covered_minor"))
    # An update can be the first news of a subscription the form's record is waiting for.
    recurring.stripe_subscription_id = recurring.stripe_subscription_id or subscription.get("id")
    recurring.stripe_customer_id = recurring.stripe_customer_id or so.object_id(subscription.get("customer"))
    if recurring.is_running and not recurring.started_at:
        recurring.started_at = so.from_unix(subscription.get("start_date")) or timezone.now()
    recurring.save()
    if recurring.status == RecurringGift.Status.CANCELLED and not was_cancelled:
        signals.monthly_gift_cancelled.send(sender=RecurringGift, recurring_gift=recurring)


@handles("customer.subscription.updated")
def customer_subscription_updated(subscription, event):
    apply_subscription(subscription, event, deleted=False)


@handles("customer.subscription.deleted")
def customer_subscription_deleted(subscription, event):
    apply_subscription(subscription, event, deleted=True)
