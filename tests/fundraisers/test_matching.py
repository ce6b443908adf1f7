"""A fundraiser page while a match runs for its project: it says the gift is doubled and
how far the match has gone, and its own total stays the donors' money."""

import pytest
from django.utils import timezone

from campaigns.models import Match
from ledger import figures

pytestmark = pytest.mark.django_db


@pytest.fixture
def match(project):
    now = timezone.now()
    match = Match.objects.create(
        name="Giving Tuesday",
        sponsor_public_name="Acme Corp",
        cap_minor=500_000,
        currency=project.currency,
        starts_at=now - timezone.timedelta(days=1),
        ends_at=now + timezone.timedelta(days=2, hours=1),
        time_zone="America/New_York",
    )
    match.projects.set([project])
    return match


def test_a_page_under_a_running_match_says_doubled_and_keeps_the_match_apart(
    client, page, project, match, make_gift
):
    make_gift(project, amount_minor=316_000)
    make_gift(project, amount_minor=4_000, fundraiser=page)

    html = client.get(page.get_absolute_url()).content.decode()

    assert "Acme Corp</strong> matches gifts 1:1: your gift is doubled." in html
    assert "$3,200 of $5,000 matched, 2 days left" in html
    assert "<strong>$40</strong> raised of $1,000 goal" in html  # the donor's gift only
    assert "Sponsors’ matches added $40 to gifts made here" in html
    assert "never in this page’s total" in html
    assert figures.fundraiser_figures(page).raised_minor == 4_000


@pytest.mark.parametrize(
    "change",
    [
        {"status": Match.Status.PAUSED},
        {"ends_at": timezone.now() - timezone.timedelta(minutes=1)},
        {"matched_minor": 500_000},  # nothing left to match with
    ],
)
def test_no_word_of_doubling_without_a_match_that_can_double(client, page, match, change):
    Match.objects.filter(pk=match.pk).update(**change)
    html = client.get(page.get_absolute_url()).content.decode()
    assert "doubled" not in html
    assert "data-match=" not in html
