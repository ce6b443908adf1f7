"""Search engines: the donate page may be indexed; its thank-you, checkout and error states may not."""

from urllib.robotparser import RobotFileParser

import pytest
from django.urls import reverse

from donations.models import Gift

pytestmark = pytest.mark.django_db

DONATE_URL = reverse("donations:donate")
NOINDEX = '<meta name="robots" content="noindex">'


def robots(client):
    parser = RobotFileParser()
    parser.parse(client.get("/robots.txt").content.decode().splitlines())
    return parser


def test_robots_txt_lets_crawlers_reach_the_donate_page(client, project):
    parser = robots(client)

    assert parser.can_fetch("Googlebot", f"http://testserver{DONATE_URL}")
    assert parser.can_fetch("Googlebot", f"http://testserver{project.get_donate_url()}")
    # They must be able to fetch the other states too, or they never see those pages' noindex.
    assert parser.can_fetch("Googlebot", f"http://testserver{reverse('donations:thanks')}")
    assert not parser.can_fetch("Googlebot", "http://testserver/admin/")


def test_the_donate_page_is_in_the_sitemap(client, project):
    assert f"<loc>http://testserver{DONATE_URL}</loc>" in client.get("/sitemap.xml").content.decode()


def test_the_donate_page_may_be_indexed(client, general_fund, project):
    for url in (DONATE_URL, project.get_donate_url()):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert "noindex" not in page
        assert "<form" in page


def test_the_donate_page_with_a_mistake_is_noindex(donate, project, stripe_stub):
    response = donate(project, amount_preset="other", amount_custom="fifty")

    assert response.status_code == 200
    assert NOINDEX in response.content.decode()


def test_the_form_brought_back_from_checkout_is_noindex(
    donate, client, project, stripe_stub, checkout_session
):
    stripe_stub.respond(checkout_session())
    donate(project, donor_email="jane@example.com")

    response = client.get(f"{DONATE_URL}?resume={Gift.objects.get().public_id}")

    assert NOINDEX in response.content.decode()


def test_thanks_checkout_and_trouble_pages_are_noindex(donate, client, project, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True
    checkout = donate(project)
    assert checkout.status_code == 303

    pages = [
        client.get(checkout["Location"]),
        client.get(reverse("donations:thanks")),
        client.get(
            f"{reverse('donations:thanks')}?session_id={Gift.objects.get().stripe_checkout_session_id}"
        ),
    ]

    for response in pages:
        assert response.status_code == 200
        assert NOINDEX in response.content.decode(), response.request["PATH_INFO"]
