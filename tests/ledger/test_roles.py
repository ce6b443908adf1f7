"""Staff roles: Editors publish without seeing donor data; Finance sees the money."""

import contextlib
import re
from collections import deque

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse

from donations.models import Donor, Gift, RecurringGift, StripeEvent
from ledger import services
from ledger.models import OfflineGift
from stories.models import Story
from tests.conftest import image_upload

pytestmark = pytest.mark.django_db

DONOR_MARKERS = ["Zinaida Quaxley", "zinaida.quaxley@example.com", "Boris Plimsoll", "plimsoll@example.org"]


@pytest.fixture
def site_with_donors(project, make_project, make_gift, make_story, make_use, admin_user):
    """Every kind of record that can hold a donor's name or email, with distinctive ones."""
    other = make_project(title="Doctors", slug="doctors")
    donor = Donor.objects.create(email="zinaida.quaxley@example.com", name="Zinaida Quaxley")
    gift = make_gift(
        project,
        donor=donor,
        donor_name="Zinaida Quaxley",
        donor_email=donor.email,
        note="From Zinaida Quaxley",
    )
    make_gift(
        project, donor_name="Boris Plimsoll", donor_email="plimsoll@example.org", source=Gift.Source.CHEQUE,
        note="Check from Boris Plimsoll",
    )  # fmt: skip
    services.move_gift(gift, other, by=admin_user, reason="Zinaida Quaxley asked")
    RecurringGift.objects.create(
        project=project, donor=donor, amount_minor=2_500, currency="usd", status="active"
    )
    StripeEvent.objects.create(
        stripe_id="evt_1", type="checkout.session.completed",
        payload={"data": {"object": {"customer_details": {"email": "plimsoll@example.org",
                                                          "name": "Boris Plimsoll"}}}},
    )  # fmt: skip
    story = make_story([project], title="A milestone")
    make_use(project, 1_000, stories=[story])
    return {"project": project, "story": story}


def admin_links(html):
    return {href for href in re.findall(r'href="(/admin/[^"#]*)"', html) if "logout" not in href}


def object_urls():
    """Changelist, add, and the change and history pages of a few objects of every registered model."""
    urls = []
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls += [reverse(f"{prefix}_changelist"), reverse(f"{prefix}_add")]
        for pk in model._default_manager.values_list("pk", flat=True)[:3]:
            urls += [reverse(f"{prefix}_change", args=[pk]), reverse(f"{prefix}_history", args=[pk])]
        with contextlib.suppress(NoReverseMatch):
            urls.append(reverse(f"{prefix}_export"))
    return urls


def walk(client, start):
    """Every admin page reachable from `start` and the object URLs: {url: (status, html)}."""
    seen, queue = {}, deque(start)
    while queue and len(seen) < 400:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        html = b"".join(response.streaming_content) if response.streaming else response.content
        html = html.decode(errors="replace")
        seen[url] = (response.status_code, html)
        if response.status_code == 200:
            queue.extend(admin_links(html) - seen.keys())
    return seen


def test_groups_exist_with_their_permissions(editor_user, finance_user):
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    finance = set(Group.objects.get(name="Finance").permissions.values_list("codename", flat=True))
    assert {"change_story", "add_story", "change_project", "change_page", "change_verifiedfigure"} <= editors
    assert not {c for c in editors if "gift" in c or "donor" in c or "stripeevent" in c or "logentry" in c}
    assert {
        "view_gift",
        "add_offlinegift",
        "add_funduse",
        "view_dashboard",
        "export_csv",
        "view_logentry",
    } <= finance


def test_an_editor_walks_every_admin_page_and_sees_no_donor_data(editor_client, site_with_donors):
    pages = walk(editor_client, ["/admin/", reverse("ledger_dashboard"), *object_urls()])

    shown = {url: html for url, (status, html) in pages.items() if status == 200}
    assert len(shown) > 10
    for url, html in shown.items():
        for marker in DONOR_MARKERS:
            assert marker not in html, (url, marker)
    # The pages an Editor works on are there; the money records are not.
    assert reverse("admin:stories_story_changelist") in shown
    project = site_with_donors["project"]
    assert reverse("admin:donations_project_change", args=[project.pk]) in shown
    for forbidden in (
        reverse("admin:donations_gift_changelist"),
        reverse("admin:donations_stripeevent_changelist"),
        reverse("admin:ledger_offlinegift_changelist"),
        reverse("admin:auditlog_logentry_changelist"),
        reverse("admin:donations_gift_export"),
        reverse("ledger_dashboard"),
    ):
        assert pages[forbidden][0] == 403, forbidden


def test_a_superuser_walk_does_see_donor_data(admin_client, site_with_donors):
    # The same walk is able to find the markers: the Editor test above would notice a leak.
    pages = walk(admin_client, ["/admin/", *object_urls()])
    everything = "".join(html for status, html in pages.values() if status == 200)
    assert all(marker in everything for marker in DONOR_MARKERS)


def test_an_editor_publishes_a_story(editor_client, project):
    response = editor_client.post(
        reverse("admin:stories_story_add"),
        {
            "title": "Back from the congress", "slug": "doctors-back", "summary": "What they learned.",
            "author_name": "Podari.Life team", "image": image_upload("s.png", size=(160, 100)),
            "image_alt": "Doctors", "body": "They came back with **new methods**.", "status": "published",
            "publish_at_0": "2025-01-01", "publish_at_1": "10:00:00", "projects": [project.pk],
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    story = Story.objects.get(slug="doctors-back")
    assert story.is_public
    assert editor_client.get(story.get_absolute_url()).status_code == 200


def test_finance_sees_gifts_and_the_audit_trail_but_edits_no_stories(finance_client, site_with_donors):
    assert finance_client.get(reverse("admin:donations_gift_changelist")).status_code == 200
    assert finance_client.get(reverse("admin:ledger_offlinegift_add")).status_code == 200
    assert finance_client.get(reverse("admin:auditlog_logentry_changelist")).status_code == 200
    assert finance_client.get(reverse("ledger_dashboard")).status_code == 200
    assert finance_client.get(reverse("admin:stories_story_add")).status_code == 403
    assert OfflineGift.objects.count() == 1


def test_create_staff_account_makes_an_editor(staff_groups):
    import io

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    out = io.StringIO()
    call_command("create_staff_account", "--username", "eve", "--group", "Editors", stdout=out)
    user = get_user_model().objects.get(username="eve")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Editors"]
    assert "Staff account (group Editors) created" in out.getvalue()
