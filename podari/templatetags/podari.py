from functools import lru_cache

from django import template
from django.core.files.storage import default_storage
from django.utils.html import format_html, format_html_join

from donations.money import format_money, format_with_cadence
from podari.markdown import typographic as _typographic

register = template.Library()


@register.filter
def money(amount_minor, currency):
    """{{ gift.amount_minor|money:gift.currency }} → $5,000"""
    if amount_minor is None:
        return ""
    return format_money(int(amount_minor), currency)


@register.simple_tag
def money_with_cadence(amount_minor, currency, monthly):
    """{% money_with_cadence gift.charged_minor gift.currency gift.is_monthly %} → $25.87 a month"""
    return format_with_cadence(int(amount_minor), currency, bool(monthly))


@register.simple_tag
def responsive_image(obj, sizes="100vw", max_width=None, css_class="", eager=False):
    """An <img> with a WebP srcset from the object's stored renditions.

    Width and height are set so the page does not shift while the picture loads.
    `max_width` picks the largest rendition the src falls back to.
    """
    if not obj.renditions:
        return ""
    renditions = tuple((r["name"], r["width"], r["height"]) for r in obj.renditions)
    return _image_tag(renditions, obj.image_alt, sizes, max_width, css_class, eager)


@lru_cache(maxsize=4096)
def _image_tag(renditions, alt, sizes, max_width, css_class, eager):
    # Cached: the same picture is drawn on many pages and the markup depends only on these.
    renditions = [{"name": n, "width": w, "height": h} for n, w, h in renditions]
    usable = [r for r in renditions if max_width is None or r["width"] <= int(max_width)] or renditions[:1]
    fallback = usable[-1]
    srcset = ", ".join(f"{default_storage.url(r['name'])} {r['width']}w" for r in usable)
    attrs = {
        "src": default_storage.url(fallback["name"]),
        "srcset": srcset,
        "sizes": sizes,
        "width": fallback["width"],
        "height": fallback["height"],
        "alt": alt,
        "loading": "eager" if eager else "lazy",
        "decoding": "async",
    }
    if eager:
        attrs["fetchpriority"] = "high"
    if css_class:
        attrs["class"] = css_class
    return format_html("<img {}>", format_html_join(" ", '{}="{}"', attrs.items()))


@register.simple_tag(takes_context=True)
def largest_rendition_url(context, obj):
    """Absolute URL of the widest rendition, for og:image (works with object storage too)."""
    renditions = obj.renditions
    if not renditions:
        return ""
    return media_url(context, renditions[-1]["name"])


@register.simple_tag(takes_context=True)
def media_url(context, name):
    """Absolute URL of a stored file (a social card), for link previews."""
    url = default_storage.url(name)
    if url.startswith(("http://", "https://")):
        return url
    return context.get("SITE_ORIGIN", "") + url


@register.filter
def typographic(text):
    """{{ story.title|typographic }}: curly quotes and real dashes in a plain-text title."""
    return _typographic(str(text or ""))
