"""Every donor's table at a phone's and a desktop's width: rows become cards on a phone, no
word is broken across lines, nothing scrolls sideways, and axe finds nothing."""

import re

import pytest
from playwright.sync_api import expect

from donations.models import Donor
from donors import links
from donors.models import SignInLink
from tests.e2e import flows
from tests.e2e.conftest import docs_screenshot
from tests.e2e.layout import assert_reads_without_breaks
from tests.e2e.test_accessibility import assert_no_axe_violations
from tests.e2e.test_monthly import fill_monthly_gift

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def give_monthly_and_sign_in(page, project, email="jane@example.com"):
    """A monthly gift through the simulated checkout, then its donor's giving page."""
    fill_monthly_gift(page, project)
    page.get_by_role("button", name=flows.DONATE_BUTTON).click()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(r"/donate/thanks/"))
    # A monthly donor is thanked, never asked to "make it monthly".
    expect(page.get_by_role("heading", level=1)).to_have_text(flows.THANK_YOU)
    expect(page.get_by_role("heading", name="Make it monthly")).to_have_count(0)
    sign_in(page, email)


def sign_in(page, email):
    link = SignInLink.objects.create(donor=Donor.objects.get(email=email))
    page.goto(f"/manage/link/{links.sign_in_token(link.pk)}/")
    page.get_by_role("button", name="Open my giving page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My giving")


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["390px", "1280px"])
def test_donor_tables_read_whole_words_without_sideways_scrolling(
    browser_page, content, console_errors, viewport
):
    page = browser_page
    project = content["project"]
    page.set_viewport_size(viewport)
    give_monthly_and_sign_in(page, project)
    pages = {"giving": page.url}
    manage = page.get_by_role("link", name=re.compile("^Change, pause or cancel"))
    if viewport == PHONE:
        # The card's button spans the card: not squeezed beside the other cells.
        box = manage.bounding_box()
        assert box["width"] > 250, box
        header = page.locator("table thead").first
        expect(header).to_have_css("position", "absolute")
    page.get_by_role("link", name=re.compile(r"^Receipt")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Receipt for your gift")
    pages["receipt"] = page.url
    page.goto(pages["giving"])
    page.get_by_role("link", name=re.compile(r"^Your \d{4} statement")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Your \d{4} giving$"))
    pages["statement"] = page.url
    pages["ledger"] = project.get_absolute_url() + "#ledger"
    device = "phone" if viewport == PHONE else "desktop"
    for name, url in pages.items():
        page.goto(url)
        if name in ("giving", "receipt"):
            docs_screenshot(page, f"{name}-{device}")
        assert_reads_without_breaks(page, name)
        assert_no_axe_violations(page, f"{name}_{viewport['width']}")
    assert console_errors == []


def test_print_button_prints_the_receipt(browser_page, content):
    page = browser_page
    give_monthly_and_sign_in(page, content["project"])
    page.get_by_role("link", name=re.compile(r"^Receipt")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Receipt for your gift")
    # A stand-in for the print dialog, which a headless browser cannot show.
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="Print or save as PDF").click()
    assert page.evaluate("window.printed") == 1
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    expect(page.locator(".site-header")).to_be_hidden()
