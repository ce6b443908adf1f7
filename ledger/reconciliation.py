"""Reconciliation with Stripe: find what the ledger and Stripe disagree on, list it for
Finance, and (only when asked to repair) apply what Stripe says through the webhook's
own code path.

A run (`manage.py reconcile_stripe`, or the `reconcile_stripe` task) is a series of
named steps, each recording a `Difference` for what it finds:

- `waiting`: the sweep of stored events waiting for their payment (webhooks.apply_all_waiting);
- `events`: events Stripe lists as not delivered since the stored checkpoint, applied
  as if they had just been delivered (webhooks.read_event, then webhooks.process);
- `checkouts`: gifts pending longer than a checkout lasts: their Checkout Session (and a
  monthly gift's first invoice) as Stripe has it now;
- `subscriptions`: monthly gifts running with no payment for longer than a month: their
  subscription (and its latest invoice) as Stripe has it now;
- `balance`: Stripe's balance transactions of a window (yesterday by default) against
  the ledger: payments the ledger lacks, ledger payments Stripe lacks, amounts, refunds
  and disputes, and the fee a donor covered against the fee Stripe took;
- `payouts`: each automatic payout of the window against the transactions it paid out.

A dry run (the default) changes nothing but its own run, differences and cursors. A
repair applies what Stripe says as an event built from Stripe's object, stored and
applied by webhooks.process like a delivery, inside `current_run`: its ledger entries
carry the run, and so do its audit-log entries (additional_data and cid). Balance and
payout differences are for a person; nothing repairs them.

Stripe is called only through donations.stripe_gateway. When Stripe rate-limits, a call
is tried again after 1, 2 and 4 seconds; then the run stops, interrupted, and each
step's cursor (saved after every page) lets the next run resume where it stopped.
"""

import logging
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from auditlog.context import set_extra_data
from django.conf import settings
from django.db.models import Max, Q
from django.utils import timezone

from donations import stripe_gateway, webhooks
from donations import stripe_objects as so
from donations.models import Gift, RecurringGift, StripeEvent
from donations.money import format_money
from ledger.figures import gift_money
from ledger.models import Difference, ReconciliationCheckpoint, ReconciliationRun
from ledger.services import current_run

logger = logging.getLogger(__name__)

STEPS = ("waiting", "events", "checkouts", "subscriptions", "balance", "payouts")

# The checkpoint of the undelivered-events list.
EVENTS_CHECKPOINT = "undelivered_events"
# Stripe lists events of the last 30 days.
STRIPE_KEEPS_EVENTS = timedelta(days=30)
# The checkpoint stays this far behind the time the list was read, in case Stripe's
# list shows an event a little after it was made.
CHECKPOINT_OVERLAP = timedelta(minutes=5)

# Rate limits: waits before each new try of a call Stripe refused with 429.
BACKOFF_SECONDS = (1, 2, 4)

# A run still marked running after this long stopped without saying so (a crash).
RUN_TIMEOUT = timedelta(hours=6)
# Pending gifts older than this are not looked up: Stripe expired their sessions long ago,
# and an earlier run will have said so.
PENDING_HORIZON = timedelta(days=30)


class Interrupted(Exception):
    """Stripe kept refusing (rate limits) or could not be reached: the run stops, and
    the next one resumes from the cursors."""


class AlreadyRunning(Exception):
    """Another run has not finished."""


@dataclass
class Options:
    repair: bool = False
    steps: tuple = STEPS
    # Events since this time instead of the checkpoint, and the balance window's start.
    since: datetime | None = None
    # The balance window's end (default: the end of the day `since` falls in, or of yesterday).
    until: datetime | None = None
    # A pending gift is looked up once its checkout has been open this long.
    stale_after: timedelta = timedelta(hours=1)
    # A running monthly gift is looked up after this long without a payment.
    monthly_grace: timedelta = timedelta(days=35)
    started_by: str = ""


def balance_window(since=None, until=None, now=None):
    """[start, end) of the balance comparison: the given times, or yesterday (the site's
    time zone) by default; `since` alone runs to the end of its day."""
    now = now or timezone.now()
    if since is None:
        today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        since = today - timedelta(days=1)
    if until is None:
        day = timezone.localtime(since).replace(hour=0, minute=0, second=0, microsecond=0)
        until = min(day + timedelta(days=1), now)
    if until <= since:
        raise ValueError("The window ends before it starts.")
    return since, until


def reconcile(options, *, sleep=time.sleep):
    """Run reconciliation and return its ReconciliationRun. Raises AlreadyRunning, and
    ValueError for a window that makes no sense; an interrupted run is returned with
    its status and reason (summary["stopped"])."""
    balance_window(options.since, options.until)  # refuses a bad window before starting
    run = _start(options)
    Reconciliation(run, options, sleep=sleep).run_steps()
    return run


def _start(options):
    now = timezone.now()
    ReconciliationRun.objects.filter(
        status=ReconciliationRun.Status.RUNNING, started_at__lt=now - RUN_TIMEOUT
    ).update(status=ReconciliationRun.Status.INTERRUPTED)
    running = ReconciliationRun.objects.filter(status=ReconciliationRun.Status.RUNNING).first()
    if running is not None:
        raise AlreadyRunning(f"{running} has not finished; try again once it has.")
    return ReconciliationRun.objects.create(
        repair=options.repair, started_by=options.started_by[:150], checks=list(options.steps)
    )


def _outcome(repaired, error, done, otherwise):
    """How a difference's description ends: repaired, a repair that failed, or neither."""
    if repaired:
        return done
    if error:
        return (
            f"; applying what Stripe says failed ({error}): see Stripe events, where it waits for a replay."
        )
    return otherwise


def _when(unix):
    moment = so.from_unix(unix)
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "an unknown time"


def _unix(moment):
    return int(moment.timestamp())


def _unix_end(moment):
    """The end of a window in whole seconds, rounded up: a window that ends now takes in
    what Stripe made in this second."""
    return math.ceil(moment.timestamp())


@dataclass
class StepCounts:
    """What a step looked at and found, for the run's summary."""

    counts: dict = field(default_factory=dict)

    def add(self, name, n=1):
        self.counts[name] = self.counts.get(name, 0) + n


class Reconciliation:
    def __init__(self, run, options, *, sleep):
        self.run, self.options, self.sleep = run, options, sleep
        self.window = balance_window(options.since, options.until)
        self.counts = StepCounts()

    # Running the steps

    def run_steps(self):
        self.run.summary = {"steps": {}}
        for step in self.options.steps:
            self.counts = StepCounts()
            try:
                getattr(self, f"_{step}")()
            except Interrupted as exc:
                self._stop(step, str(exc))
                return
            except stripe_gateway.StripeUnavailable as exc:
                logger.exception("Reconciliation %s: Stripe failed in step %s", self.run.pk, step)
                self._stop(step, f"Stripe could not answer: {exc}")
                return
            except Exception as exc:
                # Not left "running", which would keep the next runs from starting.
                self._stop(step, f"{type(exc).__name__}: {exc}")
                raise
            finally:
                self.run.summary["steps"][step] = self.counts.counts
        self.run.status = ReconciliationRun.Status.FINISHED
        self._finish()

    def _stop(self, step, reason):
        self.run.status = ReconciliationRun.Status.INTERRUPTED
        self.run.summary["stopped"] = {"step": step, "reason": reason}
        self._finish()

    def _finish(self):
        self.run.finished_at = timezone.now()
        self.run.summary["differences"] = self.run.differences.count()
        self.run.summary["repaired"] = self.run.differences.filter(repaired=True).count()
        self.run.save(update_fields=["status", "finished_at", "summary", "cursors"])

    def _stripe(self, call, *args, **kwargs):
        """One call to Stripe, tried again after each of BACKOFF_SECONDS while Stripe
        rate-limits; then Interrupted."""
        for wait in (*BACKOFF_SECONDS, None):
            try:
                return call(*args, **kwargs)
            except stripe_gateway.RateLimited as exc:
                if wait is None:
                    raise Interrupted(
                        f"Stripe kept rate-limiting ({exc}); the next run resumes here."
                    ) from exc
                self.counts.add("rate_limited")
                self.sleep(wait)
        raise AssertionError("unreachable")

    # Cursors: where each step stopped, saved with the run after every page.

    def _resume(self, step, **must_match):
        """The cursor where the latest run of the same kind left this step, unless that
        run finished it (or read another window)."""
        latest = (
            ReconciliationRun.objects.filter(repair=self.run.repair, cursors__has_key=step)
            .exclude(pk=self.run.pk)
            .order_by("-started_at", "-pk")
            .values_list("cursors", flat=True)
            .first()
        )
        cursor = (latest or {}).get(step) or {}
        if cursor.get("done") or any(cursor.get(key) != value for key, value in must_match.items()):
            return {}
        return cursor

    def _save_cursor(self, step, cursor):
        self.run.cursors[step] = cursor
        self.run.save(update_fields=["cursors"])

    # Differences

    def _found(self, kind, description, *, gift=None, stripe_object_id="", ledger=None, stripe=None,
               currency="", repaired=False):  # fmt: skip
        self.counts.add("differences")
        if repaired:
            self.counts.add("repaired")
        return Difference.objects.create(
            run=self.run,
            kind=kind,
            description=description,
            gift=gift,
            stripe_object_id=(stripe_object_id or "")[:255],
            ledger_amount_minor=ledger,
            stripe_amount_minor=stripe,
            currency=(currency or "").lower()[:3],
            repaired=repaired,
        )

    # Repairs: what Stripe says, applied through the webhook's code path.

    @contextmanager
    def _repairing(self):
        """Entries written in here carry the run (ledger.services.Origin.stripe), and so
        do audit-log entries."""
        token = current_run.set(self.run)
        try:
            with set_extra_data(
                {
                    "additional_data": {"reconciliation_run": self.run.pk},
                    "cid": f"reconciliation-{self.run.pk}",
                }
            ):
                yield
        finally:
            current_run.reset(token)

    def _process(self, event):
        """Store and apply an event as a delivery would; returns its status, or the
        error when its handler failed (the stored event keeps it, for replay)."""
        try:
            with self._repairing():
                return webhooks.process(event).status, ""
        except Exception as exc:  # recorded on the stored event by process()
            logger.exception("Reconciliation %s could not apply %s", self.run.pk, event.stripe_id)
            return StripeEvent.Status.FAILED, f"{type(exc).__name__}: {exc}"

    def _apply_object(self, event_type, stripe_object, *, created):
        """Apply a Stripe object as the event Stripe would have sent about it. The event's
        id is made from the object, so applying it again (by a later run) does nothing."""
        data = {
            "id": f"reconciled:{event_type}:{stripe_object['id']}",
            "object": "event",
            "api_version": None,
            "created": created,
            "livemode": stripe_object.get("livemode") is True,
            "type": event_type,
            "data": {"object": stripe_object},
            "request": {"id": None, "idempotency_key": None},
            # Not Stripe's: which run built this event from Stripe's object.
            "podari_reconciliation_run": self.run.pk,
        }
        return self._process(webhooks.read_event(data))

    # Step: events waiting for their payment

    def _waiting(self):
        waiting = StripeEvent.objects.filter(status=StripeEvent.Status.UNMATCHED)
        if not self.run.repair:
            self.counts.add("waiting", waiting.count())
            return
        with self._repairing():
            applied, still_waiting = webhooks.apply_all_waiting()
        self.counts.add("applied", applied)
        self.counts.add("waiting", still_waiting)

    # Step: events Stripe could not deliver

    def _events(self):
        checkpoint = ReconciliationCheckpoint.objects.filter(name=EVENTS_CHECKPOINT).first()
        cursor = self._resume("events") if self.options.since is None else {}
        listed_at = cursor.get("listed_at") or _unix(timezone.now())
        if self.options.since is not None:
            created_gte = _unix(self.options.since)
        elif cursor:
            created_gte = cursor["created_gte"]
        elif checkpoint is not None and checkpoint.created_after:
            created_gte = checkpoint.created_after
        else:
            created_gte = listed_at - int(STRIPE_KEEPS_EVENTS.total_seconds())
        starting_after = cursor.get("starting_after")
        types = sorted(webhooks.HANDLERS)  # Stripe takes up to 20 types
        while True:
            page = self._stripe(
                stripe_gateway.list_events,
                created_gte=created_gte,
                types=types,
                starting_after=starting_after,
            )
            # Stripe lists newest first: each page is applied oldest first, a payment before
            # its refund (a refund that comes first waits for its payment anyway).
            for data in reversed(page.items):
                self._undelivered(data)
            if page.items:
                starting_after = page.items[-1]["id"]
            cursor = {"created_gte": created_gte, "listed_at": listed_at, "starting_after": starting_after}
            self._save_cursor("events", cursor)
            if not page.has_more:
                break
        if self.run.repair:
            # Everything not delivered by `listed_at` has been applied (or stored, failed,
            # for replay): the next run lists from a little before that.
            after = listed_at - int(CHECKPOINT_OVERLAP.total_seconds())
            checkpoint = checkpoint or ReconciliationCheckpoint(name=EVENTS_CHECKPOINT)
            checkpoint.created_after = max(checkpoint.created_after, after)
            checkpoint.save()
            self.counts.counts["checkpoint"] = checkpoint.created_after
        self._save_cursor("events", {**cursor, "done": True})

    def _undelivered(self, data):
        self.counts.add("listed")
        try:
            event = webhooks.read_event(data)
        except webhooks.InvalidEvent:
            self.counts.add("unreadable")
            return
        stored = (
            StripeEvent.objects.filter(stripe_id=event.stripe_id).values_list("status", flat=True).first()
        )
        if stored in StripeEvent.FINAL_STATUSES:
            self.counts.add("applied_before")  # delivered here; another endpoint failed
            return
        ours = about_this_site(event.data_object)
        what = f"{event.type} {event.stripe_id} of {_when(event.created)}"
        if not self.run.repair:
            if ours:
                self._found(
                    Difference.Kind.UNDELIVERED_EVENT,
                    f"Stripe could not deliver {what}; not applied yet.",
                    gift=_gift_of(event.data_object),
                    stripe_object_id=event.stripe_id,
                )
            else:
                self.counts.add("not_this_sites")
            return
        # Applied exactly as its delivery would have been: another tool's event is
        # stored as such and changes nothing, like any delivery of it.
        status, error = self._process(event)
        self.counts.add(f"status_{status}")
        if status == StripeEvent.Status.PROCESSED:
            self._found(
                Difference.Kind.UNDELIVERED_EVENT,
                f"Stripe could not deliver {what}: applied.",
                gift=_gift_of(event.data_object),
                stripe_object_id=event.stripe_id,
                repaired=True,
            )
        elif status == StripeEvent.Status.FAILED or (status == StripeEvent.Status.UNMATCHED and ours):
            if error:
                outcome = f"applying it failed ({error}); it is under Stripe events for replay"
            else:
                outcome = "stored, waiting for its payment"
            self._found(
                Difference.Kind.UNDELIVERED_EVENT,
                f"Stripe could not deliver {what}: {outcome}.",
                gift=_gift_of(event.data_object),
                stripe_object_id=event.stripe_id,
            )

    # Step: gifts pending longer than a checkout lasts

    def _checkouts(self):
        now = timezone.now()
        pending = Gift.objects.filter(
            status=Gift.Status.PENDING,
            source=Gift.Source.STRIPE,
            livemode=settings.STRIPE_LIVEMODE,
            stripe_checkout_session_id__isnull=False,
            created_at__lt=now - self.options.stale_after,
            created_at__gte=now - PENDING_HORIZON,
        ).order_by("pk")
        if not settings.SIMULATED_CHECKOUT:
            from donations.services import SIMULATED_SESSION_PREFIX

            pending = pending.exclude(stripe_checkout_session_id__startswith=SIMULATED_SESSION_PREFIX)
        after = self._resume("checkouts").get("after_gift")
        if after:
            pending = pending.filter(pk__gt=after)
        for gift in pending.iterator():
            self.counts.add("looked_up")
            self._pending_gift(gift)
            self._save_cursor("checkouts", {"after_gift": gift.pk})
        self._save_cursor("checkouts", {"done": True})

    def _pending_gift(self, gift):
        session_id = gift.stripe_checkout_session_id
        try:
            session = self._stripe(stripe_gateway.retrieve_checkout_session, session_id)
        except stripe_gateway.StripeNotFound:
            self._found(
                Difference.Kind.STALE,
                f"Gift #{gift.pk} has been pending since {_when(_unix(gift.created_at))}, and Stripe has no "
                f"checkout session {session_id} (another account or mode?).",
                gift=gift,
                stripe_object_id=session_id,
            )
            return
        status, payment_status = session.get("status"), session.get("payment_status")
        if status == "complete" and payment_status in ("paid", "no_payment_required"):
            self._missed_checkout(gift, session)
        elif status == "expired":
            repaired, error = False, ""
            if self.run.repair:
                _, error = self._apply_object(
                    "checkout.session.expired", session, created=_unix(timezone.now())
                )
                gift.refresh_from_db(fields=["status"])
                repaired = gift.status != Gift.Status.PENDING
            self._found(
                Difference.Kind.STALE,
                f"Gift #{gift.pk}: checkout session {session_id} expired unpaid at "
                f"{_when(session.get('expires_at'))}, and the gift was still pending"
                + _outcome(repaired, error, "; marked abandoned.", "."),
                gift=gift,
                stripe_object_id=session_id,
                repaired=repaired,
            )
        else:
            self.counts.add(f"session_{status}_{payment_status}")  # still open, or paying by bank

    def _missed_checkout(self, gift, session):
        """Stripe took the money (or started the monthly gift); the ledger has nothing."""
        payment_intent = session.get("payment_intent")
        paid_at = payment_intent.get("created") if isinstance(payment_intent, dict) else None
        paid_at = paid_at or session.get("created") or _unix(timezone.now())
        # As an event carries it: the payment intent's id (it was expanded for its time).
        session = {**session, "payment_intent": so.object_id(payment_intent) or None}
        amount, currency = session.get("amount_total") or 0, (session.get("currency") or "").lower()
        monthly = session.get("mode") == "subscription"
        repaired, error = False, ""
        if self.run.repair:
            _, error = self._apply_object("checkout.session.completed", session, created=paid_at)
            invoice_id = so.object_id(session.get("invoice"))
            if monthly and invoice_id and not error:
                invoice = self._stripe(stripe_gateway.retrieve_invoice, invoice_id)
                if invoice.get("status") == "paid":
                    _, error = self._apply_invoice(invoice)
            gift.refresh_from_db(fields=["status"])
            repaired = gift.is_paid
        what = "started a monthly gift and took its first payment" if monthly else "took the payment"
        self._found(
            Difference.Kind.MISSING_IN_LEDGER,
            f"Gift #{gift.pk}: Stripe {what} of {format_money(amount, currency)} (checkout session "
            f"{session['id']}, {_when(paid_at)}); its webhook never came"
            + _outcome(repaired, error, ": recorded.", ", and the ledger has no payment."),
            gift=gift,
            stripe_object_id=session["id"],
            ledger=0,
            stripe=amount,
            currency=currency,
            repaired=repaired,
        )

    def _apply_invoice(self, invoice):
        paid_at = (invoice.get("status_transitions") or {}).get("paid_at") or _unix(timezone.now())
        return self._apply_object("invoice.paid", invoice, created=paid_at)

    # Step: monthly gifts running longer than they should without a payment

    def _subscriptions(self):
        now = timezone.now()
        running = (
            RecurringGift.objects.filter(
                status__in=RecurringGift.RUNNING_STATUSES,
                livemode=settings.STRIPE_LIVEMODE,
                stripe_subscription_id__isnull=False,
            )
            .annotate(last_paid=Max("payments__paid_at"))
            .filter(
                Q(last_paid__lt=now - self.options.monthly_grace)
                | Q(last_paid__isnull=True, created_at__lt=now - self.options.stale_after)
            )
            .order_by("pk")
        )
        if not settings.SIMULATED_CHECKOUT:
            running = running.exclude(stripe_subscription_id__startswith="sub_simulated_")
        after = self._resume("subscriptions").get("after_recurring_gift")
        if after:
            running = running.filter(pk__gt=after)
        for recurring in running.iterator():
            self.counts.add("looked_up")
            self._running_monthly_gift(recurring)
            self._save_cursor("subscriptions", {"after_recurring_gift": recurring.pk})
        self._save_cursor("subscriptions", {"done": True})

    def _running_monthly_gift(self, recurring):
        subscription_id = recurring.stripe_subscription_id
        name = f"Monthly gift #{recurring.pk}"
        since = f"last paid {_when(_unix(recurring.last_paid))}" if recurring.last_paid else "never paid"
        try:
            subscription = self._stripe(stripe_gateway.retrieve_subscription, subscription_id)
        except stripe_gateway.StripeNotFound:
            self._found(
                Difference.Kind.STALE,
                f"{name} is {recurring.get_status_display().lower()} ({since}), and Stripe has no "
                f"subscription {subscription_id}.",
                stripe_object_id=subscription_id,
            )
            return
        stripe_status = RecurringGift.STRIPE_STATUSES.get(subscription.get("status"))
        if stripe_status is not None and stripe_status != recurring.status:
            cancelled = stripe_status == RecurringGift.Status.CANCELLED
            repaired, error = False, ""
            if self.run.repair:
                event_type = "customer.subscription.deleted" if cancelled else "customer.subscription.updated"
                # Stripe's state as of now: newer than anything the site applied.
                _, error = self._apply_object(event_type, subscription, created=_unix(timezone.now()))
                recurring.refresh_from_db(fields=["status"])
                repaired = recurring.status == stripe_status
            when = (
                f" on {_when(subscription.get('ended_at') or subscription.get('canceled_at'))}"
                if cancelled
                else ""
            )
            self._found(
                Difference.Kind.STATUS,
                f"{name} ({since}): Stripe says subscription {subscription_id} is "
                f"{subscription.get('status')}{when}; the site had it "
                f"{recurring.get_status_display().lower()}" + _outcome(repaired, error, ": updated.", "."),
                stripe_object_id=subscription_id,
                repaired=repaired,
            )
            return
        invoice_id = so.object_id(subscription.get("latest_invoice"))
        if invoice_id and not Gift.objects.filter(stripe_invoice_id=invoice_id).exists():
            invoice = self._stripe(stripe_gateway.retrieve_invoice, invoice_id)
            if invoice.get("status") == "paid" and invoice.get("amount_paid"):
                self._missed_invoice(recurring, invoice)
                return
        self._found(
            Difference.Kind.STALE,
            f"{name} is {recurring.get_status_display().lower()} ({since}); Stripe says subscription "
            f"{subscription_id} is {subscription.get('status')}, with no payment the site lacks.",
            stripe_object_id=subscription_id,
        )

    def _missed_invoice(self, recurring, invoice):
        repaired, error = False, ""
        if self.run.repair:
            _, error = self._apply_invoice(invoice)
            repaired = Gift.objects.filter(
                stripe_invoice_id=invoice["id"], status__in=Gift.PAID_STATUSES
            ).exists()
        amount, currency = invoice.get("amount_paid") or 0, (invoice.get("currency") or "").lower()
        self._found(
            Difference.Kind.MISSING_IN_LEDGER,
            f"Monthly gift #{recurring.pk}: Stripe was paid {format_money(amount, currency)} for invoice "
            f"{invoice['id']}; its webhook never came"
            + _outcome(repaired, error, ": recorded.", ", and the ledger has no payment."),
            gift=Gift.objects.filter(stripe_invoice_id=invoice["id"]).first(),
            stripe_object_id=invoice["id"],
            ledger=0,
            stripe=amount,
            currency=currency,
            repaired=repaired,
        )

    # Step: Stripe's balance against the ledger

    def _balance(self):
        start, end = _unix(self.window[0]), _unix_end(self.window[1])
        cursor = self._resume("balance", window=[start, end])
        seen = set(cursor.get("seen", []))
        checked = set(cursor.get("checked", []))
        starting_after = cursor.get("starting_after")
        while True:
            page = self._stripe(
                stripe_gateway.list_balance_transactions,
                created_gte=start,
                created_lt=end,
                starting_after=starting_after,
            )
            for transaction in page.items:
                self._transaction(transaction, seen, checked)
            if page.items:
                starting_after = page.items[-1]["id"]
            self._save_cursor(
                "balance",
                {"window": [start, end], "starting_after": starting_after, "seen": sorted(seen),
                 "checked": sorted(checked)},
            )  # fmt: skip
            if not page.has_more:
                break
        self._ledger_payments_stripe_lacks(seen)
        self._save_cursor("balance", {"window": [start, end], "done": True})

    def _transaction(self, transaction, seen, checked):
        self.counts.add("transactions")
        source = transaction.get("source")
        source = source if isinstance(source, dict) else {"id": source or ""}
        kind = transaction.get("type")
        if kind in ("charge", "payment"):
            seen.add(so.payment_intent_id(source) or source["id"])
            self._charge(transaction, source, checked)
        elif kind in ("refund", "payment_refund") or source.get("object") == "dispute":
            # A refund or dispute of a charge made any time: the charge, as Stripe has it now.
            gift = _gift_for_charge(source)
            if gift is None:
                self.counts.add("not_this_sites")
                return
            disputed = source.get("object") == "dispute"
            if disputed:
                self._dispute(gift, source)
            charge_id = so.charge_id(source)
            if charge_id and charge_id not in checked:
                checked.add(charge_id)
                charge = self._stripe(stripe_gateway.retrieve_charge, charge_id)
                self._charge_status(gift, charge, with_dispute=not disputed)

    def _charge(self, transaction, charge, checked):
        gift = _gift_for_charge(charge)
        amount, currency = charge.get("amount") or 0, (charge.get("currency") or "").lower()
        if gift is None and not so.has_site_marker(charge):
            self.counts.add("not_this_sites")
            return
        ids = f"charge {charge['id']}" + (
            f", payment {so.payment_intent_id(charge)}" if so.payment_intent_id(charge) else ""
        )
        if gift is None or not gift.is_paid:
            state = (
                f"gift #{gift.pk} is “{gift.get_status_display()}”" if gift else "no gift on this site has it"
            )
            self._found(
                Difference.Kind.MISSING_IN_LEDGER,
                f"Stripe took {format_money(amount, currency)} for this site ({ids}, "
                f"{_when(charge.get('created'))}); the ledger has no payment: {state}.",
                gift=gift, stripe_object_id=charge["id"], ledger=0, stripe=amount, currency=currency,
            )  # fmt: skip
            return
        self.counts.add("matched")
        money = gift_money(gift)
        if gift.charged_currency and currency == gift.charged_currency:
            ours = gift.charged_amount_minor
        else:
            ours = money.charged_minor if currency == gift.currency else None
        if ours != amount:
            self._found(
                Difference.Kind.AMOUNT,
                f"Gift #{gift.pk}: Stripe charged {format_money(amount, currency)} ({ids}); the ledger has "
                f"{format_money(money.charged_minor, gift.currency)} charged.",
                gift=gift, stripe_object_id=charge["id"], ledger=money.charged_minor, stripe=amount,
                currency=currency,
            )  # fmt: skip
        if charge["id"] not in checked:
            checked.add(charge["id"])
            self._charge_status(gift, charge, money)
        fee, fee_currency = transaction.get("fee") or 0, (transaction.get("currency") or "").lower()
        if money.covered_fee_minor and fee_currency == gift.currency and fee != money.covered_fee_minor:
            self._found(
                Difference.Kind.FEE,
                f"Gift #{gift.pk}: the donor covered a fee of "
                f"{format_money(money.covered_fee_minor, gift.currency)}; Stripe's fee was "
                f"{format_money(fee, fee_currency)} (balance transaction {transaction['id']}).",
                gift=gift, stripe_object_id=transaction["id"], ledger=money.covered_fee_minor, stripe=fee,
                currency=fee_currency,
            )  # fmt: skip

    def _charge_status(self, gift, charge, money=None, *, with_dispute=True):
        """Refunds and disputes of a charge as Stripe has them now, against the ledger."""
        money = money or gift_money(gift)
        currency = (charge.get("currency") or "").lower()
        refunded = charge.get("amount_refunded") or 0
        if currency == gift.currency and refunded != money.refunded_minor:
            self._found(
                Difference.Kind.STATUS,
                f"Gift #{gift.pk}: Stripe has refunded {format_money(refunded, currency)} of charge "
                f"{charge['id']}; the ledger has {format_money(money.refunded_minor, gift.currency)}.",
                gift=gift, stripe_object_id=charge["id"], ledger=money.refunded_minor, stripe=refunded,
                currency=currency,
            )  # fmt: skip
        if with_dispute and charge.get("disputed") and not gift.dispute_status:
            self._found(
                Difference.Kind.STATUS,
                f"Gift #{gift.pk}: Stripe shows charge {charge['id']} disputed; the ledger has no dispute.",
                gift=gift,
                stripe_object_id=charge["id"],
            )

    def _dispute(self, gift, dispute):
        stripe_status = dispute.get("status") or ""
        expected = {"won": "won", "warning_closed": "won", "lost": "lost"}.get(stripe_status, "open")
        if gift.dispute_status != expected:
            ledger = gift.get_dispute_status_display().lower() if gift.dispute_status else "no dispute"
            self._found(
                Difference.Kind.STATUS,
                f"Gift #{gift.pk}: Stripe's dispute {dispute['id']} is {stripe_status.replace('_', ' ')}; "
                f"the ledger has {ledger}.",
                gift=gift,
                stripe_object_id=dispute["id"],
            )

    def _ledger_payments_stripe_lacks(self, seen):
        """Gifts the ledger has as paid by Stripe in the window whose charge Stripe did not
        list: asked about one by one (a charge made before the window, paid by a bank
        later, is not missing)."""
        start, end = self.window
        paid = Gift.objects.filter(
            source=Gift.Source.STRIPE,
            status__in=Gift.PAID_STATUSES,
            livemode=settings.STRIPE_LIVEMODE,
            paid_at__gte=start,
            paid_at__lt=end,
            stripe_payment_intent_id__isnull=False,
        ).order_by("pk")
        if not settings.SIMULATED_CHECKOUT:
            paid = paid.exclude(stripe_payment_intent_id__startswith="pi_simulated_")
        for gift in paid.iterator():
            if gift.stripe_payment_intent_id in seen:
                continue
            self.counts.add("asked_about")
            try:
                intent = self._stripe(stripe_gateway.retrieve_payment_intent, gift.stripe_payment_intent_id)
            except stripe_gateway.StripeNotFound:
                intent = {}
            if intent.get("status") == "succeeded":
                continue
            money = gift_money(gift)
            state = f"it is {intent['status']}" if intent else "Stripe has no such payment"
            self._found(
                Difference.Kind.MISSING_IN_STRIPE,
                f"Gift #{gift.pk}: the ledger has a payment of "
                f"{format_money(money.charged_minor, gift.currency)} (payment "
                f"{gift.stripe_payment_intent_id}, {_when(_unix(gift.paid_at))}) that Stripe's balance "
                f"lacks: {state}.",
                gift=gift, stripe_object_id=gift.stripe_payment_intent_id, ledger=money.charged_minor,
                stripe=intent.get("amount_received") if intent else None, currency=gift.currency,
            )  # fmt: skip

    # Step: payouts against what they paid out

    def _payouts(self):
        start, end = _unix(self.window[0]), _unix_end(self.window[1])
        cursor = self._resume("payouts", window=[start, end])
        starting_after = cursor.get("starting_after")
        while True:
            page = self._stripe(
                stripe_gateway.list_payouts, created_gte=start, created_lt=end, starting_after=starting_after
            )
            for payout in page.items:
                self._payout(payout)
                starting_after = payout["id"]
                self._save_cursor("payouts", {"window": [start, end], "starting_after": starting_after})
            if not page.has_more:
                break
        self._save_cursor("payouts", {"window": [start, end], "done": True})

    def _payout(self, payout):
        if payout.get("status") in ("failed", "canceled"):
            self.counts.add("failed_or_canceled")
            return
        if not payout.get("automatic"):
            # Stripe lists a payout's transactions only for automatic payouts.
            self.counts.add("manual")
            return
        self.counts.add("payouts")
        total = count = 0
        starting_after = None
        while True:
            page = self._stripe(
                stripe_gateway.list_balance_transactions, payout=payout["id"], starting_after=starting_after
            )
            for transaction in page.items:
                if transaction.get("type") in ("payout", "payout_cancel", "payout_failure"):
                    continue  # the payout's own movement
                total += transaction.get("net") or 0
                count += 1
            if page.items:
                starting_after = page.items[-1]["id"]
            if not page.has_more:
                break
        amount, currency = payout.get("amount") or 0, (payout.get("currency") or "").lower()
        if total != amount:
            self._found(
                Difference.Kind.PAYOUT,
                f"Payout {payout['id']} of {format_money(amount, currency)} ({_when(payout.get('created'))}, "
                f"arriving {_when(payout.get('arrival_date'))}): its {count} "
                f"transaction{'s' if count != 1 else ''} add up to {format_money(total, currency)}, "
                f"{format_money(abs(amount - total), currency)} apart.",
                stripe_object_id=payout["id"], ledger=total, stripe=amount, currency=currency,
            )  # fmt: skip


# Which objects are this site's


def _gift_for_charge(charge_like):
    """The gift a charge, refund or dispute is about: by payment intent, charge, or this
    site's marker and the gift's public id."""
    payment_intent = so.payment_intent_id(charge_like)
    if payment_intent:
        gift = Gift.objects.filter(stripe_payment_intent_id=payment_intent).first()
        if gift:
            return gift
    charge = so.charge_id(charge_like)
    if charge:
        gift = Gift.objects.filter(stripe_charge_id=charge).first()
        if gift:
            return gift
    if so.has_site_marker(charge_like):
        public_id = so.as_uuid(so.metadata(charge_like).get("gift_public_id"))
        return Gift.objects.filter(public_id=public_id).first() if public_id else None
    return None


def _gift_of(stripe_object):
    """The gift an event's object is about, for the Finance page's link (or None)."""
    kind = stripe_object.get("object")
    if kind == "checkout.session":
        return Gift.objects.filter(stripe_checkout_session_id=stripe_object.get("id")).first()
    if kind == "invoice":
        return Gift.objects.filter(stripe_invoice_id=stripe_object.get("id")).first()
    if kind in ("charge", "refund", "dispute"):
        return _gift_for_charge(stripe_object)
    return None


def about_this_site(stripe_object):
    """Whether an event's object is this site's: its marker (on a session, a charge, a
    subscription or an invoice's subscription), a donation Payment Link, or a payment,
    invoice or subscription the site has on record."""
    if so.has_site_marker(stripe_object):
        return True
    kind = stripe_object.get("object")
    if kind == "invoice":
        _, metadata = so.subscription_details(stripe_object)
        if metadata.get(so.SITE_MARKER_KEY) == settings.STRIPE_SITE_MARKER:
            return True
    if kind == "checkout.session" and stripe_object.get("mode") == "payment":
        return so.donation_payment_link_project(stripe_object) is not None
    if kind == "subscription":
        return RecurringGift.objects.filter(stripe_subscription_id=stripe_object.get("id")).exists()
    if kind == "invoice_payment":
        return Gift.objects.filter(stripe_invoice_id=so.object_id(stripe_object.get("invoice"))).exists()
    return _gift_for_charge(stripe_object) is not None
