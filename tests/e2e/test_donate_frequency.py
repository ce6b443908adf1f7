"""The donate form's frequency: One-time or Monthly, each with its own amounts, at a phone's
and a desktop's width; the button names the real total and its cadence."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.conftest import docs_screenshot
from tests.e2e.layout import assert_reads_without_breaks
from tests.e2e.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def amounts(page):
    radios = page.locator('input[name="amount_preset"]:not([value="other"])')
    return [radios.nth(i).get_attribute("value") for i in range(radios.count())]


def choose(page, name):
    page.locator("label", has=page.get_by_role("radio", name=name, exact=True)).click()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_monthly_has_its_own_amounts_and_the_button_names_the_monthly_total(
    browser_page, content, console_errors, viewport
):
    page = browser_page
    page.set_viewport_size(viewport)
    page.goto(content["project"].get_donate_url())
    frequency = page.get_by_role("group", name="How often")
    expect(frequency.get_by_role("radio")).to_have_count(2)
    expect(page.get_by_role("radio", name="One-time", exact=True)).to_be_checked()
    assert amounts(page) == ["2500", "5000", "10000", "25000"]
    expect(page.get_by_role("radio", name="$50", exact=True)).to_be_checked()
    # The preset amounts are in the first screen, on a phone too.
    box = page.locator("label", has=page.get_by_role("radio", name="$250", exact=True)).bounding_box()
    assert box["y"] + box["height"] <= viewport["height"], box

    choose(page, "Monthly")
    assert amounts(page) == ["1000", "2500", "5000", "10000"]
    expect(page.get_by_role("radio", name="$25", exact=True)).to_be_checked()
    page.get_by_role("checkbox", name=flows.FEE_LABEL).check()
    expect(page.get_by_role("button", name=flows.DONATE_BUTTON)).to_have_text("Donate $25.87 a month")
    summary = page.locator("[data-donate-summary]")
    expect(summary).to_have_text("Total: $25.87 a month ($25 gift + $0.87 card fee)")
    assert_no_axe_violations(page, f"donate_monthly_{viewport['width']}")
    docs_screenshot(page, f"donate-monthly-{'phone' if viewport == PHONE else 'desktop'}")
    assert_reads_without_breaks(page, "donate_monthly")

    # An amount the donor chose stays chosen when the other frequency offers it too.
    choose(page, "$100")
    choose(page, "One-time")
    assert amounts(page) == ["2500", "5000", "10000", "25000"]
    expect(page.get_by_role("radio", name="$100", exact=True)).to_be_checked()
    expect(page.get_by_role("button", name=flows.DONATE_BUTTON)).to_have_text("Donate $102.56")

    choose(page, "Monthly")
    page.get_by_role("button", name=flows.DONATE_BUTTON).click()
    page.wait_for_url(re.compile(r"/donate/simulated-checkout/"))
    expect(page.get_by_role("main")).to_contain_text("$100 a month")
    assert console_errors == []


def test_without_javascript_a_monthly_link_draws_the_monthly_amounts_and_a_switch_is_taken(
    chromium, live_server, content
):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(content["project"].get_donate_url())
        # One-time amounts drawn; the donor picks $250, then switches to Monthly and sends it.
        page.get_by_role("radio", name="$250", exact=True).check()
        page.get_by_role("radio", name="Monthly", exact=True).check()
        page.get_by_role("button", name=flows.DONATE_BUTTON).click()
        page.wait_for_url(re.compile(r"/donate/simulated-checkout/"))
        expect(page.get_by_role("main")).to_contain_text("$250 a month")
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
def test_a_dedication_can_tell_the_family_by_email(browser_page, content, console_errors, viewport):
    page = browser_page
    page.set_viewport_size(viewport)
    page.goto(content["project"].get_donate_url())
    family = page.get_by_role("textbox", name=re.compile("^Tell their family by email"))
    expect(family).to_be_hidden()
    page.get_by_role("radio", name="In memory of").check()
    page.get_by_role("textbox", name="Their name").fill("Grandma Vera")
    family.fill("family@example.org")
    page.get_by_role("textbox", name=re.compile("^Your message to them")).fill("She loved the ward.")
    expect(page.get_by_role("checkbox", name="Tell them the amount of my gift")).not_to_be_checked()
    assert_no_axe_violations(page, f"donate_dedication_family_{viewport['width']}")
    assert_reads_without_breaks(page, "donate_dedication_family")
    page.get_by_role("button", name=flows.DONATE_BUTTON).click()
    page.wait_for_url(re.compile(r"/donate/simulated-checkout/"))
    assert console_errors == []
