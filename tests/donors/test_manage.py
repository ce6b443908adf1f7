"""'Manage my giving': an emailed link that works once and for a limited time, and the
donor's own page behind it."""

import re
import time
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from donations.models import Gift, RecurringGift
from donors import links
from donors.models import SignInLink

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/manage/link/[^/\s]+/)")


def ask_for_link(client, email, capture):
    with capture(execute=True):
        return client.post(reverse("donors:request_link"), {"email": email})


def link_in(message):
    return LINK.search(message.body).group(1)


@pytest.fixture
def donor(make_donor):
    return make_donor("ada@example.com")


@pytest.fixture
def signed_in(client, donor, django_capture_on_commit_callbacks, mailoutbox):
    """The client, having followed its emailed link."""
    ask_for_link(client, "Ada@Example.com ", django_capture_on_commit_callbacks)
    response = client.post(link_in(mailoutbox[-1]))
    assert response.status_code == 302
    assert response["Location"] == reverse("donors:giving")
    return client


def test_the_page_answers_the_same_whether_or_not_the_email_is_known(
    client, donor, django_capture_on_commit_callbacks, mailoutbox
):
    known = ask_for_link(client, "ada@example.com", django_capture_on_commit_callbacks)
    unknown = ask_for_link(client, "nobody@example.com", django_capture_on_commit_callbacks)

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert client.get(known["Location"]).content == client.get(unknown["Location"]).content
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]
    assert "/manage/link/" in mailoutbox[0].body
    assert "/manage/link/" in mailoutbox[0].alternatives[0][0]


def test_links_sent_are_limited_per_email_and_requests_per_address(
    settings, client, donor, django_capture_on_commit_callbacks, mailoutbox
):
    settings.DONOR_LINK_RATE_LIMIT_PER_EMAIL = 2
    settings.DONOR_LINK_RATE_LIMIT_PER_IP = 4
    statuses = [
        ask_for_link(client, "ada@example.com", django_capture_on_commit_callbacks).status_code
        for _ in range(3)
    ]
    # Every request gets the same answer; only two links are sent to the address.
    assert statuses == [302, 302, 302]
    assert len(mailoutbox) == 2

    # More addresses from the same machine: its own limit.
    others = [
        ask_for_link(client, f"other{n}@example.com", django_capture_on_commit_callbacks).status_code
        for n in range(3)
    ]
    assert others == [302, 429, 429]


def test_the_link_signs_in_once(client, donor, django_capture_on_commit_callbacks, mailoutbox):
    ask_for_link(client, "ada@example.com", django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0])

    # Opening it (as mail scanners do) shows a button and uses nothing. The page's address
    # no longer holds the token, so nothing it loads carries the token in a Referer.
    for _ in range(2):
        page = client.get(link, follow=True)
        assert page.status_code == 200
        assert page.redirect_chain == [(reverse("donors:sign_in_page"), 302)]
        assert "Open my giving page" in page.content.decode()
    assert client.get(reverse("donors:giving")).status_code == 302  # not signed in yet

    # The button posts to the page without the token.
    assert client.post(reverse("donors:sign_in_page"))["Location"] == reverse("donors:giving")
    assert client.get(reverse("donors:giving")).status_code == 200

    # Used: it opens nothing again, in this browser or another.
    reused = client.post(link)
    assert reused.status_code == 410
    assert "used already" in reused.content.decode()
    other_browser = Client()
    assert other_browser.post(link).status_code == 410
    assert other_browser.get(reverse("donors:giving")).status_code == 302


def test_an_expired_link_opens_nothing(client, donor):
    link = SignInLink.objects.create(donor=donor)
    an_hour_ago = time.time() - 3601
    with mock.patch("django.core.signing.time.time", return_value=an_hour_ago):
        token = links.sign_in_token(link.pk)

    for method in (client.get, client.post):
        response = method(reverse("donors:sign_in", args=[token]), follow=True)
        assert response.status_code == 410
        assert "expired" in response.content.decode()
    assert client.get(reverse("donors:giving")).status_code == 302
    link.refresh_from_db()
    assert link.used_at is None


def test_a_tampered_link_opens_nothing(client, donor, make_donor):
    other = make_donor("eve@example.com")
    link = SignInLink.objects.create(donor=donor)
    token = links.sign_in_token(link.pk)
    value, _, signature = token.rpartition(":")
    # Another link's id with this signature; the right id with another signature.
    forged = [
        links.sign_in_token(SignInLink.objects.create(donor=other).pk).rsplit(":", 1)[0] + ":" + signature,
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        links.preferences_token(donor),  # a token made for another purpose
    ]
    for token in forged:
        assert client.post(reverse("donors:sign_in", args=[token])).status_code == 410
    assert client.get(reverse("donors:giving")).status_code == 302


def test_the_giving_page_shows_the_donors_own_gifts_and_receipts(
    signed_in, donor, make_donor, project, make_project, paid_gift
):
    other_project = make_project(title="Doctors' education", slug="doctors")
    mine = paid_gift(project, donor, amount_minor=5_000)
    paid_gift(
        other_project, donor, amount_minor=12_345, status=Gift.Status.REFUNDED, amount_refunded_minor=12_345
    )
    theirs = paid_gift(project, make_donor("bob@example.com"), amount_minor=77_700)
    paid_gift(project, donor, amount_minor=99_900, status=Gift.Status.ABANDONED, paid_at=None)

    page = signed_in.get(reverse("donors:giving"))
    html = page.content.decode()

    assert page.status_code == 200
    assert "$50" in html and "CAR-T therapy for children" in html
    assert "$123.45" in html and "Refunded" in html
    assert "$777" not in html and "bob@example.com" not in html
    assert "$999" not in html
    assert reverse("donors:receipt", args=[mine.public_id]) in html

    receipt = signed_in.get(reverse("donors:receipt", args=[mine.public_id]))
    assert receipt.status_code == 200
    assert f"PL-{mine.paid_at.year}-{mine.pk:07d}" in receipt.content.decode()
    assert "No goods or services were provided" in receipt.content.decode()
    # Another donor's receipt is not found, even with its id.
    assert signed_in.get(reverse("donors:receipt", args=[theirs.public_id])).status_code == 404


def test_donor_pages_are_never_cached_nor_indexed(settings, signed_in, donor, project, paid_gift):
    settings.PAGE_CACHE_ENABLED = True
    gift = paid_gift(project, donor)
    for url in (
        reverse("donors:giving"),
        reverse("donors:receipt", args=[gift.public_id]),
        reverse("donors:request_link"),
    ):
        response = signed_in.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_the_donor_page_closes_after_its_time(settings, signed_in):
    assert signed_in.get(reverse("donors:giving")).status_code == 200
    settings.DONOR_SESSION_SECONDS = -1
    assert signed_in.get(reverse("donors:giving"))["Location"] == reverse("donors:request_link")


def test_leaving_the_page_signs_out(signed_in):
    signed_in.post(reverse("donors:sign_out"))
    assert signed_in.get(reverse("donors:giving")).status_code == 302


@pytest.fixture
def monthly(project, donor):
    return RecurringGift.objects.create(
        project=project,
        donor=donor,
        amount_minor=2_500,
        currency="usd",
        status=RecurringGift.Status.ACTIVE,
        stripe_subscription_id="sub_1QmonthlyAda",
        stripe_customer_id="cus_QXg1o8vcGmoR32",
    )


def test_a_monthly_donor_goes_to_stripes_customer_portal(signed_in, monthly, stripe_stub):
    stripe_stub.respond(
        {
            "id": "bps_1Pgc7HB7WZ01zgkWNs8s9Auh",
            "object": "billing_portal.session",
            "customer": "cus_QXg1o8vcGmoR32",
            "livemode": False,
            "return_url": "http://testserver/manage/giving/",
            "url": "https://billing.stripe.com/p/session/test_YWNjdF8xTmFr",
        }
    )
    page = signed_in.get(reverse("donors:giving")).content.decode()
    assert "$25" in page and "Change, pause or cancel" in page
    page = signed_in.get(reverse("donors:monthly_gift", args=[monthly.public_id])).content.decode()
    assert "Update my card" in page

    response = signed_in.post(reverse("donors:billing_portal", args=[monthly.public_id]))

    assert response.status_code == 303
    assert response["Location"] == "https://billing.stripe.com/p/session/test_YWNjdF8xTmFr"
    [request] = stripe_stub.requests
    assert request["path"] == "/v1/billing_portal/sessions"
    assert request["params"] == {
        "customer": "cus_QXg1o8vcGmoR32",
        "return_url": "http://testserver/manage/giving/",
    }


def test_only_the_donors_own_monthly_gift_opens_the_portal(signed_in, monthly, make_donor, stripe_stub):
    monthly.donor = make_donor("bob@example.com")
    monthly.save()
    assert signed_in.post(reverse("donors:billing_portal", args=[monthly.public_id])).status_code == 404
    assert stripe_stub.requests == []


def test_the_portal_needs_a_signed_in_donor(client, monthly, stripe_stub):
    response = client.post(reverse("donors:billing_portal", args=[monthly.public_id]))
    assert response["Location"] == reverse("donors:request_link")
    assert stripe_stub.requests == []


def test_simulated_checkout_has_no_card_to_update(settings, signed_in, monthly):
    settings.SIMULATED_CHECKOUT = True
    page = signed_in.get(reverse("donors:monthly_gift", args=[monthly.public_id])).content.decode()
    assert "Cancel this monthly gift" in page and "Update my card" not in page


def test_the_giving_page_costs_the_same_queries_for_many_gifts(
    signed_in, donor, project, paid_gift, monthly, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    paid_gift(project, donor)
    with CaptureQueriesContext(connection) as few:
        assert signed_in.get(reverse("donors:giving")).status_code == 200
    for _ in range(30):
        paid_gift(project, donor)
    with django_assert_max_num_queries(len(few)):
        assert signed_in.get(reverse("donors:giving")).status_code == 200


def test_the_giving_page_says_what_each_month_costs_with_the_covered_fee(signed_in, monthly):
    RecurringGift.objects.filter(pk=monthly.pk).update(amount_minor=2_500, fee_covered_minor=87)

    html = " ".join(signed_in.get(reverse("donors:giving")).content.decode().split())

    assert "$25.87 a month" in html
    assert "$25 gift and $0.87 card fee" in html
