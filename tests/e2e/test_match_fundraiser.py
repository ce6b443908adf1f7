"""Issue 23's two halves together, in a real Chromium: a supporter's birthday page, approved
by staff, takes a $40 gift while a 1:1 match runs on its project. The page counts the donor's
$40 and says the match doubles gifts; the project shows donors' money and the sponsor's
apart; the thank-you page says "doubled"; the receipt keeps the sponsor's money out of the
donor's deduction. axe finds nothing on any of them, at 390 px or 1280 px."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP
from tests.e2e.test_accessibility import assert_no_axe_violations
from tests.e2e.test_fundraisers import approve_in_admin, give_on_the_page, make_birthday_page

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def assert_readable_at_both_widths(page, name):
    for label, size in (("390", PHONE), ("1280", DESKTOP)):
        page.set_viewport_size(size)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll <= inner, f"{name} scrolls sideways at {label} px"
        assert_no_axe_violations(page, f"{name}_{label}")


@pytest.fixture
def giving_tuesday(content):
    """A 1:1 match of up to $5,000 on the CAR-T project, running for two more days."""
    from campaigns.models import Match

    now = timezone.now()
    match = Match.objects.create(
        name="Giving Tuesday",
        sponsor_public_name="Acme Corp",
        cap_minor=500_000,
        currency=content["project"].currency,
        starts_at=now - timezone.timedelta(hours=1),
        ends_at=now + timezone.timedelta(days=2, hours=1),
        time_zone="America/New_York",
    )
    match.projects.set([content["project"]])
    return match


def test_a_gift_on_a_birthday_page_during_a_match_reads_right_everywhere(
    browser_page,
    chromium,
    live_server,
    content,
    giving_tuesday,
    console_errors,
    mailoutbox,
    django_user_model,
    tmp_path,
):
    make_birthday_page(browser_page, mailoutbox, tmp_path)
    approve_in_admin(chromium, live_server, django_user_model)

    donor_context = chromium.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-US")
    donor = donor_context.new_page()
    give_on_the_page(donor, "40")

    # The thank-you page: the sponsor doubled the gift, and it is the sponsor's money.
    expect(donor.locator("[data-matched]")).to_contain_text("Acme Corp matched your gift with $40")
    expect(donor.locator("[data-matched]")).to_contain_text("your gift is doubled")
    expect(donor.locator("[data-matched]")).to_contain_text("your receipt shows only yours")
    assert_readable_at_both_widths(donor, "match_thanks")

    # The fundraiser page: $40 from its donor, the match's notice and progress apart.
    donor.goto("/fundraisers/lenas-40th-birthday/")
    expect(donor.get_by_text("$40 raised of $500 goal")).to_be_visible()
    expect(donor.get_by_text("8% of the goal · 1 gift")).to_be_visible()
    box = donor.locator("[data-match]")
    expect(box).to_contain_text("Acme Corp matches gifts 1:1: your gift is doubled.")
    expect(box.locator(".progress__text")).to_have_text("$40 of $5,000 matched, 2 days left")
    expect(donor.locator("[data-page-matched]")).to_contain_text("Sponsors’ matches added $40")
    expect(donor.locator("[data-match-apart]")).to_contain_text("never in this page’s total")
    assert_readable_at_both_widths(donor, "match_fundraiser")

    # The project page: donors' $3,240 (the $3,200 before and the $40), the sponsor's $40 apart.
    donor.goto(content["project"].get_absolute_url())
    expect(donor.get_by_text("$3,240 raised of $5,000 goal")).to_be_visible()
    figures = donor.locator(".ledger-figures").first
    expect(figures.locator("div", has_text="From donors")).to_contain_text("$3,240")
    expect(figures.locator("div", has_text="Matched by sponsors")).to_contain_text("$40")
    expect(donor.locator("[data-match] .progress__text")).to_have_text("$40 of $5,000 matched, 2 days left")
    assert_readable_at_both_widths(donor, "match_project")

    # The receipt, through "Manage my giving": the donor's $40, the match on a line of its own.
    donor.goto("/manage/")
    donor.get_by_role("textbox", name="Your email address").fill("ada@example.com")
    donor.get_by_role("button", name="Email me a link").click()
    expect(donor.get_by_role("heading", level=1)).to_have_text("Check your email")
    link = re.search(r"https?://[^/\s]+(/manage/link/\S+/)", mailoutbox[-1].body).group(1)
    donor.goto(link)
    donor.get_by_role("button", name="Open my giving page").click()
    donor.get_by_role("link", name=re.compile(r"^Receipt")).click()
    expect(donor.get_by_role("heading", level=1)).to_have_text("Receipt for your gift")
    matched_line = donor.get_by_role("row", name=re.compile("Matched by Acme Corp, not deductible by you"))
    expect(matched_line).to_contain_text("$40")
    assert_readable_at_both_widths(donor, "match_receipt")
    donor_context.close()
    assert console_errors == []
