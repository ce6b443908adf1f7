"""Layout promises: the phone header on one row, the sticky donate box, the no-JavaScript form."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [320, 360, 390])
def test_on_a_phone_the_header_fits_one_row(browser_page, content, width):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 700})
    page.goto("/")
    rows = page.evaluate(
        """() => {
          const items = [document.querySelector('.site-name'), ...document.querySelectorAll('.site-nav a')];
          return new Set(items.map(el => Math.round(el.getBoundingClientRect().top / 10))).size;
        }"""
    )
    assert rows == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_on_a_wide_screen_the_donate_box_stays_beside_the_text(browser_page, content):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(content["project"].get_absolute_url())
    box = page.locator(".give-box")
    page.mouse.wheel(0, 900)
    page.wait_for_function("window.scrollY > 500")
    expect(box).to_be_in_viewport()
    expect(box.get_by_role("link", name="Donate to CAR-T therapy for children")).to_be_visible()
    # ...and the page ends with a last call to give.
    expect(page.get_by_role("heading", name="Be part of the next step")).to_be_attached()


def test_without_javascript_every_amount_says_what_it_does(chromium, live_server, content):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto(content["project"].get_donate_url())

    expect(page.locator("[data-amount-meanings] li")).to_have_text(
        ["$25 buys a child\u2019s blood tests", "$100 pays for a day of a nurse\u2019s care"]
    )
    name = page.get_by_role("textbox", name="Their name")
    expect(name).to_be_visible()  # no script to reveal it: always there, with a hint
    expect(
        page.get_by_text("Only if you chose \u201cIn honor of\u201d or \u201cIn memory of\u201d.")
    ).to_be_visible()
    context.close()


def test_with_javascript_the_name_appears_only_for_a_dedication(browser_page, content):
    page = browser_page
    page.goto(content["project"].get_donate_url())
    name = page.get_by_role("textbox", name="Their name")
    expect(name).to_be_hidden()
    page.get_by_role("radio", name="In honor of").check()
    expect(name).to_be_visible()
    page.get_by_role("radio", name="No dedication").check()
    expect(name).to_be_hidden()

    meaning = page.locator("[data-amount-meaning]")
    expect(meaning).to_have_attribute("aria-live", "polite")
    page.get_by_role("radio", name="$25", exact=True).check()
    expect(meaning).to_have_text("$25 buys a child\u2019s blood tests")
    page.get_by_role("radio", name="$50", exact=True).check()
    expect(meaning).to_be_hidden()  # no sentence for this amount
