"""Consent only the donor gives: the donate form's "email me stories" counts once its gift is
paid, never overrides an unsubscribe without a confirmed link, and every change is logged."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from donations.models import Donor, Gift
from donors.models import ConsentChange, Email
from stories.models import Story

pytestmark = pytest.mark.django_db

CONFIRM_LINK = re.compile(r"http://testserver(/email/confirm-stories/[^/\s]+/)")


@pytest.fixture
def form_gift(donate, project, stripe_stub, checkout_session):
    """donate_with_tick(email): the donate form posted with the stories box ticked, not paid."""

    def post(email="ada@example.com", **fields):
        session = checkout_session()
        stripe_stub.respond(session)
        response = donate(project, donor_email=email, wants_impact_emails="on", **fields)
        assert response.status_code == 303
        return Gift.objects.get(stripe_checkout_session_id=session["id"])

    return post


@pytest.fixture
def pay(post_event, stripe_event, django_capture_on_commit_callbacks):
    def paid(gift, email=None):
        event = stripe_event("checkout_session_completed", gift=gift)
        if email:
            event["data"]["object"]["customer_details"]["email"] = email
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(event).status_code == 200
        gift.refresh_from_db()
        return gift

    return paid


@pytest.fixture
def unsubscribed(make_donor, paid_gift, project, django_capture_on_commit_callbacks):
    """Ada, who gave and then pressed the unsubscribe link of a story email."""
    from donors import links

    ada = make_donor("ada@example.com", consent=True)
    paid_gift(project, ada)
    response = Client().post(reverse("donors:unsubscribe", args=[links.preferences_token(ada)]))
    assert response.status_code == 200
    ada.refresh_from_db()
    assert not ada.wants_impact_emails
    return ada


def publish_story(make_story, project, capture):
    with capture(execute=True):
        make_story([project], status=Story.Status.PUBLISHED, publish_at=timezone.now())


def story_emails(mailoutbox, to="ada@example.com"):
    return [m for m in mailoutbox if to in m.to and "List-Unsubscribe" in m.extra_headers]


def test_the_tick_is_kept_on_the_gift_and_counts_only_once_it_is_paid(form_gift, pay):
    gift = form_gift()

    assert gift.wants_impact_emails
    assert not Donor.objects.filter(wants_impact_emails=True).exists()
    assert not ConsentChange.objects.exists()

    pay(gift)

    donor = Donor.objects.get(email="ada@example.com")
    assert donor.wants_impact_emails and donor.impact_consent_at is not None
    (change,) = ConsentChange.objects.all()
    assert (change.donor, change.wants_impact_emails, change.method, change.gift) == (
        donor, True, ConsentChange.Method.DONATE_FORM, gift,
    )  # fmt: skip


def test_a_stranger_posting_the_form_without_paying_resubscribes_no_one(
    unsubscribed, form_gift, make_story, project, django_capture_on_commit_callbacks, mailoutbox
):
    form_gift("ada@example.com")
    form_gift("ADA@example.com ")

    publish_story(make_story, project, django_capture_on_commit_callbacks)

    unsubscribed.refresh_from_db()
    assert not unsubscribed.wants_impact_emails
    assert story_emails(mailoutbox) == []


def test_a_paid_gift_asks_an_unsubscribed_donor_to_confirm_by_a_link_sent_to_the_address(
    unsubscribed, form_gift, pay, make_story, project, django_capture_on_commit_callbacks, mailoutbox
):
    gift = pay(form_gift("ada@example.com"))

    unsubscribed.refresh_from_db()
    assert not unsubscribed.wants_impact_emails
    (confirm,) = [m for m in mailoutbox if m.subject.startswith("Do you want stories")]
    assert confirm.to == ["ada@example.com"]
    url = CONFIRM_LINK.search(confirm.body).group(1)
    publish_story(make_story, project, django_capture_on_commit_callbacks)
    assert story_emails(mailoutbox) == []

    # A mail scanner opening the link changes nothing; the donor's press does.
    browser = Client()
    assert browser.get(url, follow=True).status_code == 200
    unsubscribed.refresh_from_db()
    assert not unsubscribed.wants_impact_emails
    page = browser.post(reverse("donors:confirm_stories_page")).content.decode()
    assert "We will email you stories" in page

    unsubscribed.refresh_from_db()
    assert unsubscribed.wants_impact_emails
    latest = unsubscribed.consent_changes.first()
    assert (latest.method, latest.gift, latest.email.kind) == (
        ConsentChange.Method.CONFIRMATION_LINK, gift, Email.Kind.CONFIRM_STORIES,
    )  # fmt: skip
    publish_story(make_story, project, django_capture_on_commit_callbacks)
    assert len(story_emails(mailoutbox)) == 1


def test_a_confirmation_link_that_is_forged_old_or_for_a_changed_address_changes_nothing(
    settings, unsubscribed, form_gift, pay, mailoutbox
):
    pay(form_gift("ada@example.com"))
    url = CONFIRM_LINK.search(mailoutbox[-1].body).group(1)

    assert Client().post(url[:-4] + "xyz/").status_code == 410
    settings.DONOR_CONFIRM_LINK_MAX_AGE_SECONDS = -1
    assert Client().post(url).status_code == 410
    settings.DONOR_CONFIRM_LINK_MAX_AGE_SECONDS = 3600
    Donor.objects.filter(pk=unsubscribed.pk).update(email="someone.else@example.com")
    assert Client().post(url).status_code == 410

    assert not Donor.objects.get(pk=unsubscribed.pk).wants_impact_emails


def test_every_change_of_consent_is_logged_with_when_and_how(unsubscribed):
    from donors import links

    url = reverse("donors:preferences", args=[links.preferences_token(unsubscribed)])
    browser = Client()
    browser.post(url, {"wants_impact_emails": "on"})
    browser.post(url, {"wants_impact_emails": "on"})  # no change, no row
    Client().post(
        reverse("donors:unsubscribe", args=[links.preferences_token(unsubscribed)]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    methods = list(
        unsubscribed.consent_changes.order_by("at", "pk").values_list("method", "wants_impact_emails")
    )
    assert methods == [
        (ConsentChange.Method.UNSUBSCRIBE_LINK, False),
        (ConsentChange.Method.PREFERENCES, True),
        (ConsentChange.Method.ONE_CLICK, False),
    ]
    assert all(c.at is not None for c in unsubscribed.consent_changes.all())


def test_a_monthly_gift_asks_once_and_later_months_change_nothing(
    monthly_gift, post_event, session_completed, invoice_event, django_capture_on_commit_callbacks
):
    gift = monthly_gift(donor_email="ada@example.com", wants_impact_emails=True)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(session_completed(gift))
        post_event(invoice_event(gift, customer_email="ada@example.com"))
        post_event(
            invoice_event(
                gift, invoice="in_second_month", reason="subscription_cycle", customer_email="ada@example.com"
            )
        )

    donor = Donor.objects.get(email="ada@example.com")
    assert donor.wants_impact_emails
    assert donor.consent_changes.count() == 1
