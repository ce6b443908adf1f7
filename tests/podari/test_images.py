"""Uploaded pictures: only real JPEG, PNG and WebP images get in, and pages serve resized WebP copies."""

import io
import json
import os
import re
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from podari.images import validate_image_file
from stories.models import Story
from tests.conftest import image_upload

ADD_URL = "/admin/stories/story/add/"
UPLOAD_URL = "/markdownx/upload/"
MARKDOWNIFY_URL = "/markdownx/markdownify/"
XHR = {"X-Requested-With": "XMLHttpRequest"}


def encoded(image_format, size=(300, 200), noise=False):
    """The bytes of a picture; noisy pixels so that cutting the file short cuts its pixel data."""
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        image = Image.new("RGB", size, (30, 120, 200))
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def png_claiming(width, height):
    """A tiny PNG whose header claims the given dimensions: a decompression bomb's calling card."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def rejection(data, name="picture.png"):
    with pytest.raises(ValidationError) as excinfo:
        validate_image_file(SimpleUploadedFile(name, data))
    return excinfo.value


def media_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# validate_image_file


def test_rejects_a_text_file_named_png():
    error = rejection(b"This is a letter, not a picture.\n" * 20)
    assert error.code == "not_an_image"
    assert "JPEG, PNG or WebP" in error.messages[0]


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_rejects_a_truncated_image(image_format):
    data = encoded(image_format, noise=True)
    error = rejection(data[: len(data) // 2], name=f"cut.{image_format.lower()}")
    assert error.code == "not_an_image"


def test_rejects_a_file_over_the_size_limit(settings):
    settings.IMAGE_UPLOAD_MAX_BYTES = 1000
    data = encoded("PNG", noise=True)
    assert len(data) > 1000
    error = rejection(data)
    assert error.code == "file_too_large"
    assert "1000\xa0bytes" in error.messages[0]


def test_rejects_an_image_with_more_pixels_than_allowed(settings):
    settings.IMAGE_MAX_PIXELS = 300 * 200 - 1
    error = rejection(encoded("PNG", size=(300, 200)))
    assert error.code == "too_many_pixels"
    assert "300 × 200" in error.messages[0]


def test_rejects_a_decompression_bomb_header():
    error = rejection(png_claiming(100_000, 100_000))
    assert error.code == "too_many_pixels"


@pytest.mark.parametrize("image_format", ["GIF", "BMP", "TIFF"])
def test_rejects_formats_other_than_jpeg_png_webp(image_format):
    error = rejection(encoded(image_format), name=f"picture.{image_format.lower()}")
    assert error.code == "unsupported_format"
    assert image_format in error.messages[0]


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_accepts_jpeg_png_and_webp(image_format):
    upload = image_upload(f"picture.{image_format.lower()}", image_format=image_format)
    validate_image_file(upload)
    # The file is left where it was, ready to be saved.
    assert upload.tell() == 0
    assert upload.read() == upload.file.getvalue()


# Through the admin


def story_form(project, **overrides):
    when = timezone.localtime(timezone.now() - timezone.timedelta(hours=1))
    data = {
        "title": "Masha goes home",
        "slug": "masha-goes-home",
        "summary": "After CAR-T therapy, Masha is home.",
        "author_name": "Podari.Life team",
        "image_alt": "Masha at the hospital door",
        "body": "Masha went **home** today.",
        "status": Story.Status.PUBLISHED,
        "publish_at_0": when.strftime("%Y-%m-%d"),
        "publish_at_1": when.strftime("%H:%M:%S"),
        "projects": [project.pk],
    }
    data.update(overrides)
    return data


def test_admin_add_form_has_the_fields_the_tests_post(admin_client):
    html = admin_client.get(ADD_URL).content.decode()
    names = set(re.findall(r'name="([^"]+)"', html))
    assert {"title", "slug", "summary", "image", "image_alt", "body", "status", "projects"} <= names
    assert {"publish_at_0", "publish_at_1"} <= names
    assert 'enctype="multipart/form-data"' in html


def test_admin_rejects_a_non_image_and_saves_nothing(admin_client, project, media_root):
    before = media_files(media_root)
    fake = SimpleUploadedFile("masha.png", b"not a picture at all", content_type="image/png")
    response = admin_client.post(ADD_URL, story_form(project, image=fake))
    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert "image" in errors
    assert "image" in response.content.decode().lower()
    assert "errornote" in response.content.decode()
    assert not Story.objects.exists()
    assert media_files(media_root) == before


def test_admin_rejects_a_gif_with_a_clear_message(admin_client, project):
    gif = SimpleUploadedFile("masha.gif", encoded("GIF"), content_type="image/gif")
    response = admin_client.post(ADD_URL, story_form(project, image=gif))
    assert response.status_code == 200
    assert "Images must be JPEG, PNG or WebP" in response.content.decode()
    assert not Story.objects.exists()


def test_admin_rejects_a_truncated_jpeg_without_an_error_page(admin_client, project):
    data = encoded("JPEG", size=(600, 400), noise=True)
    cut = SimpleUploadedFile("masha.jpg", data[: len(data) // 2], content_type="image/jpeg")
    response = admin_client.post(ADD_URL, story_form(project, image=cut))
    assert response.status_code == 200
    assert "not an image we can read" in response.content.decode()
    assert not Story.objects.exists()


def assert_renditions_exist(story, source_size):
    renditions = story.renditions
    assert renditions, "no renditions were made"
    assert [r["width"] for r in renditions] == sorted(r["width"] for r in renditions)
    for rendition in renditions:
        assert rendition["width"] <= 1600
        assert rendition["name"].endswith(".webp")
        assert default_storage.exists(rendition["name"])
        with default_storage.open(rendition["name"]) as f, Image.open(f) as image:
            assert image.format == "WEBP"
            assert image.size == (rendition["width"], rendition["height"])
        # The shape of the original is kept.
        expected_height = round(source_size[1] * rendition["width"] / source_size[0])
        assert rendition["height"] == expected_height


def test_admin_saves_a_valid_image_and_makes_renditions(admin_client, project):
    upload = image_upload("masha.jpg", size=(2000, 1000), image_format="JPEG")
    response = admin_client.post(ADD_URL, story_form(project, image=upload))
    assert response.status_code == 302, response.context["adminform"].form.errors
    story = Story.objects.get()
    assert list(story.projects.all()) == [project]
    assert (story.image_width, story.image_height) == (2000, 1000)
    assert [(r["width"], r["height"]) for r in story.renditions] == [(480, 240), (960, 480), (1600, 800)]
    assert_renditions_exist(story, (2000, 1000))
    assert story.image_renditions["source"] == story.image.name


def test_a_small_image_is_never_upscaled(make_story):
    story = make_story(image=image_upload("small.png", size=(600, 300)))
    assert [(r["width"], r["height"]) for r in story.renditions] == [(480, 240), (600, 300)]
    assert_renditions_exist(story, (600, 300))


def change_url(story):
    return f"/admin/stories/story/{story.pk}/change/"


def test_replacing_the_image_regenerates_renditions_and_deletes_the_old_ones(
    admin_client, project, make_story, django_capture_on_commit_callbacks
):
    story = make_story(title="Masha goes home", slug="masha-goes-home", projects=[project])
    old = [r["name"] for r in story.renditions] + [story.image.name]
    assert all(default_storage.exists(name) for name in old)

    new_image = image_upload("masha-new.png", size=(1000, 500), color=(10, 200, 10))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(change_url(story), story_form(project, image=new_image))
    assert response.status_code == 302, response.context["adminform"].form.errors

    story.refresh_from_db()
    assert story.image.name not in old and story.image.name.endswith(".png")
    assert story.image_renditions["source"] == story.image.name
    assert [(r["width"], r["height"]) for r in story.renditions] == [(480, 240), (960, 480), (1000, 500)]
    assert_renditions_exist(story, (1000, 500))
    assert not any(default_storage.exists(name) for name in old)
    assert not set(old) & {r["name"] for r in story.renditions}


def test_saving_without_a_new_image_keeps_the_renditions(admin_client, project, make_story):
    story = make_story(title="Masha goes home", slug="masha-goes-home", projects=[project])
    before = story.image_renditions
    response = admin_client.post(change_url(story), story_form(project, title="Masha is home"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    story.refresh_from_db()
    assert story.title == "Masha is home"
    assert story.image_renditions == before
    assert all(default_storage.exists(r["name"]) for r in story.renditions)


def test_story_page_serves_renditions_not_the_original(client, make_story):
    story = make_story(image=image_upload("masha.png", size=(2000, 1000)))
    response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()

    srcsets = re.findall(r'srcset="([^"]+)"', html)
    assert srcsets, "the story picture has no srcset"
    descriptors = [c.strip() for c in srcsets[0].split(",")]
    assert all(re.fullmatch(r"\S+ \d+w", c) for c in descriptors), srcsets[0]
    assert {default_storage.url(r["name"]) for r in story.renditions} <= {c.split()[0] for c in descriptors}
    img = re.search(r"<img[^>]*srcset=[^>]*>", html).group(0)
    assert re.search(r'width="\d+"', img) and re.search(r'height="\d+"', img)
    assert story.image.url not in html
    assert story.image.name not in html


# django-markdownx's endpoints: staff only, and our checks in front


def test_body_image_upload_needs_staff(client, django_user_model):
    response = client.post(UPLOAD_URL, {"image": image_upload()}, headers=XHR)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")

    member = django_user_model.objects.create_user("reader", password="x")
    client.force_login(member)
    response = client.post(UPLOAD_URL, {"image": image_upload()}, headers=XHR)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_upload_a_body_image(admin_client):
    response = admin_client.post(UPLOAD_URL, {"image": image_upload("inline.png")}, headers=XHR)
    assert response.status_code == 200
    code = response.json()["image_code"]
    match = re.fullmatch(r"!\[\]\((/media/stories/body/[\w-]+\.png)\)", code)
    assert match, code
    name = match.group(1).removeprefix("/media/")
    assert default_storage.exists(name)
    with default_storage.open(name) as f, Image.open(f) as image:
        assert image.format == "PNG"


@pytest.mark.parametrize(
    "name, content_type, served_as",
    [
        ("page.html", "image/png", "image/png"),
        ("script.svg", "image/png", "image/png"),
        ("photo.png", "image/jpeg", "image/jpeg"),
        ("noextension", "image/webp", "image/webp"),
    ],
)
def test_body_images_are_served_as_images_whatever_their_uploaded_name(
    admin_client, client, name, content_type, served_as
):
    image_format = content_type.split("/")[1].upper()
    upload = SimpleUploadedFile(name, encoded(image_format), content_type=content_type)
    response = admin_client.post(UPLOAD_URL, {"image": upload}, headers=XHR)
    assert response.status_code == 200
    url = re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"]).group(1)

    served = client.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == served_as
    with Image.open(io.BytesIO(b"".join(served.streaming_content))) as image:
        assert image.format == image_format


@pytest.mark.parametrize(
    "data, name",
    [
        (b"<html><script>alert(1)</script></html>", "evil.png"),
        (encoded("JPEG", size=(600, 400), noise=True)[:3000], "cut.png"),
    ],
)
def test_staff_upload_of_a_non_image_is_refused_with_400(admin_client, media_root, data, name):
    before = media_files(media_root)
    upload = SimpleUploadedFile(name, data, content_type="image/png")
    response = admin_client.post(UPLOAD_URL, {"image": upload}, headers=XHR)
    assert response.status_code == 400
    errors = json.loads(response.content)
    assert "not an image we can read" in json.dumps(errors)
    assert media_files(media_root) == before


def test_staff_upload_of_a_gif_is_refused_with_400(admin_client):
    upload = SimpleUploadedFile("anim.gif", encoded("GIF"), content_type="image/gif")
    response = admin_client.post(UPLOAD_URL, {"image": upload}, headers=XHR)
    assert response.status_code == 400
    assert response.json()


def test_markdownify_preview_needs_staff(client):
    response = client.post(MARKDOWNIFY_URL, {"content": "**hi**"})
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_markdownify_preview_is_sanitised(admin_client):
    response = admin_client.post(
        MARKDOWNIFY_URL, {"content": "**hi** <script>alert(1)</script> [x](javascript:alert(2))"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>hi</strong>" in html
    assert "<script" not in html
    assert "alert" not in html
