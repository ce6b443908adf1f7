"""The words before paying in a real Chromium: the script writes what the server writes.

The server draws the button, the fee line and the summary for the form as it first stands
(donations.forms.PaymentWords); gift_total.js redraws them as the donor changes the form.
Both must say the same, in every currency's own way of writing amounts.
"""

import pytest
from playwright.sync_api import expect

from donations.forms import PaymentWords
from donations.money import gift_amounts
from tests.e2e import flows

pytestmark = pytest.mark.browser

PROJECTS = [("usd", "car-t"), ("eur", "berlin"), ("jpy", "tokyo"), ("kwd", "kuwait")]


@pytest.fixture
def projects_in_four_currencies(content, make_project):
    make_project(title="Berlin clinic", slug="berlin", currency="eur")
    make_project(title="Tokyo clinic", slug="tokyo", currency="jpy")
    make_project(title="Kuwait appeal", slug="kuwait", currency="kwd")


def expect_words(page, words):
    expect(page.get_by_role("button", name=flows.DONATE_BUTTON)).to_have_text(words.button)
    expect(page.locator("[data-fee-label]")).to_have_text(words.fee_line)
    expect(page.locator("[data-donate-summary]")).to_have_text(words.summary)


@pytest.mark.parametrize(("currency", "slug"), PROJECTS)
def test_the_script_writes_the_words_the_server_writes(
    browser_page, projects_in_four_currencies, currency, slug, console_errors
):
    page = browser_page
    page.goto(f"/donate/?project={slug}")
    fee = page.get_by_role("checkbox", name=flows.FEE_LABEL)
    for monthly in (False, True):
        page.locator(
            "label", has=page.get_by_role("radio", name="Monthly" if monthly else "One-time", exact=True)
        ).click()
        # Each frequency preselects its own default (monthly presets are smaller).
        expected = gift_amounts(currency, monthly=monthly).default_preset
        expect(page.locator('input[name="amount_preset"]:checked')).to_have_value(str(expected))
        preset = int(page.locator('input[name="amount_preset"]:checked').get_attribute("value"))
        for cover in (False, True):
            fee.set_checked(cover)
            expect_words(page, PaymentWords(preset, currency, monthly, cover))
    assert console_errors == [], console_errors


@pytest.mark.parametrize(
    ("slug", "typed", "amount_minor", "currency"),
    [
        ("car-t", "30.5", 3_050, "usd"),
        ("berlin", "1,000", 100_000, "eur"),
        ("tokyo", "7,000", 7_000, "jpy"),
        ("kuwait", "12.34", 12_340, "kwd"),
    ],
)
def test_a_typed_amount_is_named_as_the_server_names_it(
    browser_page, projects_in_four_currencies, slug, typed, amount_minor, currency
):
    page = browser_page
    page.goto(f"/donate/?project={slug}&frequency=monthly")
    page.get_by_role("radio", name="Other amount").check()
    page.get_by_role("textbox", name=flows.AMOUNT_BOX).fill(typed)
    page.get_by_role("checkbox", name=flows.FEE_LABEL).check()

    expect_words(page, PaymentWords(amount_minor, currency, True, True))


@pytest.mark.parametrize(
    "typed",
    [
        "12.345",  # Stripe takes dinars in steps of 10 fils
        "1.99",  # below the smallest gift, KWD 2
        "7500.01",  # above the largest
        "12,34",
    ],
)
def test_an_amount_the_server_would_refuse_names_no_total(browser_page, projects_in_four_currencies, typed):
    page = browser_page
    page.goto("/donate/?project=kuwait")
    page.get_by_role("radio", name="Other amount").check()
    page.get_by_role("textbox", name=flows.AMOUNT_BOX).fill(typed)

    expect_words(page, PaymentWords(None, "kwd", False, False))
    expect(page.locator("[data-donate-summary]")).to_be_hidden()
