"""Uploaded images: validation with Pillow, and the resized renditions pages serve.

Originals can be many megabytes straight from a camera; donors on phones get a WebP
rendition of the width they need instead (see the `responsive_image` template tag).
"""

import io
import posixpath
import warnings

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
RENDITION_WIDTHS = (480, 960, 1600)


def validate_image_file(upload):
    """Reject non-images, oversized files and decompression bombs with a clear message."""
    if getattr(upload, "_committed", False):
        # Already in storage, so checked when it was uploaded. Saving a story without a new
        # picture must not fetch and decode the original again (its file may be closed).
        return
    size = getattr(upload, "size", None)
    if size is not None and size > settings.IMAGE_UPLOAD_MAX_BYTES:
        raise ValidationError(
            "This file is %(size)s; images may be at most %(limit)s.",
            code="file_too_large",
            params={
                "size": filesizeformat(size),
                "limit": filesizeformat(settings.IMAGE_UPLOAD_MAX_BYTES),
            },
        )
    position = upload.tell() if hasattr(upload, "tell") else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as image:
                image_format = image.format
                width, height = image.size
                if width * height > settings.IMAGE_MAX_PIXELS:
                    raise ValidationError(
                        "This image is %(width)s × %(height)s pixels, too large to "
                        "process safely. Please resize it and upload it again.",
                        code="too_many_pixels",
                        params={"width": width, "height": height},
                    )
                image.verify()
            # verify() decodes no pixels, and a truncated JPEG passes it; decoding them now
            # fails here with a clear message rather than later, while making renditions.
            upload.seek(position or 0)
            with Image.open(upload) as image:
                image.load()
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            "This image has too many pixels to process safely. Please resize it.",
            code="too_many_pixels",
        ) from None
    except Exception:
        raise ValidationError(
            "This file is not an image we can read. Please upload a JPEG, PNG or WebP picture.",
            code="not_an_image",
        ) from None
    finally:
        if position is not None:
            upload.seek(position)
    if image_format not in ACCEPTED_FORMATS:
        raise ValidationError(
            "Images must be JPEG, PNG or WebP (this one is %(format)s).",
            code="unsupported_format",
            params={"format": image_format},
        )


def make_renditions(field_file, widths=RENDITION_WIDTHS):
    """Write WebP renditions of an image next to it and describe them.

    Returns a list of {"width", "height", "name"} dicts, smallest first, that a model
    stores so pages render `srcset` without touching storage. An image narrower than a
    width gets no upscaled copy; the widest rendition is then its own width.
    """
    if not field_file:
        return []
    field_file.open("rb")
    try:
        with Image.open(field_file) as source:
            source = ImageOps.exif_transpose(source)
            source = source.convert("RGBA" if source.mode in ("RGBA", "LA", "P") else "RGB")
            base, _ = posixpath.splitext(field_file.name)
            renditions = []
            for width in sorted(widths):
                if width >= source.width:
                    width = source.width
                height = round(source.height * width / source.width)
                resized = source.resize((width, height), Image.Resampling.LANCZOS)
                buffer = io.BytesIO()
                resized.save(buffer, "WEBP", quality=80, method=4)
                name = default_storage.save(
                    f"renditions/{base}-{width}w.webp", ContentFile(buffer.getvalue())
                )
                renditions.append({"width": width, "height": height, "name": name})
                if width == source.width:
                    break
            return renditions
    finally:
        field_file.close()


def delete_renditions(renditions):
    for rendition in renditions or []:
        default_storage.delete(rendition["name"])
