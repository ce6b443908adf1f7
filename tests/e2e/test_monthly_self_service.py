"""A monthly donor manages their gift in a real Chromium, at a phone's and a desktop's width:
the next charge, a new amount, a pause, a cancellation confirmed first, and giving again.
axe finds nothing in any state; no word breaks and nothing scrolls sideways."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import docs_screenshot
from tests.e2e.layout import assert_reads_without_breaks
from tests.e2e.test_accessibility import assert_no_axe_violations
from tests.e2e.test_donor_tables import PHONE, give_monthly_and_sign_in

pytestmark = pytest.mark.browser


def check(page, name, viewport):
    assert_no_axe_violations(page, f"{name}_{viewport['width']}")
    assert_reads_without_breaks(page, name)
    device = "phone" if viewport == PHONE else "desktop"
    if name in ("monthly_gift", "monthly_gift_paused", "cancel_monthly"):
        docs_screenshot(page, f"{name.replace('_', '-')}-{device}")


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["390px", "1280px"])
def test_a_monthly_donor_changes_pauses_cancels_and_gives_again(
    browser_page, content, console_errors, viewport
):
    page = browser_page
    page.set_viewport_size(viewport)
    give_monthly_and_sign_in(page, content["project"])
    expect(page.get_by_role("cell", name=re.compile(r"\$25\.87 on \w{3} \d+, \d{4}"))).to_be_visible()
    page.get_by_role("link", name=re.compile("^Change, pause or cancel")).click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Your monthly gift to CAR-T therapy for children")
    expect(page.locator(".gift-facts")).to_contain_text(
        re.compile(r"Next charge\s*\$25\.87 on \w+ \d+, \d{4}")
    )
    check(page, "monthly_gift", viewport)

    page.get_by_role("textbox", name="New amount each month").fill("3")
    page.get_by_role("button", name="Change my monthly amount").click()
    expect(page.get_by_role("textbox", name="New amount each month")).to_have_attribute(
        "aria-invalid", "true"
    )
    check(page, "monthly_gift_error", viewport)
    page.get_by_role("textbox", name="New amount each month").fill("40")
    page.get_by_role("button", name="Change my monthly amount").click()
    expect(page.get_by_role("status")).to_contain_text("you give $40 a month")
    expect(page.locator(".gift-facts")).to_contain_text("$41.21 a month")

    page.get_by_role("radio", name="2 months").check()
    page.get_by_role("button", name="Pause my monthly gift").click()
    expect(page.get_by_role("heading", level=2, name=re.compile("^Paused until"))).to_be_visible()
    expect(page.locator(".gift-facts")).to_contain_text(re.compile(r"Next charge\s*None until"))
    check(page, "monthly_gift_paused", viewport)
    page.get_by_role("button", name="Start again now").click()
    expect(page.get_by_role("heading", level=2, name="Take a break")).to_be_visible()

    page.get_by_role("link", name="Cancel this monthly gift").click()
    expect(heading).to_have_text("Cancel your monthly gift?")
    expect(page.get_by_role("button", name="Pause it for 1 month")).to_be_visible()
    check(page, "cancel_monthly", viewport)
    if viewport == PHONE:
        box = page.get_by_role("button", name="Cancel my monthly gift").bounding_box()
        assert box["width"] >= 200, box
    page.get_by_role("textbox", name=re.compile("Why are you cancelling")).fill("Moving abroad")
    page.get_by_role("button", name="Cancel my monthly gift").click()

    expect(heading).to_have_text("My giving")
    expect(page.get_by_role("status")).to_contain_text("is cancelled")
    check(page, "giving_cancelled", viewport)
    page.get_by_role("link", name=re.compile("^Give monthly again")).click()
    expect(page.get_by_role("radio", name="Monthly", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name="Other amount")).to_be_checked()
    expect(page.get_by_role("textbox", name=re.compile("amount", re.I))).to_have_value("40")
    expect(page.get_by_role("button", name=re.compile("^Donate"))).to_have_text("Donate $40 a month")
    # The one refused amount answers 400, on purpose.
    assert [e for e in console_errors if "/amount/" not in e and "400" not in e] == []
