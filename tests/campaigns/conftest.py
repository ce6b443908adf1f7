import pytest
from django.utils import timezone


@pytest.fixture
def sponsor(db):
    from donations.models import Donor

    return Donor.objects.create(email="giving@acme.example", name="Acme Corp")


@pytest.fixture
def make_match(db, sponsor):
    """make_match(projects, **fields): an active match, running now, 1:1, $1,000 cap."""
    from campaigns.models import Match

    def make(projects, **fields):
        now = timezone.now()
        fields.setdefault("name", "Giving Tuesday")
        fields.setdefault("sponsor", sponsor)
        fields.setdefault("sponsor_public_name", "Acme Corp")
        fields.setdefault("cap_minor", 100_000)
        fields.setdefault("currency", "usd")
        fields.setdefault("starts_at", now - timezone.timedelta(days=1))
        fields.setdefault("ends_at", now + timezone.timedelta(days=2))
        fields.setdefault("time_zone", "America/New_York")
        match = Match.objects.create(**fields)
        match.projects.set(projects)
        return match

    return make


# The webhook fixtures of the donations tests: a match's words are checked on the pages a
# real checkout and its signed webhook lead to.
from tests.donations.conftest import checkout_session, donate, stripe_event  # noqa: E402, F401
