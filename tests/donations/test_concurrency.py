"""Stripe delivers events at once, and sometimes the same one twice: gifts still end up right.

Each thread is a separate request on its own database connection, as when Stripe's retries
and a slow first delivery overlap. A barrier releases them together, and an exclusive lock on
the gifts table holds every one of them back until all are queued at the database, so they
really do race each time rather than when the scheduler happens to let them.
"""

import json
import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from donations.models import Gift, Project, StripeEvent
from tests.conftest import money

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: SQLite's shared in-memory test database answers 'table is locked' "
        "to a second writer at once instead of waiting, so it cannot show this reliably.",
    ),
]

THREADS = 8


def deliver_at_once(deliveries):
    """POST each (payload, headers) from its own thread and client, all at the same moment."""
    barrier = threading.Barrier(len(deliveries))
    statuses = [None] * len(deliveries)
    errors = []

    def deliver(index, payload, headers):
        try:
            client = Client()
            barrier.wait(timeout=10)
            response = client.post(
                reverse("donations:stripe_webhook"),
                data=payload,
                content_type="application/json",
                headers=headers,
            )
            statuses[index] = response.status_code
        except Exception as exc:  # reported below, with the thread's own traceback lost otherwise
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=deliver, args=(index, payload, headers))
        for index, (payload, headers) in enumerate(deliveries)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE donations_gift IN ACCESS EXCLUSIVE MODE")
        for thread in threads:
            thread.start()
        wait_until_queued(cursor, len(threads))
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return statuses


def wait_until_queued(cursor, count, timeout=10):
    """Until `count` connections wait on a lock: on the gifts table, or on an event another one holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Inside a transaction the statistics views keep their first answer unless told not to.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if cursor.fetchone()[0] >= count:
            return
        time.sleep(0.01)


def signed(event, signed_headers):
    payload = json.dumps(event)
    return payload, signed_headers(payload)


def test_the_same_event_delivered_eight_times_at_once_makes_one_gift(
    general_fund, project, stripe_event, signed_headers
):
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_concurrent",
        client_reference_id=None,
        metadata={"podari_site": "podari-life", "project_id": str(project.pk)},
    )

    statuses = deliver_at_once([signed(event, signed_headers)] * THREADS)

    assert statuses == [200] * THREADS
    gift = Gift.objects.get()
    assert (gift.project, gift.status, gift.amount_minor) == (project, Gift.Status.SUCCEEDED, 5_000)
    stored = StripeEvent.objects.get()
    assert (stored.status, stored.attempts) == (StripeEvent.Status.PROCESSED, 1)
    assert Project.objects.get(pk=project.pk).raised_minor == 5_000


def test_two_events_about_one_checkout_at_once_settle_one_gift(
    project, make_pending_gift, stripe_event, signed_headers
):
    gift = make_pending_gift(project)
    completed = stripe_event("checkout_session_completed", gift=gift)
    succeeded = stripe_event("checkout_session_async_payment_succeeded", gift=gift)
    deliveries = [signed(completed, signed_headers), signed(succeeded, signed_headers)] * (THREADS // 2)

    statuses = deliver_at_once(deliveries)

    assert statuses == [200] * THREADS
    gift = Gift.objects.get()
    assert gift.status == Gift.Status.SUCCEEDED
    assert gift.stripe_payment_intent_id == "pi_3QbXy2B7WZ01zgkW1aB2cD3e"
    assert StripeEvent.objects.count() == 2
    assert set(StripeEvent.objects.values_list("attempts", flat=True)) == {1}


def test_refunds_racing_their_payments_end_refunded(project, make_pending_gift, stripe_event, signed_headers):
    # Four gifts, each with its payment and its full refund arriving together. Whichever
    # applies second must see what the first wrote, or the gift ends paid and counted.
    gifts = [make_pending_gift(project) for _ in range(THREADS // 2)]
    deliveries = []
    for n, gift in enumerate(gifts):
        payment = stripe_event("checkout_session_completed", gift=gift, payment_intent=f"pi_race_{n}")
        refund = stripe_event(
            "charge_refunded", gift=gift, payment_intent=f"pi_race_{n}", amount_refunded=5_000
        )
        deliveries += [signed(payment, signed_headers), signed(refund, signed_headers)]

    statuses = deliver_at_once(deliveries)

    assert statuses == [200] * THREADS
    assert Gift.objects.count() == len(gifts)
    assert set(Gift.objects.values_list("status", "net_minor")) == {(Gift.Status.REFUNDED, 0)}
    assert {money(gift).refunded_minor for gift in Gift.objects.all()} == {5_000}
    assert Project.objects.get(pk=project.pk).raised_minor == 0


def test_two_events_about_a_session_whose_gift_is_missing_make_one_gift_without_a_retry(
    general_fund, project, stripe_event, signed_headers
):
    # The site started this checkout but lost its local record: both events recreate it.
    fields = {
        "id": "cs_test_lost_record",
        "client_reference_id": None,
        "metadata": {"podari_site": "podari-life", "project_id": str(project.pk)},
    }
    completed = stripe_event("checkout_session_completed", **fields)
    succeeded = stripe_event("checkout_session_async_payment_succeeded", **fields)
    deliveries = [signed(completed, signed_headers), signed(succeeded, signed_headers)] * (THREADS // 2)

    statuses = deliver_at_once(deliveries)

    assert statuses == [200] * THREADS
    gift = Gift.objects.get()
    assert (gift.project, gift.status, gift.needs_review) == (project, Gift.Status.SUCCEEDED, True)
    assert Project.objects.get(pk=project.pk).raised_minor == gift.amount_minor
