"""Pages that show one donor's details are kept by no cache: `Cache-Control: private, no-store`."""

import pytest
from django.urls import reverse

from donations.models import Gift

pytestmark = pytest.mark.django_db


def assert_private(response):
    cache_control = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    assert {"private", "no-store"} <= cache_control, (response.status_code, response.get("Cache-Control"))


@pytest.fixture
def given(donate, project, stripe_stub, checkout_session):
    """A gift made through the form in this browser, checkout started."""
    session = checkout_session()
    stripe_stub.respond(session)
    response = donate(project, donor_email="jane@example.com", donor_name="Jane Roe")
    assert response.status_code == 303
    return Gift.objects.get(stripe_checkout_session_id=session["id"])


def test_the_thank_you_page_is_private(client, given, post_event, stripe_event):
    post_event(stripe_event("checkout_session_completed", gift=given))

    response = client.get(reverse("donations:thanks") + f"?session_id={given.stripe_checkout_session_id}")

    assert response.status_code == 200 and "Jane Roe" in response.content.decode()
    assert_private(response)


def test_the_form_filled_again_after_checkout_is_private(client, given):
    response = client.get(reverse("donations:donate") + f"?resume={given.public_id}")

    assert response.status_code == 200 and "jane@example.com" in response.content.decode()
    assert_private(response)


def test_every_answer_to_a_posted_donate_form_is_private(donate, project, stripe_stub, settings):
    # Errors (the donor's details shown back), and Stripe not answering (a page to post them again).
    assert_private(donate(project, amount_preset="other", amount_custom="1", donor_email="jane@example.com"))
    stripe_stub.respond({"error": {"message": "down"}}, status=500)
    response = donate(project, donor_email="jane@example.com")
    assert response.status_code == 503 and "jane@example.com" in response.content.decode()
    assert_private(response)


def test_the_simulated_checkout_page_is_private(settings, client, project):
    settings.SIMULATED_CHECKOUT = True
    response = client.post(
        reverse("donations:donate"),
        {"project": project.slug, "amount_preset": "5000", "donor_email": "jane@example.com"},
    )
    assert response.status_code == 303

    page = client.get(response["Location"])

    assert page.status_code == 200
    assert_private(page)
