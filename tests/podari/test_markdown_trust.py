"""The impact callout and typographic quotes in staff-written Markdown, and titles."""

import re

import pytest
from django.template import Context, Template

from podari.markdown import render_markdown, typographic


def test_an_impact_callout_becomes_a_highlighted_figure():
    html = render_markdown(
        "Thanks to you, the first step is done.\n\n"
        "!!! impact $5,000\n"
        "    paid for the *clinical description*.\n\n"
        "    The Ministry of Health has it now.\n\n"
        "Back to the story."
    )
    assert (
        '<aside class="impact">\n<p class="impact__figure">$5,000</p>\n'
        "<p>paid for the <em>clinical description</em>.</p>\n"
        "<p>The Ministry of Health has it now.</p>\n</aside>"
    ) in html
    assert html.rstrip().endswith("</aside>\n<p>Back to the story.</p>")


def test_a_callout_ends_at_the_first_line_that_is_not_indented():
    html = render_markdown("!!! impact 70+\n    doctors trained since 2011\nOrdinary text.")
    assert '<p class="impact__figure">70+</p>' in html
    assert html.rstrip().endswith("</aside>\n<p>Ordinary text.</p>")


def test_the_admin_preview_renders_the_callout_too(admin_client):
    response = admin_client.post("/markdownx/markdownify/", {"content": "!!! impact $29,745\n    raised"})
    assert response.status_code == 200
    assert '<p class="impact__figure">$29,745</p>' in response.content.decode()


@pytest.mark.parametrize(
    "markdown",
    [
        '<p class="impact__figure evil">x</p>',
        '<aside class="impact" style="position:fixed" onclick="steal()">x</aside>',
        '<div class="impact">x</div>',
        '<p class="preview-banner">x</p>',
        "!!! impact <script>alert(1)</script>\n    text",
    ],
)
def test_only_the_callouts_own_classes_pass_the_sanitiser(markdown):
    html = render_markdown(markdown)
    for attribute in ("style=", "onclick", "evil", "preview-banner", "<script", "<div"):
        assert attribute not in html
    for cls in re.findall(r'class="([^"]*)"', html):
        assert cls in ("", "impact", "impact__figure"), html


def test_quotes_and_dashes_are_typographic():
    html = render_markdown("Masha's mother said: \"We're home\" -- and smiled --- at last...")
    assert (
        "Masha\u2019s mother said: \u201cWe\u2019re home\u201d \u2013 and smiled \u2014 at last\u2026" in html
    )


def test_titles_get_curly_quotes_and_stay_plain_text():
    assert typographic('Yelena\'s "birthday" -- 2025. *Not* <b>bold</b> & more') == (
        "Yelena\u2019s \u201cbirthday\u201d \u2013 2025. *Not* &lt;b&gt;bold&lt;/b&gt; &amp; more"
    )
    rendered = Template("{% load podari %}{{ title|typographic }}").render(
        Context({"title": "Doctors' <script>"})
    )
    assert rendered == "Doctors\u2019 &lt;script&gt;"
