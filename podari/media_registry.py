"""Every stored file the site's records refer to, in one registry, and the one way files go.

A file in storage is kept while any row refers to it, through one of three kinds of field:

- a picture (`ImageWithRenditions.image`): the cleaned original, its WebP renditions and
  its social card, all named in the row (`image` and `image_renditions`);
- a plain file field (a page's PDF report);
- a Markdown text that shows media by URL (an image dropped into the editor).

`REGISTRY` lists every such field of every model. `unregistered_fields()` finds any file
or Markdown field that is not listed (a system check and a test fail on it), so a new
model with an upload cannot be forgotten by the clean-up. Deleting is the riskiest
write: files go only through `delete_unreferenced()`, which asks the database, through
this registry, whether anything still refers to each name, and only after the
transaction that stopped referring to it has committed.

Rows of registered models are watched (see `connect()`): a file a row stops referring to
(a picture replaced, an image taken out of a text, a PDF removed from a page, a row
deleted) is deleted after commit unless another row still refers to it.
"""

import logging
import posixpath
import re
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.apps import apps
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models.functions import Cast
from django.db.models.signals import post_delete, post_save, pre_save

logger = logging.getLogger(__name__)

PICTURE = "picture"
FILE = "file"
MARKDOWN = "markdown"


@dataclass(frozen=True)
class Entry:
    model: str  # app label and model name, lower case: "stories.story"
    field: str
    kind: str

    @property
    def model_class(self):
        return apps.get_model(self.model)


REGISTRY = (
    Entry("stories.story", "image", PICTURE),
    Entry("stories.story", "body", MARKDOWN),
    Entry("stories.storyphoto", "image", PICTURE),
    Entry("donations.project", "image", PICTURE),
    Entry("donations.project", "description", MARKDOWN),
    Entry("donations.projectphoto", "image", PICTURE),
    Entry("charity.page", "body", MARKDOWN),
    Entry("charity.pagedocument", "file", FILE),
    Entry("fundraisers.fundraiser", "image", PICTURE),
    Entry("fundraisers.fundraiser", "story", MARKDOWN),
    Entry("charity.financialreport", "file", FILE),
    Entry("charity.charity", "money_path", MARKDOWN),
)

# Text fields that are not Markdown shown as HTML, though their class would suggest it.
NOT_MARKDOWN = frozenset()


def entries_for(model):
    label = model._meta.label_lower
    concrete = model._meta.concrete_model._meta.label_lower
    return [entry for entry in REGISTRY if entry.model in (label, concrete)]


def registered_models():
    return {entry.model_class for entry in REGISTRY}


def unregistered_fields(models_to_check=None):
    """Every file, image or Markdown field of an installed model that REGISTRY does not list,
    as "app.model.field" strings. Empty when the registry is complete."""
    from markdownx.models import MarkdownxField

    registered = {(entry.model, entry.field) for entry in REGISTRY}
    missing = []
    for model in models_to_check or apps.get_models():
        if model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.FileField | MarkdownxField):
                continue
            key = (model._meta.label_lower, field.name)
            if key not in registered and key not in NOT_MARKDOWN:
                missing.append(".".join(key))
    return missing


# What a row refers to


def _media_url_prefixes():
    """The URL prefixes under which stored files are linked from texts: MEDIA_URL, and the
    storage's own address (a bucket or CDN) when it differs."""
    prefixes = {settings.MEDIA_URL}
    try:
        prefixes.add(default_storage.url("x").removesuffix("x"))
    except Exception:  # a storage that cannot name URLs links nothing from texts
        logger.debug("The storage names no URLs", exc_info=True)
    return sorted(p for p in prefixes if p)


def names_in_text(text):
    """The stored files a Markdown text shows by URL (normalised storage names)."""
    if not text:
        return set()
    prefixes = "|".join(re.escape(p) for p in _media_url_prefixes())
    names = set()
    for raw in re.findall(rf"(?:{prefixes})([\w./%-]+)", text):
        name = normalise(raw.rstrip("."))
        if name:
            names.add(name)
    return names


def normalise(name):
    """A storage name with `.`, `..` and doubled slashes resolved; "" for one that leaves the
    storage's root. The media view checks its allow-list against this, never the raw path."""
    if not name or "\\" in name or "\0" in name:
        return ""
    resolved = posixpath.normpath(name).lstrip("/")
    if resolved in (".", "") or resolved == ".." or resolved.startswith("../"):
        return ""
    return resolved


def picture_names(image_name, image_renditions):
    """Every stored file behind one picture: its original, its renditions and its card."""
    image_renditions = image_renditions or {}
    card = image_renditions.get("card") or {}
    names = {image_name, image_renditions.get("source"), card.get("name")}
    names.update(r.get("name") for r in image_renditions.get("items") or [])
    return {name for name in names if name}


def entry_names(entry, instance):
    value = getattr(instance, entry.field)
    if entry.kind == PICTURE:
        renditions = getattr(instance, f"{entry.field}_renditions", None)
        return picture_names(value.name if value else "", renditions)
    if entry.kind == FILE:
        return {value.name} if value else set()
    return names_in_text(value)


def row_names(instance):
    """Every stored file one row refers to, through all of its registered fields."""
    names = set()
    for entry in entries_for(type(instance)):
        names |= entry_names(entry, instance)
    return names


def referenced_names():
    """Every stored file any row refers to (a full scan: for `cleanup_media`)."""
    names = set()
    for entry in REGISTRY:
        model = entry.model_class
        fields = [entry.field] + ([f"{entry.field}_renditions"] if entry.kind == PICTURE else [])
        for instance in model._base_manager.only("pk", *fields).iterator(chunk_size=500):
            names |= entry_names(entry, instance)
    return names


def still_referenced(names):
    """Those of `names` that some row refers to: one query per registered field, matching
    rows only. The match is on the name anywhere in the field's text, so it errs on the side
    of keeping a file."""
    names = {name for name in names if name}
    if not names:
        return set()
    found = set()
    for entry in REGISTRY:
        model = entry.model_class
        rows = model._base_manager.all()
        if entry.kind == PICTURE:
            rows = rows.annotate(_renditions_text=Cast(f"{entry.field}_renditions", models.TextField()))
            condition = Q_in(entry.field, names) | _any_contains("_renditions_text", names)
            rows = rows.filter(condition).only("pk", entry.field, f"{entry.field}_renditions")
        elif entry.kind == FILE:
            rows = rows.filter(Q_in(entry.field, names)).only("pk", entry.field)
        else:
            rows = rows.filter(_any_contains(entry.field, names)).only("pk", entry.field)
            # A text that merely mentions the name keeps the file too.
            for instance in rows:
                text = getattr(instance, entry.field) or ""
                found |= {name for name in names if name in text}
            continue
        for instance in rows:
            found |= entry_names(entry, instance) & names
    return found


def Q_in(field, names):  # noqa: N802 (reads like the Q it builds)
    return models.Q(**{f"{field}__in": sorted(names)})


def _any_contains(field, names):
    return reduce(or_, (models.Q(**{f"{field}__contains": name}) for name in sorted(names)))


def delete_unreferenced(names):
    """Delete those of `names` that no row refers to; returns the names deleted.

    Called after commit (see delete_unreferenced_after_commit): the rows that stopped
    referring to a file are saved, so the database answers for them."""
    names = {name for name in names if name}
    if not names:
        return set()
    doomed = names - still_referenced(names)
    for name in sorted(doomed):
        try:
            default_storage.delete(name)
        except Exception:  # a file already gone must not break a save; cleanup_media retries
            logger.exception("Could not delete %s", name)
    return doomed


def delete_unreferenced_after_commit(names):
    names = {name for name in names if name}
    if names:
        transaction.on_commit(lambda: delete_unreferenced(names))


# Watching the registered models


def _remember_before(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        return
    before = sender._base_manager.filter(pk=instance.pk).first()
    instance._media_before = row_names(before) if before is not None else set()


def _forget_removed(sender, instance, raw=False, **kwargs):
    before = instance.__dict__.pop("_media_before", None)
    if raw or not before:
        return
    delete_unreferenced_after_commit(before - row_names(instance))


def _forget_deleted(sender, instance, **kwargs):
    delete_unreferenced_after_commit(row_names(instance))


def connect():
    """Watch every registered model: files its rows stop referring to go after commit."""
    for model in registered_models():
        uid = f"media-registry-{model._meta.label_lower}"
        pre_save.connect(_remember_before, sender=model, dispatch_uid=f"{uid}-before")
        post_save.connect(_forget_removed, sender=model, dispatch_uid=f"{uid}-after")
        post_delete.connect(_forget_deleted, sender=model, dispatch_uid=f"{uid}-deleted")
