"""A project's milestones in a real Chromium at a phone's and a desktop's width: Funded when
the ledger's money raised passes them, Done once a story reports the work."""

import pytest
from playwright.sync_api import expect

from donations.models import ProjectMilestone
from tests.e2e.layout import assert_reads_without_breaks
from tests.e2e.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    "viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 900}], ids=["390px", "1280px"]
)
def test_milestones_say_funded_then_done(browser_page, content, console_errors, viewport):
    page = browser_page
    page.set_viewport_size(viewport)
    project = content["project"]
    page.goto(project.get_absolute_url())
    steps = page.get_by_role("region", name="Milestones").get_by_role("listitem")
    expect(steps.nth(0)).to_contain_text("Funded: the work is under way")
    expect(steps.nth(1)).to_contain_text("Next: $800 to go")

    ProjectMilestone.objects.filter(project=project, amount_minor=300_000).update(story=content["stories"][0])
    page.goto(project.get_absolute_url())
    expect(steps.nth(0)).to_contain_text("Done: read the story")
    assert_no_axe_violations(page, f"project_milestones_{viewport['width']}")
    assert_reads_without_breaks(page, "project_milestones")
    assert console_errors == []
