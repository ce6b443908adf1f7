"""A project's public ledger: the page, its CSV and JSON tell the same figures, with no donor data."""

import csv
import io
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift
from donations.money import format_money, parse_major_amount

pytestmark = pytest.mark.django_db


def at(year, month, day=15):
    return timezone.make_aware(timezone.datetime(year, month, day, 12))


@pytest.fixture
def car_t(project, make_gift, make_story, make_use):
    story = make_story([project], title="The clinical description is done", publish_at=at(2025, 8, 5))
    make_gift(project, amount_minor=300_000, source=Gift.Source.BANK_TRANSFER, paid_at=at(2025, 7, 14),
              donor_name="Secret Banker", donor_email="banker@example.com")  # fmt: skip
    make_gift(project, amount_minor=100_000, paid_at=at(2025, 8, 7),
              donor_name="Visible Anna", donor_email="anna@example.com", show_name_publicly=True)  # fmt: skip
    make_gift(project, amount_minor=2_974_500, source=Gift.Source.EVENT, paid_at=at(2025, 10, 20))
    make_gift(project, amount_minor=7_000, currency="eur", paid_at=at(2025, 11, 2),
              donor_email="euro@example.com")  # fmt: skip
    make_use(project, 500_000, purpose="the clinical documentation", spent_on=at(2025, 8, 1).date(),
             recipient="FNKC", stories=[story])  # fmt: skip
    return {"project": project, "story": story}


def page_figures(html):
    """{currency label: (raised, used, available)} as the project page shows them."""
    found = re.findall(
        r"<dt>Raised(?: in (\w+))?</dt><dd>([^<]+)</dd></div>\s*<div><dt>Used</dt><dd>([^<]+)</dd></div>"
        r"\s*<div><dt>Available</dt><dd>([^<]+)</dd>",
        html,
    )
    return {currency or "only": (raised, used, available) for currency, raised, used, available in found}


def sums_by_currency(rows):
    """Raised and used per currency, added up from ledger lines (major-unit strings)."""
    sums = defaultdict(lambda: [0, 0])
    for row in rows:
        minor = parse_major_amount(row["amount"], row["currency"])
        sums[row["currency"]][row["kind"] == "use_of_funds"] += minor
    return sums


def test_the_page_shows_raised_used_and_available_and_one_plain_sentence(client, car_t):
    html = client.get(car_t["project"].get_absolute_url()).content.decode()

    assert page_figures(html) == {
        "USD": ("$33,745", "$5,000", "$28,745"),
        "EUR": ("€70", "€0", "€70"),
    }
    assert (
        "$5,000 of the $33,745 given to this project paid for the clinical documentation. "
        f'<a href="{car_t["story"].get_absolute_url()}">Read the story'
    ) in html


def test_the_timeline_interleaves_monthly_gifts_uses_and_stories(client, car_t):
    html = client.get(car_t["project"].get_absolute_url()).content.decode()
    timeline = html[html.index('<table class="ledger table--stack">') :]
    rows = re.findall(r'<tr class="ledger__(\w+)">', timeline)
    # No line covers fewer than three gifts: the three dollar gifts (one online, two offline,
    # too few of either kind) share one line, dated by its last month; the one euro gift is
    # a line equal to the euro raised figure.
    assert rows == ["use_of_funds", "story", "gifts", "gifts"]
    assert "3 gifts received online and offline from July 2025 to October 2025" in timeline
    assert "$33,745" in timeline and "$1,000" not in timeline and "$3,000" not in timeline


def test_the_timeline_keeps_every_money_line_but_only_the_newest_stories(
    client, project, make_gift, make_story, make_use
):
    from donations.views import TIMELINE_STORIES

    stories = [
        make_story([project], title=f"Told {n}", publish_at=at(2020 + n // 12, 1 + n % 12, 2))
        for n in range(TIMELINE_STORIES + 6)
    ]
    for n in range(30):
        make_gift(project, amount_minor=1_000, paid_at=at(2020 + n // 12, 1 + n % 12))
    make_use(project, 500, spent_on=at(2020, 1, 3).date())

    html = client.get(project.get_absolute_url()).content.decode()
    timeline = html[html.index('<table class="ledger table--stack">') : html.index("</table>")]
    rows = re.findall(r'<tr class="ledger__(\w+)">', timeline)

    # Thirty gifts, one a month: ten lines of three months each.
    assert rows.count("gifts") == 10 and rows.count("use_of_funds") == 1
    assert rows.count("story") == TIMELINE_STORIES
    assert f">{stories[-1].title}<" in timeline
    assert f">{stories[5].title}<" not in timeline


def test_the_csv_and_json_ledgers_add_up_to_the_page(client, car_t):
    project = car_t["project"]
    html = client.get(project.get_absolute_url()).content.decode()
    shown = page_figures(html)

    response = client.get(reverse("ledger:project_csv", args=[project.slug]))
    assert response["Content-Type"].startswith("text/csv")
    csv_rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    data = client.get(reverse("ledger:project_json", args=[project.slug])).json()

    assert [list(r.values()) for r in csv_rows] == [
        [e["date"], e["kind"], e["amount"], e["currency"], e["description"], e["story_url"]]
        for e in data["entries"]
    ]
    for currency, (raised, used) in sums_by_currency(csv_rows).items():
        assert shown[currency.upper()] == (
            format_money(raised, currency),
            format_money(used, currency),
            format_money(raised - used, currency),
        )
    totals = {t["currency"]: t for t in data["totals"]}
    assert totals["usd"]["raised"] == "33745.00" and totals["usd"]["available_minor"] == 2_874_500
    assert Decimal(totals["eur"]["raised"]) == Decimal("70")
    use = next(e for e in data["entries"] if e["kind"] == "use_of_funds")
    assert use["story_url"] == "http://testserver" + car_t["story"].get_absolute_url()
    assert use["date"] == "2025-08-01" and use["amount"] == "5000.00"


def test_the_ledgers_hold_no_donor_data(client, car_t):
    project = car_t["project"]
    for url in (
        reverse("ledger:project_csv", args=[project.slug]),
        reverse("ledger:project_json", args=[project.slug]),
    ):
        body = client.get(url).content.decode()
        for secret in ("Secret Banker", "banker@example.com", "Visible Anna", "anna@example.com", "euro@"):
            assert secret not in body, (url, secret)
    # Names shown on the page are only those donors asked to show, never an email.
    html = client.get(project.get_absolute_url()).content.decode()
    assert "Secret Banker" not in html and "@example.com" not in html


def test_a_story_that_reports_a_use_of_funds_shows_the_highlighted_figure(client, car_t):
    html = client.get(car_t["story"].get_absolute_url()).content.decode()
    assert "Donors' $5,000</strong> paid for the clinical documentation. <strong>Done.</strong>" in html
    assert f'href="{car_t["project"].get_absolute_url()}#ledger"' in html


def test_the_home_page_shows_verified_figures_from_the_ledger_and_staff(client, car_t, general_fund):
    from ledger.models import VerifiedFigure

    VerifiedFigure.objects.create(value="70+", label="doctors trained since 2011")
    html = client.get("/").content.decode()
    assert "<strong>$33,745</strong> raised" in html
    assert "<strong>€70</strong> raised" in html
    assert "<strong>$5,000</strong> paid out" in html
    assert "<strong>1</strong> project<" in html  # the general fund is not a project of its own
    assert "<strong>70+</strong> doctors trained since 2011" in html


def test_recording_a_use_of_funds_refreshes_cached_pages(
    client, settings, project, make_gift, make_use, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_ENABLED = True
    make_gift(project, amount_minor=10_000)
    assert "<dt>Used</dt><dd>$0</dd>" in client.get(project.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # pages are invalidated after commit
        make_use(project, 2_500)
    assert "<dt>Used</dt><dd>$25</dd>" in client.get(project.get_absolute_url()).content.decode()


def count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_project_page_queries_do_not_grow_with_gifts_uses_or_stories(
    client, project, make_gift, make_use, make_story
):
    urls = [
        project.get_absolute_url(),
        reverse("ledger:project_csv", args=[project.slug]),
        reverse("ledger:project_json", args=[project.slug]),
    ]

    def add(n):
        for i in range(n):
            story = make_story([project], publish_at=at(2025, 1 + i % 12, 1 + i % 27))
            make_gift(project, amount_minor=1_000 + i, paid_at=at(2024 + i % 2, 1 + i % 12))
            make_gift(
                project,
                amount_minor=500,
                currency="eur",
                source=Gift.Source.CHEQUE,
                paid_at=at(2025, 1 + i % 12),
            )
            make_use(project, 100, stories=[story], spent_on=at(2025, 1 + i % 12).date())

    add(2)
    client.get("/")  # the site's footer facts are cached after the first page
    few = [count(client, url) for url in urls]
    add(30)
    many = [count(client, url) for url in urls]
    assert many == few
    assert few[0] <= 8


def test_no_public_line_covers_fewer_than_three_gifts(client, project, make_gift, settings):
    # A big gift alone in its month, then two small ones: a watcher must not read the big one.
    make_gift(
        project, amount_minor=500_000, paid_at=at(2025, 3), donor_name="Big Donor", show_name_publicly=True
    )
    make_gift(project, amount_minor=2_500, paid_at=at(2025, 4))
    make_gift(project, amount_minor=2_500, paid_at=at(2025, 5))
    make_gift(project, amount_minor=2_500, paid_at=at(2025, 7))

    data = client.get(reverse("ledger:project_json", args=[project.slug])).json()
    lines = [(e["amount"], e["description"]) for e in data["entries"]]
    assert lines == [("5075.00", "4 gifts received online from March 2025 to July 2025, net of refunds")]
    csv_body = client.get(reverse("ledger:project_csv", args=[project.slug])).content.decode()
    assert "5000.00" not in csv_body and "5075.00" in csv_body

    settings.LEDGER_MIN_GIFTS_PER_LINE = 1  # one line a month, as before this rule
    data = client.get(reverse("ledger:project_json", args=[project.slug])).json()
    assert [e["amount"] for e in data["entries"]] == ["5000.00", "25.00", "25.00", "25.00"]
