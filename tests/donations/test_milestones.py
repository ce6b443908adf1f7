"""Milestones: what the next gifts achieve, from the stored total, in exact minor units."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from donations.models import MilestoneProgress, ProjectMilestone

pytestmark = pytest.mark.django_db


def milestones(project, *steps):
    return [
        ProjectMilestone.objects.create(project=project, amount_minor=amount, title=title)
        for amount, title in steps
    ]


def progress(project):
    project.refresh_from_db()
    return MilestoneProgress.of(project)


def test_the_next_milestone_and_how_far_to_go(project, make_gift):
    first, second, third = milestones(
        project,
        (1_000_000, "fund the next patient's cell product"),
        (300_000, "prepare the documents"),
        (2_500_000, "bring a specialist to Moscow"),
    )
    make_gift(project, amount_minor=320_000)

    now = progress(project)

    assert now.reached == [second]
    assert now.next == first
    assert now.to_go_minor == 680_000  # $10,000 - $3,200
    assert now.percent == 32  # $3,200 of $10,000


def test_percent_is_rounded_down_never_up_to_a_milestone_not_reached(project, make_gift):
    (only,) = milestones(project, (1_000, "a first step"))
    make_gift(project, amount_minor=999)

    now = progress(project)

    assert (now.next, now.to_go_minor, now.percent) == (only, 1, 99)


def test_a_milestone_is_reached_at_exactly_its_amount(project, make_gift):
    first, second = milestones(project, (5_000, "first"), (10_000, "second"))
    make_gift(project, amount_minor=5_000)

    now = progress(project)

    assert now.reached == [first]
    assert (now.next, now.to_go_minor, now.percent) == (second, 5_000, 50)


def test_zero_decimal_currencies_need_no_conversion(make_project, make_gift):
    project = make_project(currency="jpy", goal_minor=1_000_000)
    milestones(project, (50_000, "one month of care"))
    make_gift(project, amount_minor=12_345)

    now = progress(project)

    assert now.to_go_minor == 37_655
    assert now.percent == 24


def test_every_milestone_reached(project, make_gift):
    milestones(project, (1_000, "first"))
    make_gift(project, amount_minor=2_000)

    assert progress(project).next is None


def test_the_project_page_says_what_the_next_gifts_achieve(client, project, make_gift):
    milestones(
        project, (300_000, "prepare the documents"), (1_000_000, "fund the next patient's cell product")
    )
    make_gift(project, amount_minor=320_000)

    html = client.get(project.get_absolute_url()).content.decode()

    assert "<strong>$6,800 to go</strong> to fund the next patient\u2019s cell product" in html
    assert "Next: $6,800 to go" in html
    assert "Funded: the work is under way" in html  # the $3,000 step, not reported done yet
    assert "$6,800 more will fund the next patient\u2019s cell product." in html  # the last call


@pytest.mark.parametrize("page", ["project", "story", "home"])
def test_more_milestones_cost_no_more_queries(client, project, make_story, page):
    story = make_story(projects=[project])
    project.is_featured = True
    project.save()
    url = {"project": project.get_absolute_url(), "story": story.get_absolute_url(), "home": "/"}[page]
    milestones(project, (100_000_000, "far away"))
    client.get(url)  # the footer's facts are cached after the first page

    with CaptureQueriesContext(connection) as few:
        client.get(url)
    milestones(project, *[(100 * n, f"step {n}") for n in range(1, 20)])
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()

    assert "Next milestone" in html
    assert len(many) == len(few)


def test_a_milestone_is_funded_by_the_ledger_and_done_only_once_the_work_is_reported(
    client, project, make_gift, make_story
):
    from ledger.figures import ProjectLedger

    story = make_story(projects=[project], title="The documents are ready")
    first, second, third = milestones(
        project, (300_000, "prepare the documents"), (500_000, "buy supplies"), (900_000, "train the team")
    )
    make_gift(project, amount_minor=600_000)

    def states():
        project.refresh_from_db()
        return [item.state for item in ProjectLedger(project).milestones]

    assert states() == ["funded", "funded", ""]
    first.story = story
    first.save()
    assert states() == ["done", "funded", ""]

    html = client.get(project.get_absolute_url()).content.decode()
    assert html.count("Funded: the work is under way") == 1
    assert "Done: <a href" in html and "Next: $3,000 to go" in html
