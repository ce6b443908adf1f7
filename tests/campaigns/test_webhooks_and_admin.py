"""A match through Stripe's signed webhooks and the admin: a payment matched by its
webhook, a refund's webhook returning its share; staff pause, resume, finish and settle."""

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Match
from donations.models import Gift
from ledger import audit
from ledger.models import Entry

pytestmark = pytest.mark.django_db


def pledged(gift):
    return sum(Entry.objects.filter(matched_gift=gift).values_list("amount_minor", flat=True))


def test_a_refund_webhook_returns_the_refunded_share_of_the_match(
    project, make_match, make_gift, post_event, stripe_event
):
    match = make_match([project], ratio=2)
    gift = make_gift(
        project, amount_minor=10_000, status=Gift.Status.PENDING, stripe_checkout_session_id="cs_m1"
    )
    post_event(stripe_event("checkout_session_completed", gift=gift, payment_intent="pi_m1"))
    gift.refresh_from_db()
    assert (gift.is_paid, pledged(gift)) == (True, 20_000)

    refund = stripe_event(
        "charge_refunded",
        gift=gift,
        amount=10_000,
        amount_captured=10_000,
        amount_refunded=4_000,
        refunded=False,
    )
    assert post_event(refund).status_code == 200
    assert pledged(gift) == 12_000
    match.refresh_from_db()
    assert match.matched_minor == 12_000
    # Stripe delivering the same refund again returns nothing twice.
    post_event(refund)
    assert pledged(gift) == 12_000
    assert audit.differences() == []


def act(admin_client, action, match, **extra):
    return admin_client.post(
        reverse("admin:campaigns_match_changelist"),
        {"action": action, "_selected_action": [match.pk], **extra},
    )


def test_staff_pause_and_resume_a_match(admin_client, project, make_match, make_gift):
    match = make_match([project])
    act(admin_client, "pause", match)
    match.refresh_from_db()
    assert match.status == Match.Status.PAUSED
    assert pledged(make_gift(project)) == 0
    act(admin_client, "resume", match)
    match.refresh_from_db()
    assert match.status == Match.Status.ACTIVE
    assert pledged(make_gift(project, amount_minor=2_000)) == 2_000


def test_a_challenge_whose_donors_fall_short_returns_every_pledge(
    admin_client, project, make_match, make_gift
):
    match = make_match([project], kind=Match.Kind.CHALLENGE, target_minor=50_000)
    gifts = [make_gift(project, amount_minor=10_000) for _ in range(2)]
    act(admin_client, "finish", match)
    match.refresh_from_db()
    assert (match.status, match.matched_minor) == (Match.Status.FINISHED, 0)
    assert [pledged(g) for g in gifts] == [0, 0]
    assert audit.differences() == []


def test_a_met_challenge_keeps_its_pledges_and_a_remainder_can_go_to_the_general_fund(
    admin_client, project, general_fund, make_match, make_gift
):
    match = make_match(
        [project], kind=Match.Kind.CHALLENGE, target_minor=15_000, remainder=Match.Remainder.GENERAL_FUND
    )
    make_gift(project, amount_minor=10_000)
    make_gift(project, amount_minor=10_000)
    act(admin_client, "finish", match)
    match.refresh_from_db()
    assert match.matched_minor == match.cap_minor == 100_000
    remainder = Entry.objects.get(match=match, project=general_fund)
    assert (remainder.kind, remainder.amount_minor) == ("match_pledge", 80_000)
    assert audit.differences() == []


def test_an_offline_gift_can_settle_a_match(admin_client, project, make_match, make_gift, sponsor):
    match = make_match([project])
    make_gift(project, amount_minor=30_000)
    response = admin_client.post(
        reverse("admin:ledger_offlinegift_add"),
        {"project": project.pk, "source": "bank_transfer", "amount": "300", "currency": "",
         "received_on": timezone.localdate().isoformat(), "donor": sponsor.pk, "donor_name": "Acme",
         "note": "", "settles_match": match.pk, "reason": ""},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    settled = Entry.objects.get(match=match, kind="match_settled")
    assert settled.amount_minor == -30_000
    assert audit.differences() == []


def test_the_admin_pages_of_matches_and_their_entries_open(admin_client, project, make_match, make_gift):
    match = make_match([project])
    make_gift(project, amount_minor=2_000)
    for url in (
        reverse("admin:campaigns_match_changelist"),
        reverse("admin:campaigns_match_add"),
        reverse("admin:campaigns_match_change", args=[match.pk]),
        reverse("admin:ledger_entry_changelist"),
        reverse("admin:ledger_entry_change", args=[Entry.objects.get(match=match).pk]),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    assert (
        "$20 of $1,000 matched"
        in admin_client.get(reverse("admin:campaigns_match_changelist")).content.decode()
    )


def test_a_refund_after_a_missed_challenge_pledges_nothing_again(
    admin_client, project, make_match, make_gift
):
    from tests.conftest import refund

    match = make_match([project], kind=Match.Kind.CHALLENGE, target_minor=50_000)
    gift = make_gift(project, amount_minor=10_000)
    act(admin_client, "finish", match)
    refund(gift, 5_000, as_of=2_000_000_000)
    match.refresh_from_db()
    assert (pledged(gift), match.matched_minor) == (0, 0)


def test_staff_set_start_and_end_in_the_matchs_own_time_zone(admin_client, project, sponsor, settings):
    settings.TIME_ZONE = "Europe/Moscow"
    response = admin_client.post(
        reverse("admin:campaigns_match_add"),
        {"name": "Giving Tuesday", "sponsor": sponsor.pk, "sponsor_public_name": "Acme Corp",
         "projects": [project.pk], "ratio": 1, "currency": "usd", "cap": "5,000",
         "per_donor_cap": "1,000", "per_gift_cap": "", "minimum_gift": "10",
         "time_zone": "America/New_York", "starts_at_0": "2025-12-02", "starts_at_1": "00:00:00",
         "ends_at_0": "2025-12-03", "ends_at_1": "00:00:00", "kind": "unconditional", "target": "",
         "remainder": "sponsor"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    match = Match.objects.get()
    assert (
        match.cap_minor,
        match.per_donor_cap_minor,
        match.per_gift_cap_minor,
        match.minimum_gift_minor,
    ) == (500_000, 100_000, None, 1_000)
    assert match.starts_at.isoformat() == "2025-12-02T05:00:00+00:00"
    assert match.ends_at.isoformat() == "2025-12-03T05:00:00+00:00"
    page = admin_client.get(reverse("admin:campaigns_match_change", args=[match.pk])).content.decode()
    assert 'value="2025-12-02"' in page and 'value="00:00:00"' in page
    assert 'name="cap" value="5000.00"' in page


def test_finance_runs_matches_and_editors_never_see_them(finance_client, editor_user, project, make_match):
    match = make_match([project])
    assert finance_client.get(reverse("admin:campaigns_match_add")).status_code == 200
    act(finance_client, "pause", match)
    match.refresh_from_db()
    assert match.status == Match.Status.PAUSED
    finance_client.force_login(editor_user)
    assert finance_client.get(reverse("admin:campaigns_match_changelist")).status_code == 403


def test_a_lost_dispute_webhook_returns_the_match_and_a_won_one_keeps_it(
    project, make_match, make_gift, post_event, stripe_event
):
    match = make_match([project])
    lost = make_gift(project, amount_minor=5_000, stripe_payment_intent_id="pi_3QbXy2B7WZ01zgkW1aB2cD3e")
    won = make_gift(project, amount_minor=5_000, stripe_payment_intent_id="pi_won")

    def dispute(gift, name, status, created):
        event = stripe_event(name, gift=gift, payment_intent=gift.stripe_payment_intent_id, status=status,
                             id=f"dp_{gift.pk}", charge=f"ch_{gift.pk}")  # fmt: skip
        event["created"] = created
        assert post_event(event).status_code == 200

    for gift, outcome in ((lost, "lost"), (won, "won")):
        dispute(gift, "charge_dispute_created", "needs_response", 100)
        assert pledged(gift) == 5_000  # open: the bank may still decide for us
        dispute(gift, "charge_dispute_closed", outcome, 200)
    assert (pledged(lost), pledged(won)) == (0, 5_000)
    match.refresh_from_db()
    assert match.matched_minor == 5_000
    assert audit.differences() == []


def test_pausing_a_match_refreshes_the_cached_pages(
    admin_client, project, make_match, django_capture_on_commit_callbacks
):
    from podari import page_cache

    match = make_match([project])
    before = page_cache.content_version()
    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client, "pause", match)
    assert page_cache.content_version() != before
