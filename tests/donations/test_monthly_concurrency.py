"""Monthly events racing each other on PostgreSQL: a lost record is rebuilt once.

Built like tests/donations/test_concurrency.py, but the deliveries are held back by a lock on
the monthly gifts table, where these events first meet.
"""

import threading

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse

from donations.models import Gift, Project, RecurringGift
from tests.donations.conftest import SUBSCRIPTION
from tests.donations.test_concurrency import signed, wait_until_queued

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only, as in test_concurrency"),
]


def deliver_at_once_behind(table, deliveries):
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
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver, args=(i, *delivery)) for i, delivery in enumerate(deliveries)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        for thread in threads:
            thread.start()
        wait_until_queued(cursor, len(threads))
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return statuses


def test_an_invoice_and_its_checkout_at_once_rebuild_one_lost_record_without_a_retry(
    general_fund, project, monthly_gift, invoice_event, session_completed, signed_headers
):
    gift = monthly_gift()
    invoice, session = invoice_event(gift), session_completed(gift)
    Gift.objects.all().delete()
    RecurringGift.objects.all().delete()
    deliveries = [signed(invoice, signed_headers), signed(session, signed_headers)] * 3

    statuses = deliver_at_once_behind(RecurringGift._meta.db_table, deliveries)

    assert statuses == [200] * 6
    recurring = RecurringGift.objects.get()
    assert (recurring.stripe_subscription_id, recurring.status) == (SUBSCRIPTION, RecurringGift.Status.ACTIVE)
    assert Gift.objects.get().recurring_gift == recurring
    assert Project.objects.get(pk=project.pk).raised_minor == 2_500
