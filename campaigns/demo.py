"""Demo data: a finished Giving Tuesday match (Giving Tuesday 2025 was December 2), its
sponsor, the gifts it matched and the sponsor's payment, all through the services, so
the demo's books balance like real ones. Called by `manage.py seed_demo`; creates only
what is missing, so running it again changes nothing."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from campaigns import services as matching
from campaigns.models import Match
from donations.models import Donor, Gift
from ledger import services

NEW_YORK = ZoneInfo("America/New_York")
PROJECT = "doctors-education"
NAME = "Giving Tuesday 2025"
SPONSOR_EMAIL = "giving@northlight-foundation.example"


def _et(day, hour, minute=0):
    return datetime(2025, 12, day, hour, minute, tzinfo=NEW_YORK)


# As seed_demo's GIFTS: (session id, project, amount, refunded, name, public, paid at).
# $2,000 of matching, $1,000 at most per donor: the fourth gift is refunded (recorded
# before the fifth) and its $100 of match goes back; the fifth finds $250 left and is
# matched in part.
GIFTS = [
    ("cs_demo_gt_1", PROJECT, 50_000, 0, "Olga Petrova", True, _et(2, 8, 15)),
    ("cs_demo_gt_2", PROJECT, 25_000, 0, "Mark Stein", False, _et(2, 11, 40)),
    ("cs_demo_gt_3", PROJECT, 100_000, 0, "Irina Volkova", True, _et(2, 14, 5)),
    ("cs_demo_gt_4", PROJECT, 10_000, 10_000, "Paul Young", False, _et(2, 19, 30)),
    ("cs_demo_gt_5", PROJECT, 40_000, 0, "Anna Belova", True, _et(2, 22, 50)),
]

# The sponsor's payment of what it pledged ($2,000), by bank transfer, settling the match.
SPONSOR_PAYMENT_ID = uuid.UUID("6d0f4c52-9a3e-4f51-8c1e-2b5a1d7e0c01")


def seed_match(projects):
    """The match, active, before its gifts are recorded; (match, created)."""
    sponsor, _ = Donor.objects.get_or_create(email=SPONSOR_EMAIL, defaults={"name": "Northlight Foundation"})
    match, created = Match.objects.get_or_create(
        name=NAME,
        defaults={
            "sponsor": sponsor,
            "sponsor_public_name": "the Northlight Foundation",
            "ratio": 1,
            "cap_minor": 200_000,
            "currency": projects[PROJECT].currency,
            "per_donor_cap_minor": 100_000,
            "starts_at": _et(2, 0),
            "ends_at": _et(3, 0),
            "time_zone": "America/New_York",
            "remainder": Match.Remainder.SPONSOR,
        },
    )
    if created:
        match.projects.set([projects[PROJECT]])
    return match, created


def finish_match(match, projects):
    """Finish the match and record the sponsor's payment of it (each only once)."""
    origin = services.Origin.staff(None, "Demo content")
    matching.finish(match, origin, now=match.ends_at)
    if not Gift.objects.filter(public_id=SPONSOR_PAYMENT_ID).exists():
        match.refresh_from_db()
        payment = Gift(
            public_id=SPONSOR_PAYMENT_ID,
            project=projects[PROJECT],
            source=Gift.Source.BANK_TRANSFER,
            amount_minor=match.matched_minor,
            currency=match.currency,
            donor=match.sponsor,
            donor_name="Northlight Foundation",
            note="Giving Tuesday 2025: the match, paid in",
            paid_at=_et(18, 12),
        )
        services.record_offline_gift(payment, by=None, note="Demo content", settles_match=match)
        return True
    return False
