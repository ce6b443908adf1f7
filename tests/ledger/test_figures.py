"""Ledger arithmetic: raised, refunds, disputes, used and available, each currency on its own."""

import time
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from donations.models import Gift, Project
from ledger import figures, services
from ledger.figures import ProjectLedger
from ledger.models import GiftMonth
from tests.conftest import dispute, refund

pytestmark = pytest.mark.django_db


def at(year, month, day=15):
    return timezone.make_aware(timezone.datetime(year, month, day, 12))


def by_currency(ledger):
    return {f.currency: (f.raised_minor, f.used_minor, f.available_minor) for f in ledger.figures}


def test_raised_is_net_of_refunds_and_disputes_and_used_comes_off_available(project, make_gift, make_use):
    make_gift(project, amount_minor=10_000, paid_at=at(2025, 3))
    make_gift(
        project, amount_minor=5_000, amount_refunded_minor=2_000,
        status=Gift.Status.PARTIALLY_REFUNDED, paid_at=at(2025, 3),
    )  # fmt: skip
    make_gift(project, amount_minor=4_000, amount_disputed_minor=4_000, paid_at=at(2025, 4))
    make_gift(project, amount_minor=9_000, status=Gift.Status.PENDING)
    make_use(project, 6_000)

    assert by_currency(ProjectLedger(project)) == {"usd": (13_000, 6_000, 7_000)}


def test_currencies_are_never_added_together(project, make_gift, make_use):
    make_gift(project, amount_minor=10_000)
    make_gift(project, amount_minor=7_000, currency="eur")
    make_gift(project, amount_minor=5_000, currency="jpy")
    make_use(project, 2_000, currency="eur")

    ledger = ProjectLedger(project)
    assert by_currency(ledger) == {
        "usd": (10_000, 0, 10_000),
        "eur": (7_000, 2_000, 5_000),
        "jpy": (5_000, 0, 5_000),
    }
    assert [f.currency for f in ledger.figures] == ["usd", "eur", "jpy"]  # the project's own first
    assert ledger.figures_for("jpy").available == "¥5,000"


def test_a_refund_or_dispute_after_the_fact_moves_the_ledger_with_the_total(project, make_gift):
    gift = make_gift(project, amount_minor=10_000, paid_at=at(2025, 5))
    refund(gift, 2_500, as_of=int(time.time()))
    assert by_currency(ProjectLedger(project)) == {"usd": (7_500, 0, 7_500)}

    dispute(gift, "dp_1", 7_500)
    assert ProjectLedger(project).figures == []  # nothing counts any more

    dispute(gift, "dp_1", 7_500, closed="won")
    assert by_currency(ProjectLedger(project)) == {"usd": (7_500, 0, 7_500)}
    project.refresh_from_db()
    assert project.raised_minor == 7_500


def test_offline_gifts_count_in_the_totals_like_online_ones(project, make_gift):
    make_gift(project, amount_minor=10_000, paid_at=at(2025, 10, 3))
    make_gift(project, amount_minor=2_974_500, source=Gift.Source.EVENT, paid_at=at(2025, 10, 20))

    project.refresh_from_db()
    assert project.raised_minor == 2_984_500
    ledger = ProjectLedger(project)
    assert by_currency(ledger) == {"usd": (2_984_500, 0, 2_984_500)}
    # One gift of each kind: too few for lines of their own, so they share one.
    assert [(e.kind, e.amount_minor, e.gift_count) for e in ledger.entries] == [("gifts", 2_984_500, 2)]
    assert figures.site_figures()[0].raised_minor == 2_984_500


def test_a_gift_moved_to_another_project_leaves_one_ledger_for_the_other(
    project, make_project, make_gift, admin_user
):
    other = make_project(title="Doctors", slug="doctors")
    gift = make_gift(project, amount_minor=3_000)
    services.move_gift(gift, other, by=admin_user, reason="donor asked")

    assert ProjectLedger(project).figures == []
    assert by_currency(ProjectLedger(other)) == {"usd": (3_000, 0, 3_000)}


def test_stored_month_sums_equal_a_recount_of_every_gift(project, make_project, make_gift):
    other = make_project(title="Doctors", slug="doctors")
    for n in range(12):
        gift = make_gift(
            project if n % 2 else other,
            amount_minor=1_000 + n,
            currency="eur" if n % 5 == 0 else "usd",
            source=Gift.Source.CASH if n % 3 == 0 else Gift.Source.STRIPE,
            paid_at=at(2025, 1 + n % 4),
        )
        if n % 4 == 0 and not gift.is_offline:
            refund(gift, 300, as_of=int(time.time()))
    kept = sorted(
        GiftMonth.objects.with_gifts().values_list("project", "currency", "month", "offline", "net_minor")
    )

    Project.objects.recount_totals()
    assert (
        sorted(
            GiftMonth.objects.with_gifts().values_list("project", "currency", "month", "offline", "net_minor")
        )
        == kept
    )
    assert len(kept) > 6


def test_a_gift_counts_in_the_month_it_arrived_in_the_sites_time_zone(project, make_gift):
    # 2 a.m. on November 1 in UTC is still October 31 in New York.
    make_gift(project, amount_minor=1_000, paid_at=datetime(2025, 11, 1, 2, tzinfo=UTC))
    (entry,) = ProjectLedger(project).entries
    assert entry.date == timezone.datetime(2025, 10, 1).date()


def test_available_for_the_overspend_check(project, make_gift, make_use):
    make_gift(project, amount_minor=10_000)
    make_use(project, 4_000)
    assert figures.available(project, "usd") == 6_000
    assert figures.available(project, "eur") == 0


def test_the_project_admin_shows_the_ledger_figures(admin_client, project, make_gift, make_use):
    make_gift(project, amount_minor=10_000)
    make_use(project, 2_500)
    html = admin_client.get(f"/admin/donations/project/{project.pk}/change/").content.decode()
    assert "USD: $100 raised, $25 used, $75 available" in html
