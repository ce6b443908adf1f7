"""`cleanup_media` brings what earlier versions stored up to today's rules."""

import io
import os
import time

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from PIL import Image

from stories.models import Story
from tests.podari.test_images import assert_no_metadata, phone_photo


def store(name, data, *, age_hours=2):
    name = default_storage.save(name, ContentFile(data))
    then = time.time() - age_hours * 3600
    os.utime(default_storage.path(name), (then, then))
    return name


def webp():
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32)).save(buffer, "WEBP")
    return buffer.getvalue()


def legacy_story(make_story):
    """A story as the old code stored it: the camera's name, GPS and all, and guessable renditions."""
    story = make_story(body="Text with ![](/media/stories/body/used.png)")
    original = store("images/2025/05/IMG_0042.jpg", phone_photo().read())
    rendition = store("renditions/images/2025/05/IMG_0042-480w.webp", webp())
    Story.objects.filter(pk=story.pk).update(
        image=original,
        image_renditions={"source": original, "items": [{"width": 48, "height": 32, "name": rendition}]},
    )
    return story, original, rendition


def run(*args):
    out = io.StringIO()
    call_command("cleanup_media", *args, stdout=out)
    return out.getvalue()


def test_cleanup_media_cleans_old_pictures_and_deletes_what_nothing_uses(
    make_story, media_root, django_capture_on_commit_callbacks
):
    story, original, rendition = legacy_story(make_story)
    orphans = [
        store("renditions/images/2025/04/replaced-1600w.webp", webp()),
        store("images/2025/04/deleted-story.jpg", b"old"),
        store("stories/body/unused.png", b"old"),
    ]
    used_body_image = store("stories/body/used.png", b"in a story")
    fresh_upload = store("stories/body/just-uploaded.png", b"new", age_hours=0)
    before = sorted(p for p in media_root.rglob("*") if p.is_file())

    output = run("--dry-run")
    assert "IMG_0042.jpg" in output and "unused.png" in output
    assert sorted(p for p in media_root.rglob("*") if p.is_file()) == before

    with django_capture_on_commit_callbacks(execute=True):
        run()

    story.refresh_from_db()
    assert "IMG_0042" not in story.image.name
    for name in [story.image.name] + [r["name"] for r in story.renditions]:
        assert default_storage.exists(name)
        with default_storage.open(name) as f:
            assert_no_metadata(f.read())
    for name in [original, rendition, *orphans]:
        assert not default_storage.exists(name), name
    assert default_storage.exists(used_body_image)
    assert default_storage.exists(fresh_upload)

    # A second run finds nothing to do.
    assert run().startswith("Cleaned 0 picture(s); 0 unused file(s) deleted.")
