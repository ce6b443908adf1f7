import io

import pytest
from django.core.management import call_command

from campaigns.models import Match
from donations.models import Project
from ledger import audit
from ledger.figures import ProjectLedger
from ledger.models import Entry

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_finished_giving_tuesday_match_and_seeding_again_changes_nothing():
    call_command("seed_demo", stdout=io.StringIO())
    match = Match.objects.get(name="Giving Tuesday 2025")
    assert match.status == Match.Status.FINISHED
    assert (match.starts_at.isoformat(), match.time_zone) == ("2025-12-02T05:00:00+00:00", "America/New_York")
    # $500 + $250 + $1,000 (the donor cap) + $100 returned on a refund + $250 (all that was left).
    assert match.matched_minor == 200_000
    assert Entry.objects.filter(match=match, kind="match_pledge_return").count() == 1
    f = ProjectLedger(Project.objects.get(slug="doctors-education")).figures_for("usd")
    assert (f.matched_minor, f.match_paid_minor) == (200_000, 200_000)
    assert audit.differences() == []

    entries = Entry.objects.count()
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "created nothing" in out.getvalue()
    assert Entry.objects.count() == entries
