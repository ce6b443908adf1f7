"""`manage.py cleanup_media [--dry-run]`: bring stored pictures up to today's rules.

Earlier versions of the site kept uploads as they came (camera names, EXIF GPS and all)
and left old files behind when a picture was replaced or a story deleted. This command:

1. cleans every story and project picture not stored the current way: the original is
   decoded, stripped, turned upright and stored again under a random name, with new
   renditions (the old files are deleted once that is saved);
2. deletes every file under the media folders that nothing refers to any more, as
   `podari.media_registry` finds references: every picture (stories, projects, their
   galleries), its renditions and social card, every image shown in a Markdown text
   (stories, projects, charity pages) and every page's PDF report. Files less than an hour
   old are left alone: they may be an upload in an editor not yet saved.

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

from podari import media_registry
from podari.images import CARDS_DIR, RENDITIONS_DIR

CLEAN_ORIGINAL = re.compile(r"images/\d{4}/\d{2}/[0-9a-f]{32}\.(jpg|png|webp)")
CLEAN_RENDITION = re.compile(rf"{RENDITIONS_DIR}/[0-9a-f]{{32}}-\d+w\.webp")
CLEAN_CARD = re.compile(rf"{CARDS_DIR}/[0-9a-f]{{32}}\.jpg")
GRACE = timedelta(hours=1)
# Names checked against the database in one round of queries.
BATCH = 100


def media_dirs():
    """The folders uploads are stored in: nothing else in storage is looked at."""
    return ("images/", f"{RENDITIONS_DIR}/", f"{CARDS_DIR}/", settings.MARKDOWNX_MEDIA_PATH, "documents/")


def picture_models():
    return sorted(
        {e.model_class for e in media_registry.REGISTRY if e.kind == media_registry.PICTURE},
        key=lambda model: model._meta.label,
    )


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
        for model in picture_models():
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
                        # (the original too) go after commit, as nothing refers to them.
                        obj.save(update_fields=["image", "image_width", "image_height", "image_renditions"])
                except ValidationError as error:
                    self.stderr.write(f"{model._meta.verbose_name} {obj.pk}: {old_name}: {error.messages[0]}")
                    continue
                self.stdout.write(
                    f"cleaned {model._meta.verbose_name} {obj.pk}: {old_name} -> {obj.image.name}"
                )
        return count

    def delete_orphans(self):
        referenced = media_registry.referenced_names()
        cutoff = timezone.now() - GRACE
        unused = [
            name
            for directory in media_dirs()
            for name in walk(directory.rstrip("/"))
            if name not in referenced and default_storage.get_modified_time(name) <= cutoff
        ]
        if self.dry_run:
            for name in unused:
                self.stdout.write(f"would delete {name}")
            return len(unused)
        # Asked again, name by name, just before deleting: a row saved since the scan counts.
        deleted = set()
        for start in range(0, len(unused), BATCH):
            deleted |= media_registry.delete_unreferenced(unused[start : start + BATCH])
        for name in sorted(deleted):
            self.stdout.write(f"deleted {name}")
        return len(deleted)
