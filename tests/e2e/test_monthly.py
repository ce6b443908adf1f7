"""Monthly giving in a real Chromium: choosing Monthly, covering the fee, the simulated checkout, and axe."""

import re

import pytest
from playwright.sync_api import expect

from donations.models import Donor, Gift, RecurringGift
from tests.e2e import flows
from tests.e2e.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser


def fill_monthly_gift(page, project):
    page.goto(project.get_donate_url())
    expect(page.get_by_role("radio", name="One-time", exact=True)).to_be_checked()
    page.locator("label", has=page.get_by_role("radio", name="Monthly", exact=True)).click()
    page.locator("label", has=page.get_by_role("radio", name="$25", exact=True)).click()
    fee = page.get_by_role("checkbox", name=flows.FEE_LABEL)
    button = page.get_by_role("button", name=flows.DONATE_BUTTON)
    summary = page.locator("[data-donate-summary]")
    expect(fee).not_to_be_checked()
    # The script names the exact sum, a month, for the amount chosen, and follows it.
    expect(fee).to_have_accessible_name("Add $0.87 a month so all of your gift reaches the project")
    expect(button).to_have_text("Donate $25 a month")
    page.locator("label", has=page.get_by_role("radio", name="$100", exact=True)).click()
    expect(fee).to_have_accessible_name("Add $2.56 a month so all of your gift reaches the project")
    expect(summary).to_have_text("Total: $100 a month")
    page.locator("label", has=page.get_by_role("radio", name="$25", exact=True)).click()
    fee.check()
    # The button, the fee line and the summary name one total, with its cadence.
    expect(button).to_have_text("Donate $25.87 a month")
    expect(summary).to_have_text("Total: $25.87 a month ($25 gift + $0.87 card fee)")
    page.locator("label", has=page.get_by_role("radio", name="One-time", exact=True)).click()
    expect(button).to_have_text("Donate $25.87")
    expect(fee).to_have_accessible_name("Add $0.87 so all of your gift reaches the project")
    page.locator("label", has=page.get_by_role("radio", name="Monthly", exact=True)).click()
    expect(button).to_have_text("Donate $25.87 a month")
    page.get_by_role("textbox", name="Email").fill("jane@example.com")
    stories = page.get_by_role("checkbox", name="Email me stories about what my gift does")
    expect(stories).not_to_be_checked()
    stories.check()


def test_a_monthly_gift_through_the_simulated_checkout(browser_page, content, console_errors):
    page = browser_page
    project = content["project"]
    fill_monthly_gift(page, project)
    assert_no_axe_violations(page, "donate_monthly_fee_consent")
    page.get_by_role("button", name=flows.DONATE_BUTTON).click()

    page.wait_for_url(re.compile(r"/donate/simulated-checkout/cs_test_simulated_\w+/$"))
    main = page.get_by_role("main")
    expect(main).to_contain_text("$25 a month")
    expect(main).to_contain_text("$0.87 a month")
    assert_no_axe_violations(page, "simulated_checkout_monthly")
    page.get_by_role("button", name=re.compile(r"^Pay \$25\.87 a month")).click()

    page.wait_for_url(re.compile(r"/donate/thanks/\?session_id=cs_test_simulated_\w+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(flows.THANK_YOU)
    expect(main).to_contain_text("Your monthly gift of $25")
    expect(main).to_contain_text("$0.87 to cover the card fee")
    assert_no_axe_violations(page, "thanks_monthly")

    recurring = RecurringGift.objects.get()
    assert recurring.status == RecurringGift.Status.ACTIVE
    first = recurring.payments.get()
    assert (first.status, first.amount_minor, first.fee_covered_minor) == (Gift.Status.SUCCEEDED, 2_500, 87)
    assert Donor.objects.get(email="jane@example.com").wants_impact_emails

    page.goto(project.get_absolute_url())
    expect(page.get_by_role("main")).to_contain_text("1 person gives to this project every month.")
    assert console_errors == [], console_errors


def test_without_javascript_the_page_names_the_total_of_the_form_as_drawn(chromium, live_server, content):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(content["project"].get_donate_url() + "&frequency=monthly")
        expect(page.get_by_role("checkbox", name=flows.FEE_LABEL)).to_have_accessible_name(
            "Add $0.87 a month so all of your gift reaches the project"
        )
        expect(page.locator("[data-donate-summary]")).to_have_text("Total: $25 a month")
        expect(page.get_by_role("button", name=flows.DONATE_BUTTON)).to_have_text("Donate $25 a month")
        # The monthly presets, drawn by the server for ?frequency=monthly.
        amounts = page.locator('input[name="amount_preset"]')
        assert [amounts.nth(i).get_attribute("value") for i in range(amounts.count())] == [
            "1000", "2500", "5000", "10000", "other",
        ]  # fmt: skip
    finally:
        context.close()
