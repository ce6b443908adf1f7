"""Matches end by themselves: the worker finishes a match whose end has passed (a challenge
met or missed, the unused remainder), once however often it runs, and cached pages stop
saying "doubled" at the end, with no save to tell them."""

import pytest
from django.core.cache.backends import locmem
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Match
from ledger import audit
from ledger.models import Entry
from ledger.tasks import finish_ended_matches
from podari import content_cache
from tests.stories.test_visibility import ShiftedClock

pytestmark = pytest.mark.django_db


def pledged(gift):
    return Entry.objects.filter(matched_gift=gift).aggregate(t=Sum("amount_minor"))["t"] or 0


def let_it_end(match):
    """The end comes: moved into the past the way time would, with no save or signal."""
    Match.objects.filter(pk=match.pk).update(ends_at=timezone.now())


def test_the_worker_returns_every_pledge_of_a_challenge_that_ended_short(project, make_match, make_gift):
    match = make_match([project], kind=Match.Kind.CHALLENGE, target_minor=50_000)
    gifts = [make_gift(project, amount_minor=10_000) for _ in range(2)]
    assert finish_ended_matches.call() == []  # still running: left alone

    let_it_end(match)
    assert finish_ended_matches.call() == [match.pk]

    match.refresh_from_db()
    assert (match.status, match.matched_minor) == (Match.Status.FINISHED, 0)
    assert [pledged(g) for g in gifts] == [0, 0]
    returns = Entry.objects.filter(match=match, kind=Entry.Kind.MATCH_PLEDGE_RETURN)
    assert {e.occurred_at for e in returns} == {match.ends_at}  # dated at the end, not at the run
    assert audit.differences() == []


def test_the_worker_gives_the_remainder_of_a_met_challenge_to_the_general_fund_once(
    project, general_fund, make_match, make_gift
):
    match = make_match(
        [project], kind=Match.Kind.CHALLENGE, target_minor=15_000, remainder=Match.Remainder.GENERAL_FUND
    )
    make_gift(project, amount_minor=10_000)
    make_gift(project, amount_minor=10_000)
    let_it_end(match)

    finish_ended_matches.call()
    assert finish_ended_matches.call() == []  # a second run finds nothing to do
    match.refresh_from_db()
    assert (match.status, match.matched_minor) == (Match.Status.FINISHED, 100_000)
    remainder = Entry.objects.get(match=match, project=general_fund)
    assert (remainder.kind, remainder.amount_minor) == ("match_pledge", 80_000)
    assert audit.differences() == []


def test_a_paused_match_that_ended_is_finished_too_and_a_finished_one_is_left_alone(project, make_match):
    paused = make_match([project], status=Match.Status.PAUSED)
    let_it_end(paused)
    assert finish_ended_matches.call() == [paused.pk]
    assert finish_ended_matches.call() == []
    paused.refresh_from_db()
    assert paused.status == Match.Status.FINISHED


def test_the_next_change_is_the_next_start_or_end_of_an_active_match(project, make_match):
    now = timezone.now()
    assert content_cache.next_change_at() is None
    later = make_match(
        [project], starts_at=now + timezone.timedelta(hours=3), ends_at=now + timezone.timedelta(days=1)
    )
    running = make_match([project], ends_at=now + timezone.timedelta(hours=5))
    assert content_cache.next_change_at() == later.starts_at
    Match.objects.filter(pk=later.pk).update(status=Match.Status.PAUSED)  # resuming saves: pages are told
    assert content_cache.next_change_at() == running.ends_at


def test_a_cached_project_page_stops_saying_doubled_when_the_match_ends(
    client, settings, monkeypatch, project, make_match
):
    settings.PAGE_CACHE_ENABLED = True
    settings.PAGE_CACHE_SECONDS = 600
    # Ends sooner than a cached page would otherwise be kept.
    match = make_match([project], ends_at=timezone.now() + timezone.timedelta(minutes=2))
    url = project.get_absolute_url()
    assert "your gift is doubled" in client.get(url).content.decode()
    with CaptureQueriesContext(connection) as queries:
        assert "your gift is doubled" in client.get(url).content.decode()
    assert len(queries) == 0, "the page cache is not in use, so this test shows nothing"

    # Two minutes pass, for the database's idea of now and for the cache's; no worker ran.
    let_it_end(match)
    monkeypatch.setattr(locmem, "time", ShiftedClock(seconds=121))

    assert "doubled" not in client.get(url).content.decode()
