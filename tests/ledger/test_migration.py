"""The money recorded before the ledger existed becomes entries, and no total changes."""

from importlib import import_module

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from ledger.audit import differences

BEFORE = [("donations", "0008_project_gallery"), ("ledger", "0003_staff_groups")]
AFTER = [("donations", "0010_gift_money_in_ledger"), ("ledger", "0005_entries_from_records")]


def at(month, day=10):
    return timezone.make_aware(timezone.datetime(2025, month, day, 12))


@pytest.mark.django_db(transaction=True)
def test_old_gifts_refunds_disputes_moves_offline_gifts_and_uses_become_entries_with_equal_totals(
    django_user_model,
):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Project, Gift = old.get_model("donations", "Project"), old.get_model("donations", "Gift")
    GiftMove, FundUse = old.get_model("donations", "GiftMove"), old.get_model("ledger", "FundUse")
    User = old.get_model(*django_user_model._meta.label.split("."))
    staff = User.objects.create(username="fiona")

    def project(slug):
        return Project.objects.create(title=slug, slug=slug, summary="s", description="d", currency="usd")

    car_t, doctors = project("car-t"), project("doctors")

    def gift(target, amount, **fields):
        fields.setdefault("status", "succeeded")
        fields.setdefault("paid_at", at(3))
        fields.setdefault("livemode", False)
        return Gift.objects.create(project=target, amount_minor=amount, currency="usd", **fields)

    gift(car_t, 10_000, fee_covered_minor=320)
    gift(car_t, 8_000, amount_refunded_minor=2_000, status="partially_refunded", paid_at=at(4))
    gift(car_t, 5_000, amount_refunded_minor=5_000, status="refunded", fee_covered_minor=150)
    gift(car_t, 4_000, amount_disputed_minor=4_000, dispute_status="open", stripe_dispute_id="dp_open")
    gift(car_t, 3_000, amount_disputed_minor=3_000, dispute_status="lost", stripe_dispute_id="dp_lost")
    gift(car_t, 9_999, status="pending", paid_at=None)
    gift(car_t, 7_000, livemode=True)  # a live payment on a test site: never counted
    moved = gift(car_t, 6_000, paid_at=at(2))
    GiftMove.objects.create(
        gift=moved, from_project=car_t, to_project=doctors, moved_by=staff, moved_at=at(5)
    )
    Gift.objects.filter(pk=moved.pk).update(project=doctors)
    gift(car_t, 2_974_500, source="event", paid_at=at(10, 20))
    # An offline gift recorded while the site ran the other mode's key: it did not count
    # before; offline money counts on any site now.
    gift(doctors, 50_000, source="cheque", livemode=True, paid_at=at(6))
    FundUse.objects.create(
        project=car_t, amount_minor=500_000, currency="usd", spent_on=at(8).date(), purpose="p"
    )

    # What the previous release stored: its recount and its monthly sums.
    import_module("ledger.migrations.0002_fill_gift_months").fill(old, None)
    recount = {car_t.pk: (10_000 + 6_000 + 2_974_500, 3), doctors.pk: (6_000, 1)}
    for pk, (raised, count) in recount.items():
        Project.objects.filter(pk=pk).update(raised_minor=raised, gift_count=count)

    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from donations.models import Project as NewProject
    from ledger.figures import ProjectLedger, gift_money
    from ledger.models import Entry

    assert {p.slug: (p.raised_minor, p.gift_count) for p in NewProject.objects.all()} == {
        "car-t": (2_990_500, 3),
        "doctors": (56_000, 2),  # the moved gift, and the offline gift that counts now
    }
    assert differences() == []
    car_t_ledger = ProjectLedger(NewProject.objects.get(slug="car-t"))
    assert [(f.currency, f.raised_minor, f.used_minor) for f in car_t_ledger.figures] == [
        ("usd", 2_990_500, 500_000)
    ]
    kinds = sorted(Entry.objects.values_list("kind", "account", "amount_minor"))
    assert ("covered_fee", "fee", 320) in kinds
    assert ("refund", "fee", -150) in kinds  # a full refund gave the whole covered fee back
    assert ("dispute_loss", "held", -3_000) in kinds
    assert ("move_out", "project", -6_000) in kinds and ("move_in", "project", 6_000) in kinds
    assert ("fund_use", "project", -500_000) in kinds
    from donations.models import Gift as NewGift

    refunded = NewGift.objects.get(amount_minor=5_000)
    assert (gift_money(refunded).refunded_minor, gift_money(refunded).given_minor) == (5_150, 0)
    assert not NewGift.objects.filter(source="cheque", livemode__isnull=False).exists()
