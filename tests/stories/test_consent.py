"""A photo that shows a child goes public only once staff confirm a guardian's consent."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from donations.models import Project
from stories.models import Story
from tests.conftest import image_upload

pytestmark = pytest.mark.django_db

STORY_ADD = "/admin/stories/story/add/"


def story_form(**fields):
    when = timezone.localtime() + timezone.timedelta(**fields.pop("in_future", {"days": 0}))
    data = {
        "title": "Masha goes home",
        "slug": "masha-goes-home",
        "summary": "After six weeks in hospital, Masha is home.",
        "author_name": "Podari.Life team",
        "image": image_upload("masha.png", size=(320, 200)),
        "image_alt": "Masha, smiling, with her mother",
        "body": "She is home.",
        "status": Story.Status.PUBLISHED,
        "publish_at_0": when.strftime("%Y-%m-%d"),
        "publish_at_1": when.strftime("%H:%M:%S"),
    }
    for key, value in fields.items():
        if value is True:
            data[key] = "on"
        elif value is not False:
            data[key] = value
    return data


def test_publishing_a_child_photo_without_consent_is_refused(admin_client):
    response = admin_client.post(STORY_ADD, story_form(image_shows_child=True))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "consent" in errors["image_guardian_consent"][0]
    assert not Story.objects.exists()


def test_scheduling_a_child_photo_without_consent_is_refused_too(admin_client):
    response = admin_client.post(STORY_ADD, story_form(image_shows_child=True, in_future={"days": 3}))

    assert response.status_code == 200
    assert "image_guardian_consent" in response.context["adminform"].form.errors
    assert not Story.objects.exists()


def test_a_draft_may_wait_for_consent(admin_client):
    response = admin_client.post(STORY_ADD, story_form(image_shows_child=True, status=Story.Status.DRAFT))

    assert response.status_code == 302
    assert Story.objects.get().status == Story.Status.DRAFT


def test_with_consent_on_file_the_story_is_published(admin_client, client):
    response = admin_client.post(STORY_ADD, story_form(image_shows_child=True, image_guardian_consent=True))

    assert response.status_code == 302
    story = Story.objects.get()
    assert story.is_public
    assert client.get(story.get_absolute_url()).status_code == 200


def test_the_model_refuses_it_outside_the_admin(make_story):
    story = make_story(status=Story.Status.DRAFT, image_shows_child=True)
    story.status = Story.Status.PUBLISHED
    with pytest.raises(ValidationError) as refused:
        story.full_clean()
    assert "image_guardian_consent" in refused.value.message_dict


def test_a_project_photo_of_a_child_needs_consent_at_once(make_project):
    # Projects are public as soon as they exist: there is no draft to wait in.
    project = make_project(image_shows_child=True)
    with pytest.raises(ValidationError) as refused:
        project.full_clean()
    assert "image_guardian_consent" in refused.value.message_dict

    project.image_guardian_consent = True
    project.full_clean()
    assert Project.objects.filter(pk=project.pk).exists()


def test_a_pull_quote_names_its_speaker(make_story):
    story = make_story(quote="We are home.")
    with pytest.raises(ValidationError) as refused:
        story.full_clean()
    assert "quote_name" in refused.value.message_dict
