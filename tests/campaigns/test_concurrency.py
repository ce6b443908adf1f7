"""Fifty donors pay at the same moment against a match with $1,000 left: it never pledges
more than it has, and the gift that finds less than it asks for is matched in part.

Each payment is recorded in its own thread and database connection, as the webhooks of
fifty gifts would be. An exclusive lock on the matches table holds every one of them back
until all are queued at the database, so they race for the match's row each time.
"""

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.models import Sum

from campaigns.models import Match
from donations.models import Gift
from ledger import audit
from ledger.models import Entry
from tests.conftest import pay
from tests.donations.test_concurrency import wait_until_queued

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="PostgreSQL only: SQLite cannot hold a second writer waiting on a row lock.",
    ),
]

DONORS = 50


def pay_at_once(gifts, table):
    barrier = threading.Barrier(len(gifts))
    errors = []

    def run(gift):
        try:
            barrier.wait(timeout=10)
            pay(gift)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(gift,)) for gift in gifts]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        for thread in threads:
            thread.start()
        # One waits on the matches table; the others on it too, or on their project's
        # row (its total), which the first of each project holds.
        wait_until_queued(cursor, len(threads), timeout=30)
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_fifty_payments_at_once_never_match_more_than_is_left(make_project, make_gift, make_match):
    # Five projects, so that payments are not already queued one by one on one project's row.
    projects = [make_project() for _ in range(5)]
    match = make_match(projects, cap_minor=200_000)
    # $1,000 of $2,000 pledged already.
    make_gift(projects[0], amount_minor=100_000)
    gifts = [
        make_gift(projects[n % 5], amount_minor=3_000, status=Gift.Status.PENDING) for n in range(DONORS)
    ]

    pay_at_once(gifts, Match._meta.db_table)

    match.refresh_from_db()
    assert match.matched_minor == match.cap_minor == 200_000
    pledges = dict(
        Entry.objects.filter(matched_gift__in=gifts)
        .values_list("matched_gift")
        .annotate(t=Sum("amount_minor"))
    )
    # $1,000 left, $30 gifts: 33 matched in full, one with the last $10, the rest not at all.
    assert sorted(pledges.values(), reverse=True) == [3_000] * 33 + [1_000]
    assert sum(pledges.values()) == 100_000
    assert Gift.objects.filter(pk__in=[g.pk for g in gifts], status=Gift.Status.SUCCEEDED).count() == DONORS
    assert audit.differences() == []


def test_two_workers_finishing_the_same_ended_match_at_once_finish_it_once(
    project, general_fund, make_match, make_gift
):
    from django.utils import timezone

    from ledger import services

    match = make_match([project], remainder=Match.Remainder.GENERAL_FUND)
    make_gift(project, amount_minor=30_000)
    Match.objects.filter(pk=match.pk).update(ends_at=timezone.now())
    barrier = threading.Barrier(2)
    errors = []

    def worker():
        try:
            barrier.wait(timeout=10)
            services.finish_ended_matches()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {Match._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        for thread in threads:
            thread.start()
        wait_until_queued(cursor, 2, timeout=30)
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    match.refresh_from_db()
    assert (match.status, match.matched_minor) == (Match.Status.FINISHED, match.cap_minor)
    assert Entry.objects.filter(match=match, project=general_fund).count() == 1
    assert audit.differences() == []
