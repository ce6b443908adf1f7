"""A gift on a page is one gift to the project: it counts on the page and on the project
exactly once, and refunds, disputes and moves lower both (figures read from the ledger)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations.models import Gift
from fundraisers.models import Supporter
from ledger import figures, services
from tests.conftest import refund

pytestmark = pytest.mark.django_db


def _project_raised(project):
    project.refresh_from_db()
    return project.raised_minor, project.gift_count


def test_page_gifts_add_up_on_the_page_and_once_on_the_project(page, project, make_gift):
    make_gift(project, amount_minor=10_000)  # given on the project page, not on the fundraiser
    make_gift(project, amount_minor=5_000, fundraiser=page)
    make_gift(project, amount_minor=2_500, fundraiser=page)

    page_figures = figures.fundraiser_figures(page)
    assert (page_figures.raised_minor, page_figures.gift_count) == (7_500, 2)
    assert _project_raised(project) == (17_500, 3)


def test_a_refund_lowers_the_page_and_the_project(page, project, make_gift):
    gift = make_gift(project, amount_minor=5_000, fundraiser=page)
    make_gift(project, amount_minor=2_500, fundraiser=page)

    refund(gift, 2_000, as_of=int(gift.paid_at.timestamp()) + 60)
    assert figures.fundraiser_figures(page).raised_minor == 5_500
    assert _project_raised(project) == (5_500, 2)

    refund(gift, 5_000, as_of=int(gift.paid_at.timestamp()) + 120)
    page_figures = figures.fundraiser_figures(page)
    assert (page_figures.raised_minor, page_figures.gift_count) == (2_500, 1)
    assert _project_raised(project) == (2_500, 1)


def test_a_gift_moved_to_another_project_leaves_the_page(page, project, make_project, make_gift, admin_user):
    gift = make_gift(project, amount_minor=5_000, fundraiser=page)
    other = make_project(title="Doctors", slug="doctors")

    services.move_gift(gift, other, by=admin_user, reason="Donor asked")

    assert figures.fundraiser_figures(page).raised_minor == 0


def test_pending_and_test_mode_gifts_do_not_count(page, project, make_gift, settings):
    Gift.objects.create(project=project, fundraiser=page, amount_minor=9_900, currency="usd")  # checkout only
    make_gift(project, amount_minor=5_000, fundraiser=page, livemode=False)
    settings.STRIPE_LIVEMODE = True

    assert figures.fundraiser_figures(page).raised_minor == 0


def test_staff_attribute_an_offline_gift_to_a_page(page, project, admin_user):
    gift = Gift(project=project, amount_minor=20_000, currency="usd", source=Gift.Source.CHEQUE)

    services.record_offline_gift(gift, by=admin_user, fundraiser=page)

    assert gift.fundraiser == page
    assert figures.fundraiser_figures(page).raised_minor == 20_000
    assert _project_raised(project) == (20_000, 1)


def test_an_offline_gift_to_another_project_cannot_be_put_on_the_page(page, make_project, admin_user):
    other = make_project(title="Doctors", slug="doctors")
    gift = Gift(project=other, amount_minor=20_000, currency="usd", source=Gift.Source.CASH)

    with pytest.raises(ValueError):
        services.record_offline_gift(gift, by=admin_user, fundraiser=page)
    assert not Gift.objects.exists()


def test_the_page_shows_its_own_total_count_and_the_projects_progress(client, page, project, make_gift):
    make_gift(project, amount_minor=40_000)
    make_gift(project, amount_minor=10_000, fundraiser=page)

    html = client.get(page.get_absolute_url()).content.decode()

    assert "<strong>$100</strong> raised of $1,000 goal" in html  # the page
    assert "1 gift" in html
    assert "<strong>$500</strong> raised of $5,000 goal" in html  # the whole project, counted once


def test_the_pages_queries_do_not_grow_with_its_gifts(
    client, page, project, make_gift, django_assert_max_num_queries
):
    make_gift(project, amount_minor=1_000, fundraiser=page)
    with CaptureQueriesContext(connection) as one_gift:
        assert client.get(page.get_absolute_url()).status_code == 200
    for _ in range(15):
        make_gift(project, amount_minor=1_000, fundraiser=page)

    with django_assert_max_num_queries(len(one_gift.captured_queries)):
        response = client.get(page.get_absolute_url())
    assert "16 gifts" in response.content.decode()


def test_the_project_never_changes(page, make_project):
    page.project = make_project(title="Doctors", slug="doctors")
    with pytest.raises(Exception, match="never changes"):
        page.save()
    assert Supporter.objects.count() == 1


def test_finance_attributes_an_offline_gift_to_a_page_in_the_admin(finance_client, page, project):
    from django.urls import reverse

    data = {
        "project": project.pk,
        "fundraiser": page.pk,
        "source": "cheque",
        "amount": "150",
        "currency": "usd",
        "received_on": "2025-10-20",
        "donor": "",
        "donor_name": "",
        "note": "A check handed over at the party",
    }
    response = finance_client.post(reverse("admin:ledger_offlinegift_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert Gift.objects.get().fundraiser == page
    assert figures.fundraiser_figures(page).raised_minor == 15_000


def test_the_admin_refuses_a_page_of_another_project(finance_client, page, make_project):
    from django.urls import reverse

    other = make_project(title="Doctors", slug="doctors")
    data = {
        "project": other.pk, "fundraiser": page.pk, "source": "cash", "amount": "150", "currency": "usd",
        "received_on": "2025-10-20", "donor": "", "donor_name": "", "note": "",
    }  # fmt: skip
    response = finance_client.post(reverse("admin:ledger_offlinegift_add"), data)

    assert response.status_code == 200
    assert "Choose a page of the gift" in response.content.decode()
    assert not Gift.objects.exists()
