"""Drafts save unfinished: summary, picture and alt text are needed only to publish or
schedule. "View on site" opens a draft's preview, not a 404."""

import pytest
from django.utils import timezone

from stories.models import Story

pytestmark = pytest.mark.django_db

STORY_ADD = "/admin/stories/story/add/"


def story_form(**fields):
    data = {
        "title": "Notes from the ward",
        "slug": "notes-from-the-ward",
        "summary": "",
        "author_name": "Podari.Life team",
        "body": "First notes, to be finished.",
        "image_alt": "",
        "status": Story.Status.DRAFT,
        "publish_at_0": timezone.localtime().strftime("%Y-%m-%d"),
        "publish_at_1": timezone.localtime().strftime("%H:%M:%S"),
        "quote": "",
        "quote_name": "",
        "quote_role": "",
        "photos-TOTAL_FORMS": "0",
        "photos-INITIAL_FORMS": "0",
    }
    return data | fields


def test_a_draft_saves_without_summary_picture_or_alt_text(admin_client):
    response = admin_client.post(STORY_ADD, story_form())
    assert response.status_code == 302, response.context["adminform"].form.errors
    story = Story.objects.get(slug="notes-from-the-ward")
    assert (story.status, story.summary, story.image.name, story.image_alt) == ("draft", "", "", "")


@pytest.mark.parametrize("days", [0, 3], ids=["publish", "schedule"])
def test_publishing_or_scheduling_needs_summary_picture_and_alt_text(admin_client, days):
    when = timezone.localtime() + timezone.timedelta(days=days)
    response = admin_client.post(
        STORY_ADD,
        story_form(
            status=Story.Status.PUBLISHED,
            publish_at_0=when.strftime("%Y-%m-%d"),
            publish_at_1=when.strftime("%H:%M:%S"),
        ),
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"summary", "image", "image_alt"}
    assert "Needed to publish or schedule" in errors["summary"][0]
    assert not Story.objects.exists()


def test_a_published_story_keeps_working_in_the_admin(admin_client, make_story):
    story = make_story()
    html = admin_client.get(f"/admin/stories/story/{story.pk}/change/").content.decode()
    assert "Needed to publish" in html  # the help text says so up front


@pytest.mark.parametrize(
    "status, days, public",
    [("draft", -1, False), ("published", 2, False), ("published", -1, True)],
    ids=["draft", "scheduled", "live"],
)
def test_view_on_site_opens_the_preview_until_the_story_is_live(
    admin_client, make_story, status, days, public
):
    story = make_story(status=status, publish_at=timezone.now() + timezone.timedelta(days=days))
    html = admin_client.get(f"/admin/stories/story/{story.pk}/change/").content.decode()
    expected = f"/stories/{story.slug}/" if public else f"/stories/preview/{story.pk}/"
    assert f'href="{expected}" class="viewsitelink"' in html
    response = admin_client.get(expected)
    assert response.status_code == 200


def test_the_preview_of_a_draft_without_a_picture_renders(admin_client, make_story):
    story = make_story(status=Story.Status.DRAFT, summary="", image=None, image_alt="")
    response = admin_client.get(f"/stories/preview/{story.pk}/")
    assert response.status_code == 200
