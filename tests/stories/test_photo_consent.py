"""Withdrawing consent for a photo removes every copy of it from the site at once, with an audit entry."""

import io
import random
import re

import pytest
from auditlog.models import LogEntry
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageDraw

from charity.models import Page
from stories.models import Story, StoryPhoto

pytestmark = pytest.mark.django_db

XHR = {"X-Requested-With": "XMLHttpRequest"}


def photo(seed, size=(2000, 1333)):
    """A picture with shapes of its own (two seeds never look alike), as a phone JPEG."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        w, h = rng.randrange(100, size[0] // 2), rng.randrange(100, size[1] // 2)
        draw.rectangle([x, y, x + w, y + h], fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return SimpleUploadedFile(f"photo-{seed}.jpg", buffer.getvalue(), content_type="image/jpeg")


def editor_image(client, seed):
    response = client.post("/markdownx/upload/", {"image": photo(seed)}, headers=XHR)
    return re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"]).group(1)


def urls_of(obj):
    return [default_storage.url(r["name"]) for r in obj.renditions] + (
        [default_storage.url(obj.social_card["name"])] if obj.social_card else []
    )


@pytest.fixture
def story_with_masha(editor_client, make_story):
    """Masha's photo as the main photo, in the gallery and in the text; a garden photo too;
    another story that pasted Masha's picture from the first one's text."""
    masha_in_text = editor_image(editor_client, seed=1)
    story = make_story(
        title="Masha goes home",
        image=photo(1),
        image_alt="Masha at the window",
        body=f"She is home.\n\n![Masha]({masha_in_text})\n\nThe end.",
    )
    masha_in_gallery = StoryPhoto.objects.create(story=story, image=photo(1), image_alt="Masha again")
    garden = StoryPhoto.objects.create(story=story, image=photo(2), image_alt="The hospital garden")
    other = make_story(title="A year of stories", body=f"Remember ![her]({masha_in_text}) going home.")
    return {
        "story": story,
        "other": other,
        "garden": garden,
        "masha_urls": urls_of(story) + urls_of(masha_in_gallery) + [masha_in_text],
        "masha_files": [story.image.name, masha_in_gallery.image.name],
    }


def test_withdrawing_consent_removes_the_photo_from_every_page_and_address(
    editor_client, client, story_with_masha, editor_user, django_capture_on_commit_callbacks
):
    story, other = story_with_masha["story"], story_with_masha["other"]
    url = reverse("admin:stories_story_withdraw_photo", args=[story.pk])
    assert all(client.get(u).status_code == 200 for u in story_with_masha["masha_urls"])

    # Staff pick the main photo; the next page shows every copy of it before anything goes.
    response = editor_client.post(url, {"photo": "main", "reason": "Guardian's letter of March 3"})
    assert response.status_code == 200
    shown = [p.label for p in response.context["copies"]]
    assert shown == [
        "Main photo: Masha at the window",
        "Gallery photo: Masha again",
        f"Image in the text: {story_with_masha['masha_urls'][-1].rsplit('/', 1)[-1]}",
    ]
    assert Story.objects.get(pk=story.pk).image  # nothing removed yet

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(
            url, {"photo": "main", "reason": "Guardian's letter of March 3", "confirm": "1"}
        )

    assert response.status_code == 302
    for gone in story_with_masha["masha_urls"]:
        assert client.get(gone).status_code == 404, gone
    for name in story_with_masha["masha_files"]:
        assert not default_storage.exists(name)
    page = client.get(story.get_absolute_url()).content.decode()
    assert "She is home." in page and "The end." in page
    assert "Masha again" not in page and "The hospital garden" in page
    assert not any(u in page for u in story_with_masha["masha_urls"])
    assert 'property="og:image"' not in page or "/cards/" not in page
    assert "going home" in client.get(other.get_absolute_url()).content.decode()
    other.refresh_from_db()
    assert story_with_masha["masha_urls"][-1] not in other.body
    garden = default_storage.url(story_with_masha["garden"].renditions[0]["name"])
    assert client.get(garden).status_code == 200

    entry = LogEntry.objects.get(object_pk=str(story.pk), additional_data__action="photo consent withdrawn")
    assert entry.actor == editor_user
    assert entry.additional_data["reason"] == "Guardian's letter of March 3"
    assert len(entry.additional_data["removed"]) == 3


def test_a_gallery_photo_alone_can_be_withdrawn_and_the_story_keeps_its_main_photo(
    editor_client, client, story_with_masha, django_capture_on_commit_callbacks
):
    story, garden = story_with_masha["story"], story_with_masha["garden"]
    garden_urls = urls_of(garden)
    url = reverse("admin:stories_story_withdraw_photo", args=[story.pk])
    key = f"gallery-{garden.pk}"

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url, {"photo": key, "reason": "Asked by the gardener", "confirm": "1"})

    assert response.status_code == 302
    assert not StoryPhoto.objects.filter(pk=garden.pk).exists()
    assert all(client.get(u).status_code == 404 for u in garden_urls)
    assert all(client.get(u).status_code == 200 for u in story_with_masha["masha_urls"])


def test_a_reason_is_required_and_nothing_is_removed_without_one(editor_client, story_with_masha):
    story = story_with_masha["story"]
    url = reverse("admin:stories_story_withdraw_photo", args=[story.pk])

    response = editor_client.post(url, {"photo": "main", "reason": "", "confirm": "1"})

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    story.refresh_from_db()
    assert story.image and story.photos.count() == 2


def test_staff_who_may_not_change_stories_cannot_withdraw(finance_user, story_with_masha):
    story = story_with_masha["story"]
    url = reverse("admin:stories_story_withdraw_photo", args=[story.pk])
    finance_client = Client()
    finance_client.force_login(finance_user)
    assert finance_client.post(url, {"photo": "main", "reason": "x", "confirm": "1"}).status_code == 403
    assert Story.objects.get(pk=story.pk).image


def test_a_project_page_offers_the_withdrawal_and_any_text_that_pasted_the_image_loses_it(
    editor_client, client, make_project, django_capture_on_commit_callbacks
):
    in_text = editor_image(editor_client, seed=7)
    project = make_project(title="Nurses", slug="nurses", image=photo(7), description=f"![]({in_text})")
    Page.objects.create(title="About", slug="about", body=f"Our nurses: ![]({in_text}) and more.")
    change = editor_client.get(reverse("admin:donations_project_change", args=[project.pk])).content.decode()
    url = reverse("admin:donations_project_withdraw_photo", args=[project.pk])
    assert url in change

    with django_capture_on_commit_callbacks(execute=True):
        response = editor_client.post(url, {"photo": "main", "reason": "Nurse asked", "confirm": "1"})

    assert response.status_code == 302
    project.refresh_from_db()
    assert not project.image and not project.renditions and in_text not in project.description
    assert client.get(project.get_absolute_url()).status_code == 200
    about = Page.objects.get(slug="about")
    assert in_text not in about.body and "and more." in about.body
    assert client.get(in_text).status_code == 404
