"""Card testers post the donate form over and over; a person does not."""

import pytest
from django.urls import reverse

from donations.models import Gift


@pytest.fixture
def limits(settings):
    settings.DONATE_RATE_LIMIT_PER_IP = 3
    settings.DONATE_RATE_LIMIT_PER_EMAIL = 2
    return settings


def donate(client, project, ip, email="", amount="2500"):
    return client.post(
        reverse("donations:donate"),
        {"amount_preset": amount, "project": project.slug, "donor_email": email},
        REMOTE_ADDR=ip,
    )


def test_too_many_posts_from_one_address_get_a_try_again_page(client, limits, project, stripe_stub):
    for _ in range(3):
        # Invalid amounts still count: a tester probing the form is still probing.
        assert donate(client, project, "203.0.113.7", amount="").status_code == 200

    response = donate(client, project, "203.0.113.7")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "60"
    assert "try again in a minute" in response.content.decode().lower()
    assert Gift.objects.count() == 0
    assert stripe_stub.requests == []


def test_another_address_is_not_held_back(client, limits, project, stripe_stub):
    for _ in range(4):
        donate(client, project, "203.0.113.7", amount="")

    assert donate(client, project, "198.51.100.9", amount="").status_code == 200


def test_one_email_from_many_addresses_is_limited(client, limits, project, stripe_stub):
    for n in range(2):
        donate(client, project, f"203.0.113.{n}", email="Tester@Example.com", amount="")

    response = donate(client, project, "203.0.113.99", email="tester@example.com")

    assert response.status_code == 429
    assert stripe_stub.requests == []
