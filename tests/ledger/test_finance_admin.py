"""Finance at work: offline gifts, uses of funds, the audit trail, exports and the dashboard."""

import csv
import io

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift
from ledger.figures import ProjectLedger
from ledger.models import FundUse, OfflineGift
from tests.conftest import bulk_paid_gifts

pytestmark = pytest.mark.django_db

OFFLINE_ADD = reverse("admin:ledger_offlinegift_add")
USE_ADD = reverse("admin:ledger_funduse_add")
DASHBOARD = reverse("ledger_dashboard")
GIFT_EXPORT = reverse("admin:donations_gift_export")


def record_event(client, project, amount="29,745", **fields):
    data = {
        "project": project.pk,
        "source": "event",
        "amount": amount,
        "currency": "usd",
        "received_on": "2025-10-20",
        "donor": "",
        "donor_name": "",
        "note": "Takings of the first fundraising event",
        **fields,
    }
    return client.post(OFFLINE_ADD, data)


def test_a_finance_user_records_an_event_and_sees_it_everywhere(finance_client, finance_user, project):
    received = timezone.localdate() - timezone.timedelta(days=40)
    response = record_event(finance_client, project, received_on=received.isoformat())
    assert response.status_code == 302, response.content.decode()[:2000]

    gift = OfflineGift.objects.get()
    assert (gift.amount_minor, gift.source, gift.status) == (2_974_500, "event", Gift.Status.SUCCEEDED)
    project.refresh_from_db()
    assert project.raised_minor == 2_974_500
    assert ProjectLedger(project).figures[0].raised == "$29,745"

    dashboard = finance_client.get(DASHBOARD).content.decode()
    assert f"{received:%B %Y}: $29,745, 1 gift</title></rect>" in dashboard  # a bar of the chart

    export = b"".join(finance_client.get(GIFT_EXPORT + "?source__exact=event").streaming_content).decode()
    (row,) = list(csv.DictReader(io.StringIO(export)))
    assert (row["amount"], row["currency"], row["source"]) == ("29745.00", "usd", "Event takings")

    entry = LogEntry.objects.get_for_object(gift).get()
    assert entry.actor == finance_user
    assert entry.changes_dict["amount_minor"] == ["None", "2974500"]
    trail = finance_client.get(reverse("admin:auditlog_logentry_changelist")).content.decode()
    assert "Offline gift #" in trail


def test_offline_gifts_are_marked_in_the_gift_list(admin_client, project, make_gift):
    make_gift(project, source=Gift.Source.CHEQUE, note="Check from a supper")
    html = admin_client.get(reverse("admin:donations_gift_changelist")).content.decode()
    assert "Check" in html
    listed = admin_client.get(reverse("admin:ledger_offlinegift_changelist")).content.decode()
    assert "Check from a supper" in listed


def test_correcting_an_offline_gift_moves_the_totals_and_keeps_before_and_after(
    finance_client, finance_user, project
):
    record_event(finance_client, project, amount="1,000")
    gift = OfflineGift.objects.get()
    response = finance_client.post(
        reverse("admin:ledger_offlinegift_change", args=[gift.pk]),
        {
            "project": project.pk, "source": "event", "amount": "1,200", "currency": "usd",
            "received_on": "2025-10-20", "donor": "", "donor_name": "", "note": "Recounted",
            "reason": "The takings were recounted",
        },
    )  # fmt: skip
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.raised_minor == 120_000
    update = LogEntry.objects.get_for_object(gift).filter(action=LogEntry.Action.UPDATE).get()
    assert update.changes_dict["amount_minor"] == ["100000", "120000"]
    assert update.actor == finance_user


def use_data(project, amount, **fields):
    return {
        "project": project.pk, "amount": amount, "currency": "", "spent_on": "2025-08-01",
        "purpose": "the clinical documentation", "recipient": "FNKC", "note": "", **fields,
    }  # fmt: skip


def test_a_use_of_funds_above_the_available_balance_needs_confirming(finance_client, project, make_gift):
    make_gift(project, amount_minor=400_000)

    response = finance_client.post(USE_ADD, use_data(project, "5,000"))
    assert response.status_code == 200
    assert "has $4,000 available in USD" in response.content.decode()
    assert not FundUse.objects.exists()

    response = finance_client.post(USE_ADD, use_data(project, "5,000", confirm_overspend="on"))
    assert response.status_code == 302
    assert ProjectLedger(project).figures[0].available_minor == -100_000


def test_a_use_within_the_balance_is_recorded_and_audited(finance_client, finance_user, project, make_gift):
    make_gift(project, amount_minor=600_000)
    assert finance_client.post(USE_ADD, use_data(project, "5,000")).status_code == 302
    use = FundUse.objects.get()
    assert (use.amount_minor, use.currency, use.recorded_by) == (500_000, "usd", finance_user)
    entry = LogEntry.objects.get_for_object(use).get()
    assert entry.actor == finance_user and entry.changes_dict["amount_minor"] == ["None", "500000"]


def test_moving_a_gift_between_projects_is_in_the_audit_trail(
    admin_client, admin_user, project, make_project, make_gift
):
    other = make_project(title="Doctors", slug="doctors")
    gift = make_gift(project, amount_minor=1_000)
    admin_client.post(
        reverse("admin:donations_gift_changelist"),
        {"action": "move_to_another_project", "_selected_action": [gift.pk], "apply": "1",
         "to_project": other.pk, "reason": "donor asked"},
    )  # fmt: skip
    entry = LogEntry.objects.get_for_object(gift).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == admin_user
    assert entry.changes_dict["project"] == [str(project.pk), str(other.pk)]
    (move,) = gift.moves.all()
    assert LogEntry.objects.get_for_object(move).get().actor == admin_user


def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(finance_client, project, make_gift):
    for name in ('=HYPERLINK("http://evil")', "+1+1", "-2", "@SUM(A1)", "\tTab", "\rReturn", "Plain"):
        make_gift(project, donor_name=name, donor_email="x@example.com")
    body = b"".join(finance_client.get(GIFT_EXPORT).streaming_content).decode()
    names = sorted(row["donor_name"] for row in csv.DictReader(io.StringIO(body)))
    assert names == sorted(
        ['\'=HYPERLINK("http://evil")', "'+1+1", "'-2", "'@SUM(A1)", "'\tTab", "'\rReturn", "Plain"]
    )


def test_exports_stream_with_two_queries_for_the_rows_however_many(finance_client, project, make_gift):
    def export_queries(n_gifts):
        while Gift.objects.count() < n_gifts:
            make_gift(project, amount_minor=1_234)
        response = finance_client.get(GIFT_EXPORT)
        assert isinstance(response, StreamingHttpResponse)
        with CaptureQueriesContext(connection) as queries:
            lines = list(response.streaming_content)
        return len(lines), len(queries)

    # The rows, and their figures from the ledger: two queries per chunk of 2,000 rows.
    assert export_queries(3) == (4, 2)
    assert export_queries(40) == (41, 2)


def test_exports_and_the_dashboard_are_for_finance_only(editor_client):
    assert editor_client.get(GIFT_EXPORT).status_code == 403
    assert editor_client.get(reverse("admin:ledger_funduse_export")).status_code == 403
    assert editor_client.get(DASHBOARD).status_code == 403


def test_uses_of_funds_export_in_major_units(finance_client, project, make_use, make_story):
    story = make_story([project])
    make_use(project, 500_000, stories=[story], purpose="=cmd|' /C calc'!A0")
    body = b"".join(finance_client.get(reverse("admin:ledger_funduse_export")).streaming_content).decode()
    (row,) = list(csv.DictReader(io.StringIO(body)))
    assert (row["amount"], row["currency"]) == ("5000.00", "usd")
    assert row["purpose"].startswith("'=")
    assert row["stories"] == "http://testserver" + story.get_absolute_url()


def dashboard_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DASHBOARD)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_dashboard_queries_do_not_grow_with_gifts(finance_client, project, make_project, make_gift, make_use):
    from donations.models import RecurringGift

    other = make_project(title="Doctors", slug="doctors")
    now = timezone.now()

    def grow(n):
        gifts = [
            Gift(
                project=project if i % 2 else other, amount_minor=1_000 + i,
                currency="eur" if i % 7 == 0 else "usd",
                paid_at=now - timezone.timedelta(days=i * 3),
                donor_email=f"donor{i % 40}@example.com",
            )
            for i in range(Gift.objects.count(), n)
        ]  # fmt: skip
        bulk_paid_gifts(gifts)

    RecurringGift.objects.create(project=project, amount_minor=2_000, currency="usd", status="active")
    RecurringGift.objects.create(project=project, amount_minor=500, currency="usd", status="past_due")
    RecurringGift.objects.create(project=project, amount_minor=9_900, currency="usd", status="cancelled")
    make_use(project, 1_000)
    grow(5)
    few, _ = dashboard_queries(finance_client)
    grow(500)
    many, html = dashboard_queries(finance_client)
    assert many == few
    assert "<svg" in html and "<rect" in html
    assert "$25</td><td>2</td>" in html  # monthly recurring revenue: $20 active and $5 past due
