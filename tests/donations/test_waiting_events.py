"""Nothing waits forever: an event about a payment not recorded yet, and the recording of
that payment, forced to overlap on PostgreSQL in both orders.

Each test holds one delivery inside its transaction at the moment that matters (the
payment just recorded, or the other event just stored as waiting), sends the other
delivery meanwhile, and only then lets the first commit. Whichever order, the event that
arrived early is applied: none is left "waiting for its gift".
"""

import threading
import time

import pytest
from django.db import connection, connections
from django.db.models.signals import post_save
from django.test import Client
from django.urls import reverse

from donations.models import Gift, Project, StripeEvent
from donations.signals import gift_paid
from tests.conftest import money
from tests.donations.test_concurrency import signed

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once: PostgreSQL only"),
]


class Hold:
    """Stops the first transaction that reaches it until released."""

    def __init__(self):
        self.reached, self.released, self.used = threading.Event(), threading.Event(), False

    def __call__(self, *args, **kwargs):
        if self.used:
            return
        self.used = True
        self.reached.set()
        assert self.released.wait(timeout=20), "never released"


def deliver_in_background(delivery, statuses):
    payload, headers = delivery

    def run():
        try:
            response = Client().post(
                reverse("donations:stripe_webhook"),
                data=payload,
                content_type="application/json",
                headers=headers,
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def waits_on_a_lock(timeout=5):
    """Whether another connection is (or comes to be) waiting on a lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.01)
    return False


def overlap(first, second, hold, signal, **connect):
    """Deliver `first`, hold it at `signal`, deliver `second` meanwhile, then let both end."""
    statuses = []
    signal.connect(hold, weak=False, **connect)
    try:
        one = deliver_in_background(first, statuses)
        assert hold.reached.wait(timeout=20)
        two = deliver_in_background(second, statuses)
        # The second waits for the first's lock on their payment; without it, it would
        # finish now, reading a database in which the first has not happened.
        waited = waits_on_a_lock()
        hold.released.set()
        one.join(timeout=30)
        two.join(timeout=30)
    finally:
        hold.released.set()
        signal.disconnect(hold, **connect)
    assert statuses == [200, 200]
    return waited


class HoldWhenWaiting(Hold):
    """Holds the delivery that has just stored its event as waiting for its gift."""

    def __call__(self, sender, instance, **kwargs):
        if instance.status == StripeEvent.Status.UNMATCHED:
            super().__call__()


def nothing_waits():
    return not StripeEvent.objects.filter(status=StripeEvent.Status.UNMATCHED).exists()


def test_an_invoice_payment_sent_while_its_invoice_is_being_recorded_is_applied(
    project, monthly_gift, invoice_event, invoice_payment_event, signed_headers
):
    gift = monthly_gift()
    waited = overlap(
        signed(invoice_event(gift), signed_headers),
        signed(invoice_payment_event(), signed_headers),
        Hold(),
        gift_paid,
    )

    assert waited
    gift.refresh_from_db()
    assert gift.stripe_payment_intent_id == "pi_3QcM4tB7WZ01zgkW0fE5gH7j"
    assert nothing_waits()


def test_an_invoice_recorded_while_its_early_invoice_payment_is_being_stored_applies_it(
    project, monthly_gift, invoice_event, invoice_payment_event, signed_headers
):
    gift = monthly_gift()
    waited = overlap(
        signed(invoice_payment_event(), signed_headers),
        signed(invoice_event(gift), signed_headers),
        HoldWhenWaiting(),
        post_save,
        sender=StripeEvent,
    )

    assert waited
    gift.refresh_from_db()
    assert gift.stripe_payment_intent_id == "pi_3QcM4tB7WZ01zgkW0fE5gH7j"
    assert nothing_waits()


def refund_and_payment(gift, stripe_event, signed_headers):
    payment = stripe_event("checkout_session_completed", gift=gift, payment_intent="pi_early_refund")
    refund = stripe_event(
        "charge_refunded", gift=gift, payment_intent="pi_early_refund", amount_refunded=5_000
    )
    return signed(refund, signed_headers), signed(payment, signed_headers)


@pytest.mark.parametrize("order", ["refund stored first", "payment recorded first"])
def test_a_refund_and_its_payment_at_the_same_moment_end_refunded_in_either_order(
    order, project, make_pending_gift, stripe_event, signed_headers
):
    gift = make_pending_gift(project, amount_minor=5_000)
    refund, payment = refund_and_payment(gift, stripe_event, signed_headers)
    if order == "refund stored first":
        waited = overlap(refund, payment, HoldWhenWaiting(), post_save, sender=StripeEvent)
    else:
        waited = overlap(payment, refund, Hold(), gift_paid)

    assert waited
    gift.refresh_from_db()
    assert (gift.status, money(gift).refunded_minor, money(gift).net_minor) == (
        Gift.Status.REFUNDED,
        5_000,
        0,
    )
    assert Project.objects.get(pk=project.pk).raised_minor == 0
    assert nothing_waits()


def test_a_waiting_event_whose_payment_was_recorded_another_way_is_applied_by_the_sweep(
    project, make_pending_gift, stripe_event, signed_headers, post_event
):
    from donations.webhooks import apply_all_waiting
    from tests.conftest import pay

    gift = make_pending_gift(project, amount_minor=5_000)
    refund, _ = refund_and_payment(gift, stripe_event, signed_headers)
    assert (
        Client()
        .post(
            reverse("donations:stripe_webhook"),
            data=refund[0],
            content_type="application/json",
            headers=refund[1],
        )
        .status_code
        == 200
    )
    assert not nothing_waits()
    # Recorded by a path that does not look for waiting events (a repair by hand).
    Gift.objects.filter(pk=gift.pk).update(stripe_payment_intent_id="pi_early_refund")
    pay(gift)

    assert apply_all_waiting() == (1, 0)
    assert money(gift).refunded_minor == 5_000
    assert nothing_waits()
