"""Staff see what their role needs: donors' names, emails, dedications and notes only with the
donor-viewing permission (Finance, superusers), on every admin page, search, filter, export
and audit view; a project's currency and goal only with Finance's permission, audited."""

import contextlib
import re
from collections import deque

import pytest
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import NoReverseMatch, reverse

from donations.models import Donor, Gift, Project, RecurringGift, StripeEvent
from donors.models import ConsentChange, Email, PrivacyRequest, SignInLink
from ledger import services
from podari.management.commands.create_staff_account import staff_group

pytestmark = pytest.mark.django_db

NAME, EMAIL, HONOREE, NOTE = (
    "Zinaida Quaxley",
    "zinaida.quaxley@example.com",
    "Grandma Ulyana",
    "Gave at the gala",
)
OFFLINE_NAME, OFFLINE_EMAIL = "Boris Plimsoll", "plimsoll@example.org"
MARKERS = [NAME, EMAIL, HONOREE, NOTE, OFFLINE_NAME, OFFLINE_EMAIL, "Quaxley", "plimsoll"]


@pytest.fixture
def site_with_donors(project, make_project, make_gift, admin_user, admin_client, staff_groups):
    """Every record that can hold a donor's name, email, dedication or note, with markers."""
    other = make_project(title="Doctors", slug="doctors")
    donor = Donor.objects.create(email=EMAIL, name=NAME, wants_impact_emails=True)
    gift = make_gift(
        project, donor=donor, donor_name=NAME, donor_email=EMAIL, show_name_publicly=True,
        dedication=Gift.Dedication.MEMORY, dedication_name=HONOREE, note=NOTE, paid_at=None,
    )  # fmt: skip
    make_gift(
        project, donor_name=OFFLINE_NAME, donor_email=OFFLINE_EMAIL, source=Gift.Source.CHEQUE,
        note=f"Check from {OFFLINE_NAME}",
    )  # fmt: skip
    services.move_gift(gift, other, by=admin_user, reason=f"{NAME} asked")
    RecurringGift.objects.create(
        project=project, donor=donor, amount_minor=2_500, currency="usd", status="cancelled",
        cancellation_reason=f"feedback: {NAME} moved abroad",
    )  # fmt: skip
    StripeEvent.objects.create(
        stripe_id="evt_1", type="checkout.session.completed",
        payload={"data": {"object": {"customer_details": {"email": OFFLINE_EMAIL, "name": OFFLINE_NAME}}}},
    )  # fmt: skip
    Email.objects.create(key="receipt:bounced", kind="receipt", to=EMAIL, donor=donor, gift=gift,
                         last_error=f"550 mailbox {EMAIL} full", status="failed")  # fmt: skip
    SignInLink.objects.create(donor=donor)
    ConsentChange.objects.create(donor=donor, wants_impact_emails=True, method="donate_form", gift=gift)
    PrivacyRequest.objects.create(kind="export", donor=donor, reason=f"{NAME} phoned", status="done")
    # A superuser corrects the name in the admin: the audit log keeps before and after.
    data = {"donor_name": f"{NAME} Jr.", "donor_email": EMAIL, "show_name_publicly": "on",
            "dedication": "memory", "dedication_name": HONOREE, "review_reason": ""}  # fmt: skip
    admin_client.post(reverse("admin:donations_gift_change", args=[gift.pk]), data)
    assert LogEntry.objects.filter(changes__icontains="Jr.").exists()
    return {"gift": gift, "donor": donor, "project": project}


def admin_links(html):
    return {href for href in re.findall(r'href="(/admin/[^"#]*)"', html) if "logout" not in href}


def object_urls():
    """Changelist and add pages, and the change and history pages of a few objects, of every model."""
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
    """Every admin page reachable from `start`: {url: (status, html)}."""
    seen, queue = {}, deque(start)
    while queue and len(seen) < 500:
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


def client_for(role, django_user_model):
    if role == "superuser":
        user = django_user_model.objects.create_superuser("root", "root@podari.test", "pw")
    else:
        user = django_user_model.objects.create_user(role.lower(), f"{role}@podari.test", "pw", is_staff=True)
        user.groups.add(staff_group() if role == "Staff" else Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def searches(email):
    """The searches and URL filters that would tell whether an address gave."""
    return [
        reverse("admin:donations_gift_changelist") + f"?q={email}",
        reverse("admin:ledger_offlinegift_changelist") + f"?q={email}",
        reverse("admin:donations_recurringgift_changelist") + f"?q={email}",
        reverse("admin:donors_email_changelist") + f"?q={email}",
        reverse("admin:auditlog_logentry_changelist") + f"?q={email}",
        reverse("admin:donations_gift_changelist") + f"?donor_email={email}",
        reverse("admin:donations_gift_changelist") + f"?donor_email__iexact={email}",
    ]


@pytest.mark.parametrize("role", ["Staff", "Editors"])
def test_a_role_without_donor_data_walks_every_admin_page_and_finds_none(
    role, site_with_donors, django_user_model
):
    client = client_for(role, django_user_model)
    pages = walk(client, ["/admin/", reverse("ledger_dashboard"), *object_urls(), *searches(EMAIL)])

    shown = {url: html for url, (status, html) in pages.items() if status == 200}
    assert len(shown) > 10
    for url, html in shown.items():
        # A search page repeats what was typed into it: the address searched for is not a leak.
        html = html.replace(EMAIL, "") if EMAIL in url else html
        for marker in MARKERS:
            assert marker not in html, (role, url, marker)
    if role == "Staff":
        # The plain Staff group reads gifts, without their donors.
        gift = site_with_donors["gift"]
        assert reverse("admin:donations_gift_change", args=[gift.pk]) in shown


@pytest.mark.parametrize("role", ["Finance", "superuser"])
def test_roles_with_donor_data_find_it_on_the_same_walk(role, site_with_donors, django_user_model):
    # The same walk finds every marker: the test above would notice a leak.
    client = client_for(role, django_user_model)
    pages = walk(client, ["/admin/", *object_urls(), *searches(EMAIL)])
    everything = "".join(html for status, html in pages.values() if status == 200)
    assert all(marker in everything for marker in MARKERS)


def test_the_gift_search_is_no_oracle_for_staff_without_donor_data(site_with_donors, django_user_model):
    staff = client_for("Staff", django_user_model)
    changelist = reverse("admin:donations_gift_changelist")

    known = staff.get(changelist, {"q": EMAIL})
    unknown = staff.get(changelist, {"q": "nobody.at.all@example.com"})

    assert known.status_code == unknown.status_code == 200
    assert known.context["cl"].result_count == unknown.context["cl"].result_count == 0
    for lookup in ("donor_email", "donor_email__iexact", "donor_name__icontains", "dedication_name"):
        assert staff.get(changelist, {lookup: EMAIL}).status_code == 400, lookup
    # Staff who may see donors do find them.
    finance = client_for("Finance", django_user_model)
    assert finance.get(changelist, {"q": EMAIL}).context["cl"].result_count == 1
    assert finance.get(changelist, {"donor_email": EMAIL}).status_code == 200


def test_an_export_leaves_out_donor_columns_for_staff_without_donor_data(site_with_donors, django_user_model):
    user = django_user_model.objects.create_user("exporter", "x@podari.test", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=["view_gift", "export_csv"]))
    client = Client()
    client.force_login(user)

    response = client.get(reverse("admin:donations_gift_export"))

    body = b"".join(response.streaming_content).decode()
    header = body.splitlines()[0].split(",")
    assert "amount" in header and "donor_name" not in header and "donor_email" not in header
    assert not any(marker in body for marker in MARKERS)
    assert "50.00" in body


# A project's currency and goal


def project_form(project, **changes):
    data = {
        "title": project.title, "short_name": project.short_name, "slug": project.slug,
        "summary": project.summary, "description": project.description, "image_alt": project.image_alt,
        "currency": project.currency, "goal": "5,000", "status": project.status, "position": "0",
    }  # fmt: skip
    data.update(changes)
    return data


def test_an_editor_changes_a_projects_text_but_not_its_currency_or_goal(project, editor_client):
    url = reverse("admin:donations_project_change", args=[project.pk])
    form = editor_client.get(url).context["adminform"].form
    assert form.fields["currency"].disabled and form.fields["goal"].disabled

    response = editor_client.post(url, project_form(project, title="New title", currency="eur", goal="1"))

    assert response.status_code == 302, response.content.decode()[:2000]
    project.refresh_from_db()
    assert (project.title, project.currency, project.goal_minor) == ("New title", "usd", 500_000)
    updates = LogEntry.objects.get_for_object(project).filter(action=LogEntry.Action.UPDATE)
    assert not updates.filter(changes__has_key="currency").exists()


def test_finance_changes_currency_and_goal_from_the_list_and_each_change_is_audited(
    project, finance_user, client
):
    client.force_login(finance_user)
    url = reverse("admin:donations_project_change", args=[project.pk])
    form = client.get(url).context["adminform"].form
    assert not form.fields["currency"].disabled and form.fields["title"].disabled

    refused = client.post(url, project_form(project, currency="xyz"))
    assert refused.status_code == 200
    assert "currency" in refused.context["adminform"].form.errors
    assert Project.objects.get(pk=project.pk).currency == "usd"

    response = client.post(url, project_form(project, currency="eur", goal="12,000", title="Ignored"))

    assert response.status_code == 302, response.content.decode()[:2000]
    project.refresh_from_db()
    assert (project.currency, project.goal_minor, project.title) == (
        "eur",
        1_200_000,
        "CAR-T therapy for children",
    )
    entry = LogEntry.objects.get_for_object(project).latest("timestamp")
    assert entry.actor == finance_user
    assert entry.changes["currency"] == ["usd", "eur"]
    assert entry.changes["goal_minor"] == ["500000", "1200000"]
