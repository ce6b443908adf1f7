"""The donor wall names no one by time: alphabetical, and only gifts paid before the current
batch began, so a name that appears cannot be paired with the amount the total just rose by."""

import re
from unittest import mock

import pytest
from django.utils import timezone

from donations.views import donor_wall_cutoff

pytestmark = pytest.mark.django_db


def wall(client, project):
    html = client.get(project.get_absolute_url()).content.decode()
    section = re.search(r'<ul class="donors">(.*?)</ul>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", section.group(1)) if section else []


def named(make_gift, project, name, paid_at, **fields):
    return make_gift(project, donor_name=name, show_name_publicly=True, paid_at=paid_at, **fields)


def test_the_wall_is_in_alphabetical_order_not_the_order_gifts_were_paid(client, project, make_gift):
    before = donor_wall_cutoff() - timezone.timedelta(hours=1)
    for minutes, name in ((30, "Mila"), (20, "anna"), (10, "Zoe"), (5, "Boris")):
        named(make_gift, project, name, before - timezone.timedelta(minutes=minutes))

    assert wall(client, project) == ["anna", "Boris", "Mila", "Zoe"]


def test_a_gift_paid_now_joins_the_wall_only_when_its_batch_closes(settings, client, project, make_gift):
    settings.DONOR_WALL_BATCH_HOURS = 24
    earlier = donor_wall_cutoff() - timezone.timedelta(hours=3)
    named(make_gift, project, "Anna", earlier)
    named(make_gift, project, "Yuri", timezone.now(), amount_minor=12_345)

    page = client.get(project.get_absolute_url()).content.decode()
    assert wall(client, project) == ["Anna"]
    assert "$123.45" not in page

    tomorrow = donor_wall_cutoff() + timezone.timedelta(hours=24, minutes=1)
    with mock.patch("donations.views.timezone.now", return_value=tomorrow):
        assert wall(client, project) == ["Anna", "Yuri"]


def test_a_donor_who_gave_twice_is_named_once(client, project, make_gift):
    before = donor_wall_cutoff() - timezone.timedelta(hours=1)
    named(make_gift, project, "Anna", before)
    named(make_gift, project, "Anna", before - timezone.timedelta(minutes=5))

    assert wall(client, project) == ["Anna"]
