"""Story and project Markdown becomes safe HTML: no payload survives to a donor's browser."""

import re
from html.parser import HTMLParser

import markdown as markdown_lib
import pytest

from podari.markdown import render_markdown


def hrefs(html):
    return re.findall(r'href="([^"]*)"', html)


def test_script_tags_are_removed():
    html = render_markdown("Before\n\n<script>alert(1)</script>\n\nAfter")
    assert "<script" not in html
    assert "alert(1)" not in html
    assert "Before" in html and "After" in html


def test_img_keeps_src_but_loses_event_handlers():
    html = render_markdown("<img src=x onerror=alert(1)>")
    assert "onerror" not in html
    assert "alert" not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="java&#x09;script:alert(1)">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
    ],
)
def test_dangerous_link_schemes_lose_their_href(markdown):
    html = render_markdown(markdown)
    assert ">x<" in html  # the link text stays
    for href in hrefs(html):
        assert not re.match(r"\s*(javascript|data|vbscript):", href, re.IGNORECASE), html
    assert "alert" not in html.lower().replace(">x<", "")


def test_iframes_are_removed():
    html = render_markdown('<iframe src="https://evil.example/"></iframe>')
    assert "<iframe" not in html
    assert "evil.example" not in html


def test_svg_with_onload_is_removed():
    html = render_markdown("<svg onload=alert(1)><circle r=5 /></svg>")
    assert "<svg" not in html
    assert "onload" not in html
    assert "alert" not in html


def test_ordinary_links_keep_href_and_get_rel_noopener():
    html = render_markdown('<a href="https://ok.example/page">ok</a> and [md](https://md.example/)')
    assert 'href="https://ok.example/page"' in html
    assert 'href="https://md.example/"' in html
    assert html.count('rel="noopener noreferrer"') == 2


def test_relative_and_mailto_links_survive():
    html = render_markdown("[our projects](/projects/) or [write](mailto:hello@podari.life)")
    assert hrefs(html) == ["/projects/", "mailto:hello@podari.life"]


def test_markdown_images_keep_src_and_alt():
    html = render_markdown("![Masha with her doctor](/media/stories/body/x.png)")
    assert 'src="/media/stories/body/x.png"' in html
    assert 'alt="Masha with her doctor"' in html
    assert 'loading="lazy"' in html


def test_style_attributes_and_event_handlers_are_dropped():
    html = render_markdown('<p style="position:fixed;top:0" onclick="steal()">Hello</p>')
    assert "style=" not in html
    assert "onclick" not in html
    assert "Hello" in html


def test_ordinary_markdown_renders():
    html = render_markdown(
        "## What your gifts paid for\n\n"
        "### In March\n\n"
        "- three courses of *CAR-T* therapy\n"
        "- **twelve** doctors trained\n\n"
        "1. first\n"
        "2. second\n\n"
        "> A quote from a mother.\n\n"
        "| Month | Children |\n"
        "|-------|----------|\n"
        "| March | 3 |\n"
    )
    assert "<h2>What your gifts paid for</h2>" in html
    assert "<h3>In March</h3>" in html
    assert "<ul>" in html and "<li>three courses of <em>CAR-T</em> therapy</li>" in html
    assert "<strong>twelve</strong>" in html
    assert "<ol>" in html
    assert "<blockquote>" in html
    assert "<table>" in html and "<th>Month</th>" in html and "<td>March</td>" in html


def test_empty_body_renders_empty():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


PAYLOADS = (
    "Real words about Masha.\n\n"
    "<script>alert('script')</script>\n\n"
    '<img src="x" onerror="alert(1)">\n\n'
    "[click](javascript:alert(1))\n\n"
    '<a href="JaVaScRiPt:alert(1)">shout</a>\n\n'
    '<iframe src="https://evil.example/frame"></iframe>\n\n'
    '<svg onload="alert(1)"><circle r="5"/></svg>\n\n'
    '<p style="display:none">hidden</p>\n'
)


class Elements(HTMLParser):
    """Every element in a piece of HTML, with its attributes, and the text inside <script>."""

    def __init__(self, html):
        super().__init__()
        self.elements = []
        self.script_text = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data):
        if self.lasttag == "script":
            self.script_text.append(data)


def dangers(html, *, allowed_tags=("script",)):
    """What in this HTML could run script or hide content; escaped text is harmless and ignored."""
    found = Elements(html)
    problems = [
        f"<{tag}>" for tag, _ in found.elements if tag in {"script", "iframe", "svg", "object", "embed"}
    ]
    problems = [p for p in problems if p.strip("<>") not in allowed_tags]
    for tag, attrs in found.elements:
        for name, value in attrs.items():
            if name.startswith("on") or name == "style":
                problems.append(f"<{tag} {name}>")
            if name in {"href", "src"} and re.match(r"\s*(javascript|data|vbscript):", value or "", re.I):
                problems.append(f"<{tag} {name}={value}>")
    problems += [text for text in found.script_text if "alert" in text]
    return problems


def test_story_stores_sanitised_body_html(make_story):
    story = make_story(body=PAYLOADS)
    story.refresh_from_db()
    assert "Real words about Masha." in story.body_html
    assert "shout" in story.body_html
    assert dangers(story.body_html, allowed_tags=()) == []


def test_project_stores_sanitised_description_html(make_project):
    project = make_project(description=PAYLOADS)
    project.refresh_from_db()
    assert "Real words about Masha." in project.description_html
    assert dangers(project.description_html, allowed_tags=()) == []


def test_the_scanner_sees_the_payloads_unsanitised():
    # The check above would catch each payload if it got through.
    assert len(dangers(markdown_lib.markdown(PAYLOADS), allowed_tags=())) >= 6


def test_public_story_page_does_not_contain_the_payloads(client, make_story):
    story = make_story(body=PAYLOADS)
    response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Real words about Masha." in html
    # The page's own <script src> tags are allowed; nothing from the body is.
    assert dangers(html) == []
