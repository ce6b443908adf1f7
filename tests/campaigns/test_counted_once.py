"""Matched money is the sponsor's gift: counted once on the project page, in the public
CSV and JSON ledger, on the reporting desk and in the sponsor's statement, and never in
the donor's own receipt."""

import csv
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift
from donors.emails import receipt_context
from ledger import audit, figures, services
from ledger.figures import ProjectLedger

pytestmark = pytest.mark.django_db


@pytest.fixture
def matched(project, make_match, make_gift, sponsor):
    """Three $50 gifts matched 1:1, then the sponsor pays $100 of its $150 pledge."""
    match = make_match([project], cap_minor=100_000)
    gifts = [make_gift(project, amount_minor=5_000) for _ in range(3)]
    paid_in = Gift(
        project=project, amount_minor=10_000, currency="usd", source=Gift.Source.BANK_TRANSFER, donor=sponsor
    )
    services.record_offline_gift(paid_in, by=None, settles_match=match)
    return match, gifts, paid_in


def test_the_project_figures_keep_donors_and_sponsors_apart(project, matched):
    f = ProjectLedger(project).figures_for("usd")
    assert (f.raised_minor, f.donors_minor, f.matched_minor, f.match_paid_minor) == (
        25_000,
        15_000,
        15_000,
        10_000,
    )
    # Available is money received: the unpaid $50 of the pledge cannot be spent yet.
    assert f.available_minor == 25_000
    assert audit.differences() == []


def test_the_public_ledger_lines_add_up_to_donors_plus_matched(client, project, matched):
    data = client.get(reverse("ledger:project_json", args=[project.slug])).json()
    (totals,) = data["totals"]
    assert (totals["donors_minor"], totals["matched_minor"], totals["match_paid_minor"]) == (
        15_000,
        15_000,
        10_000,
    )
    assert sum(e["amount_minor"] for e in data["entries"]) == 30_000
    kinds = [e["kind"] for e in data["entries"]]
    assert kinds.count("match") == 1 and kinds.count("match_paid") == 1
    match_line = next(e for e in data["entries"] if e["kind"] == "match")
    assert match_line["description"].startswith("Matched by Acme Corp")

    rows = list(
        csv.DictReader(
            io.StringIO(client.get(reverse("ledger:project_csv", args=[project.slug])).content.decode())
        )
    )
    assert sum(Decimal(r["amount"].lstrip("'")) for r in rows) == Decimal("300")


def test_the_project_page_shows_both_and_the_match_progress(client, project, matched):
    match, _, _ = matched
    html = client.get(project.get_absolute_url()).content.decode()
    assert "<dt>From donors</dt><dd>$150</dd>" in html
    assert "<dt>Matched by sponsors</dt><dd>$150</dd>" in html
    assert "$150 of $1,000 matched, 1 day left" in html
    assert "your gift is doubled" in html
    # The end, in the match's own time zone (New York), whatever the site's.
    ends = match.ends_at.astimezone(ZoneInfo("America/New_York"))
    assert f"Until {ends:%B} {ends.day}, " in html and f" {ends:%Z}." in html


def test_the_reporting_desk_shows_matched_money_once(finance_client, project, matched):
    html = finance_client.get(reverse("ledger_dashboard")).content.decode()
    assert "<td>$250</td><td>$150</td><td>$150</td>" in html  # raised, from donors, matched


def test_the_receipt_shows_the_donors_own_gift_and_the_match_apart(project, matched):
    _, gifts, _ = matched
    context = receipt_context(gifts[0])
    text = render_to_string("email/receipt.txt", context)
    assert "Total given: $50 (USD)" in text
    assert "Matched by Acme Corp, not deductible by you: $50" in text
    html = render_to_string("email/_receipt_body.html", context)
    assert "Matched by Acme Corp, not deductible by you</th><td>$50</td>" in html
    assert figures.gift_money(gifts[0]).given_minor == 5_000


def test_the_sponsors_statement_lists_its_gift_and_its_match(project, matched, sponsor):
    year = timezone.localdate().year
    rows, totals = figures.statement(sponsor, year)
    assert totals == ["$100"]
    assert figures.sponsor_matches(sponsor, year) == [
        {"match": "Giving Tuesday", "matched": "$150", "paid": "$100", "unpaid": "$50"}
    ]
    text = render_to_string(
        "email/statement.txt",
        {"year": year, "rows": [], "totals": totals, "matches": figures.sponsor_matches(sponsor, year)},
    )
    assert (
        "Giving Tuesday: $150 matched of donors' gifts; $100 paid in (listed above), $50 still to pay" in text
    )


def test_a_sponsor_paying_more_than_its_pledge_settles_only_the_pledge(
    project, make_match, make_gift, sponsor
):
    match = make_match([project])
    make_gift(project, amount_minor=5_000)
    paid_in = Gift(
        project=project, amount_minor=8_000, currency="usd", source=Gift.Source.CHEQUE, donor=sponsor
    )
    services.record_offline_gift(paid_in, by=None, settles_match=match)
    f = ProjectLedger(project).figures_for("usd")
    assert (f.raised_minor, f.matched_minor, f.match_paid_minor, f.donors_minor) == (
        13_000,
        5_000,
        5_000,
        8_000,
    )
    assert audit.differences() == []


def test_a_settling_gift_voided_or_corrected_leaves_the_pledge_unpaid_again(project, matched):
    _, _, paid_in = matched
    corrected = Gift.objects.get(pk=paid_in.pk)
    corrected.amount_minor = 4_000
    services.correct_offline_gift(corrected, by=None, reason="it was $40")
    f = ProjectLedger(project).figures_for("usd")
    assert (f.raised_minor, f.match_paid_minor, f.donors_minor) == (19_000, 4_000, 15_000)

    services.void_offline_gift(corrected, by=None, reason="recorded in error")
    f = ProjectLedger(project).figures_for("usd")
    assert (f.raised_minor, f.match_paid_minor, f.donors_minor, f.matched_minor) == (
        15_000,
        0,
        15_000,
        15_000,
    )
    assert audit.differences() == []


def test_a_sponsor_who_has_not_paid_yet_is_still_sent_a_statement_of_its_match(
    project, make_match, make_gift, sponsor
):
    from donors.statements import donors_for_year

    make_match([project])
    make_gift(project, amount_minor=5_000)
    assert sponsor in donors_for_year(timezone.localdate().year)
    assert sponsor not in donors_for_year(timezone.localdate().year - 1)


def test_a_sponsor_who_has_only_pledged_gets_a_statement_with_total_lines(
    project, make_match, make_gift, sponsor
):
    from types import SimpleNamespace

    from donors.emails import _statement

    make_match([project])
    make_gift(project, amount_minor=5_000)
    make_gift(project, amount_minor=2_500)
    year = timezone.localdate().year
    _, context, _ = _statement(SimpleNamespace(data={"year": year}, donor=sponsor))
    assert context["totals"] == []
    assert figures.sponsor_match_totals(sponsor, year) == [
        {"currency": "usd", "matched": "$75", "paid": "$0", "unpaid": "$75"}
    ]

    text = render_to_string("email/statement.txt", context)
    assert f"Total for {year}: nothing paid in yet" in text
    assert "Total: $75 matched; $0 paid in, $75 still to pay" in text
    html = render_to_string("email/statement.html", context)
    assert f"Total for {year}: nothing paid in yet" in html
    assert '<th scope="row">Total</th><td><strong>$75</strong></td>' in html
