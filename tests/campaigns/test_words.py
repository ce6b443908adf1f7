"""What donors read about a match: "your gift is doubled" only while a match with money
left runs for the project; on the thank-you page, what it matched, in part if so."""

import pytest
from django.urls import reverse

from campaigns.models import Match
from donations.models import Gift

pytestmark = pytest.mark.django_db


def donate_page(client, project):
    return client.get(reverse("donations:donate") + f"?project={project.slug}").content.decode()


def test_the_donate_form_says_doubled_or_tripled_only_while_a_match_has_money(
    client, project, make_match, make_gift
):
    assert "Your gift is" not in donate_page(client, project)
    match = make_match([project], ratio=2, cap_minor=3_000)
    assert "<strong>Your gift is tripled</strong>: Acme Corp matches it 2:1" in donate_page(client, project)

    Match.objects.filter(pk=match.pk).update(status=Match.Status.PAUSED)
    assert "Your gift is" not in donate_page(client, project)
    Match.objects.filter(pk=match.pk).update(status=Match.Status.ACTIVE)
    make_gift(project, amount_minor=2_000)  # takes all $30 of it
    assert "Your gift is" not in donate_page(client, project)


@pytest.fixture
def paid_through_checkout(donate, project, stripe_stub, checkout_session, post_event, stripe_event):
    def pay(amount_preset="10000"):
        session = checkout_session()
        stripe_stub.respond(session)
        donate(project, amount_preset=amount_preset, donor_name="Jane", donor_email="jane@example.com")
        gift = Gift.objects.get(stripe_checkout_session_id=session["id"])
        intent = f"pi_test_{gift.pk}"
        post_event(stripe_event("checkout_session_completed", gift=gift, payment_intent=intent))
        gift.refresh_from_db()
        return gift

    return pay


def thanks(client, gift):
    return client.get(
        f"{reverse('donations:thanks')}?session_id={gift.stripe_checkout_session_id}"
    ).content.decode()


def test_the_thank_you_page_says_what_the_match_added_and_when_it_was_only_part(
    client, project, make_match, paid_through_checkout
):
    make_match([project], cap_minor=15_000)
    first = paid_through_checkout()
    assert first.is_paid
    assert "<strong>Acme Corp matched your gift with $100</strong>" in thanks(client, first)

    second = paid_through_checkout()
    html = thanks(client, second)
    assert (
        "<strong>Acme Corp matched $50 of your gift</strong>: that was all the match had left for it." in html
    )
    assert "your receipt shows only yours" in html


def test_a_challenge_shows_donors_way_to_its_target_on_the_project_page(
    client, project, make_match, make_gift
):
    from campaigns.models import Match

    make_match([project], kind=Match.Kind.CHALLENGE, target_minor=50_000)
    make_gift(project, amount_minor=12_000)
    html = client.get(project.get_absolute_url()).content.decode()
    assert "$120 of the $500 target given by donors</p>" in html
    assert '<progress max="100" value="24" aria-label="$120 of the $500 target given by donors">' in html

    make_gift(project, amount_minor=40_000)
    html = client.get(project.get_absolute_url()).content.decode()
    assert "$520 of the $500 target given by donors: the challenge is met" in html
