"""A donor's own pages in a real Chromium: give, get the receipt, manage the giving through
an emailed link; axe finds nothing on any of them, and the CSP refuses nothing."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser


def test_a_donor_gives_then_sees_their_giving_through_an_emailed_link(
    browser_page, content, console_errors, mailoutbox
):
    page = browser_page
    page.goto(content["project"].get_donate_url())
    page.get_by_role("textbox", name="Email").fill("ada@example.com")
    flows.fill_donate_form(page, "40")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(r"/donate/thanks/\?session_id="))
    expect(page.get_by_text("We have emailed you a receipt.")).to_be_visible()
    [receipt] = mailoutbox
    assert receipt.to == ["ada@example.com"] and "$40" in receipt.body

    page.get_by_role("link", name="Manage my giving").click()
    assert_no_axe_violations(page, "donor_request_link")
    page.get_by_role("textbox", name="Your email address").fill("ada@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    assert_no_axe_violations(page, "donor_link_sent")

    link = re.search(r"https?://[^/\s]+(/manage/link/\S+/)", mailoutbox[-1].body).group(1)
    page.goto(link)
    assert_no_axe_violations(page, "donor_sign_in")
    page.get_by_role("button", name="Open my giving page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My giving")
    expect(page.get_by_role("cell", name="$40")).to_be_visible()
    assert_no_axe_violations(page, "donor_giving")

    page.get_by_role("link", name=re.compile(r"^Receipt")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Receipt for your gift")
    expect(page.get_by_text("No goods or services were provided")).to_be_visible()
    assert_no_axe_violations(page, "donor_receipt")

    page.go_back()
    page.get_by_role("link", name="Choose which emails you get from us").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Email preferences")
    assert_no_axe_violations(page, "donor_preferences")
    page.goto(page.url.replace("/email/preferences/", "/email/unsubscribe/"))
    assert_no_axe_violations(page, "donor_unsubscribe")

    # The link was used: it opens nothing a second time.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    assert console_errors == [] or all("410" in e for e in console_errors)
