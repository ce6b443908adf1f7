"""The admin's gift list: short columns that fit a laptop screen; donors only for those allowed."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift

pytestmark = pytest.mark.django_db

GIFTS_URL = reverse("admin:donations_gift_changelist")


def columns(html):
    return re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)


def first_row(html):
    body = re.search(r'id="result_list".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.findall(r"<tr>.*?</tr>", body, re.S)[0]))


def test_the_list_shows_date_donor_amount_project_and_status(admin_client, make_project, make_gift):
    project = make_project(title="CAR-T cell therapy for children in Russia", short_name="CAR-T therapy")
    when = timezone.make_aware(timezone.datetime(2026, 3, 8, 10, 0))
    gift = make_gift(project, amount_minor=123_456, donor_name="Anna K.", amount_refunded_minor=1_000)
    Gift.objects.filter(pk=gift.pk).update(created_at=when)

    html = admin_client.get(GIFTS_URL).content.decode()

    assert columns(html) == ["date", "donor_shown", "amount", "project_name", "status_name"]
    row = first_row(html)
    assert "2026-03-08 Anna K. $1,234.56 CAR-T therapy Partially refunded" in row


def test_staff_not_allowed_to_see_donors_get_no_donor_column(client, django_user_model, project, make_gift):
    make_gift(project, donor_name="Anna K.", donor_email="anna@example.com")
    user = django_user_model.objects.create_user("reader", password="x-long-password-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_gift"))
    client.force_login(user)

    html = client.get(GIFTS_URL).content.decode()

    assert "donor_shown" not in columns(html)
    assert "Anna K." not in html and "anna@example.com" not in html

    user.user_permissions.add(Permission.objects.get(codename="view_donor"))
    user = django_user_model.objects.get(pk=user.pk)  # permissions are cached per instance
    client.force_login(user)
    assert "Anna K." in client.get(GIFTS_URL).content.decode()


def test_the_story_editor_gives_the_title_and_summary_room_and_styles_the_preview(admin_client):
    html = admin_client.get(reverse("admin:stories_story_add")).content.decode()

    assert re.search(r'<input type="text" name="title" class="editor-title"', html)
    assert re.search(r'<textarea name="summary" cols="40" rows="3" class="editor-summary"', html)
    assert "/static/css/admin-editor.css" in html


def listed_ids(response):
    return {gift.pk for gift in response.context["cl"].result_list}


def test_abandoned_checkouts_are_hidden_until_the_filter_shows_them(admin_client, project, make_gift):
    paid = make_gift(project)
    abandoned = make_gift(project, status=Gift.Status.ABANDONED)

    assert listed_ids(admin_client.get(GIFTS_URL)) == {paid.pk}
    assert listed_ids(admin_client.get(GIFTS_URL, {"status__exact": "any"})) == {paid.pk, abandoned.pk}
    assert listed_ids(admin_client.get(GIFTS_URL, {"status__exact": "abandoned"})) == {abandoned.pk}
    html = admin_client.get(GIFTS_URL).content.decode()
    assert "All but abandoned" in html and "Any, abandoned included" in html


def test_filters_for_one_time_monthly_and_needing_review(admin_client, project, make_gift):
    once = make_gift(project)
    monthly = make_gift(project, frequency=Gift.Frequency.MONTHLY)
    flagged = make_gift(project, needs_review=True, review_reason="Amount differs from the form.")

    assert listed_ids(admin_client.get(GIFTS_URL, {"frequency__exact": "monthly"})) == {monthly.pk}
    assert listed_ids(admin_client.get(GIFTS_URL, {"frequency__exact": "one_time"})) == {once.pk, flagged.pk}
    assert listed_ids(admin_client.get(GIFTS_URL, {"needs_review__exact": "1"})) == {flagged.pk}
    assert "$50 monthly" in admin_client.get(GIFTS_URL, {"frequency__exact": "monthly"}).content.decode()


def test_needing_review_is_said_in_words_beside_the_status(admin_client, project, make_gift):
    make_gift(project, needs_review=True)
    html = admin_client.get(GIFTS_URL).content.decode()
    assert "Succeeded · needs review" in first_row(html)
    assert "icon-yes.svg" not in html and "icon-no.svg" not in html
