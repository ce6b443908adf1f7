"""Photo galleries on stories and projects: cleaned like hero images, with consent for children."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations.models import ProjectPhoto
from stories.models import Story, StoryPhoto
from tests.conftest import image_upload
from tests.stories.test_consent import STORY_ADD, story_form

pytestmark = pytest.mark.django_db


def with_photos(data, *photos):
    data.update({"photos-TOTAL_FORMS": str(len(photos)), "photos-INITIAL_FORMS": "0"})
    for n, photo in enumerate(photos):
        data.update({f"photos-{n}-{key}": value for key, value in photo.items()})
    return data


def photo(**fields):
    return {
        "image": image_upload("p.png", size=(320, 200)),
        "image_alt": "Masha at home",
        "position": "0",
        **fields,
    }


def test_a_gallery_photo_of_a_child_without_consent_blocks_publishing(admin_client):
    response = admin_client.post(STORY_ADD, with_photos(story_form(), photo(image_shows_child="on")))

    assert response.status_code == 200
    (formset,) = [f.formset for f in response.context["inline_admin_formsets"]]
    assert "image_guardian_consent" in formset.forms[0].errors
    assert not Story.objects.exists()


def test_with_consent_the_gallery_is_published(admin_client, client):
    data = with_photos(
        story_form(),
        photo(image_shows_child="on", image_guardian_consent="on", caption="Home at last"),
        photo(image_alt="The hospital garden", position="1"),
    )
    response = admin_client.post(STORY_ADD, data)

    assert response.status_code == 302
    story = Story.objects.get()
    html = client.get(story.get_absolute_url()).content.decode()
    gallery = re.search(r'<section class="gallery".*?</section>', html, re.S).group(0)
    assert gallery.count("<img ") == 2
    assert 'alt="Masha at home"' in gallery and "Home at last" in gallery
    assert all(p.renditions for p in StoryPhoto.objects.all())


def test_a_draft_may_keep_a_photo_while_consent_is_sought(admin_client):
    data = with_photos(story_form(status=Story.Status.DRAFT), photo(image_shows_child="on"))
    assert admin_client.post(STORY_ADD, data).status_code == 302
    assert StoryPhoto.objects.get().image_shows_child


def test_gallery_photos_are_checked_like_hero_images(admin_client):
    fake = SimpleUploadedFile("photo.jpg", b"<html>not a picture</html>", content_type="image/jpeg")
    response = admin_client.post(STORY_ADD, with_photos(story_form(), photo(image=fake)))

    assert response.status_code == 200
    (formset,) = [f.formset for f in response.context["inline_admin_formsets"]]
    assert "not an image" in str(formset.forms[0].errors["image"])


def test_more_photos_cost_no_more_queries(client, make_story, make_project):
    project = make_project()
    story = make_story(projects=[project])
    for obj, model, key in ((story, StoryPhoto, "story"), (project, ProjectPhoto, "project")):
        model.objects.create(**{key: obj}, image=image_upload("a.png", size=(64, 48)), image_alt="one")
        client.get(obj.get_absolute_url())
        with CaptureQueriesContext(connection) as few:
            client.get(obj.get_absolute_url())
        for n in range(4):
            model.objects.create(
                **{key: obj}, image=image_upload("b.png", size=(64, 48)), image_alt=f"more {n}"
            )
        with CaptureQueriesContext(connection) as many:
            html = client.get(obj.get_absolute_url()).content.decode()
        assert html.count('alt="more ') == 4
        assert len(many) == len(few)
