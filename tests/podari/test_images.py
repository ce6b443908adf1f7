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
from PIL import ExifTags, Image, PngImagePlugin

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


# Privacy: what a phone photo carries never reaches storage or a reader

SECRET = "Masha lives at 55.7558N 37.6173E"


def phone_photo(image_format="JPEG", size=(300, 200), orientation=6):
    """A photo as a phone takes it: sideways pixels, an orientation tag, GPS and a description.

    The left half is red and the right half blue, so which way up it ends is visible.
    """
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.ImageDescription] = SECRET
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (55.0, 45.0, 21.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (37.0, 37.0, 2.0)
    buffer = io.BytesIO()
    options = {"exif": exif}
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", SECRET)
        options["pnginfo"] = info
    if image_format in ("JPEG", "WEBP"):
        options["xmp"] = f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{SECRET}</x:xmpmeta>'.encode()
    image.save(buffer, image_format, **options)
    data = buffer.getvalue()
    assert SECRET.encode() in data  # the test photo does carry its secrets
    with Image.open(io.BytesIO(data)) as check:
        assert check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    content_type = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}[image_format]
    return SimpleUploadedFile(f"IMG_0042.{image_format.lower()}", data, content_type=content_type)


def assert_no_metadata(data):
    assert SECRET.encode() not in data
    assert b"PhoneMaker" not in data
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
        assert ExifTags.Base.Orientation not in exif
        assert not set(image.info) & {"exif", "xmp", "XML:com.adobe.xmp", "comment", "Comment", "icc_profile"}


def stored_files(media_root):
    return [p for p in media_root.rglob("*") if p.is_file()]


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP"])
def test_no_metadata_survives_in_any_stored_or_served_file(client, make_story, media_root, image_format):
    story = make_story(image=phone_photo(image_format))
    files = stored_files(media_root)
    assert len(files) == 1 + len(story.renditions) + 1  # the original, renditions, the social card
    for path in files:
        assert_no_metadata(path.read_bytes())

    html = client.get(story.get_absolute_url()).content.decode()
    served = re.findall(r"/media/[^\s\"']+", html)
    assert served
    for url in served:
        response = client.get(url)
        assert response.status_code == 200
        assert_no_metadata(b"".join(response.streaming_content))


def test_rotated_phone_photos_come_out_upright(make_story):
    story = make_story(image=phone_photo("JPEG", size=(300, 200), orientation=6))
    # Orientation 6: the camera held sideways; shown turned 90° clockwise, 200 wide, 300 tall.
    assert (story.image_width, story.image_height) == (200, 300)
    assert [(r["width"], r["height"]) for r in story.renditions] == [(200, 300)]
    with default_storage.open(story.renditions[0]["name"]) as f, Image.open(f) as image:
        image = image.convert("RGB")
        assert image.size == (200, 300)
        red, _, blue = image.getpixel((100, 20))  # the left half turned clockwise is the top
        assert red > 200 and blue < 60
    with default_storage.open(story.image.name) as f, Image.open(f) as image:
        assert image.size == (200, 300)


def test_stored_names_are_random_and_tell_nothing(make_story):
    first = make_story(image=phone_photo())
    second = make_story(image=phone_photo())
    for story in (first, second):
        assert "IMG_0042" not in story.image.name
        assert re.fullmatch(r"images/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", story.image.name)
        token = re.search(r"[0-9a-f]{32}", story.image.name).group(0)
        for rendition in story.renditions:
            assert re.fullmatch(r"renditions/[0-9a-f]{32}-\d+w\.webp", rendition["name"])
            # A rendition's name does not lead to the original's.
            assert token not in rendition["name"]
    assert first.image.name != second.image.name


def test_originals_are_never_served(client, make_story):
    story = make_story(image=phone_photo())
    assert client.get(default_storage.url(story.renditions[-1]["name"])).status_code == 200
    assert client.get(default_storage.url(story.image.name)).status_code == 404
    # The old way to find an original from a rendition's address leads nowhere either.
    guessed = story.renditions[-1]["name"].removeprefix("renditions/").rsplit("-", 1)[0]
    for extension in ("jpg", "png", "webp"):
        assert client.get(f"/media/{guessed}.{extension}").status_code == 404
        assert client.get(f"/media/images/{guessed}.{extension}").status_code == 404


def test_the_extension_comes_from_the_content_not_the_uploaded_name(
    admin_client, client, project, media_root
):
    polyglot = encoded("PNG", size=(600, 300)) + b"<html><script>alert(1)</script></html>"
    upload = SimpleUploadedFile("poly.pdf", polyglot, content_type="application/pdf")
    response = admin_client.post(ADD_URL, story_form(project, image=upload))
    assert response.status_code == 302, response.context["adminform"].form.errors
    story = Story.objects.get()
    assert story.image.name.endswith(".png")
    for path in stored_files(media_root):
        # The social card is a JPEG made from the cleaned pixels, whatever came in.
        assert path.suffix in (".png", ".webp") or (path.parent.name == "cards" and path.suffix == ".jpg")
        assert b"<script" not in path.read_bytes()
    served = client.get(default_storage.url(story.renditions[0]["name"]))
    assert served["Content-Type"] == "image/webp"


def test_drafts_pictures_have_addresses_nobody_can_guess(client, make_story):
    # A draft's page is not found, and its pictures' names are random; nothing links them.
    draft = make_story(status=Story.Status.DRAFT, image=phone_photo())
    assert client.get(draft.get_absolute_url()).status_code == 404
    for name in [draft.image.name] + [r["name"] for r in draft.renditions]:
        assert draft.slug not in name and "IMG_0042" not in name


# Replacing and deleting removes the old files, once the change is committed


def test_deleting_a_story_deletes_its_files_after_commit(make_story, django_capture_on_commit_callbacks):
    story = make_story()
    names = [story.image.name] + [r["name"] for r in story.renditions]
    assert all(default_storage.exists(name) for name in names)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        story.delete()
    assert all(default_storage.exists(name) for name in names)  # nothing goes before the commit
    for callback in callbacks:
        callback()
    assert not any(default_storage.exists(name) for name in names)


def test_deleting_a_story_in_the_admin_deletes_its_files(
    admin_client, make_story, django_capture_on_commit_callbacks
):
    story = make_story()
    names = [story.image.name] + [r["name"] for r in story.renditions]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/stories/story/{story.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Story.objects.exists()
    assert not any(default_storage.exists(name) for name in names)


def test_deleting_a_project_deletes_its_files(make_project, django_capture_on_commit_callbacks, media_root):
    project = make_project()
    assert stored_files(media_root)
    with django_capture_on_commit_callbacks(execute=True):
        project.delete()
    assert stored_files(media_root) == []


def test_replacing_a_picture_in_code_deletes_the_old_files(make_story, django_capture_on_commit_callbacks):
    story = make_story()
    old = [story.image.name] + [r["name"] for r in story.renditions]
    with django_capture_on_commit_callbacks(execute=True):
        story.image = image_upload("new.png", size=(500, 300))
        story.save()
    assert not any(default_storage.exists(name) for name in old)
    assert default_storage.exists(story.image.name)


# Edge cases: a clear form error or a clean success, never a 500, never an orphan file


def png_of(mode, size, fill=0):
    buffer = io.BytesIO()
    Image.new(mode, size, fill).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("size", [(100_000, 4), (1, 20_000), (20_000, 1), (16_400, 1_000)])
def test_extreme_shapes_are_a_form_error(admin_client, project, media_root, size):
    before = media_files(media_root)
    upload = SimpleUploadedFile("long.png", png_of("L", size), content_type="image/png")
    response = admin_client.post(ADD_URL, story_form(project, image=upload))
    assert response.status_code == 200
    assert "too long and thin" in response.content.decode()
    assert not Story.objects.exists()
    assert media_files(media_root) == before


def rgba_png():
    return png_of("RGBA", (400, 300), (200, 0, 0, 128))


def cmyk_jpeg():
    buffer = io.BytesIO()
    Image.new("CMYK", (400, 300), (0, 255, 255, 0)).save(buffer, "JPEG")
    return buffer.getvalue()


def sixteen_bit_png():
    image = Image.frombytes("I;16", (400, 300), struct.pack("<H", 40_000) * 400 * 300)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


ODD_IMAGES = [
    # (data, the name and type the browser claims, the format really stored)
    pytest.param(rgba_png, "photo.jpg", "image/jpeg", "PNG", id="rgba-sent-as-jpeg"),
    pytest.param(cmyk_jpeg, "photo.png", "image/png", "JPEG", id="cmyk-sent-as-png"),
    pytest.param(sixteen_bit_png, "photo.png", "image/png", "PNG", id="16-bit-png"),
]


@pytest.mark.parametrize("make_data, name, content_type, stored_format", ODD_IMAGES)
def test_odd_colour_modes_are_stored_as_what_they_are(
    admin_client, project, make_data, name, content_type, stored_format
):
    upload = SimpleUploadedFile(name, make_data(), content_type=content_type)
    response = admin_client.post(ADD_URL, story_form(project, image=upload))
    assert response.status_code == 302, response.context["adminform"].form.errors
    story = Story.objects.get()
    assert story.image.name.endswith("." + {"PNG": "png", "JPEG": "jpg"}[stored_format])
    with default_storage.open(story.image.name) as f, Image.open(f) as image:
        assert image.format == stored_format
    assert_renditions_exist(story, (400, 300))


def test_a_16_bit_picture_keeps_its_tones(make_story):
    story = make_story(image=SimpleUploadedFile("grey.png", sixteen_bit_png(), content_type="image/png"))
    with default_storage.open(story.renditions[0]["name"]) as f, Image.open(f) as image:
        value = image.convert("L").getpixel((10, 10))
    assert 140 < value < 175  # 40,000 of 65,535 is mid-grey, not clipped to white


@pytest.mark.parametrize("make_data, name, content_type, stored_format", ODD_IMAGES)
def test_odd_colour_modes_upload_into_the_editor(admin_client, make_data, name, content_type, stored_format):
    upload = SimpleUploadedFile(name, make_data(), content_type=content_type)
    response = admin_client.post(UPLOAD_URL, {"image": upload}, headers=XHR)
    assert response.status_code == 200, response.content
    url = re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"]).group(1)
    with default_storage.open(url.removeprefix("/media/")) as f, Image.open(f) as image:
        assert image.format == stored_format


@pytest.mark.parametrize("size", [(100_000, 4), (1, 20_000)])
def test_editor_upload_of_an_extreme_shape_is_a_400_with_a_message(admin_client, media_root, size):
    upload = SimpleUploadedFile("long.png", png_of("L", size), content_type="image/png")
    response = admin_client.post(UPLOAD_URL, {"image": upload}, headers=XHR)
    assert response.status_code == 400
    assert "too long and thin" in response.json()["image"][0]
    assert stored_files(media_root) == []


def test_editor_upload_strips_metadata_and_renames(admin_client, media_root):
    response = admin_client.post(UPLOAD_URL, {"image": phone_photo()}, headers=XHR)
    assert response.status_code == 200
    url = re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"]).group(1)
    assert re.fullmatch(r"/media/stories/body/[0-9a-f]{32}\.jpg", url)
    (path,) = stored_files(media_root)
    assert_no_metadata(path.read_bytes())


def test_editor_upload_without_x_requested_with_is_a_400_and_stores_nothing(admin_client, media_root):
    response = admin_client.post(UPLOAD_URL, {"image": image_upload()})
    assert response.status_code == 400
    assert response.json()["image"]
    assert stored_files(media_root) == []


def test_editor_upload_with_no_file_is_a_400(admin_client):
    response = admin_client.post(UPLOAD_URL, {}, headers=XHR)
    assert response.status_code == 400
    assert response.json()["image"]


def test_markdownify_with_no_content_is_an_empty_preview(admin_client):
    response = admin_client.post(MARKDOWNIFY_URL, {})
    assert response.status_code == 200
    assert response.content == b""


def editor_upload(admin_client):
    response = admin_client.post(UPLOAD_URL, {"image": image_upload("inline.png")}, headers=XHR)
    return re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"]).group(1)


def test_deleting_a_story_deletes_the_editor_pictures_only_it_showed(
    admin_client, make_story, django_capture_on_commit_callbacks
):
    only_here, shared = editor_upload(admin_client), editor_upload(admin_client)
    story = make_story(body=f"![a]({only_here})\n\n![b]({shared})")
    make_story(body=f"Also here: ![b]({shared})")
    with django_capture_on_commit_callbacks(execute=True):
        story.delete()
    assert not default_storage.exists(only_here.removeprefix("/media/"))
    assert default_storage.exists(shared.removeprefix("/media/"))
