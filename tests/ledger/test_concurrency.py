"""Gifts recorded at the same moment add up exactly in the ledger's stored monthly sums."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from donations.models import Project
from ledger.figures import ProjectLedger
from tests.conftest import record_gift

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a second writer: PostgreSQL only"),
]

THREADS = 8


def test_first_gifts_of_a_month_recorded_at_once_all_count(project):
    # Euro gifts to a dollar project take no project row lock, so every thread reaches the
    # month's row together: each tries to create it, one does, and all add to it.
    barrier = threading.Barrier(THREADS)
    errors = []

    def give(n):
        try:
            barrier.wait(timeout=10)
            record_gift(project, amount_minor=1_000 + n, currency="eur", paid_at=timezone.now())
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=give, args=(n,)) for n in range(THREADS)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("LOCK TABLE ledger_giftmonth IN ACCESS EXCLUSIVE MODE")
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= THREADS:
                break
            time.sleep(0.01)
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    expected = sum(1_000 + n for n in range(THREADS))
    assert ProjectLedger(project).figures_for("eur").raised_minor == expected
    Project.objects.recount_totals()
    assert ProjectLedger(project).figures_for("eur").raised_minor == expected
