"""Sharing a story in a real Chromium: plain share links, and a "Share…" button for the
device's share sheet (Web Share API) shown by the site's own script; the CSP refuses nothing."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser


def test_the_share_button_opens_the_share_sheet_where_there_is_one(browser_context, content, console_errors):
    # Headless Chromium has no share sheet: stand one in that records what it was given.
    browser_context.add_init_script(
        "navigator.share = (data) => { window.shared = data; return Promise.resolve(); };"
    )
    page = browser_context.new_page()
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    story = content["stories"][0]
    page.goto(story.get_absolute_url())

    share = page.get_by_role("region", name="Share this story")
    expect(share.get_by_role("link", name="Share on Telegram")).to_have_attribute(
        "href",
        re.compile(rf"^https://t\.me/share/url\?url=http%3A%2F%2F.+%2Fstories%2F{story.slug}%2F&text="),
    )
    share.get_by_role("button", name="Share…").click()
    shared = page.evaluate("window.shared")
    assert (shared["title"], shared["text"]) == (story.title, story.summary)
    assert shared["url"].endswith(story.get_absolute_url())
    assert_no_axe_violations(page, "story_share")
    assert console_errors == []


def test_without_a_share_sheet_only_the_links_show(browser_page, content):
    page = browser_page
    page.goto(content["stories"][0].get_absolute_url())
    share = page.get_by_role("region", name="Share this story")
    expect(share.get_by_role("link", name="Share by email")).to_be_visible()
    expect(share.get_by_role("button", name="Share…")).to_be_hidden()
