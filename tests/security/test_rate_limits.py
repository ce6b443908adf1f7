"""Card testers post the donate form over and over; a person does not.

Limits per email and per browser stop a tester; the limit per address is loose, because
a room full of guests at an event gives through one Wi-Fi address.
"""

import threading

import pytest
from django.core.cache import caches
from django.db import connection, connections
from django.test import Client, RequestFactory
from django.urls import reverse

from donations.models import Gift
from podari.ratelimit import client_ip, over_limit
from tests.conftest import load_stripe_fixture

EVENT_WIFI = "198.51.100.20"


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
    assert response.headers["Retry-After"] == str(limits.DONATE_RATE_LIMIT_WINDOW_SECONDS)
    assert "try again in a few minutes" in response.content.decode().lower()
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


def browser(ip=EVENT_WIFI):
    """A fresh browser that opens the donate page first, as a donor does (CSRF cookie and all)."""
    visitor = Client(enforce_csrf_checks=True, REMOTE_ADDR=ip)
    page = visitor.get(reverse("donations:donate"))
    assert page.status_code == 200
    return visitor


def give(visitor, project, email, amount="2500", ip=EVENT_WIFI):
    return visitor.post(
        reverse("donations:donate"),
        {
            "amount_preset": amount,
            "project": project.slug,
            "donor_email": email,
            "csrfmiddlewaretoken": visitor.cookies["csrftoken"].value,
        },
        REMOTE_ADDR=ip,
    )


def open_checkout_session(n):
    session = load_stripe_fixture("checkout_session_completed")["data"]["object"]
    session.update(
        id=f"cs_test_guest_{n}",
        status="open",
        payment_status="unpaid",
        payment_intent=None,
        customer_details=None,
        url=f"https://checkout.stripe.com/c/pay/cs_test_guest_{n}",
    )
    return session


def test_200_guests_on_one_event_wifi_all_get_to_checkout(project, stripe_stub):
    """With the default limits: a QR code on the screen, 200 phones, one address, ten minutes."""
    for n in range(200):
        stripe_stub.respond(open_checkout_session(n))
    for n in range(200):
        response = give(browser(), project, f"guest{n}@example.com")
        assert response.status_code == 303, f"guest {n} was turned away"

    assert Gift.objects.count() == 200


def test_one_browser_trying_many_emails_is_stopped(settings, project, stripe_stub):
    tester = browser(ip="203.0.113.50")
    for n in range(settings.DONATE_RATE_LIMIT_PER_BROWSER):
        assert (
            give(tester, project, f"card{n}@example.com", amount="", ip=f"203.0.113.{n}").status_code == 200
        )

    response = give(tester, project, "yet-another@example.com", ip="203.0.113.99")

    assert response.status_code == 429
    assert stripe_stub.requests == []


def test_filling_the_page_cache_does_not_reset_the_counts(limits, client, project, stripe_stub):
    for n in range(2):
        donate(client, project, f"203.0.113.{n}", email="tester@example.com", amount="")
    pages = caches["default"]
    for n in range(1000):  # far more pages than the page cache keeps
        pages.set(f"page-cache:https://testserver/stories/?page={n}", (1, "page"))

    response = donate(client, project, "203.0.113.99", email="tester@example.com")

    assert response.status_code == 429


@pytest.mark.parametrize(
    ("trusted_proxies", "forwarded_for", "expected"),
    [
        # No proxy configured: whatever the client writes in the header is ignored.
        (0, "192.0.2.1", "10.0.0.1"),
        # One proxy: the address it appended, not what the client wrote before it.
        (1, "192.0.2.1, 198.51.100.7", "198.51.100.7"),
        # Two proxies: the outer one appended the client, the inner one the outer proxy.
        (2, "192.0.2.1, 198.51.100.7, 10.0.0.2", "198.51.100.7"),
        (1, "", "10.0.0.1"),
        (1, "not-an-address", "10.0.0.1"),
    ],
)
def test_client_address_comes_through_trusted_proxies_only(
    settings, trusted_proxies, forwarded_for, expected
):
    settings.TRUSTED_PROXY_COUNT = trusted_proxies
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)

    assert client_ip(request) == expected


def test_behind_the_proxy_each_guest_is_counted_by_their_own_address(limits, client, project, stripe_stub):
    limits.TRUSTED_PROXY_COUNT = 1
    for _ in range(3):
        client.post(
            reverse("donations:donate"),
            {"amount_preset": "", "project": project.slug},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )

    other_guest = client.post(
        reverse("donations:donate"),
        {"amount_preset": "", "project": project.slug},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.9",
    )

    assert other_guest.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only: SQLite's shared in-memory test database refuses a second writer at once.",
)
def test_workers_counting_at_the_same_moment_lose_no_hit(settings):
    """The database cache (no REDIS_URL): eight workers count one email at once, ten times each."""
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {
            "BACKEND": "podari.cache.CounterDatabaseCache",
            "LOCATION": "podari_ratelimit",
            "TIMEOUT": 3600,
        },
    }
    barrier = threading.Barrier(8)
    errors = []
    WINDOW = 10**9  # one window for the whole test, wherever the clock stands

    def count():
        try:
            barrier.wait(timeout=10)
            for _ in range(10):
                over_limit("donate-email", "tester@example.com", limit=1000, window_seconds=WINDOW)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors

    # Hit 81 is within a limit of 81, and hit 82 over it, only if all 80 before were counted.
    assert over_limit("donate-email", "tester@example.com", limit=81, window_seconds=WINDOW) is False
    assert over_limit("donate-email", "tester@example.com", limit=81, window_seconds=WINDOW) is True
