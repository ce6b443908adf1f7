"""Security headers and cookies that browsers enforce on donors' behalf."""

import pytest
from django.urls import reverse


@pytest.fixture
def story_url(make_story, project):
    return make_story(projects=[project]).get_absolute_url()


def test_public_pages_send_a_strict_content_security_policy(client, story_url):
    response = client.get(story_url)

    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    # The donate form's 303 goes to Stripe's host; browsers check form-action there too.
    assert "https://checkout.stripe.com" in directives["form-action"]


def test_the_webhooks_plain_text_answer_carries_no_policy(post_event, story_url, client):
    # Stripe reads a status, not a page: the policy (and its cost) is for pages only.
    response = post_event({"id": "evt_test_headers", "type": "customer.created", "data": {"object": {}}})

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response.headers
    assert "Content-Security-Policy" in client.get(story_url).headers


def test_public_pages_forbid_sniffing_framing_and_leaky_referrers(client, story_url):
    response = client.get(story_url)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_https_responses_carry_hsts_in_production(client, story_url):
    response = client.get(story_url, secure=True)

    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    assert "includeSubDomains" in response.headers["Strict-Transport-Security"]


def test_cookies_are_secure_and_http_only_in_production(client, general_fund):
    response = client.get(reverse("donations:donate"))

    csrf_cookie = response.cookies["csrftoken"]
    assert csrf_cookie["secure"] is True
    assert csrf_cookie["httponly"] is True
    assert csrf_cookie["samesite"] == "Lax"


@pytest.mark.parametrize("name", ["stories:home", "stories:list", "donations:project_list"])
def test_reading_pages_set_no_cookies(client, name, make_story, project):
    make_story(projects=[project])

    response = client.get(reverse(name))

    assert response.status_code == 200
    assert not response.cookies
