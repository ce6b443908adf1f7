"""Media that stays and media that goes: one registry of every stored file the site refers to.

`cleanup_media` (which `make run` runs every time) deletes only what nothing in the registry
refers to; a file a row stops referring to goes after commit unless something else shows it;
and the media view resolves a path before checking it against its allow-list.
"""

import io
import os
import re
import time

import pytest
from django.core.checks import run_checks
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import models
from django.test.utils import isolate_apps
from django.urls import reverse

from charity.models import Page, PageDocument
from donations.models import ProjectPhoto
from podari.media_registry import unregistered_fields
from stories.models import Story, StoryPhoto
from tests.conftest import image_upload
from tests.stories.test_consent import story_form

pytestmark = pytest.mark.django_db

XHR = {"X-Requested-With": "XMLHttpRequest"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def stored_files(media_root):
    return sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())


def age_every_file(media_root, hours=2):
    """As if `make run` ran again `hours` later: every stored file is that much older."""
    then = time.time() - hours * 3600
    for path in media_root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def cleanup_media():
    out = io.StringIO()
    call_command("cleanup_media", stdout=out)
    return out.getvalue()


def media_urls(html):
    return set(re.findall(r"/media/[\w./-]+", html))


def editor_upload(client, **kwargs):
    response = client.post("/markdownx/upload/", {"image": image_upload(**kwargs)}, headers=XHR)
    assert response.status_code == 200, response.content
    return re.fullmatch(r"!\[\]\((.+)\)", response.json()["image_code"]).group(1)


def test_every_file_and_markdown_field_of_every_model_is_in_the_media_registry():
    assert unregistered_fields() == []
    assert not [e for e in run_checks() if e.id == "podari.E002"]


@isolate_apps("podari")
def test_a_model_with_a_file_field_missing_from_the_registry_is_named():
    class ReceiptScan(models.Model):
        scan = models.FileField(upload_to="scans/")

        class Meta:
            app_label = "podari"

        def __str__(self):
            return self.scan.name

    assert unregistered_fields([ReceiptScan]) == ["podari.receiptscan.scan"]


@pytest.fixture
def site_with_every_kind_of_media(admin_client, make_story, make_project):
    """A story and a project with galleries, a page with an editor image and a PDF report."""
    project = make_project(title="Nurses", slug="nurses")
    story = make_story([project], title="Home at last", slug="home-at-last")
    picture = {"size": (320, 200)}
    StoryPhoto.objects.create(story=story, image=image_upload("g1.png", **picture), image_alt="Garden")
    ProjectPhoto.objects.create(project=project, image=image_upload("g2.png", **picture), image_alt="Ward")
    page_image = editor_upload(admin_client, size=(300, 200), color=(10, 120, 200))
    body = f"Our year.\n\n![The team]({page_image})"
    page = Page.objects.create(title="Reports", slug="reports", body=body)
    report = PageDocument(page=page, title="Annual report")
    report.file.save("report.pdf", ContentFile(PDF), save=False)
    report.save()
    return {"story": story, "project": project, "page": page, "report": report}


def test_make_run_an_hour_later_loses_no_picture_and_a_story_still_saves(
    admin_client, client, site_with_every_kind_of_media, media_root, django_capture_on_commit_callbacks
):
    story = site_with_every_kind_of_media["story"]
    page = site_with_every_kind_of_media["page"]
    project = site_with_every_kind_of_media["project"]
    before = stored_files(media_root)

    for _ in range(2):  # `make run`, then again an hour later
        age_every_file(media_root)
        with django_capture_on_commit_callbacks(execute=True):
            output = cleanup_media()
        assert "0 unused file(s) deleted" in output, output

    assert stored_files(media_root) == before
    urls = set()
    for path in (story.get_absolute_url(), project.get_absolute_url(), page.get_absolute_url()):
        html = client.get(path).content.decode()
        urls |= media_urls(html)
    assert any("/renditions/" in url for url in urls)
    assert any("/stories/body/" in url for url in urls)
    assert any("/documents/" in url for url in urls)
    for url in urls:
        assert client.get(url).status_code == 200, url

    # Saving the story (with its gallery) in the admin works as before.
    (photo,) = story.photos.all()
    data = story_form(title=story.title, slug=story.slug)
    data.pop("image")
    data.update(
        {
            "photos-TOTAL_FORMS": "1", "photos-INITIAL_FORMS": "1", "photos-0-id": str(photo.pk),
            "photos-0-story": str(story.pk), "photos-0-image_alt": "Garden", "photos-0-position": "0",
        }
    )  # fmt: skip
    response = admin_client.post(reverse("admin:stories_story_change", args=[story.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def test_the_demo_site_loses_no_picture_when_make_run_runs_again_an_hour_later(client, media_root):
    call_command("seed_demo", stdout=io.StringIO())
    before = stored_files(media_root)
    age_every_file(media_root)
    cleanup_media()
    call_command("seed_demo", stdout=io.StringIO())
    cleanup_media()

    assert stored_files(media_root) == before
    story = Story.objects.filter(photos__isnull=False).first()
    html = client.get(story.get_absolute_url()).content.decode()
    assert 'class="gallery"' in html
    for url in media_urls(html):
        assert client.get(url).status_code == 200, url


def test_files_nothing_refers_to_are_still_cleaned_up(site_with_every_kind_of_media, media_root):
    orphans = [
        default_storage.save("renditions/0123456789abcdef0123456789abcdef-480w.webp", ContentFile(b"x")),
        default_storage.save("stories/body/0123456789abcdef0123456789abcdef.png", ContentFile(b"x")),
        default_storage.save("documents/0123456789abcdef01234567.pdf", ContentFile(PDF)),
    ]
    age_every_file(media_root)

    output = cleanup_media()

    assert "3 unused file(s) deleted" in output
    assert not any(default_storage.exists(name) for name in orphans)


def test_an_image_taken_out_of_a_text_is_deleted_after_commit_unless_another_text_shows_it(
    admin_client, client, make_story, django_capture_on_commit_callbacks
):
    kept_url = editor_upload(admin_client, color=(1, 2, 3))
    gone_url = editor_upload(admin_client, color=(4, 5, 6))
    story = make_story(body=f"![]({kept_url})\n\n![]({gone_url})")
    Page.objects.create(title="About", slug="about", body=f"We also show ![]({kept_url}).")
    assert client.get(gone_url).status_code == 200

    story.body = "Both pictures are out of this story now."
    with django_capture_on_commit_callbacks(execute=True):
        story.save()

    assert client.get(gone_url).status_code == 404
    assert not default_storage.exists(gone_url.removeprefix("/media/"))
    assert client.get(kept_url).status_code == 200  # the About page still shows it


def test_a_pdf_removed_from_a_page_stops_being_public(
    admin_client, client, site_with_every_kind_of_media, django_capture_on_commit_callbacks
):
    page, report = site_with_every_kind_of_media["page"], site_with_every_kind_of_media["report"]
    url = report.file.url
    assert client.get(url).status_code == 200
    data = {
        "title": page.title, "slug": page.slug, "summary": "", "body": page.body, "position": "0",
        "show_in_footer": "on", "documents-TOTAL_FORMS": "1", "documents-INITIAL_FORMS": "1",
        "documents-0-id": str(report.pk), "documents-0-page": str(page.pk),
        "documents-0-title": report.title, "documents-0-position": "0", "documents-0-DELETE": "on",
    }  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:charity_page_change", args=[page.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert not PageDocument.objects.exists()
    assert client.get(url).status_code == 404
    assert not default_storage.exists(report.file.name)


def test_a_replaced_gallery_photo_takes_its_old_files_with_it(
    site_with_every_kind_of_media, django_capture_on_commit_callbacks
):
    (photo,) = site_with_every_kind_of_media["story"].photos.all()
    old = [photo.image.name, *(r["name"] for r in photo.renditions)]

    photo.image = image_upload("new.png", size=(200, 100))
    with django_capture_on_commit_callbacks(execute=True):
        photo.save()

    assert not any(default_storage.exists(name) for name in old)
    assert all(default_storage.exists(r["name"]) for r in photo.renditions)


@pytest.mark.parametrize(
    "template",
    [
        "renditions/../{original}",
        "stories/body/../{original}",
        "documents/../{original}",
        "renditions/./../{original}",
        "cards//../{original}",
    ],
)
def test_a_path_that_climbs_out_of_a_public_folder_reaches_no_original(client, make_story, template):
    story = make_story(image=image_upload("hero.webp", image_format="WEBP"))
    original = story.image.name
    assert default_storage.exists(original)
    assert client.get(f"/media/{story.renditions[0]['name']}").status_code == 200

    path = template.format(original=original)
    assert client.get(f"/media/{path}").status_code == 404
