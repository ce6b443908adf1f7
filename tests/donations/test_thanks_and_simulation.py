"""The thank-you page donors land on from checkout, and the simulated checkout used without Stripe keys."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift, StripeEvent
from stories.models import Story

pytestmark = pytest.mark.django_db

THANKS_URL = reverse("donations:thanks")


@pytest.fixture
def given(donate, project, stripe_stub, checkout_session):
    """A $100 gift to CAR-T made through the form in this browser; Stripe has not confirmed it yet."""
    session = checkout_session()
    stripe_stub.respond(session)
    response = donate(project, amount_preset="10000", donor_email="jane@example.com")
    assert response.status_code == 303
    return Gift.objects.get(stripe_checkout_session_id=session["id"])


def thanks(client, gift_or_session_id):
    session_id = getattr(gift_or_session_id, "stripe_checkout_session_id", gift_or_session_id)
    return client.get(f"{THANKS_URL}?session_id={session_id}")


def refreshes_itself(page):
    """The confirming page looks again by itself: a meta refresh, or the script that polls."""
    return 'http-equiv="refresh"' in page or "js/confirming.js" in page


def assert_generic(response, project):
    assert response.status_code == 200
    page = response.content.decode()
    assert "Thank you for supporting children with cancer" in page
    assert "$100" not in page
    assert project.title not in page
    assert "Confirming your gift" not in page
    assert not refreshes_itself(page)


# The thank-you page


def test_an_unknown_session_gets_the_generic_page(client, project):
    assert_generic(thanks(client, "cs_test_nobody_knows_this"), project)
    assert_generic(client.get(THANKS_URL), project)


def test_someone_elses_gift_stays_private(given, project, post_event, stripe_event):
    post_event(stripe_event("checkout_session_completed", gift=given))

    assert_generic(thanks(Client(), given), project)


def test_while_stripe_confirms_the_page_refreshes_itself(client, given):
    response = thanks(client, given)

    page = response.content.decode()
    assert "Confirming your gift" in page
    assert refreshes_itself(page)
    assert "$100" not in page


def test_once_paid_the_page_shows_the_gift_and_its_stories(
    client, given, project, make_project, make_story, post_event, stripe_event
):
    published = make_story(projects=[project], title="Masha rings the bell")
    draft = make_story(projects=[project], title="Draft not for donors", status=Story.Status.DRAFT)
    scheduled = make_story(
        projects=[project], title="Tomorrow's story", publish_at=timezone.now() + timezone.timedelta(days=1)
    )
    elsewhere = make_story(projects=[make_project()], title="Another project's story")
    post_event(stripe_event("checkout_session_completed", gift=given))

    response = thanks(client, given)

    page = response.content.decode()
    assert "Thank you for your gift" in page
    assert "$100" in page
    assert f'<a href="{project.get_absolute_url()}">{project.title}</a>' in page
    assert not refreshes_itself(page)
    assert published.get_absolute_url() in page
    for hidden in (draft, scheduled, elsewhere):
        assert hidden.get_absolute_url() not in page


def test_a_failed_gift_offers_to_try_again(client, given, post_event, stripe_event):
    post_event(stripe_event("checkout_session_async_payment_failed", gift=given))

    page = thanks(client, given).content.decode()

    assert "did not go through" in page
    assert f"?resume={given.public_id}" in page


# Simulated checkout: a developer's machine with no Stripe keys


@pytest.fixture
def simulated(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True


@pytest.fixture
def simulated_url(simulated, donate, project, stripe_stub):
    response = donate(project, amount_preset="other", amount_custom="75", donor_name="Jane Donor")
    assert response.status_code == 303
    return response["Location"]


def test_without_keys_the_form_goes_to_the_simulated_checkout(simulated_url, stripe_stub):
    gift = Gift.objects.get()
    assert re.fullmatch(r"/donate/simulated-checkout/cs_test_simulated_[0-9a-f]{32}/", simulated_url)
    assert simulated_url == f"/donate/simulated-checkout/{gift.stripe_checkout_session_id}/"
    assert gift.status == Gift.Status.PENDING
    assert stripe_stub.requests == []


def test_the_simulated_checkout_says_no_money_moves(client, simulated_url, project):
    response = client.get(simulated_url)

    page = response.content.decode()
    assert response.status_code == 200
    assert "no money moves" in page
    assert "$75" in page and project.title in page


def test_paying_in_the_simulation_goes_through_the_webhook_path(client, simulated_url, project, stripe_stub):
    before = client.get(project.get_absolute_url()).content.decode()
    assert "<strong>$0</strong> raised" in before

    response = client.post(simulated_url, {"action": "pay"})

    gift = Gift.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{THANKS_URL}?session_id={gift.stripe_checkout_session_id}"
    assert (gift.status, gift.amount_minor) == (Gift.Status.SUCCEEDED, 7_500)
    assert gift.paid_at is not None
    event = StripeEvent.objects.get()
    assert (event.type, event.status) == ("checkout.session.completed", StripeEvent.Status.PROCESSED)
    assert event.data_object["id"] == gift.stripe_checkout_session_id
    thanks_page = client.get(response["Location"]).content.decode()
    assert "Thank you for your gift" in thanks_page and "$75" in thanks_page
    after = client.get(project.get_absolute_url()).content.decode()
    assert "<strong>$75</strong> raised" in after
    assert "Jane Donor" not in after  # the donor did not ask to be listed
    assert stripe_stub.requests == []


def test_paying_twice_in_the_simulation_records_one_payment(client, simulated_url):
    client.post(simulated_url, {"action": "pay"})
    client.post(simulated_url, {"action": "pay"})

    assert StripeEvent.objects.count() == 1
    assert Gift.objects.get().status == Gift.Status.SUCCEEDED


def test_cancelling_the_simulation_returns_to_the_filled_form(client, simulated_url):
    response = client.post(simulated_url, {"action": "cancel"}, follow=True)

    gift = Gift.objects.get()
    assert response.redirect_chain == [(f"/donate/?resume={gift.public_id}", 302)]
    form = response.context["form"]
    assert (form["amount_preset"].value(), form["amount_custom"].value()) == ("other", "75.00")
    assert form["donor_name"].value() == "Jane Donor"
    assert gift.status == Gift.Status.PENDING
    assert not StripeEvent.objects.exists()


def test_the_simulation_is_closed_when_switched_off(client, simulated_url, settings):
    settings.SIMULATED_CHECKOUT = False
    settings.STRIPE_SECRET_KEY = "sk_test_suite_key"

    assert client.get(simulated_url).status_code == 404
    assert client.post(simulated_url, {"action": "pay"}).status_code == 404
    assert Gift.objects.get().status == Gift.Status.PENDING


@pytest.mark.parametrize("session_id", ["cs_test_simulated_0000", "cs_test_a1Kq7ZbX3vR9mW2nT5yH8uJ4"])
def test_an_unknown_simulated_checkout_is_not_found(client, simulated, session_id):
    url = reverse("donations:simulated_checkout", args=[session_id])
    assert client.get(url).status_code == 404


def test_a_real_stripe_session_cannot_be_paid_in_the_simulation(client, given, simulated):
    # Even with the simulation on, a gift sent to real Stripe cannot be marked paid here.
    url = reverse("donations:simulated_checkout", args=[given.stripe_checkout_session_id])

    assert client.post(url, {"action": "pay"}).status_code == 404
    given.refresh_from_db()
    assert given.status == Gift.Status.PENDING
