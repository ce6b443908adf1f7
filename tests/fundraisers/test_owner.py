"""The owner: signs in by emailed link, sees gifts as each donor chose (never an email),
gets a digest of new gifts and writes a thank-you note shown on the page."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from fundraisers import digests
from fundraisers.models import Supporter

pytestmark = pytest.mark.django_db


def test_a_supporter_signs_in_by_emailed_link(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("fundraisers:start"), {"email": "New@Example.com", "name": "Nina"})

    supporter = Supporter.objects.get()
    assert (supporter.email, supporter.name) == ("new@example.com", "Nina")
    link = re.search(r"http://testserver(/fundraisers/link/\S+/)", mail.outbox[0].body).group(1)

    shown = client.get(link, follow=True)
    assert b"Sign in" in shown.content
    response = client.post(reverse("fundraisers:sign_in_page"))
    assert response["Location"] == reverse("fundraisers:mine")
    assert client.get(reverse("fundraisers:create")).status_code == 200

    # The link works once.
    client.get(link)
    assert client.post(reverse("fundraisers:sign_in_page")).status_code == 410


def test_the_owner_sees_names_and_amounts_as_donors_chose_and_never_an_email(
    supporter_client, page, project, make_gift, django_capture_on_commit_callbacks
):
    make_gift(
        project,
        amount_minor=5_000,
        fundraiser=page,
        donor_name="Anna",
        donor_email="anna@example.com",
        owner_sees="name_amount",
    )
    make_gift(
        project,
        amount_minor=7_000,
        fundraiser=page,
        donor_name="Boris",
        donor_email="boris@example.com",
        owner_sees="name",
    )
    make_gift(
        project,
        amount_minor=9_000,
        fundraiser=page,
        donor_name="Clara",
        donor_email="clara@example.com",
        owner_sees="anonymous",
    )

    html = supporter_client.get(reverse("fundraisers:owner", args=[page.slug])).content.decode()

    assert "Anna</td><td>$50" in html
    assert "Boris</td><td>Not shown" in html
    assert "Clara" not in html and "$90" not in html
    assert "Anonymous</td><td>Not shown" in html
    assert "@example.com" not in html.replace("yelena@example.com", "")

    with django_capture_on_commit_callbacks(execute=True):
        digests.send_all()
    digest = mail.outbox[-1]
    assert digest.to == ["yelena@example.com"]
    body = digest.body + digest.alternatives[0][0]
    assert "Anna: $50" in body and "Boris" in body and "Clara" not in body
    assert "anna@example.com" not in body and "boris@example.com" not in body


def test_the_digest_sends_only_new_gifts(page, project, make_gift, django_capture_on_commit_callbacks):
    make_gift(project, amount_minor=5_000, fundraiser=page, donor_name="Anna", owner_sees="name")
    assert digests.send_all() == 1
    assert digests.send_all() == 0
    make_gift(project, amount_minor=5_000, fundraiser=page, donor_name="Boris", owner_sees="name")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert digests.send_all() == 1
    assert "Boris" in mail.outbox[0].body and "Anna" not in mail.outbox[0].body


def test_another_supporter_cannot_open_the_owners_page(client, page, make_page):
    other = Supporter.objects.create(email="other@example.com")
    session = client.session
    session["supporter_id"], session["supporter_signed_in_at"] = other.pk, 9_999_999_999
    session.save()

    assert client.get(reverse("fundraisers:owner", args=[page.slug])).status_code == 404


def test_the_thank_you_note_shows_on_the_page(supporter_client, client, page):
    supporter_client.post(
        reverse("fundraisers:owner", args=[page.slug]), {"thank_you_note": "Thank you all!"}
    )

    assert "Thank you all!" in client.get(page.get_absolute_url()).content.decode()


def test_a_thank_you_note_with_a_link_is_refused(supporter_client, page):
    response = supporter_client.post(
        reverse("fundraisers:owner", args=[page.slug]), {"thank_you_note": "see www.example.com"}
    )
    assert response.status_code == 200
    page.refresh_from_db()
    assert page.thank_you_note == ""


def test_links_to_one_address_are_capped(client, settings, django_capture_on_commit_callbacks):
    settings.DONOR_LINK_RATE_LIMIT_PER_EMAIL = 2
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(4):
            response = client.post(reverse("fundraisers:start"), {"email": "lena@example.com"})
            assert response.status_code == 302  # the same answer every time

    assert len(mail.outbox) == 2


def test_supporters_sign_in_links_are_deleted_after_the_retention_period(supporter, settings):
    from fundraisers.models import SupporterSignInLink
    from fundraisers.tasks import delete_old_sign_in_links

    old = SupporterSignInLink.objects.create(
        supporter=supporter, created_at=timezone.now() - timedelta(days=settings.RETENTION_SIGN_IN_DAYS + 1)
    )
    recent = SupporterSignInLink.objects.create(supporter=supporter)

    assert delete_old_sign_in_links.call() == 1
    assert list(SupporterSignInLink.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not SupporterSignInLink.objects.filter(pk=old.pk).exists()
