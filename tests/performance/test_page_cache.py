"""Anonymous readers get cached pages, and every change shows up at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from donations.models import Project


@pytest.fixture(autouse=True)
def page_cache_on(settings):
    settings.PAGE_CACHE_ENABLED = True


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


def test_a_new_gift_raises_the_cached_project_total_at_once(client, project, make_gift):
    make_gift(project, amount_minor=100_000)
    assert "$1,000" in client.get(project.get_absolute_url()).content.decode()

    make_gift(project, amount_minor=50_000)

    assert "$1,500" in client.get(project.get_absolute_url()).content.decode()


def test_a_refund_lowers_the_cached_total_at_once(client, project, make_gift):
    gift = make_gift(project, amount_minor=100_000)
    client.get(reverse("donations:project_list"))

    gift.apply_refund(amount_refunded_minor=40_000)
    gift.save()

    assert "$600" in client.get(reverse("donations:project_list")).content.decode()


def test_linking_a_story_to_a_project_shows_on_the_project_page(client, make_story, project):
    story = make_story(title="Linked later")
    assert "Linked later" not in client.get(project.get_absolute_url()).content.decode()

    story.projects.add(project)

    assert "Linked later" in client.get(project.get_absolute_url()).content.decode()


def test_visitors_with_a_session_always_get_a_fresh_page(client, project):
    client.get(project.get_absolute_url())
    # A queryset update sends no signal, so only a fresh render can show it.
    Project.objects.filter(pk=project.pk).update(title="Renamed without a signal")
    client.cookies["sessionid"] = "someone-with-a-session"

    response, queries = get_counting_queries(client, project.get_absolute_url())

    assert queries > 0
    assert "Renamed without a signal" in response.content.decode()


def test_the_donate_page_is_never_served_from_the_cache(client, general_fund):
    client.get(reverse("donations:donate"))

    response, queries = get_counting_queries(client, reverse("donations:donate"))

    assert queries > 0
    assert response.cookies["csrftoken"]
