"""The thank-you page celebrates the donor: their project, what happens next, sharing, monthly."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from donations.models import Gift

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(
    donate, project, stripe_stub, checkout_session, post_event, stripe_event, settings,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.SITE_URL = "https://podari.life"
    session = checkout_session()
    stripe_stub.respond(session)
    donate(project, amount_preset="10000", donor_name="Jane", donor_email="jane@example.com")
    gift = Gift.objects.get(stripe_checkout_session_id=session["id"])
    with django_capture_on_commit_callbacks(execute=True):  # the receipt is sent after commit
        post_event(stripe_event("checkout_session_completed", gift=gift))
    gift.refresh_from_db()
    assert gift.is_paid
    return gift


def thanks_page(client, gift):
    response = client.get(f"{reverse('donations:thanks')}?session_id={gift.stripe_checkout_session_id}")
    assert response.status_code == 200
    return response.content.decode()


def share_links(html):
    section = re.search(r'aria-labelledby="share-title".*?</section>', html, re.S).group(0)
    return {
        unescape(text): unescape(href)
        for href, text in re.findall(r'<a class="[^"]*" href="([^"]+)"[^>]*>([^<]+)</a>', section)
    }


def test_the_headline_thanks_the_donor_and_names_the_project(client, paid, project):
    html = thanks_page(client, paid)

    assert (
        "<h1>Thank you, Jane! "
        '<span class="h1-sub">Your gift is at work for CAR-T therapy for children</span></h1>' in html
    )
    assert f'to <a href="{project.get_absolute_url()}">{project.title}</a> has arrived' in html
    next_steps = re.search(r'aria-labelledby="next-title".*?</section>', html, re.S).group(0)
    assert "receipt" in next_steps
    assert "stories" in next_steps


def test_share_links_go_to_each_service_with_the_project_page(client, paid, project):
    links = share_links(thanks_page(client, paid))
    page_url = f"https://podari.life{project.get_absolute_url()}"

    assert list(links) == [
        "Share by email",
        "Share on Facebook",
        "Share on X",
        "Share on WhatsApp",
        "Share on Telegram",
    ]
    email = urlsplit(links["Share by email"])
    assert email.scheme == "mailto" and email.path == ""
    assert page_url in parse_qs(email.query)["body"][0]
    facebook = urlsplit(links["Share on Facebook"])
    assert (facebook.netloc, parse_qs(facebook.query)["u"]) == ("www.facebook.com", [page_url])
    x = urlsplit(links["Share on X"])
    assert (x.netloc, parse_qs(x.query)["url"]) == ("x.com", [page_url])
    assert project.title in parse_qs(x.query)["text"][0]
    whatsapp = urlsplit(links["Share on WhatsApp"])
    assert whatsapp.netloc == "wa.me" and page_url in parse_qs(whatsapp.query)["text"][0]
    telegram = urlsplit(links["Share on Telegram"])
    assert (telegram.netloc, parse_qs(telegram.query)["url"]) == ("t.me", [page_url])


def test_the_page_loads_nothing_from_another_site(client, paid):
    html = thanks_page(client, paid)

    # Every resource the browser fetches by itself: scripts, styles, images, frames, icons.
    loaded = re.findall(r'<(?:script|img|iframe|source|embed)\b[^>]*\bsrcs?(?:et)?="([^"]+)"', html)
    loaded += re.findall(r'<link\b[^>]*\bhref="([^"]+)"', html)
    assert loaded
    foreign = [
        url for url in loaded if re.match(r"(https?:)?//", url) and not url.startswith("https://podari.life/")
    ]
    assert foreign == []
    assert "<iframe" not in html
    assert not re.search(r"<script\b(?![^>]*\bsrc=\"/static/)", html)


def test_it_invites_a_monthly_gift(client, paid, project):
    html = thanks_page(client, paid)

    invite = re.search(r'aria-labelledby="monthly-title".*?</section>', html, re.S).group(0)
    assert f'href="/donate/?project={project.slug}&amp;frequency=monthly"' in invite


def test_a_donor_who_already_gives_monthly_is_not_asked_to_make_it_monthly(client, paid, project):
    from donations.models import RecurringGift

    recurring = RecurringGift.objects.create(
        project=project,
        donor=paid.donor,
        amount_minor=2_500,
        currency="usd",
        status=RecurringGift.Status.ACTIVE,
    )
    html = thanks_page(client, paid)
    assert 'id="monthly-title"' not in html and "frequency=monthly" not in html

    # Once that monthly gift has ended, the invitation comes back.
    recurring.status = RecurringGift.Status.CANCELLED
    recurring.save()
    assert 'id="monthly-title"' in thanks_page(client, paid)


def test_a_dedication_uses_american_spelling(
    client, donate, project, stripe_stub, checkout_session, post_event, stripe_event
):
    session = checkout_session()
    stripe_stub.respond(session)
    donate(project, amount_preset="10000", dedication="honour", dedication_name="Grandma Vera")
    gift = Gift.objects.get(stripe_checkout_session_id=session["id"])
    post_event(stripe_event("checkout_session_completed", gift=gift))

    html = thanks_page(client, gift)

    assert "In honor of Grandma Vera." in html
    assert "honour" not in html.replace('"honour"', "")
