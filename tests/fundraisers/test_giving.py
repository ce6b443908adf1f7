"""Giving on a page: the donate form takes the page, Stripe's metadata carries it, and a
page that is waiting, paused, removed or ended refuses with a clear message (never a 500)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift
from fundraisers.models import Fundraiser

pytestmark = pytest.mark.django_db

DONATE_URL = reverse("donations:donate")


def _give(client, page, **extra):
    data = {
        "amount_preset": "5000",
        "project": "someone-else",  # ignored: a page's gifts go to its project
        "fundraiser": page.slug,
        "donor_name": "Anna",
        "donor_email": "anna@example.com",
        "owner_sees": "name",
        **extra,
    }
    return client.post(DONATE_URL, data)


def test_the_give_button_leads_to_the_form_for_the_page(client, page):
    html = client.get(page.get_absolute_url()).content.decode()
    assert f'href="{DONATE_URL}?fundraiser={page.slug}"' in html

    response = client.get(page.get_donate_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert f'name="fundraiser" value="{page.slug}"' in html
    assert 'name="owner_sees"' in html
    assert "Yelena’s birthday" in html


def test_a_gift_on_the_page_is_tagged_and_carried_to_stripe(
    client, page, project, stripe_stub, checkout_session
):
    stripe_stub.respond(checkout_session())

    response = _give(client, page)

    assert response.status_code == 303
    gift = Gift.objects.get()
    assert (gift.project, gift.fundraiser, gift.owner_sees) == (project, page, Gift.OwnerSees.NAME)
    params = stripe_stub.requests[0]["params"]
    assert params["metadata[fundraiser_id]"] == str(page.pk)
    assert params["payment_intent_data[metadata][fundraiser_id]"] == str(page.pk)


@pytest.mark.parametrize(
    "status,words",
    [
        (Fundraiser.Status.PENDING, "waiting for our team to check it"),
        (Fundraiser.Status.PAUSED, "not taking gifts"),
        (Fundraiser.Status.REMOVED, "not taking gifts"),
    ],
)
def test_a_page_not_live_takes_no_gift(client, make_page, stripe_stub, status, words):
    page = make_page(status=status)

    for response in (client.get(page.get_donate_url()), _give(client, page)):
        assert response.status_code == 409
        html = response.content.decode()
        assert words in html
        assert "Give to CAR-T therapy for children" in html  # the project instead
        assert "noindex" in html
    assert not Gift.objects.exists()
    assert stripe_stub.requests == []


def test_an_ended_page_stays_readable_and_refuses_gifts(client, make_page, stripe_stub):
    page = make_page(ends_on=timezone.localdate() - timezone.timedelta(days=1))

    html = client.get(page.get_absolute_url()).content.decode()
    assert "has ended and takes no more gifts" in html
    assert f"{DONATE_URL}?project=car-t" in html  # give to the project instead
    assert f"fundraiser={page.slug}" not in html

    response = _give(client, page)
    assert response.status_code == 409
    assert "has ended" in response.content.decode()
    assert not Gift.objects.exists()


def test_an_unknown_page_is_not_found(client, db):
    assert client.get(DONATE_URL + "?fundraiser=nope").status_code == 404
