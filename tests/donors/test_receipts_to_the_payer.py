"""Receipts to the payer: receipts and impact emails go to the address Stripe's Checkout
confirmed, and what donors type (names, dedications) reaches an email on one line, capped,
and never as a link."""

import pytest
from django.utils import timezone

from donations.models import Donor, Gift
from podari.text import ZERO_WIDTH_SPACE
from stories.models import Story

pytestmark = pytest.mark.django_db


@pytest.fixture
def pay(post_event, stripe_event, django_capture_on_commit_callbacks):
    def paid(gift, *, email):
        event = stripe_event("checkout_session_completed", gift=gift)
        event["data"]["object"]["customer_details"]["email"] = email
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(event).status_code == 200
        gift.refresh_from_db()
        return gift

    return paid


def receipts(mailoutbox):
    return [m for m in mailoutbox if m.subject.startswith("Your receipt")]


def test_the_receipt_and_stories_go_to_the_address_checkout_confirmed(
    make_pending_gift, project, pay, make_story, mailoutbox, django_capture_on_commit_callbacks
):
    typed = Donor.objects.create(email="victim@example.com")
    gift = make_pending_gift(
        project, donor=typed, donor_email="victim@example.com", donor_name="Payer", wants_impact_emails=True
    )

    pay(gift, email="Payer@Example.org")

    assert [m.to for m in receipts(mailoutbox)] == [["payer@example.org"]]
    assert gift.donor_email == "payer@example.org"
    assert gift.donor.email == "payer@example.org"
    assert not Donor.objects.get(email="victim@example.com").wants_impact_emails
    with django_capture_on_commit_callbacks(execute=True):
        make_story([project], status=Story.Status.PUBLISHED, publish_at=timezone.now())
    assert [m.to for m in mailoutbox if "List-Unsubscribe" in m.extra_headers] == [["payer@example.org"]]


BAIT = "Call +1 800 555 0100\nor visit https://refund-desk.example/claim and www.refund.example now " * 2


def test_what_a_donor_typed_reaches_the_receipt_on_one_capped_line_and_unlinked(
    make_pending_gift, project, pay, mailoutbox
):
    gift = make_pending_gift(
        project,
        donor_email="ada@example.com",
        donor_name=BAIT,
        dedication=Gift.Dedication.MEMORY,
        dedication_name="Grandpa\r\nvisit evil.example\u202e",
    )

    pay(gift, email="ada@example.com")

    (receipt,) = receipts(mailoutbox)
    html = receipt.alternatives[0][0]
    for body in (receipt.body, html):
        donor_line = next(line for line in body.splitlines() if "Call +1" in line)
        assert "https://refund-desk.example" not in body
        assert "www.refund.example" not in body and "evil.example" not in body
        assert f"refund-desk.{ZERO_WIDTH_SPACE}example" in donor_line
        shown = donor_line.split("Call +1", 1)[1].split("<", 1)[0]
        assert len(shown) < 85 and shown.rstrip().endswith("…")
        assert "\u202e" not in body
    assert "Dedicated: In memory of Grandpa visit evil." in receipt.body


def test_the_donate_form_keeps_names_on_one_line(donate, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    donate(
        project,
        donor_email="ada@example.com",
        donor_name="Ada\nLovelace\u202e",
        dedication="honour",
        dedication_name="  Grandma\t\tUlyana ",
        show_name_publicly="on",
    )

    gift = Gift.objects.get()
    assert (gift.donor_name, gift.dedication_name) == ("Ada Lovelace", "Grandma Ulyana")
