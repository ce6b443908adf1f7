"""Withdrawing consent for a photo: it leaves the page at once, with every copy and file of it.

A guardian who withdraws consent for a child's photo means the picture, wherever it shows:
a story's or project's main photo (its renditions and its social card), its gallery, and
images dropped into its text. Staff pick one picture of a story or project; every picture of
that story or project that is the same photo (the same picture resized or stored again) is
found by comparing small greyscale copies, shown to staff, and on confirmation removed in
one transaction: the main photo is cleared, gallery rows are deleted, and the image is taken
out of every Markdown text on the site that shows one of its files. The files themselves
then go after commit (podari.media_registry), and an audit entry records who withdrew which
pictures and why.
"""

import logging
import re
from dataclasses import dataclass, field

from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from podari import media_registry

logger = logging.getLogger(__name__)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")

MAIN = "main"
GALLERY = "gallery"
TEXT = "text"

# Two pictures are the same photo when their 16×16 greyscale copies differ by at most this
# much on average (of 255) and their shapes agree within 2%: a re-encoded or resized copy
# differs by 1–3, another photo by dozens.
FINGERPRINT_SIZE = 16
SAME_PHOTO_MAX_DIFFERENCE = 6
SAME_SHAPE_TOLERANCE = 0.02


@dataclass
class Picture:
    """One picture on a story or project page, as staff see it in the withdrawal form."""

    key: str  # "main", "gallery-<pk>" or "text-<name>"
    kind: str
    label: str
    names: set  # the stored files behind it
    source: str  # the stored file compared to find copies
    preview_url: str = ""
    row: object = field(default=None, repr=False)


def markdown_fields(owner):
    return [e.field for e in media_registry.entries_for(type(owner)) if e.kind == media_registry.MARKDOWN]


def pictures_of(owner):
    """Every picture of a story or project: its main photo, its gallery, images in its text."""
    pictures = []
    if owner.image:
        pictures.append(
            Picture(
                key=MAIN,
                kind=MAIN,
                label=f"Main photo: {owner.image_alt}",
                names=media_registry.picture_names(owner.image.name, owner.image_renditions),
                source=owner.image.name,
                preview_url=_preview(owner),
                row=owner,
            )
        )
    for photo in owner.photos.all():
        pictures.append(
            Picture(
                key=f"gallery-{photo.pk}",
                kind=GALLERY,
                label=f"Gallery photo: {photo}",
                names=media_registry.picture_names(photo.image.name, photo.image_renditions),
                source=photo.image.name,
                preview_url=_preview(photo),
                row=photo,
            )
        )
    in_text = set()
    for name in markdown_fields(owner):
        in_text |= media_registry.names_in_text(getattr(owner, name))
    for name in sorted(n for n in in_text if n.lower().endswith(IMAGE_EXTENSIONS)):
        pictures.append(
            Picture(
                key=f"text-{name}",
                kind=TEXT,
                label=f"Image in the text: {name.rsplit('/', 1)[-1]}",
                names={name},
                source=name,
                preview_url=default_storage.url(name),
            )
        )
    return pictures


def _preview(obj):
    renditions = obj.renditions
    return default_storage.url(renditions[0]["name"]) if renditions else ""


def fingerprint(name):
    """(width / height, 16×16 grey pixels) of a stored picture, or None if it cannot be read."""
    try:
        with default_storage.open(name, "rb") as f, Image.open(f) as image:
            ratio = image.width / image.height
            small = image.convert("L").resize((FINGERPRINT_SIZE, FINGERPRINT_SIZE), Image.Resampling.BOX)
            return ratio, list(small.tobytes())
    except Exception:
        logger.warning("Could not read %s to compare it", name, exc_info=True)
        return None


def same_photo(a, b):
    if a is None or b is None:
        return False
    (ratio_a, pixels_a), (ratio_b, pixels_b) = a, b
    if abs(ratio_a - ratio_b) > SAME_SHAPE_TOLERANCE * max(ratio_a, ratio_b):
        return False
    difference = sum(abs(x - y) for x, y in zip(pixels_a, pixels_b, strict=True)) / len(pixels_a)
    return difference <= SAME_PHOTO_MAX_DIFFERENCE


def copies_of(owner, key):
    """The picture chosen by `key` and every other picture of the owner that is the same photo."""
    pictures = pictures_of(owner)
    chosen = next((p for p in pictures if p.key == key), None)
    if chosen is None:
        return []
    target = fingerprint(chosen.source)
    return [p for p in pictures if p is chosen or same_photo(target, fingerprint(p.source))]


def _urls(name):
    return [prefix + name for prefix in media_registry._media_url_prefixes()]


def strip_from_text(text, names):
    """The text without any image (Markdown or HTML) showing one of these files, and without
    any other mention of their URLs."""
    for name in names:
        for url in _urls(name):
            quoted = re.escape(url)
            text = re.sub(rf"!\[[^\]\n]*\]\(\s*<?{quoted}>?(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)", "", text)
            text = re.sub(rf"<img\b[^>]*?{quoted}[^>]*>", "", text, flags=re.IGNORECASE)
            text = text.replace(url, "")
    return text


def withdraw(owner, pictures, *, by, reason):
    """Remove these pictures of `owner` everywhere, in one transaction; returns the files
    that will go after commit (unless some other row still shows one)."""
    from auditlog.models import LogEntry

    names = set().union(*(p.names for p in pictures)) if pictures else set()
    urls = {url for name in names for url in _urls(name)}
    with transaction.atomic():
        for picture in pictures:
            if picture.kind == GALLERY:
                picture.row.delete()  # its files go after commit
        # The owner in one save: its main photo cleared, its own texts without the image.
        if any(p.kind == MAIN for p in pictures):
            owner.image, owner.image_renditions = "", {}
        for name in markdown_fields(owner):
            setattr(owner, name, strip_from_text(getattr(owner, name), names))
        owner.save()
        # Any other text on the site that shows one of the files (an image pasted elsewhere).
        for entry in media_registry.REGISTRY:
            if entry.kind != media_registry.MARKDOWN or not urls:
                continue
            rows = entry.model_class._base_manager.filter(media_registry._any_contains(entry.field, urls))
            if isinstance(owner, entry.model_class):
                rows = rows.exclude(pk=owner.pk)
            for row in rows:
                setattr(row, entry.field, strip_from_text(getattr(row, entry.field), names))
                row.save()  # renders the text again; the files it stopped showing go after commit
        LogEntry.objects.log_create(
            owner,
            force_log=True,
            action=LogEntry.Action.UPDATE,
            actor=by,
            changes={"photo consent": ["given", "withdrawn"]},
            additional_data={
                "action": "photo consent withdrawn",
                "reason": reason,
                "removed": [p.label for p in pictures],
                "files": sorted(names),
            },
        )
    return names
