"""`seed_demo` tells one consistent story: the event's takings, the $5,000 documentation, the balance."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from donations.models import Gift, Project
from ledger.models import FundUse

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings):
    call_command("seed_demo", stdout=io.StringIO())
    return Project.objects.get(slug="car-t-therapy")


def test_the_car_t_project_tells_one_story_on_its_page_its_story_and_its_ledger(client, demo):
    html = client.get(demo.get_absolute_url()).content.decode()
    assert "<dt>Raised</dt><dd>$38,120</dd>" in html
    assert "<dt>Used</dt><dd>$5,000</dd>" in html
    assert "<dt>Available</dt><dd>$33,120</dd>" in html
    assert "$29,745" in html  # the event's takings, as a line of the ledger
    assert "$5,000 of the $38,120 given to this project paid for the clinical description" in html
    assert 'class="ledger__story"' in html and "/stories/car-t-first-milestone/" in html
    demo.refresh_from_db()
    assert demo.raised_minor == 3_812_000  # the stored total agrees with the ledger

    story = client.get("/stories/car-t-first-milestone/").content.decode()
    assert "Donors' $5,000</strong> paid for the clinical description" in story
    assert f'href="{demo.get_absolute_url()}#ledger"' in story

    body = client.get(reverse("ledger:project_csv", args=[demo.slug])).content.decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert sum(int(r["amount"].replace(".", "")) for r in rows if r["kind"] != "use_of_funds") == 3_812_000
    assert [r["amount"] for r in rows if r["kind"] == "use_of_funds"] == ["5000.00"]
    # The event's takings share a line with the two other offline gifts: no line is one gift.
    assert ("offline_gifts", "34745.00") in [(r["kind"], r["amount"]) for r in rows]


def test_the_books_balance_and_seeding_again_changes_nothing(demo):
    # The documentation was paid with money already given.
    use = FundUse.objects.get(project=demo)
    given_before = sum(
        g.net_minor for g in Gift.objects.counted().filter(project=demo) if g.paid_at.date() <= use.spent_on
    )
    assert given_before >= use.amount_minor

    before = (Gift.objects.count(), FundUse.objects.count(), Project.objects.get(pk=demo.pk).raised_minor)
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "created nothing" in out.getvalue()
    assert (
        Gift.objects.count(),
        FundUse.objects.count(),
        Project.objects.get(pk=demo.pk).raised_minor,
    ) == before
