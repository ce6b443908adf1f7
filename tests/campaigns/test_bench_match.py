"""The benchmark's giving spike runs with a match active: bench/seed.py's match covers every
active project and matches a gift paid during the spike."""

import pytest
from django.utils import timezone

from campaigns.models import Match
from donations.models import Project
from ledger.models import Entry

pytestmark = pytest.mark.django_db


def test_the_spike_match_is_running_over_every_active_project_and_matches(make_project, make_gift):
    from bench.seed import seed_spike_match

    active, closed = make_project(), make_project(status=Project.Status.CLOSED)
    match = Match.objects.get(pk=seed_spike_match([active, closed]))
    assert list(match.projects.all()) == [active]
    assert match.is_running(timezone.now() + timezone.timedelta(hours=2))

    gift = make_gift(active, amount_minor=5_000)
    assert Entry.objects.get(matched_gift=gift).amount_minor == 5_000
