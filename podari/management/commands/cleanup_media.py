"""`manage.py cleanup_media [--dry-run]`: bring stored pictures up to today's rules.

Earlier versions of the site kept uploads as they came (camera names, EXIF GPS and all)
and left old files behind when a picture was replaced or a story deleted. This command:

1. cleans every story and project picture not stored the current way: the original is
   decoded, stripped, turned upright and stored again under a random name, with new
   renditions (the old files are deleted once that is saved);
2. deletes every file under the picture folders that nothing refers to any more: not a
   picture, not a rendition, not an image in a story's or project's Markdown. Files less
   than an hour old are left alone: they may be an upload in an editor not yet saved.

`make run` runs it every time; it is quick when there is nothing to do.
"""

import posixpath
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from donations.models import Project
from podari.images import CARDS_DIR, RENDITIONS_DIR
from podari.models import image_files
from stories.models import Story

CLEAN_ORIGINAL = re.compile(r"images/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp)")
CLEAN_RENDITION = re.compile(rf"{RENDITIONS_DIR}/[0-9a-f]{{32}}-\d+w\.webp")
CLEAN_CARD = re.compile(rf"{CARDS_DIR}/[0-9a-f]{{32}}\.jpg")
GRACE = timedelta(hours=1)


def picture_dirs():
    return ("images/", f"{RENDITIONS_DIR}/", f"{CARDS_DIR}/", settings.MARKDOWNX_MEDIA_PATH)


def is_clean(obj):
    renditions = obj.image_renditions or {}
    items = [r["name"] for r in renditions.get("items") or []]
    card = (renditions.get("card") or {}).get("name") or ""
    return (
        bool(obj.image.name)
        and renditions.get("source") == obj.image.name
        and CLEAN_ORIGINAL.fullmatch(obj.image.name) is not None
        and bool(items)
        and all(CLEAN_RENDITION.fullmatch(name) for name in items)
        # A picture stored before social cards existed gets one.
        and (not obj.has_social_card or CLEAN_CARD.fullmatch(card) is not None)
    )


def walk(directory):
    """Every file name under a storage directory."""
    try:
        subdirs, files = default_storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in files:
        yield posixpath.join(directory, name)
    for subdir in subdirs:
        yield from walk(posixpath.join(directory, subdir))


class Command(BaseCommand):
    help = "Strip and rename pictures stored by earlier versions, and delete files nothing uses."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only say what would be done.")

    def handle(self, *args, dry_run=False, **options):
        self.dry_run = dry_run
        cleaned = self.clean_pictures()
        deleted = self.delete_orphans()
        verb = "Would clean" if dry_run else "Cleaned"
        self.stdout.write(
            f"{verb} {cleaned} picture(s); {deleted} unused file(s) {'to delete' if dry_run else 'deleted'}."
        )

    def clean_pictures(self):
        count = 0
        for model in (Story, Project):
            for obj in model.objects.only("pk", "image", "image_renditions").iterator():
                if not obj.image or is_clean(obj):
                    continue
                count += 1
                if self.dry_run:
                    self.stdout.write(f"would clean {model._meta.verbose_name} {obj.pk}: {obj.image.name}")
                    continue
                try:
                    with default_storage.open(obj.image.name, "rb") as f:
                        data = f.read()
                except OSError as error:
                    self.stderr.write(
                        f"{model._meta.verbose_name} {obj.pk}: cannot read {obj.image.name}: {error}"
                    )
                    continue
                obj = model.objects.get(pk=obj.pk)
                old_name = obj.image.name
                obj.image = ContentFile(data, name=posixpath.basename(old_name))
                try:
                    with transaction.atomic():
                        # As an upload is: cleaned, renamed, new renditions; the old files
                        # (the original too, even if no rendition recorded it) go after commit.
                        obj.save(update_fields=["image", "image_width", "image_height", "image_renditions"])
                        transaction.on_commit(lambda name=old_name: default_storage.delete(name))
                except ValidationError as error:
                    self.stderr.write(f"{model._meta.verbose_name} {obj.pk}: {old_name}: {error.messages[0]}")
                    continue
                self.stdout.write(
                    f"cleaned {model._meta.verbose_name} {obj.pk}: {old_name} -> {obj.image.name}"
                )
        return count

    def referenced(self):
        names = set()
        body_image = re.compile(re.escape(settings.MEDIA_URL) + r"([\w./-]+)")
        for model, text_field in ((Story, "body"), (Project, "description")):
            for renditions, text in model.objects.values_list("image_renditions", text_field).iterator():
                names.update(name for name in image_files(renditions) if name)
                names.update(body_image.findall(text or ""))
        return names

    def delete_orphans(self):
        referenced = self.referenced()
        cutoff = timezone.now() - GRACE
        count = 0
        for directory in picture_dirs():
            for name in walk(directory.rstrip("/")):
                if name in referenced or default_storage.get_modified_time(name) > cutoff:
                    continue
                count += 1
                self.stdout.write(f"{'would delete' if self.dry_run else 'deleted'} {name}")
                if not self.dry_run:
                    default_storage.delete(name)
        return count
