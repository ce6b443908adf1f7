"""A monthly gift, through Stripe's signed events, refreshes the totals and leaves stories cached.

A monthly signup, a renewal or a cancellation changes how many people give monthly and what
a project has raised: the pages that show gifts, after PAGE_CACHE_GIFTS_LAG_SECONDS. It says
nothing new about any story, so it moves only the gifts version (podari/cache_wiring.py):
the story list stays cached, and a story page stays cached until the lag has passed. The test
runs in real transactions, so versions move when a webhook's transaction commits.
"""

import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from charity.models import Charity
from donations.models import RecurringGift
from podari import page_cache

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def cached_pages(settings):
    settings.PAGE_CACHE_ENABLED = True
    Charity.load()


def later(monkeypatch, settings):
    """Move the page cache's clock past the time a stored page may lag new gifts."""
    moved = time.time() + settings.PAGE_CACHE_GIFTS_LAG_SECONDS + 0.1
    monkeypatch.setattr(page_cache, "time", SimpleNamespace(time=lambda: moved))


def read(reader, url):
    with CaptureQueriesContext(connection) as queries:
        page = reader.get(url).content.decode()
    return page, len(queries)


def test_a_monthly_signup_refreshes_the_project_figures_and_leaves_story_pages_cached(
    project, make_story, monthly_gift, post_event, session_completed, invoice_event, monkeypatch, settings
):
    gift = monthly_gift(donor_name="Jane Donor", show_name_publicly=True)
    story = make_story(title="The first infusion", projects=[project])
    reader = Client()  # an anonymous reader, apart from Stripe's deliveries
    story_list, story_page, project_page = (
        reverse("stories:list"),
        story.get_absolute_url(),
        project.get_absolute_url(),
    )
    for url in (story_list, story_page, project_page):
        read(reader, url)
    assert "gives to this project every month" not in read(reader, project_page)[0]
    content = page_cache.content_version()

    assert post_event(session_completed(gift)).status_code == 200
    assert post_event(invoice_event(gift)).status_code == 200

    assert RecurringGift.objects.get().status == RecurringGift.Status.ACTIVE
    assert page_cache.content_version() == content
    # The stories are served as stored: not a query.
    assert read(reader, story_list)[1] == 0
    page, queries = read(reader, story_page)
    assert queries == 0 and "The first infusion" in page

    later(monkeypatch, settings)
    # The project page shows the new monthly donor and the first month's $25; the story list
    # never checks gifts.
    page, _ = read(reader, project_page)
    assert "1 person gives to this project every month." in page
    assert "$25" in page and "Jane Donor" in page
    assert read(reader, story_list)[1] == 0


def test_renewals_and_cancellations_move_only_the_gifts_version(
    project, monthly_gift, post_event, session_completed, invoice_event, subscription_event
):
    gift = monthly_gift()
    post_event(session_completed(gift))
    post_event(invoice_event(gift))
    content, gifts = page_cache.content_version(), page_cache.gifts_version()

    renewal = invoice_event(gift, invoice="in_1QeN5tB7WZ01zgkW8uIo0PqA", reason="subscription_cycle")
    assert post_event(renewal).status_code == 200
    after_renewal = page_cache.gifts_version()
    cancelled = subscription_event(
        gift,
        "customer_subscription_deleted",
        created=int(time.time()) + 10,
        status="canceled",
        canceled_at=int(time.time()) + 10,
    )
    assert post_event(cancelled).status_code == 200

    assert RecurringGift.objects.get().status == RecurringGift.Status.CANCELLED
    assert page_cache.content_version() == content
    assert len({gifts, after_renewal, page_cache.gifts_version()}) == 3
