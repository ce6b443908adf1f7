"""A running match on the project page, in a real Chromium: its progress, worked out on the
server, reads right and the page stays free of axe violations."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_accessibility import describe

pytestmark = pytest.mark.browser


@pytest.fixture
def running_match(content, make_gift):
    from campaigns.models import Match
    from donations.models import Donor

    project = content["project"]
    now = timezone.now()
    match = Match.objects.create(
        name="Giving Tuesday",
        sponsor=Donor.objects.create(email="giving@acme.example", name="Acme Corp"),
        sponsor_public_name="Acme Corp",
        cap_minor=500_000,
        currency=project.currency,
        starts_at=now - timezone.timedelta(days=1),
        ends_at=now + timezone.timedelta(days=2, hours=1),
        time_zone="America/New_York",
    )
    match.projects.set([project])
    for _ in range(4):
        make_gift(project, amount_minor=80_000)
    return match


def test_the_project_page_shows_the_match_progress_without_axe_violations(
    browser_page, content, running_match
):
    page = browser_page
    page.goto(content["project"].get_absolute_url())

    box = page.locator("[data-match]")
    expect(box).to_contain_text("Acme Corp matches gifts 1:1: your gift is doubled.")
    expect(box.locator(".progress__text")).to_have_text("$3,200 of $5,000 matched, 2 days left")
    expect(page.get_by_role("progressbar", name="$3,200 of $5,000 matched, 2 days left")).to_be_visible()
    expect(page.locator(".ledger-figures").first).to_contain_text("Matched by sponsors")

    violations = Axe().run(page).response["violations"]
    assert not violations, describe(violations)
