"""Moderation: new and edited pages wait for staff unless the supporter is trusted; text with
links or abusive words waits even then; waiting pages are hidden, noindex and not in the
sitemap; staff pause or remove with a reason the supporter is emailed; visitors report."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from fundraisers.models import Fundraiser, FundraiserReport
from tests.conftest import image_upload

pytestmark = pytest.mark.django_db


def _form(project, **extra):
    return {
        "project": project.pk,
        "title": "Yelena’s 40th",
        "occasion": "birthday",
        "goal": "1,500",
        "ends_on": (timezone.localdate() + timezone.timedelta(days=20)).isoformat(),
        "story": "Instead of presents, please *give*.",
        "image": image_upload("me.png", size=(200, 150)),
        "image_alt": "Me with a cake",
        "photo_permission": "on",
        **extra,
    }


def test_a_new_page_waits_for_approval(supporter_client, project):
    response = supporter_client.post(reverse("fundraisers:create"), _form(project))

    page = Fundraiser.objects.get()
    assert response.status_code == 302
    assert (page.status, page.goal_minor, page.project) == (Fundraiser.Status.PENDING, 150_000, project)
    assert page.slug == "yelenas-40th"
    assert page.story_html.strip() == "<p>Instead of presents, please <em>give</em>.</p>"
    assert page.renditions  # through the image pipeline


def test_a_trusted_supporters_page_goes_live_unless_its_text_is_held(supporter_client, supporter, project):
    supporter.is_trusted = True
    supporter.save()

    supporter_client.post(reverse("fundraisers:create"), _form(project))
    supporter_client.post(
        reverse("fundraisers:create"), _form(project, story="Give at https://elsewhere.example/pay")
    )

    live, held = Fundraiser.objects.order_by("pk")
    assert live.status == Fundraiser.Status.LIVE
    assert held.status == Fundraiser.Status.PENDING
    assert held.held_reason == "contains a link or an address"


def test_an_edit_sends_a_live_page_back_for_approval(supporter_client, page):
    data = _form(page.project, title="New title")
    del data["project"]
    data["image"] = image_upload("new.png", size=(200, 150))

    supporter_client.post(reverse("fundraisers:edit", args=[page.slug]), data)

    page.refresh_from_db()
    assert (page.title, page.status, page.slug) == (
        "New title",
        Fundraiser.Status.PENDING,
        "yelenas-birthday",
    )


def test_a_waiting_page_is_noindex_for_its_owner(supporter_client, make_page):
    page = make_page(status=Fundraiser.Status.PENDING)

    response = supporter_client.get(page.get_absolute_url())
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()
    assert "Give on this page" not in response.content.decode()


def test_a_waiting_page_is_not_found_by_visitors(client, make_page):
    page = make_page(status=Fundraiser.Status.PENDING)
    assert client.get(page.get_absolute_url()).status_code == 404


def test_only_live_pages_are_in_the_sitemap(client, make_page):
    live = make_page(slug="live-page")
    ended = make_page(slug="ended-page", ends_on=timezone.localdate() - timezone.timedelta(days=3))
    waiting = make_page(slug="waiting-page", status=Fundraiser.Status.PENDING)
    paused = make_page(slug="paused-page", status=Fundraiser.Status.PAUSED)

    xml = client.get("/sitemap.xml").content.decode()

    assert live.get_absolute_url() in xml and ended.get_absolute_url() in xml
    assert waiting.get_absolute_url() not in xml and paused.get_absolute_url() not in xml


def test_a_live_page_is_indexable(client, page):
    response = client.get(page.get_absolute_url())
    assert "noindex" not in response.content.decode()
    assert "X-Robots-Tag" not in response


def test_staff_approve_then_pause_with_a_reason_emailed(
    admin_client, admin_user, make_page, django_capture_on_commit_callbacks
):
    page = make_page(status=Fundraiser.Status.PENDING)
    changelist = reverse("admin:fundraisers_fundraiser_changelist")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(changelist, {"action": "approve", "_selected_action": [page.pk]})
    page.refresh_from_db()
    assert page.status == Fundraiser.Status.LIVE
    assert mail.outbox[-1].subject.startswith("Your fundraiser page is live")

    asked = admin_client.post(changelist, {"action": "pause", "_selected_action": [page.pk]})
    assert asked.status_code == 200 and b"reason" in asked.content
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            changelist,
            {
                "action": "pause",
                "_selected_action": [page.pk],
                "apply": "1",
                "reason": "The photo needs consent.",
            },
        )

    page.refresh_from_db()
    assert (page.status, page.moderation_reason, page.moderated_by) == (
        Fundraiser.Status.PAUSED, "The photo needs consent.", admin_user,
    )  # fmt: skip
    assert mail.outbox[-1].to == ["yelena@example.com"]
    assert "The photo needs consent." in mail.outbox[-1].body


def test_a_visitor_reports_a_page_and_is_rate_limited(client, page):
    url = reverse("fundraisers:report", args=[page.slug])
    assert client.get(url).status_code == 200

    response = client.post(url, {"reason": "misleading", "details": "Not a real birthday"})
    assert response.status_code == 302
    report = FundraiserReport.objects.get()
    assert (report.fundraiser, report.reason) == (page, "misleading")

    for _ in range(4):
        client.post(url, {"reason": "other"})
    response = client.post(url, {"reason": "other"})
    assert response.status_code == 429
    assert FundraiserReport.objects.count() == 5


def test_a_report_needs_a_reason(client, page):
    response = client.post(reverse("fundraisers:report", args=[page.slug]), {"details": "?"})
    assert response.status_code == 200
    assert not FundraiserReport.objects.exists()


def test_a_removed_page_cannot_be_edited_or_reported(supporter_client, client, make_page):
    page = make_page(status=Fundraiser.Status.REMOVED)

    assert supporter_client.get(reverse("fundraisers:edit", args=[page.slug])).status_code == 404
    assert client.get(reverse("fundraisers:report", args=[page.slug])).status_code == 404


def test_a_trusted_supporters_clean_edit_stays_live(supporter_client, supporter, page):
    supporter.is_trusted = True
    supporter.save()
    data = _form(page.project, title="A better title")
    del data["project"]

    supporter_client.post(reverse("fundraisers:edit", args=[page.slug]), data)

    page.refresh_from_db()
    assert (page.title, page.status) == ("A better title", Fundraiser.Status.LIVE)
