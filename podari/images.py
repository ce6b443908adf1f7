"""Uploaded images: checked, cleaned and renamed before anything is stored.

Stories carry photos of children. A phone photo's EXIF block can hold the GPS position of
the child's home, and its file name (IMG_0042.jpg) is easy to guess. So every upload goes
through `prepare_image()` before it is written anywhere: Pillow decodes it, the orientation
is applied, the pixels are encoded again with no metadata at all, the extension comes from
the format Pillow found, and the stored name is random. Readers only ever get renditions
(see `podari.views.media`); originals stay on the server for making new sizes later.

`prepare_image()` is the one entry point: a model field's validator, the Markdown editor's
upload and any future gallery all call it, and everything that can go wrong with a picture
is a `ValidationError` with a message for the person uploading it, never a server error.
"""

import io
import logging
import posixpath
import secrets
import warnings
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageCms, ImageOps

logger = logging.getLogger(__name__)

# Pillow's format name -> the only extension a stored file of that format may have.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
ACCEPTED_FORMATS = set(EXTENSIONS)
RENDITION_WIDTHS = (480, 960, 1600)
RENDITIONS_DIR = "renditions"
# Link previews (Open Graph, X): the size Facebook, X, WhatsApp and Telegram all show
# large, as JPEG, which every one of them reads.
CARD_SIZE = (1200, 630)
CARDS_DIR = "cards"
# WebP cannot be taller or wider than 16,383 pixels. A 1600-pixel-wide rendition of a
# picture ten times taller than wide is 16,000 pixels tall, just inside that limit.
MAX_ASPECT_RATIO = 10
WEBP_MAX_SIDE = 16383


@dataclass
class PreparedImage:
    """A cleaned picture, in memory, ready to be stored."""

    content: bytes  # upright, re-encoded, no metadata
    format: str  # "JPEG", "PNG" or "WEBP", as Pillow detected it
    width: int
    height: int
    renditions: list = field(default_factory=list)  # [(width, height, webp bytes)], smallest first

    @property
    def extension(self):
        return EXTENSIONS[self.format]


def random_name(extension):
    """A file name that tells nothing and cannot be guessed (128 random bits)."""
    return f"{secrets.token_hex(16)}.{extension}"


def _error(message, code, **params):
    return ValidationError(message, code=code, params=params or None)


def _check_size(upload):
    size = getattr(upload, "size", None)
    if size is not None and size > settings.IMAGE_UPLOAD_MAX_BYTES:
        raise _error(
            "This file is %(size)s; images may be at most %(limit)s.",
            "file_too_large",
            size=filesizeformat(size),
            limit=filesizeformat(settings.IMAGE_UPLOAD_MAX_BYTES),
        )


def _decode(upload):
    """Open, check and fully decode an upload; returns (image, format)."""
    upload.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(upload) as probe:
            image_format = probe.format
            width, height = probe.size
            if image_format not in ACCEPTED_FORMATS:
                raise _error(
                    "Images must be JPEG, PNG or WebP (this one is %(format)s).",
                    "unsupported_format",
                    format=image_format,
                )
            if width * height > settings.IMAGE_MAX_PIXELS:
                raise _error(
                    "This image is %(width)s × %(height)s pixels, too large to "
                    "process safely. Please resize it and upload it again.",
                    "too_many_pixels",
                    width=width,
                    height=height,
                )
            probe.verify()
        # verify() decodes no pixels, and a truncated JPEG passes it; load() finds out.
        upload.seek(0)
        image = Image.open(upload)
        image.load()
    return image, image_format


def _to_web_mode(image):
    """8-bit RGB, or RGBA when the picture has transparency: what every encoder accepts."""
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit greyscale: scale to 8 bits rather than clip every light pixel to white.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L").convert("RGB")
    has_alpha = image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    return image.convert("RGBA" if has_alpha else "RGB")


def _to_srgb(image, icc_profile):
    # The ICC profile is dropped with the rest of the metadata; converting the pixels to
    # sRGB first keeps a Display P3 phone photo's colours right.
    if not icc_profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except Exception:  # a broken profile: keep the pixels as they are
        return image


def _encode(image, image_format):
    buffer = io.BytesIO()
    # Nothing but pixels: no exif, icc_profile, xmp or comment is passed, and info is
    # emptied so that no encoder copies anything over from the source.
    image.info = {}
    if image_format == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=90, optimize=True)
    elif image_format == "PNG":
        image.save(buffer, "PNG")
    else:
        image.save(buffer, "WEBP", quality=90, method=4)
    return buffer.getvalue()


def rendition_sizes(width, height, widths=RENDITION_WIDTHS):
    """The (width, height) of each rendition: never upscaled, smallest first."""
    sizes = []
    for target in sorted(widths):
        target = min(target, width)
        sizes.append((target, max(1, round(height * target / width))))
        if target == width:
            break
    return sizes


def prepare_image(upload, *, rendition_widths=RENDITION_WIDTHS, max_side=None):
    """Validate an upload and return it cleaned, upright and re-encoded, with its renditions.

    Raises ValidationError with a message for people for anything wrong with the picture.
    `max_side` shrinks the stored picture itself (for images shown as they are stored).
    """
    _check_size(upload)
    try:
        image, image_format = _decode(upload)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _error(
            "This image has too many pixels to process safely. Please resize it.", "too_many_pixels"
        ) from None
    except Exception:
        raise _error(
            "This file is not an image we can read. Please upload a JPEG, PNG or WebP picture.",
            "not_an_image",
        ) from None
    finally:
        upload.seek(0)

    try:
        icc_profile = image.info.get("icc_profile")
        image = ImageOps.exif_transpose(image)
        width, height = image.size
        if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
            raise _error(
                "This image is %(width)s × %(height)s pixels: too long and thin to show on a page. "
                "Please crop it so that it is at most %(ratio)s times as long as it is wide.",
                "extreme_aspect_ratio",
                width=width,
                height=height,
                ratio=MAX_ASPECT_RATIO,
            )
        if image_format == "WEBP" and max(width, height) > WEBP_MAX_SIDE:
            raise _error("WebP images may be at most 16,383 pixels on a side.", "too_many_pixels")
        image = _to_srgb(_to_web_mode(image), icc_profile)
        if max_side and max(width, height) > max_side:
            image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            width, height = image.size
        content = _encode(image, image_format)
        renditions = []
        for size in rendition_sizes(width, height, rendition_widths):
            resized = image if size == (width, height) else image.resize(size, Image.Resampling.LANCZOS)
            renditions.append((*size, _encode(resized, "WEBP")))
    except ValidationError:
        raise
    except Exception:
        logger.exception("Could not process an uploaded image")
        raise _error(
            "This image could not be processed. Please save it again as an ordinary JPEG or PNG "
            "and upload it again.",
            "unprocessable",
        ) from None
    return PreparedImage(content, image_format, width, height, renditions)


# The prepared picture travels from the form's validation to the model's save() on the
# uploaded file object, so it is decoded once and every failure is a form error.
_PREPARED = "_podari_prepared_image"


def _raw_file(upload):
    return getattr(upload, "_file", None) or upload


def validate_image_file(upload):
    """Model-field validator: the whole of prepare_image(), so that save() cannot fail."""
    if getattr(upload, "_committed", False):
        # Already in storage, so checked when it was uploaded. Saving a story without a new
        # picture must not fetch and decode the original again (its file may be closed).
        return
    setattr(_raw_file(upload), _PREPARED, prepare_image(upload))


def prepared_from(upload):
    """The PreparedImage for an upload, from validation if it ran, else made now."""
    prepared = getattr(_raw_file(upload), _PREPARED, None)
    return prepared or prepare_image(upload)


def store_renditions(renditions):
    """Write WebP renditions under a random name of their own and describe them.

    The name shares nothing with the original's, so a rendition's address does not lead
    to the original. Returns [{"width", "height", "name"}], which a model stores.
    """
    token = secrets.token_hex(16)
    stored = []
    for width, height, data in renditions:
        name = default_storage.save(
            posixpath.join(RENDITIONS_DIR, f"{token}-{width}w.webp"), ContentFile(data)
        )
        stored.append({"width": width, "height": height, "name": name})
    return stored


def social_card(content):
    """A 1200×630 JPEG for link previews, cropped around the middle of a cleaned picture.

    `content` is a picture prepare_image() already checked and cleaned (no metadata). A
    smaller picture is enlarged: previews are only shown large at exactly this size.
    """
    with Image.open(io.BytesIO(content)) as image:
        image = _to_web_mode(image)
        if image.mode == "RGBA":
            # JPEG has no transparency: show transparent parts on white, not black.
            background = Image.new("RGB", image.size, "white")
            background.paste(image, mask=image.getchannel("A"))
            image = background
        card = ImageOps.fit(image, CARD_SIZE, Image.Resampling.LANCZOS)
    return _encode(card, "JPEG")


def store_social_card(content):
    """Make and store the social card of a cleaned picture; returns {"width", "height", "name"}."""
    name = default_storage.save(
        posixpath.join(CARDS_DIR, random_name("jpg")), ContentFile(social_card(content))
    )
    return {"width": CARD_SIZE[0], "height": CARD_SIZE[1], "name": name}


def make_social_card(field_file):
    """The social card of a picture already in storage (checked and cleaned when uploaded)."""
    if not field_file:
        return None
    field_file.open("rb")
    try:
        return store_social_card(field_file.read())
    finally:
        field_file.close()


def delete_files(names):
    for name in names:
        if name:
            try:
                default_storage.delete(name)
            except Exception:  # a missing file must not break a save; cleanup_media retries
                logger.exception("Could not delete %s", name)


def make_renditions(field_file, widths=RENDITION_WIDTHS):
    """Renditions of a picture already in storage (checked and cleaned when uploaded)."""
    if not field_file:
        return []
    field_file.open("rb")
    try:
        prepared = prepare_image(field_file, rendition_widths=widths)
    finally:
        field_file.close()
    return store_renditions(prepared.renditions)


def delete_renditions(renditions):
    delete_files(r["name"] for r in renditions or [])
