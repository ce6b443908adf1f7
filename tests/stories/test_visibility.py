"""Drafts and stories dated in the future are invisible to the public, everywhere, until their time."""

import time
import xml.etree.ElementTree as ET

import pytest
from django.core.cache.backends import locmem
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stories.models import Story

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def ago(**kwargs):
    return timezone.now() - timezone.timedelta(**kwargs)


def ahead(**kwargs):
    return timezone.now() + timezone.timedelta(**kwargs)


@pytest.fixture
def stories(make_story, project):
    """Oldest to newest: a public story, a draft, a public story, a published story dated tomorrow."""
    return {
        "older": make_story(title="Alpha clinic visit", publish_at=ago(days=3), projects=[project]),
        "draft": make_story(
            title="Dasha draft notes", status=Story.Status.DRAFT, publish_at=ago(days=2), projects=[project]
        ),
        "newer": make_story(title="Bravo home again", publish_at=ago(days=1), projects=[project]),
        "future": make_story(title="Fedya scheduled news", publish_at=ahead(hours=1), projects=[project]),
    }


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def feed_titles(client):
    root = ET.fromstring(client.get(reverse("stories:feed")).content)  # noqa: S314 (our own feed)
    return [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]


def sitemap_paths(client):
    root = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 (our own sitemap)
    return {loc.text.removeprefix("http://testserver") for loc in root.iter(f"{SITEMAP}loc")}


def story_nav(html):
    """The previous/next links at the foot of a story page."""
    start = html.find('class="wrap narrow story-nav"')
    return html[start:] if start != -1 else ""


def test_published_queryset_holds_only_public_stories(stories):
    assert list(Story.objects.published()) == [stories["newer"], stories["older"]]
    assert [s.is_public for s in stories.values()] == [True, False, True, False]


@pytest.mark.parametrize("url", ["/", "/stories/"])
def test_lists_show_only_public_stories(client, stories, url):
    html = page(client, url)
    assert "Alpha clinic visit" in html
    assert "Bravo home again" in html
    assert "Dasha draft notes" not in html
    assert "Fedya scheduled news" not in html
    assert stories["draft"].get_absolute_url() not in html
    assert stories["future"].get_absolute_url() not in html


@pytest.mark.parametrize("which", ["draft", "future"])
def test_hidden_story_pages_are_not_found(client, stories, which):
    assert client.get(stories[which].get_absolute_url()).status_code == 404


def test_feed_holds_only_public_stories(client, stories):
    assert feed_titles(client) == ["Bravo home again", "Alpha clinic visit"]


def test_sitemap_holds_only_public_stories(client, stories):
    paths = sitemap_paths(client)
    assert stories["older"].get_absolute_url() in paths
    assert stories["newer"].get_absolute_url() in paths
    assert stories["draft"].get_absolute_url() not in paths
    assert stories["future"].get_absolute_url() not in paths


def test_previous_and_next_links_skip_hidden_stories(client, stories):
    older_nav = story_nav(page(client, stories["older"].get_absolute_url()))
    assert f'href="{stories["newer"].get_absolute_url()}" rel="next"' in older_nav
    assert "Dasha draft notes" not in older_nav

    newer_nav = story_nav(page(client, stories["newer"].get_absolute_url()))
    assert f'href="{stories["older"].get_absolute_url()}" rel="prev"' in newer_nav
    assert 'rel="next"' not in newer_nav
    assert "Fedya scheduled news" not in newer_nav


def test_project_page_lists_only_public_stories(client, stories, project):
    html = page(client, project.get_absolute_url())
    assert "Alpha clinic visit" in html
    assert "Bravo home again" in html
    assert "Dasha draft notes" not in html
    assert "Fedya scheduled news" not in html


def let_time_pass(story):
    """The moment comes: move the date into the past the way time would, without a save or a signal."""
    Story.objects.filter(pk=story.pk).update(publish_at=ago(seconds=1))


def test_a_scheduled_story_appears_by_itself_when_its_time_comes(client, stories, project):
    future = stories["future"]
    assert client.get(future.get_absolute_url()).status_code == 404

    let_time_pass(future)

    assert "Fedya scheduled news" in page(client, future.get_absolute_url())
    assert "Fedya scheduled news" in page(client, "/")
    assert "Fedya scheduled news" in page(client, "/stories/")
    assert "Fedya scheduled news" in page(client, project.get_absolute_url())
    assert feed_titles(client)[0] == "Fedya scheduled news"
    assert future.get_absolute_url() in sitemap_paths(client)
    newer_nav = story_nav(page(client, stories["newer"].get_absolute_url()))
    assert f'href="{future.get_absolute_url()}" rel="next"' in newer_nav


class ShiftedClock:
    """The cache's clock, moved forward: what it reads when some time has passed."""

    def __init__(self, seconds):
        self.seconds = seconds

    def time(self):
        return time.time() + self.seconds


def test_a_scheduled_story_appears_on_time_even_when_pages_are_cached(
    client, settings, monkeypatch, stories, project
):
    settings.PAGE_CACHE_ENABLED = True
    settings.PAGE_CACHE_SECONDS = 600
    future = stories["future"]
    # Due sooner than a cached page would otherwise be kept.
    Story.objects.filter(pk=future.pk).update(publish_at=ahead(minutes=2))
    urls = ["/", "/stories/", project.get_absolute_url(), stories["newer"].get_absolute_url()]
    for url in urls:
        assert "Fedya scheduled news" not in page(client, url)
    with CaptureQueriesContext(connection) as queries:
        page(client, "/")
    assert len(queries) == 0, "the page cache is not in use, so this test shows nothing"

    # Two minutes pass, for the database's idea of now and for the cache's.
    let_time_pass(future)
    monkeypatch.setattr(locmem, "time", ShiftedClock(seconds=121))

    for url in urls:
        assert "Fedya scheduled news" in page(client, url), url


def test_a_scheduled_story_appears_on_time_for_a_visitor_with_a_session(
    client, settings, monkeypatch, stories
):
    # Such a visitor gets no stored page, but the list and its count of stories come
    # from the fragment cache: both must end when the story is due.
    settings.PAGE_CACHE_ENABLED = True
    settings.PAGE_CACHE_SECONDS = 600
    client.cookies["sessionid"] = "a-donor-back-from-checkout"
    future = stories["future"]
    Story.objects.filter(pk=future.pk).update(publish_at=ahead(minutes=2))
    assert "Fedya scheduled news" not in page(client, "/stories/")

    let_time_pass(future)
    monkeypatch.setattr(locmem, "time", ShiftedClock(seconds=121))

    assert "Fedya scheduled news" in page(client, "/stories/")


def test_staff_preview_a_draft(admin_client, stories):
    draft = stories["draft"]
    response = admin_client.get(reverse("stories:preview", args=[draft.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Dasha draft notes" in html
    assert "Preview: this story is not public yet." in html
    assert "It is a draft." in html
    assert '<meta name="robots" content="noindex">' in html


def test_staff_preview_a_scheduled_story(admin_client, stories):
    html = page(admin_client, reverse("stories:preview", args=[stories["future"].pk]))
    assert "Fedya scheduled news" in html
    assert "Preview: this story is not public yet." in html
    assert "It appears on" in html
    assert '<meta name="robots" content="noindex">' in html


def test_staff_preview_of_a_published_story_says_it_is_public(admin_client, stories):
    story = stories["newer"]
    html = page(admin_client, reverse("stories:preview", args=[story.pk]))
    assert "Bravo home again" in html
    assert "not public yet" not in html
    assert "Preview: this story is published." in html
    assert f'href="{story.get_absolute_url()}"' in html


def test_public_story_pages_have_no_preview_banner_and_may_be_indexed(client, stories):
    html = page(client, stories["newer"].get_absolute_url())
    assert "Preview" not in html
    assert "noindex" not in html


def test_preview_needs_a_staff_login(client, django_user_model, stories):
    url = reverse("stories:preview", args=[stories["draft"].pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "Dasha" not in response.content.decode()

    client.force_login(django_user_model.objects.create_user("donor", password="x"))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
