"""Visitors with a session (staff, a donor back from checkout) never get a stored page, but
the parts of it that only a change to content or gifts can alter come from the fragment
cache, under the same versions as the page cache: a few queries instead of a dozen, and
every change made through the models shows at once.

Real transactions (transaction=True): versions move when a change commits.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stories.models import Story

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("page_cache_on", "charity_facts"),
]


@pytest.fixture
def visitor(client):
    client.cookies["sessionid"] = "a-donor-back-from-checkout"
    client.get(reverse("donations:donate"))  # the footer's facts, read once for every page
    return client


def get_counting_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode(), len(queries)


@pytest.fixture
def pages(make_story, make_project, project, make_gift):
    other = make_project(title="Doctors' education", slug="doctors")
    stories = [make_story(title=f"Story {n}", projects=[project, other]) for n in range(4)]
    make_gift(project, amount_minor=100_000, donor_name="Anna", show_name_publicly=True)
    return {
        "home": "/",
        "story list": reverse("stories:list"),
        "story": stories[0].get_absolute_url(),
        "project list": reverse("donations:project_list"),
        "project": project.get_absolute_url(),
    }


def test_a_page_drawn_again_for_a_session_reads_only_its_own_row(visitor, pages):
    for name, url in pages.items():
        first, first_queries = get_counting_queries(visitor, url)
        again, queries = get_counting_queries(visitor, url)

        assert again == first, name
        # The story and the project are read for the page's head; the story list's count
        # of pages is kept with its fragment.
        assert queries == {"home": 0, "project list": 0, "story list": 0}.get(name, 1), name
        assert queries < first_queries, name


def test_a_gift_shows_at_once_to_a_visitor_with_a_session(visitor, pages, project, make_gift):
    for url in pages.values():
        visitor.get(url)

    make_gift(project, amount_minor=23_400, donor_name="Boris", show_name_publicly=True)

    assert "<strong>$1,234</strong> raised" in visitor.get(pages["project"]).content.decode()
    # The donor wall names Boris once the day's batch closes (tests/donations/test_donor_wall.py).
    assert "Boris" not in visitor.get(pages["project"]).content.decode()
    assert "$1,234" in visitor.get(pages["project list"]).content.decode()
    assert "$1,234" in visitor.get(pages["story"]).content.decode()


def test_a_story_edit_shows_at_once_to_a_visitor_with_a_session(visitor, pages):
    for url in pages.values():
        visitor.get(url)
    story = Story.objects.get(title="Story 0")

    story.body = "Rewritten after the first readers."
    story.title = "Story zero, retitled"
    story.save()

    assert "Rewritten after the first readers." in visitor.get(pages["story"]).content.decode()
    assert "Story zero, retitled" in visitor.get(pages["home"]).content.decode()
    assert "Story zero, retitled" in visitor.get(pages["story list"]).content.decode()
    assert "Story zero, retitled" in visitor.get(pages["project"]).content.decode()


def test_a_staff_preview_is_always_drawn_afresh(admin_client, pages):
    story = Story.objects.get(title="Story 0")
    admin_client.get(pages["story"])
    # A change that moves no version: only a page drawn afresh can show it.
    Story.objects.filter(pk=story.pk).update(body_html="<p>Changed behind the cache.</p>")

    preview = admin_client.get(reverse("stories:preview", args=[story.pk])).content.decode()

    assert "Changed behind the cache." in preview


@pytest.mark.parametrize(
    "source",
    [
        "{% load fragments %}{% fragment %}x{% endfragment %}",
        '{% load fragments %}{% fragment "a" colour=1 %}x{% endfragment %}',
        '{% load fragments %}{% fragment "a" %}{% block b %}x{% endblock %}{% endfragment %}',
    ],
)
def test_a_fragment_that_could_not_be_cached_correctly_is_refused_when_parsed(source):
    from django.template import Template, TemplateSyntaxError

    with pytest.raises(TemplateSyntaxError):
        Template(source)
