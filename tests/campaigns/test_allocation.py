"""A match pledges its sponsor's money when a donor's payment is recorded, within its caps,
and gives it back when the donor's gift is refunded or lost to a chargeback."""

import pytest
from django.db.models import Sum
from django.utils import timezone

from campaigns.models import Match
from donations.models import Gift, RecurringGift
from ledger.models import Entry
from tests.conftest import dispute, fail_refund, money, pay, refund

pytestmark = pytest.mark.django_db


def pledged(gift):
    return Entry.objects.filter(matched_gift=gift).aggregate(t=Sum("amount_minor"))["t"] or 0


def test_a_paid_gift_is_matched_by_the_ratio_and_the_donor_keeps_only_their_own_money(
    project, make_match, make_gift
):
    match = make_match([project], ratio=2)
    gift = make_gift(project, amount_minor=5_000, fee_covered_minor=300)

    match.refresh_from_db()
    assert match.matched_minor == 10_000
    entry = Entry.objects.get(matched_gift=gift)
    assert (entry.kind, entry.account, entry.match, entry.gift) == ("match_pledge", "match", match, None)
    assert entry.key == f"match:{gift.public_id}:payment"
    # The donor's own figures know nothing of the sponsor's money.
    assert (money(gift).given_minor, money(gift).charged_minor, gift.net_minor) == (5_300, 5_300, 5_000)


def test_a_gift_larger_than_what_is_left_is_matched_in_part(project, make_match, make_gift):
    match = make_match([project], cap_minor=3_000)
    first = make_gift(project, amount_minor=2_000)
    second = make_gift(project, amount_minor=2_000)
    third = make_gift(project, amount_minor=2_000)

    assert (pledged(first), pledged(second), pledged(third)) == (2_000, 1_000, 0)
    match.refresh_from_db()
    assert match.matched_minor == match.cap_minor == 3_000


def test_checkout_alone_pledges_nothing(project, make_match, make_gift):
    match = make_match([project])
    make_gift(project, status=Gift.Status.PENDING)
    match.refresh_from_db()
    assert match.matched_minor == 0


def test_caps_per_gift_and_per_donor_and_the_minimum(project, make_match, make_gift):
    make_match([project], per_gift_cap_minor=1_500, per_donor_cap_minor=2_000, minimum_gift_minor=1_000)
    small = make_gift(project, amount_minor=999, donor_email="a@example.com")
    big = make_gift(project, amount_minor=5_000, donor_email="a@example.com")
    again = make_gift(project, amount_minor=5_000, donor_email="A@example.com")
    other = make_gift(project, amount_minor=5_000, donor_email="b@example.com")
    assert [pledged(g) for g in (small, big, again, other)] == [0, 1_500, 500, 1_500]


def test_only_gifts_in_the_match_currency_to_its_projects_while_it_runs(
    project, make_project, make_match, make_gift
):
    now = timezone.now()
    make_match([project], currency="eur")
    paused = make_match([project], status=Match.Status.PAUSED)
    make_match(
        [project], starts_at=now + timezone.timedelta(days=1), ends_at=now + timezone.timedelta(days=2)
    )
    elsewhere = make_project()
    gifts = [
        make_gift(project),
        make_gift(elsewhere),
        make_gift(project, paid_at=now - timezone.timedelta(days=5)),
    ]
    assert [pledged(g) for g in gifts] == [0, 0, 0]
    paused.refresh_from_db()
    assert paused.matched_minor == 0


def test_the_earliest_ending_match_matches_and_only_one(project, make_match, make_gift):
    now = timezone.now()
    later = make_match([project], ends_at=now + timezone.timedelta(days=5))
    sooner = make_match([project], ends_at=now + timezone.timedelta(days=1), cap_minor=1_000)
    gift = make_gift(project, amount_minor=5_000)
    assert list(Entry.objects.filter(matched_gift=gift).values_list("match", "amount_minor")) == [
        (sooner.pk, 1_000)
    ]
    # Once the sooner one is spent, the later one matches.
    after = make_gift(project, amount_minor=5_000)
    assert list(Entry.objects.filter(matched_gift=after).values_list("match", flat=True)) == [later.pk]


def test_a_monthly_gift_is_matched_for_its_first_payment_only_unless_the_match_says(
    project, make_match, make_gift
):
    match = make_match([project])
    recurring = RecurringGift.objects.create(project=project, amount_minor=2_000, currency="usd")
    first = make_gift(project, amount_minor=2_000, recurring_gift=recurring)
    second = make_gift(project, amount_minor=2_000, recurring_gift=recurring)
    assert (pledged(first), pledged(second)) == (2_000, 0)

    Match.objects.filter(pk=match.pk).update(matches_monthly_renewals=True)
    third = make_gift(project, amount_minor=2_000, recurring_gift=recurring)
    assert pledged(third) == 2_000


def test_a_payment_reported_twice_is_matched_once(project, make_match, make_gift):
    match = make_match([project])
    gift = make_gift(project, amount_minor=2_000)
    pay(gift)
    match.refresh_from_db()
    assert (pledged(gift), match.matched_minor) == (2_000, 2_000)


def test_refunds_return_the_match_in_proportion_and_a_failed_refund_pledges_it_again(
    project, make_match, make_gift
):
    match = make_match([project], ratio=2)
    gift = make_gift(project, amount_minor=10_000)
    refund(gift, 2_500, as_of=2_000_000_000)
    assert pledged(gift) == 15_000
    fail_refund(gift, "re_failed", 2_500, as_of=2_000_000_001)
    assert pledged(gift) == 20_000
    refund(gift, 10_000, as_of=2_000_000_002)
    assert pledged(gift) == 0
    match.refresh_from_db()
    assert match.matched_minor == 0
    kinds = set(Entry.objects.filter(matched_gift=gift).values_list("kind", flat=True))
    assert kinds == {"match_pledge", "match_pledge_return"}


def test_a_lost_dispute_returns_the_match_and_a_won_one_keeps_it(project, make_match, make_gift):
    match = make_match([project])
    won, lost = make_gift(project, amount_minor=4_000), make_gift(project, amount_minor=4_000)
    dispute(won, "dp_won", 4_000)
    dispute(lost, "dp_lost", 4_000)
    # Open: the bank may still decide for us, so the match stays.
    assert (pledged(won), pledged(lost)) == (4_000, 4_000)
    dispute(won, "dp_won", 4_000, closed="won")
    dispute(lost, "dp_lost", 4_000, closed="lost")
    assert (pledged(won), pledged(lost)) == (4_000, 0)
    match.refresh_from_db()
    assert match.matched_minor == 4_000


def test_an_admin_save_never_writes_back_an_old_balance(project, make_match, make_gift):
    match = make_match([project])
    stale = Match.objects.get(pk=match.pk)
    make_gift(project, amount_minor=2_000)
    stale.name = "Renamed"
    stale.save()
    match.refresh_from_db()
    assert (match.name, match.matched_minor) == ("Renamed", 2_000)


def test_a_test_payment_on_a_live_site_spends_none_of_the_match(settings, project, make_match, make_gift):
    settings.STRIPE_LIVEMODE = True
    match = make_match([project])
    gift = make_gift(project, amount_minor=2_000, livemode=False)
    match.refresh_from_db()
    assert (pledged(gift), match.matched_minor) == (0, 0)
