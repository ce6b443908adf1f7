"""`make bench` records the donate form's pending gifts with one SQL statement of its own
(thousands a round, faster than the ORM): it must keep up with the gift's columns, or the
bench fails after its seeding, minutes in."""

import secrets

import pytest
from django.db import connection

from donations.models import Gift

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_bench_records_a_pending_gift_the_site_reads_back(project):
    if connection.vendor != "postgresql":
        pytest.skip("the bench's SQL is PostgreSQL's (gen_random_uuid)")
    from bench.run import PENDING_GIFT_SQL

    session_id = f"cs_test_bench{secrets.token_hex(8)}"
    with connection.cursor() as cursor:
        cursor.execute(PENDING_GIFT_SQL, [project.pk, 5_000, "bench0@example.com", session_id])
        gift_id, public_id = cursor.fetchone()

    gift = Gift.objects.get(pk=gift_id)
    assert (gift.status, gift.amount_minor, gift.stripe_checkout_session_id) == ("pending", 5_000, session_id)
    assert gift.public_id == public_id
