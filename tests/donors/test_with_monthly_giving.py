"""The whole journey of a monthly donor, through the simulated checkout: a receipt each month,
"Manage my giving" with the cancel button, and a story's email. Needs the monthly-giving code
(donate form, subscription webhooks); skipped on a branch without it."""

import re

import pytest
from django.urls import reverse

from donations import services
from donations.models import RecurringGift
from stories.models import Story

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not hasattr(services, "simulate_next_monthly_payment"), reason="needs the monthly-giving code"
    ),
]


def test_a_monthly_donor_gets_each_receipt_cancels_on_the_giving_page_and_hears_of_stories(
    settings, client, project, make_story, django_capture_on_commit_callbacks, mailoutbox
):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("donations:donate"),
            {
                "frequency": "monthly",
                "amount_preset": "2500",
                "amount_custom": "",
                "donor_name": "Ada Lovelace",
                "donor_email": "ada@example.com",
                "project": project.slug,
                "wants_impact_emails": "on",
            },
        )
        client.post(response["Location"], {"action": "pay"})
    recurring = RecurringGift.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.simulate_next_monthly_payment(recurring)

    receipts = [m for m in mailoutbox if m.subject.startswith("Your receipt")]
    assert len(receipts) == 2
    assert all("a monthly gift" in m.body and "$25" in m.body for m in receipts)
    assert receipts[0].subject != receipts[1].subject  # a receipt number each

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("donors:request_link"), {"email": "ada@example.com"})
    link = re.search(r"http://testserver(/manage/link/\S+/)", mailoutbox[-1].body).group(1)
    client.post(link)
    page = client.get(reverse("donors:giving")).content.decode()
    assert page.count("(monthly)") == 2 and "Change, pause or cancel" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("donors:cancel_monthly_gift", args=[recurring.public_id]), {"reason": ""})
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.CANCELLED
    page = client.get(reverse("donors:giving")).content.decode()
    assert "Change, pause or cancel" not in page and "Give monthly again" in page

    story = make_story(projects=[project], status=Story.Status.DRAFT)
    sent_before = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        story.status = Story.Status.PUBLISHED
        story.save()
    assert [m.to for m in mailoutbox[sent_before:]] == [["ada@example.com"]]
    assert mailoutbox[-1].subject == story.title
