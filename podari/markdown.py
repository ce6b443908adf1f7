"""Markdown to safe HTML, shared by stories and projects.

Only staff write Markdown, but a stolen staff session or a pasted snippet must not
be able to run script on donors' browsers, so the output is always sanitised.

It must not be able to stall the site either. Python-Markdown takes time quadratic in
nested brackets ('[' * 15000 took 30 seconds) and overflows the stack on deeply nested
lists, so the text goes through cmark-gfm, GitHub's C implementation of CommonMark,
which is built to run in linear time on any input. Bodies are also capped in length.
"""

import re
import xml.etree.ElementTree as etree
from functools import lru_cache

import cmarkgfm
import markdown as markdown_lib
import nh3
from cmarkgfm.cmark import Options
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.html import escape
from django.utils.safestring import mark_safe

from podari.markdown_impact import ALLOWED_CLASSES, expand_impact_callouts

# A long story is 5,000 words, about 35,000 characters; this leaves room and a bound.
MARKDOWN_MAX_LENGTH = 100_000
validate_markdown_length = MaxLengthValidator(
    MARKDOWN_MAX_LENGTH,
    message="This text is %(show_value)s characters long; it may be at most %(limit_value)s.",
)
# What a text may render to. A table's rows are filled out to its header's width, so a 41 kB
# table of a thousand columns rendered to 5 MB (cmark-gfm stops filling out there); a long
# story is about 100 kB of HTML.
MARKDOWN_MAX_RENDERED = 500_000
# nh3's HTML parser takes time quadratic in how deeply elements nest: 50,000 nested
# "> " quotes took 55 seconds. Real stories nest lists in quotes a few levels deep.
MAX_NESTING = 40
# One tag; [^<>] keeps the scan linear even when a '<' is never closed.
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>")
VOID_ELEMENTS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}
# GitHub's tables, ~~strikethrough~~ and bare links. Raw HTML passes through cmark
# ("unsafe") so that nh3 below is the one place that decides what HTML survives.
EXTENSIONS = ["table", "strikethrough", "autolink"]

ALLOWED_TAGS = {
    "a", "abbr", "aside", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em",
    "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li",
    "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "ol": {"start"},
}
# Relative links (our own media) pass; javascript:, data: and the like do not.
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def _to_html(text):
    return cmarkgfm.markdown_to_html_with_extensions(
        expand_impact_callouts(text),
        # SMART: curly quotes and apostrophes, -- and --- as en and em dashes, ... as an ellipsis.
        options=Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_VALIDATE_UTF8 | Options.CMARK_OPT_SMART,
        extensions=EXTENSIONS,
    )


def nesting_depth(html):
    """How deeply elements nest in some HTML, in one linear pass (unclosed tags count)."""
    depth = deepest = 0
    for closing, name, rest in TAG.findall(html):
        if name.lower() in VOID_ELEMENTS or rest.endswith("/"):
            continue
        if closing:
            depth = max(depth - 1, 0)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def validate_markdown(text):
    """Form validation for story and project bodies: a bounded length and nesting depth."""
    validate_markdown_length(text)
    html = _to_html(text) if text else ""
    if len(html) > MARKDOWN_MAX_RENDERED:
        raise ValidationError(
            "This text makes a page of %(size)s characters; a page may have at most %(limit)s. "
            "Tables with many columns grow the most: split or shorten them.",
            code="too_large",
            params={"size": f"{len(html):,}", "limit": f"{MARKDOWN_MAX_RENDERED:,}"},
        )
    if text and nesting_depth(html) > MAX_NESTING:
        raise ValidationError(
            "This text nests quotes, lists or HTML tags more than %(limit)s levels deep. Please flatten it.",
            code="too_deep",
            params={"limit": MAX_NESTING},
        )


def render_markdown(text: str) -> str:
    if not text:
        return ""
    html = _to_html(text)
    if len(html) > MARKDOWN_MAX_RENDERED or nesting_depth(html) > MAX_NESTING:
        # Refused by validate_markdown(); anything that gets here anyway is shown as text.
        return f"<p>{escape(text)}</p>"
    # The page's title is its only h1; a "# Heading" in the body becomes the next level down.
    html = re.sub(r"<(/?)h1\b", r"<\1h2", html)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"img": {"loading": "lazy", "decoding": "async"}},
    )


# The same typography for titles, which are plain text, not Markdown.
SMARTY = {
    "smarty": {
        "substitutions": {
            "left-single-quote": "\u2018",
            "right-single-quote": "\u2019",
            "left-double-quote": "\u201c",
            "right-double-quote": "\u201d",
            "ndash": "\u2013",
            "mdash": "\u2014",
            "ellipsis": "\u2026",
        }
    }
}


@lru_cache(maxsize=4096)
def typographic(text: str) -> str:
    """Plain text (a title) with curly quotes and typographic dashes, HTML-escaped.

    Only Python-Markdown's smarty step runs (titles are short and never Markdown), so
    "2025. A year" stays a title rather than becoming a numbered list, and *stars* stay
    stars. Cached: the same titles are drawn on many pages.
    """
    md = markdown_lib.Markdown(extensions=["smarty"], extension_configs=SMARTY)
    root = etree.Element("div")
    etree.SubElement(root, "p").text = text or ""
    root = md.treeprocessors["smarty"].run(root) or root
    html = md.serializer(root)
    for postprocessor in md.postprocessors:
        html = postprocessor.run(html)
    # The serializer escaped the text (&, <, >); smarty only added quote and dash characters.
    return mark_safe(html.removeprefix("<div><p>").removesuffix("</p></div>"))  # noqa: S308
