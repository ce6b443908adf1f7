"""Anonymous readers get cached pages, and every change shows up at once.

The tests run in real transactions (transaction=True), so the cache is invalidated
when a change commits, as in production, not when a test's wrapping transaction would.
"""

import threading
import time

import pytest
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from donations.models import Project
from podari import page_cache
from stories.models import Story
from tests.conftest import refund

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("page_cache_on", "charity_facts"),
]


def get_counting_queries(client, url, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, len(queries)


def test_second_anonymous_visit_is_served_without_touching_the_database(client, make_story, project):
    story = make_story(projects=[project])

    first, first_queries = get_counting_queries(client, story.get_absolute_url())
    second, second_queries = get_counting_queries(client, story.get_absolute_url())

    assert first_queries > 0
    assert second_queries == 0
    assert second.content == first.content


def test_editing_a_story_shows_at_once(client, make_story, project):
    story = make_story(projects=[project], title="Before the edit")
    client.get(story.get_absolute_url())

    story.title = "After the edit"
    story.save()

    assert "After the edit" in client.get(story.get_absolute_url()).content.decode()
    assert "After the edit" in client.get(reverse("stories:home")).content.decode()


def test_a_new_gift_raises_the_cached_project_total_within_seconds(
    client, project, make_gift, let_gift_lag_pass
):
    make_gift(project, amount_minor=100_000)
    assert "$1,000" in client.get(project.get_absolute_url()).content.decode()

    make_gift(project, amount_minor=50_000)
    # The stored page may lag gifts for PAGE_CACHE_GIFTS_LAG_SECONDS (a giving spike), no longer.
    assert "$1,000" in client.get(project.get_absolute_url()).content.decode()
    let_gift_lag_pass()

    assert "$1,500" in client.get(project.get_absolute_url()).content.decode()


def test_a_refund_lowers_the_cached_total_within_seconds(client, project, make_gift, let_gift_lag_pass):
    gift = make_gift(project, amount_minor=100_000)
    client.get(reverse("donations:project_list"))

    refund(gift, 40_000, as_of=int(time.time()))
    let_gift_lag_pass()

    assert "$600" in client.get(reverse("donations:project_list")).content.decode()


def test_linking_a_story_to_a_project_shows_on_the_project_page(client, make_story, project):
    story = make_story(title="Linked later")
    assert "Linked later" not in client.get(project.get_absolute_url()).content.decode()

    story.projects.add(project)

    assert "Linked later" in client.get(project.get_absolute_url()).content.decode()


def test_visitors_with_a_session_get_a_page_built_for_them(client, project):
    client.get(project.get_absolute_url())
    # A queryset update sends no signal: only a page built for this request shows it.
    Project.objects.filter(pk=project.pk).update(title="Renamed without a signal")
    client.cookies["sessionid"] = "someone-with-a-session"

    response, queries = get_counting_queries(client, project.get_absolute_url())

    assert queries > 0
    assert "<title>Renamed without a signal" in response.content.decode()
    assert "public" not in response.get("Cache-Control", "")


def test_the_donate_page_is_never_served_from_the_cache(client, general_fund):
    first = client.get(reverse("donations:donate"))

    # Its form's markup may come from the fragment cache (see test_donate_page.py), but
    # the page is drawn for each visitor, with a CSRF token of their own.
    response = Client().get(reverse("donations:donate"))

    assert response.cookies["csrftoken"]
    assert response.cookies["csrftoken"].value != first.cookies["csrftoken"].value
    assert "public" not in response.get("Cache-Control", "")


def test_the_cache_is_invalidated_when_the_change_commits_not_before(client, make_story):
    story = make_story(title="Before the edit")
    client.get(story.get_absolute_url())
    before = page_cache.content_version()

    with transaction.atomic():
        story.title = "After the edit"
        story.save()
        # A reader arriving now would still see the old row: nothing may be invalidated yet.
        assert page_cache.content_version() == before

    assert page_cache.content_version() != before
    assert "After the edit" in client.get(story.get_absolute_url()).content.decode()


def test_a_rolled_back_change_leaves_the_cache_alone(client, make_story):
    story = make_story(title="Kept")
    client.get(story.get_absolute_url())
    before = page_cache.content_version()

    with pytest.raises(RuntimeError), transaction.atomic():
        story.title = "Rolled back"
        story.save()
        raise RuntimeError

    assert page_cache.content_version() == before


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only: SQLite's shared in-memory test database refuses to read a table "
    "another connection is writing, so the reader in between cannot be shown there.",
)
def test_a_reader_between_the_change_and_its_commit_cannot_keep_the_old_page(client, make_story):
    story = make_story(title="Before the edit")
    client.get(story.get_absolute_url())
    saved, read = threading.Event(), threading.Event()
    errors = []

    def edit_in_a_slow_transaction():
        try:
            with transaction.atomic():
                changed = Story.objects.get(pk=story.pk)
                changed.title = "After the edit"
                changed.save()
                saved.set()
                read.wait(timeout=10)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=edit_in_a_slow_transaction)
    writer.start()
    assert saved.wait(timeout=10)
    # This reader sees the committed (old) row while the edit is still open.
    assert "Before the edit" in client.get(story.get_absolute_url()).content.decode()
    read.set()
    writer.join(timeout=10)
    assert not errors, errors

    assert "After the edit" in client.get(story.get_absolute_url()).content.decode()


def test_invalidate_pages_on_commit_refreshes_pages_after_a_change_without_signals(client, project):
    client.get(project.get_absolute_url())

    with transaction.atomic():
        Project.objects.filter(pk=project.pk).update(title="Renamed by a bulk update")
        page_cache.invalidate_pages_on_commit()

    assert "Renamed by a bulk update" in client.get(project.get_absolute_url()).content.decode()


def test_unknown_query_strings_neither_bypass_the_cache_nor_add_pages(client, make_story):
    make_story(title="Only story")
    first = client.get("/stories/?utm_source=newsletter&fbclid=abc")
    assert first.status_code == 200
    pages_stored = len(cache._cache)

    for query in ("", "?utm_campaign=gala", "?random=123", "?fbclid=xyz&utm_medium=email"):
        response, queries = get_counting_queries(client, f"/stories/{query}")
        assert queries == 0, query
        assert response.content == first.content

    assert len(cache._cache) == pages_stored


def test_known_query_parameters_still_give_their_own_page(client, make_story):
    for n in range(12):  # more than one page of the story list
        make_story(title=f"Story number {n}")

    first_page = client.get("/stories/").content.decode()
    second_page = client.get("/stories/?page=2&utm_source=x").content.decode()

    assert first_page != second_page
    assert "?page=2" in second_page  # its canonical link
    assert "utm_source" not in second_page


def test_the_cache_key_includes_the_scheme(client, make_story):
    # A page built for a plain-http request is never the one https readers get.
    story = make_story(title="Canonical")
    client.get(story.get_absolute_url())  # plain http fills the cache first

    _, https_queries = get_counting_queries(client, story.get_absolute_url(), secure=True)
    _, again = get_counting_queries(client, story.get_absolute_url(), secure=True)

    assert https_queries > 0  # built afresh, not the http page
    assert again == 0  # and kept for the next https reader


def test_the_atom_feed_is_cached_and_refreshed_like_the_pages(client, make_story):
    make_story(title="First in the feed")
    feed_url = reverse("stories:feed")
    first = client.get(feed_url)

    second, queries = get_counting_queries(client, feed_url)
    assert queries == 0
    assert second.content == first.content

    make_story(title="Second in the feed")
    assert "Second in the feed" in client.get(feed_url).content.decode()
