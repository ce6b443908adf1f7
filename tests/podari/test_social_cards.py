"""Each story and project has a 1200 × 630 picture for link previews, made on save."""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.conftest import image_upload

pytestmark = pytest.mark.django_db


def card_image(obj):
    with default_storage.open(obj.social_card["name"]) as f:
        image = Image.open(io.BytesIO(f.read()))
        image.load()
    return image


@pytest.mark.parametrize("size", [(3000, 2000), (800, 1200), (320, 200)])
def test_the_card_is_1200_by_630_whatever_the_picture(make_story, size):
    story = make_story(image=image_upload("wide.png", size=size, color=(200, 90, 90)))

    card = card_image(story)

    assert (card.format, card.size) == ("JPEG", (1200, 630))
    assert story.social_card == {"width": 1200, "height": 630, "name": story.social_card["name"]}
    red, green, blue = card.getpixel((600, 315))
    assert red > 180 and green < 120 and blue < 120  # the picture itself, not a blank frame


def test_projects_have_cards_and_their_pages_name_them(client, make_project):
    project = make_project(image=image_upload("project.jpg", size=(1600, 900), image_format="JPEG"))

    html = client.get(project.get_absolute_url()).content.decode()

    url = default_storage.url(project.social_card["name"])
    assert f'<meta property="og:image" content="http://testserver{url}">' in html
    assert '<meta property="og:image:width" content="1200">' in html
    assert '<meta property="og:image:height" content="630">' in html
    assert f'<meta name="twitter:image" content="http://testserver{url}">' in html
    assert card_image(project).size == (1200, 630)


def test_a_new_picture_replaces_the_card(make_story, django_capture_on_commit_callbacks):
    story = make_story()
    old = story.social_card["name"]

    with django_capture_on_commit_callbacks(execute=True):
        story.image = image_upload("new.png", size=(640, 480), color=(20, 120, 200))
        story.save()

    assert story.social_card["name"] != old
    assert not default_storage.exists(old)
    assert card_image(story).getpixel((600, 315))[2] > 150


def test_a_transparent_picture_gets_a_white_background(make_story):
    buffer = io.BytesIO()
    Image.new("RGBA", (400, 300), (0, 0, 0, 0)).save(buffer, "PNG")
    story = make_story(image=SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png"))
    assert card_image(story).getpixel((600, 315)) == (255, 255, 255)
