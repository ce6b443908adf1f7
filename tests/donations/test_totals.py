"""Project totals are stored and kept exact by the same transaction that changes a gift."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations.models import Gift, MoneyWriteOutsideLedger, Project
from ledger import services
from tests.conftest import dispute, fail_refund, pay, refund


def stored(project):
    project = Project.objects.get(pk=project.pk)
    return project.raised_minor, project.gift_count


def recounted(project):
    Project.objects.filter(pk=project.pk).recount_totals()
    return stored(project)


@pytest.fixture
def other_project(make_project):
    return make_project(title="Doctors' education", slug="doctors")


def test_every_kind_of_change_keeps_the_stored_total_equal_to_a_recount(
    project, other_project, make_gift, admin_user
):
    pending = make_gift(project, amount_minor=9_000, status=Gift.Status.PENDING)
    paid = make_gift(project, amount_minor=10_000)
    make_gift(project, amount_minor=4_000, currency="eur")  # another currency never counts
    assert stored(project) == (10_000, 1)

    pay(pending, amount_minor=9_000, currency="usd")
    assert stored(project) == (19_000, 2)

    refund(paid, 2_500, as_of=100)
    assert stored(project) == (16_500, 2)

    dispute(paid, "dp_1", 7_500)
    assert stored(project) == (9_000, 1)

    dispute(paid, "dp_1", 7_500, closed="won")
    assert stored(project) == (16_500, 2)

    refund(paid, 10_000, as_of=200)
    assert stored(project) == (9_000, 1)

    fail_refund(paid, "re_1", 7_500, as_of=300)
    assert stored(project) == (16_500, 2)
    assert stored(project) == recounted(project)

    # Staff move a gift to the project it was meant for.
    services.move_gift(pending, other_project, by=admin_user, reason="meant for doctors")
    assert stored(project) == (7_500, 1)
    assert stored(other_project) == (9_000, 1)

    # A gift with money in the ledger is never deleted, and no save can change its sum.
    with pytest.raises(MoneyWriteOutsideLedger):
        Gift.objects.get(pk=pending.pk).delete()
    with pytest.raises(MoneyWriteOutsideLedger):
        Gift.objects.filter(pk=pending.pk).update(net_minor=0)
    with pytest.raises(MoneyWriteOutsideLedger):
        Project.objects.filter(pk=project.pk).update(raised_minor=0)

    assert stored(project) == recounted(project)
    assert stored(other_project) == recounted(other_project)


def test_a_gift_loaded_again_and_saved_unchanged_counts_once(project, make_gift):
    gift = make_gift(project, amount_minor=10_000)

    again = Gift.objects.get(pk=gift.pk)
    again.donor_name = "Anna K."
    again.save()

    assert stored(project) == (10_000, 1)


def test_a_gift_saved_from_a_stale_instance_leaves_its_money_alone(project, make_gift):
    gift = make_gift(project, amount_minor=10_000)
    stale = Gift.objects.get(pk=gift.pk)
    refund(gift, 10_000, as_of=100)

    stale.donor_name = "Anna K."
    stale.save()

    assert Gift.objects.get(pk=gift.pk).net_minor == 0
    assert stored(project) == (0, 0)


def test_changing_a_projects_currency_recounts_its_total(project, make_gift):
    make_gift(project, amount_minor=10_000)
    make_gift(project, amount_minor=3_000, currency="eur")

    project.currency = "eur"
    project.save()

    assert stored(project) == (3_000, 1)


def test_the_project_list_reads_stored_totals_in_one_query(project, other_project, make_gift):
    for n in range(30):
        make_gift(project if n % 2 else other_project, amount_minor=1_000)

    with CaptureQueriesContext(connection) as queries:
        totals = {p.slug: (p.raised_minor, p.gift_count) for p in Project.objects.all()}

    assert len(queries) == 1
    assert totals == {"car-t": (15_000, 15), "doctors": (15_000, 15)}
