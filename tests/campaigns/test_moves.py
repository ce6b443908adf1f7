"""Moving a matched gift to another project moves its match's pledge with it, so each
project counts the sponsor's money of the gifts it has, and the books still add up."""

import io

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from campaigns.models import Match
from donations.models import Gift
from ledger import audit, services
from ledger.figures import ProjectLedger
from ledger.models import Entry
from tests.conftest import refund

pytestmark = pytest.mark.django_db


def matched_on(project):
    return ProjectLedger(project).figures_for("usd").matched_minor


def assert_books_add_up():
    assert audit.differences() == []
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "0 differences" in out.getvalue()


@pytest.fixture
def doctors(make_project):
    return make_project(title="Doctors", slug="doctors")


def test_a_moved_gift_takes_its_match_to_the_new_project(project, doctors, make_match, make_gift, admin_user):
    match = make_match([project])
    gift = make_gift(project, amount_minor=5_000)

    move = services.move_gift(gift, doctors, by=admin_user, reason="given to the wrong appeal")

    out, into = (
        Entry.objects.get(match=match, kind=kind, key=f"move:{move.pk}:match:{match.pk}:{part}")
        for kind, part in ((Entry.Kind.MOVE_OUT, "out"), (Entry.Kind.MOVE_IN, "in"))
    )
    assert (out.project, out.amount_minor, out.account, out.matched_gift) == (project, -5_000, "match", gift)
    assert (into.project, into.amount_minor, into.account, into.gift) == (doctors, 5_000, "match", None)
    assert (matched_on(project), matched_on(doctors)) == (0, 5_000)
    match.refresh_from_db()
    assert match.matched_minor == 5_000  # the sponsor's promise is the same, on another project
    assert_books_add_up()


def test_after_a_move_a_refund_returns_the_match_from_the_new_project(
    project, doctors, make_match, make_gift, admin_user
):
    match = make_match([project])
    gift = make_gift(project, amount_minor=10_000)
    services.move_gift(gift, doctors, by=admin_user)

    refund(gift, 2_500, as_of=2_000_000_000)

    assert (matched_on(project), matched_on(doctors)) == (0, 7_500)
    match.refresh_from_db()
    assert match.matched_minor == 7_500
    assert_books_add_up()


def test_a_missed_challenge_returns_a_moved_pledge_from_the_new_project(
    project, doctors, make_match, make_gift, admin_user
):
    match = make_match([project], kind=Match.Kind.CHALLENGE, target_minor=50_000)
    gift = make_gift(project, amount_minor=10_000)
    services.move_gift(gift, doctors, by=admin_user)

    services.finish_match(match, origin=services.Origin.staff(admin_user), at=timezone.now())

    assert (matched_on(project), matched_on(doctors)) == (0, 0)
    assert_books_add_up()


def test_what_the_sponsor_paid_in_to_the_old_project_stays_there(
    project, doctors, make_match, make_gift, admin_user, sponsor
):
    match = make_match([project])
    gift = make_gift(project, amount_minor=5_000)
    paid_in = Gift(
        project=project, amount_minor=2_000, currency="usd", source=Gift.Source.BANK_TRANSFER, donor=sponsor
    )
    services.record_offline_gift(paid_in, by=None, settles_match=match)

    services.move_gift(gift, doctors, by=admin_user)

    # $20 of the $50 pledge was paid to the old project: it keeps that, and the unpaid $30 moves.
    assert (matched_on(project), matched_on(doctors)) == (2_000, 3_000)
    moved = Entry.objects.filter(match=match, kind=Entry.Kind.MOVE_IN).aggregate(t=Sum("amount_minor"))
    assert moved["t"] == 3_000
    assert_books_add_up()


def test_moving_a_gift_back_and_forth_leaves_each_project_its_own(
    project, doctors, make_match, make_gift, admin_user
):
    make_match([project])
    gift = make_gift(project, amount_minor=5_000)
    services.move_gift(gift, doctors, by=admin_user)
    services.move_gift(gift, project, by=admin_user)
    assert (matched_on(project), matched_on(doctors)) == (5_000, 0)
    assert_books_add_up()
