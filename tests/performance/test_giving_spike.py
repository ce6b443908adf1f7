"""A giving spike: gifts leave the pages that show no gift in the cache, a page whose
totals changed is rebuilt by one reader while the others keep the copy from a moment
ago, and session visitors get story and project cards from the cache.

Real transactions (transaction=True): pages are invalidated when a change commits.
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from podari import page_cache

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("page_cache_on", "charity_facts"),
]


def get_counting_queries(client, url, **extra):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **extra)
    return response, len(queries)


def test_a_gift_leaves_the_cached_story_list_alone(client, make_story, project, make_gift):
    make_story(title="Told before the gift", projects=[project])
    client.get(reverse("stories:list"))

    make_gift(project, amount_minor=5_000)
    response, queries = get_counting_queries(client, reverse("stories:list"))

    assert queries == 0
    assert "Told before the gift" in response.content.decode()


def test_while_one_reader_rebuilds_a_page_after_a_gift_the_others_get_the_copy_from_before(
    client, project, make_gift, let_gift_lag_pass
):
    make_gift(project, amount_minor=100_000)
    url = project.get_absolute_url()
    rebuilding = page_cache.page_key(client.get(url).wsgi_request) + ":rebuilding"
    make_gift(project, amount_minor=50_000)
    let_gift_lag_pass()
    # Another worker has started rebuilding the page for the new gift.
    cache.add(rebuilding, True, 60)

    response, queries = get_counting_queries(client, url)

    assert queries == 0
    assert "$1,000" in response.content.decode()
    # Once that worker is done (or its claim has run out), the next reader sees the gift.
    cache.delete(rebuilding)
    assert "$1,500" in client.get(url).content.decode()


def test_a_change_to_a_project_is_never_served_late_even_while_its_page_is_rebuilt(client, project):
    url = project.get_absolute_url()
    rebuilding = page_cache.page_key(client.get(url).wsgi_request) + ":rebuilding"
    cache.add(rebuilding, True, 60)

    project.title = "Renamed while a gift was being shown"
    project.save()

    assert "Renamed while a gift was being shown" in client.get(url).content.decode()


def test_session_visitors_get_cards_from_the_cache_and_new_totals_at_once(
    client, make_story, make_project, project, make_gift
):
    other_project = make_project(title="Doctors' education", slug="doctors")
    for n in range(4):
        make_story(title=f"Story {n}", slug=f"story-{n}", projects=[project, other_project])
    client.cookies["sessionid"] = "a-donor-back-from-checkout"
    client.get(reverse("donations:donate"))  # the footer's facts, read once for every page

    first, first_queries = get_counting_queries(client, reverse("stories:list"))
    second, second_queries = get_counting_queries(client, reverse("stories:list"))

    # The cards' project names are fetched only to draw cards not in the cache yet.
    assert second_queries < first_queries
    assert second.content == first.content

    client.get(reverse("donations:project_list"))
    make_gift(other_project, amount_minor=123_400)
    assert "$1,234" in client.get(reverse("donations:project_list")).content.decode()


def test_a_donor_with_a_session_sees_their_gift_at_once_while_stored_pages_lag_it(
    client, project, make_gift, let_gift_lag_pass
):
    make_gift(project, amount_minor=100_000)
    url = project.get_absolute_url()
    client.get(url)  # stored for anonymous readers

    make_gift(project, amount_minor=50_000)

    assert "$1,000" in client.get(url).content.decode()
    client.cookies["sessionid"] = "a-donor-back-from-checkout"
    assert "$1,500" in client.get(url).content.decode()
    del client.cookies["sessionid"]
    let_gift_lag_pass()
    assert "$1,500" in client.get(url).content.decode()


def test_during_a_spike_a_page_is_rebuilt_once_per_lag_not_once_per_gift(client, project, make_gift):
    url = project.get_absolute_url()
    client.get(url)
    rebuilt = 0
    for _ in range(5):
        make_gift(project, amount_minor=1_000)
        response, queries = get_counting_queries(client, url)
        rebuilt += queries > 0

    assert rebuilt == 0
    assert "<strong>$0</strong> raised" in response.content.decode()
