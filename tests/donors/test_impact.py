"""Impact emails: a story that goes live is emailed once to each consenting donor of its
projects, with a working one-click unsubscribe and a preferences page."""

import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from donations.models import Donor, Gift
from donors.models import Email
from stories.models import Story
from tests.conftest import bulk_paid_gifts, image_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(make_story, project):
    def make(projects=(project,), **fields):
        fields.setdefault("image", image_upload("story.png", size=(1000, 600)))
        fields.setdefault("status", Story.Status.DRAFT)
        return make_story(projects=projects, **fields)

    return make


def publish(story, capture, publish_at=None):
    with capture(execute=True):
        story.status = Story.Status.PUBLISHED
        story.publish_at = publish_at or timezone.now()
        story.save()


@pytest.fixture
def ada(make_donor, paid_gift, project):
    donor = make_donor("ada@example.com", consent=True)
    paid_gift(project, donor)
    return donor


def test_a_published_story_is_emailed_once_to_each_consenting_donor_of_its_projects(
    project, make_project, make_donor, paid_gift, draft, django_capture_on_commit_callbacks, mailoutbox
):
    other_project = make_project(title="Doctors' education", slug="doctors")
    ada = make_donor("ada@example.com", consent=True)
    paid_gift(project, ada)
    paid_gift(project, ada, amount_minor=10_000)  # two gifts, one email
    paid_gift(other_project, ada)
    paid_gift(project, make_donor("bob@example.com", consent=False))  # never asked
    paid_gift(other_project, make_donor("cat@example.com", consent=True))  # another project
    refunded = make_donor("dan@example.com", consent=True)
    paid_gift(project, refunded, status=Gift.Status.REFUNDED, amount_refunded_minor=5_000)
    paid_gift(project, make_donor("eve@example.com", consent=True), status=Gift.Status.PENDING)
    story = draft(projects=[project, other_project], title="Maria's first month", summary="She is home.")

    publish(story, django_capture_on_commit_callbacks)

    assert sorted(m.to[0] for m in mailoutbox) == ["ada@example.com", "cat@example.com"]
    message = next(m for m in mailoutbox if m.to == ["ada@example.com"])
    html = message.alternatives[0][0]
    assert message.subject == "Maria's first month"
    story_url = f"http://testserver{story.get_absolute_url()}"
    for text in (message.body, html):
        assert "She is home." in text
        assert story_url in text
    assert re.search(r'<img src="http://testserver/media/[^"]+\.webp" alt="A picture for story', html)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http://testserver/email/unsubscribe/")

    # Saved again, or the periodic command run: no second email.
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "Maria's first month at home"
        story.save()
        story.projects.add(make_project(title="Another", slug="another"))
        call_command("send_impact_emails", stdout=io.StringIO())
    assert len(mailoutbox) == 2


def test_a_draft_emails_no_one(ada, draft, django_capture_on_commit_callbacks, mailoutbox):
    story = draft()
    with django_capture_on_commit_callbacks(execute=True):
        story.title = "Still a draft"
        story.save()
        call_command("send_impact_emails", stdout=io.StringIO())
    assert mailoutbox == []


def test_a_scheduled_story_is_emailed_when_its_time_comes(
    admin_client, ada, draft, django_capture_on_commit_callbacks, mailoutbox
):
    story = draft()
    publish(
        story, django_capture_on_commit_callbacks, publish_at=timezone.now() + timezone.timedelta(hours=2)
    )
    assert mailoutbox == []
    page = admin_client.get(reverse("admin:stories_story_change", args=[story.pk])).content.decode()
    assert "Will be emailed to 1 donor when it goes live" in page

    # Two hours later: no one saves the story; the worker's periodic command finds it.
    Story.objects.filter(pk=story.pk).update(publish_at=timezone.now() - timezone.timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_impact_emails", stdout=io.StringIO())
        call_command("send_impact_emails", stdout=io.StringIO())

    assert [m.to for m in mailoutbox] == [["ada@example.com"]]


def test_staff_see_how_many_donors_a_story_goes_to_before_and_after(
    admin_client, project, make_donor, paid_gift, ada, draft, django_capture_on_commit_callbacks
):
    paid_gift(project, make_donor("bob@example.com", consent=True))
    paid_gift(project, make_donor("cat@example.com", consent=False))
    story = draft()
    url = reverse("admin:stories_story_change", args=[story.pk])

    assert "Will be emailed to 2 donors when it is published" in admin_client.get(url).content.decode()
    publish(story, django_capture_on_commit_callbacks)
    assert "Emailed to 2 donors on " in admin_client.get(url).content.decode()


def unsubscribe_url(message):
    return message.extra_headers["List-Unsubscribe"].strip("<>").removeprefix("http://testserver")


def test_one_click_unsubscribe_as_rfc_8058_says(ada, draft, django_capture_on_commit_callbacks, mailoutbox):
    publish(draft(), django_capture_on_commit_callbacks)
    url = unsubscribe_url(mailoutbox[0])

    # What a mail program sends: a POST with no cookie and no CSRF token.
    mail_program = Client(enforce_csrf_checks=True)
    response = mail_program.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    ada.refresh_from_db()
    assert ada.wants_impact_emails is False
    publish(draft(slug="another-story"), django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1


def test_an_unsubscribe_link_does_nothing_until_the_button_is_pressed(
    ada, draft, django_capture_on_commit_callbacks, mailoutbox
):
    publish(draft(), django_capture_on_commit_callbacks)
    url = unsubscribe_url(mailoutbox[0])
    browser = Client(enforce_csrf_checks=True)

    page = browser.get(url, follow=True)
    assert page.status_code == 200 and "Unsubscribe" in page.content.decode()
    ada.refresh_from_db()
    assert ada.wants_impact_emails is True  # a link scanner's GET changes nothing

    assert "You are unsubscribed" in browser.post(url).content.decode()
    ada.refresh_from_db()
    assert ada.wants_impact_emails is False


def test_a_forged_unsubscribe_link_changes_nothing(ada, make_donor):
    from donors import links

    token = links.preferences_token(ada)
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    sign_in_token = links.sign_in_token("00000000-0000-0000-0000-000000000000")
    for bad in (forged, sign_in_token, "nonsense"):
        response = Client().post(reverse("donors:unsubscribe", args=[bad]), "List-Unsubscribe=One-Click",
                                 content_type="application/x-www-form-urlencoded")  # fmt: skip
        assert response.status_code == 404
    ada.refresh_from_db()
    assert ada.wants_impact_emails is True


def test_the_preferences_page_turns_impact_emails_off_and_on(
    ada, draft, django_capture_on_commit_callbacks, mailoutbox
):
    publish(draft(), django_capture_on_commit_callbacks)
    url = re.search(r"http://testserver(/email/preferences/[^/\s]+/)", mailoutbox[0].body).group(1)
    browser = Client(enforce_csrf_checks=True)

    page = browser.get(url, follow=True)
    assert page.status_code == 200 and "checked" in page.content.decode()
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    token = browser.cookies["csrftoken"].value
    browser.post(url, {"csrfmiddlewaretoken": token})  # box unticked
    ada.refresh_from_db()
    assert ada.wants_impact_emails is False

    Donor.objects.filter(pk=ada.pk).update(impact_consent_at=None)
    browser.post(url, {"csrfmiddlewaretoken": token, "wants_impact_emails": "on"})
    ada.refresh_from_db()
    assert ada.wants_impact_emails is True and ada.impact_consent_at is not None
    assert Client(enforce_csrf_checks=True).post(url, {"wants_impact_emails": ""}).status_code == 403


def test_sending_to_1000_donors_takes_queries_per_batch_not_per_donor(
    settings, make_project, draft, django_capture_on_commit_callbacks, mailoutbox
):
    settings.EMAIL_BATCH_SIZE = 50

    def queries_to_send_to(n):
        project = make_project()
        donors = Donor.objects.bulk_create(
            Donor(email=f"donor{i}@{project.slug}.example", wants_impact_emails=True) for i in range(n)
        )
        bulk_paid_gifts(
            [
                Gift(project=project, donor=d, amount_minor=5_000, currency="usd", livemode=False)
                for d in donors
            ]
        )
        story = draft(projects=[project], slug=f"story-{project.slug}")
        sent_before = len(mailoutbox)
        with CaptureQueriesContext(connection) as queries:
            publish(story, django_capture_on_commit_callbacks)
        assert len(mailoutbox) - sent_before == n
        return len(queries)

    one_batch = queries_to_send_to(10)
    two_batches = queries_to_send_to(60)
    twenty_batches = queries_to_send_to(1_000)

    per_batch = two_batches - one_batch
    assert per_batch <= 6
    assert twenty_batches <= one_batch + 19 * per_batch
    assert Email.objects.filter(status=Email.Status.SENT).count() == 1_070


def test_a_story_published_from_the_admin_reaches_the_donors_of_the_projects_chosen_there(
    admin_client, project, ada, django_capture_on_commit_callbacks, mailoutbox
):
    """The admin saves the story first and its projects after: the email waits for both."""
    now = timezone.localtime()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:stories_story_add"),
            {
                "title": "Published at once",
                "slug": "published-at-once",
                "summary": "Straight from the admin.",
                "author_name": "Podari.Life team",
                "image": image_upload("admin.png", size=(300, 200)),
                "image_alt": "A picture",
                "body": "Body.",
                "status": Story.Status.PUBLISHED,
                "publish_at_0": now.strftime("%Y-%m-%d"),
                "publish_at_1": (now - timezone.timedelta(minutes=1)).strftime("%H:%M:%S"),
                "projects": [project.pk],
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [m.subject for m in mailoutbox] == ["Published at once"]
