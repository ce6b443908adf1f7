"""A dedication: the donor may have the honoree's family told by email, once the gift is paid,
with their own message and the amount only if they choose."""

import pytest

from donations.models import Gift
from donors.models import Email

pytestmark = pytest.mark.django_db


@pytest.fixture
def give(
    donate,
    project,
    stripe_stub,
    checkout_session,
    post_event,
    stripe_event,
    django_capture_on_commit_callbacks,
):
    def give(**fields):
        session = checkout_session()
        stripe_stub.respond(session)
        donate(project, amount_preset="10000", donor_name="Jane", donor_email="jane@example.com", **fields)
        gift = Gift.objects.get(stripe_checkout_session_id=session["id"])
        with django_capture_on_commit_callbacks(execute=True):
            post_event(stripe_event("checkout_session_completed", gift=gift))
        gift.refresh_from_db()
        return gift

    return give


def test_the_family_is_told_once_with_the_message_and_no_amount(give, mailoutbox):
    gift = give(
        dedication="memory",
        dedication_name="Grandma Vera",
        dedication_notify_email="family@example.org",
        dedication_message="She loved the children's ward.",
    )

    assert gift.dedication_notify_email == "family@example.org" and not gift.dedication_shows_amount
    [family] = [m for m in mailoutbox if m.to == ["family@example.org"]]
    assert family.subject == "A gift in memory of Grandma Vera"
    assert "Jane has given a gift to Podari.Life in memory of Grandma Vera." in family.body
    assert "She loved the children's ward." in family.body
    assert "$100" not in family.body and "$100" not in family.alternatives[0][0]
    assert "/manage/" not in family.body  # nothing of the donor's own pages
    assert Email.objects.filter(kind=Email.Kind.DEDICATION).count() == 1


def test_the_amount_is_told_only_when_the_donor_chooses(give, mailoutbox):
    give(
        dedication="honour",
        dedication_name="Dr. Petrova",
        dedication_notify_email="petrova@example.org",
        dedication_shows_amount="on",
    )
    [family] = [m for m in mailoutbox if m.to == ["petrova@example.org"]]
    assert "in honor of Dr. Petrova: $100." in family.body


def test_no_email_without_an_address_and_no_address_without_a_dedication(give, donate, project, mailoutbox):
    give(dedication="honour", dedication_name="Dr. Petrova")
    assert not Email.objects.filter(kind=Email.Kind.DEDICATION).exists()

    response = donate(project, dedication_notify_email="family@example.org")
    assert response.status_code == 200
    assert "Choose “In honor of” or “In memory of” to tell their family." in response.content.decode()
