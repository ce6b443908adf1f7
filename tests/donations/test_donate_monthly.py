"""The donate form's choices: one-time or monthly, covering the fee, and consent to impact emails."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from donations.models import Donor, Gift, RecurringGift

pytestmark = pytest.mark.django_db

DONATE_URL = reverse("donations:donate")


def only_params(stub):
    assert len(stub.requests) == 1, stub.requests
    return stub.requests[0]["params"]


def test_one_time_is_preselected_and_consent_is_not(client, project):
    form = client.get(project.get_donate_url()).context["form"]

    assert form["frequency"].value() == Gift.Frequency.ONE_TIME
    assert not form["cover_fee"].value()
    assert not form["wants_impact_emails"].value()


def test_a_monthly_gift_from_the_form_goes_to_a_subscription_checkout(
    donate, project, stripe_stub, checkout_session
):
    session = checkout_session()
    stripe_stub.respond(session)

    response = donate(project, amount_preset="2500", frequency="monthly", donor_email="Jane@Example.com")

    assert response.status_code == 303
    gift = Gift.objects.get()
    recurring = RecurringGift.objects.get()
    assert (gift.frequency, gift.status, gift.recurring_gift) == (
        Gift.Frequency.MONTHLY,
        Gift.Status.PENDING,
        recurring,
    )
    assert (recurring.amount_minor, recurring.status) == (2_500, RecurringGift.Status.INCOMPLETE)
    assert recurring.stripe_checkout_session_id == session["id"]
    assert gift.donor == recurring.donor == Donor.objects.get(email="jane@example.com")
    params = only_params(stripe_stub)
    assert params["mode"] == "subscription"
    assert params["line_items[0][price_data][recurring][interval]"] == "month"
    assert params["subscription_data[metadata][recurring_gift_public_id]"] == str(recurring.public_id)


def test_a_one_time_gift_makes_no_monthly_record(donate, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    donate(project, amount_preset="2500", frequency="one_time")

    assert Gift.objects.get().frequency == Gift.Frequency.ONE_TIME
    assert not RecurringGift.objects.exists()
    assert only_params(stripe_stub)["mode"] == "payment"


def test_covering_the_fee_adds_it_on_top_and_records_it_apart(donate, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    donate(project, amount_preset="2500", cover_fee="on")

    gift = Gift.objects.get()
    assert (gift.amount_minor, gift.fee_covered_minor) == (2_500, 87)
    params = only_params(stripe_stub)
    assert params["line_items[0][price_data][unit_amount]"] == "2500"
    assert params["line_items[1][price_data][unit_amount]"] == "87"


def test_without_the_fee_box_nothing_is_added(donate, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    donate(project, amount_preset="2500")

    assert Gift.objects.get().fee_covered_minor == 0
    assert "line_items[1][price_data][unit_amount]" not in only_params(stripe_stub)


def test_ticking_the_stories_box_asks_for_stories_on_the_gift(donate, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    donate(project, donor_email="jane@example.com", wants_impact_emails="on")

    # Anyone can type an address: the tick counts once the gift is paid (tests/donors/test_consent.py).
    donor = Donor.objects.get()
    assert not donor.wants_impact_emails
    gift = Gift.objects.get()
    assert gift.donor == donor and gift.wants_impact_emails


def test_a_later_gift_without_the_tick_keeps_earlier_consent(donate, project, stripe_stub, checkout_session):
    consented_at = timezone.now() - timezone.timedelta(days=30)
    Donor.objects.create(email="jane@example.com", wants_impact_emails=True, impact_consent_at=consented_at)
    stripe_stub.respond(checkout_session())

    donate(project, donor_email="jane@example.com")

    donor = Donor.objects.get()
    assert (donor.wants_impact_emails, donor.impact_consent_at) == (True, consented_at)


def test_stories_need_an_email_address(donate, project, stripe_stub):
    response = donate(project, wants_impact_emails="on")

    assert response.status_code == 200
    assert "Enter your email" in str(response.context["form"].errors["donor_email"])
    assert not Donor.objects.exists() and not Gift.objects.exists()
    assert stripe_stub.requests == []


def test_coming_back_from_checkout_keeps_monthly_and_the_fee(
    client, donate, project, stripe_stub, checkout_session
):
    stripe_stub.respond(checkout_session())
    donate(project, amount_preset="5000", frequency="monthly", cover_fee="on")
    gift = Gift.objects.get()

    form = client.get(f"{DONATE_URL}?resume={gift.public_id}").context["form"]

    assert form["frequency"].value() == "monthly"
    assert form["cover_fee"].value()


def test_the_simulated_monthly_checkout_shows_an_active_monthly_gift(client, donate, project, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True
    response = donate(
        project, amount_preset="2500", frequency="monthly", cover_fee="on", donor_email="j@example.com"
    )
    checkout_page = client.get(response["Location"]).content.decode()
    assert "<dd>$25 a month</dd>" in checkout_page
    assert "<dd>$0.87 a month</dd>" in checkout_page
    assert "Pay $25.87 a month (simulated)" in checkout_page

    paid = client.post(response["Location"], {"action": "pay"}, follow=True)

    assert "Your monthly gift of" in paid.content.decode()
    recurring = RecurringGift.objects.get()
    assert recurring.status == RecurringGift.Status.ACTIVE
    assert recurring.payments.get().status == Gift.Status.SUCCEEDED
    project.refresh_from_db()
    assert (project.raised_minor, project.gift_count) == (2_500, 1)


def test_make_it_monthly_on_the_thank_you_page_preselects_monthly(client, project):
    html = client.get(f"/donate/?project={project.slug}&frequency=monthly").content.decode()

    assert re.search(r'<input[^>]*value="monthly"[^>]*checked', html)
