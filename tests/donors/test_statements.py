"""Year-end statements: `manage.py send_annual_statements --year 2026`."""

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from donations.models import Gift
from donors.models import Email

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def run(capture, *args):
    out = io.StringIO()
    with capture(execute=True):
        call_command("send_annual_statements", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def gifts_of_2026(project, make_project, make_donor, paid_gift):
    ada = make_donor("ada@example.com")
    bob = make_donor("bob@example.com")
    doctors = make_project(title="Doctors' education", slug="doctors")
    paid_gift(project, ada, amount_minor=5_000, paid_at=datetime(2026, 1, 1, 0, 30, tzinfo=NEW_YORK))
    june = datetime(2026, 6, 1, tzinfo=NEW_YORK)
    paid_gift(doctors, ada, amount_minor=2_500, fee_covered_minor=105, paid_at=june)
    paid_gift(
        project,
        ada,
        amount_minor=1_000,
        status=Gift.Status.PARTIALLY_REFUNDED,
        amount_refunded_minor=400,
        paid_at=datetime(2026, 7, 1, tzinfo=NEW_YORK),
    )
    # Not in 2026 (New York time), refunded in full, or never paid: not on the statement.
    paid_gift(project, ada, amount_minor=90_000, paid_at=datetime(2025, 12, 31, 23, 30, tzinfo=NEW_YORK))
    paid_gift(project, ada, amount_minor=80_000, status=Gift.Status.REFUNDED, amount_refunded_minor=80_000)
    paid_gift(project, bob, amount_minor=70_000, status=Gift.Status.FAILED, paid_at=None)
    return ada


def test_each_donor_gets_one_summary_of_the_year(
    settings, gifts_of_2026, django_capture_on_commit_callbacks, mailoutbox
):
    from charity.models import Charity

    Charity.objects.update_or_create(pk=1, defaults={"ein": "12-3456789"})

    output = run(django_capture_on_commit_callbacks, "--year", "2026")

    assert "Queued 1 2026 statement" in output
    [message] = mailoutbox
    assert message.to == ["ada@example.com"]
    assert "2026" in message.subject
    for text in (message.body, message.alternatives[0][0]):
        assert "$50" in text and "$26.05" in text and "$6" in text
        assert "$82.05" in text  # 50 + 25 and 1.05 covering the fee + 10 less 4 refunded
        assert "$900" not in text and "$800" not in text
        assert "12-3456789" in text
        assert "Doctors&#x27; education" in text or "Doctors' education" in text


def test_a_dry_run_sends_nothing_and_a_second_run_sends_no_second_statement(
    gifts_of_2026, django_capture_on_commit_callbacks, mailoutbox
):
    dry = run(django_capture_on_commit_callbacks, "--year", "2026", "--dry-run")
    assert "1 donor(s) would be sent a 2026 statement" in dry
    assert mailoutbox == [] and not Email.objects.filter(kind=Email.Kind.STATEMENT).exists()

    run(django_capture_on_commit_callbacks, "--year", "2026")
    again = run(django_capture_on_commit_callbacks, "--year", "2026")

    assert "Queued 0" in again
    assert len(mailoutbox) == 1
    assert "0 donor(s) would be sent" in run(
        django_capture_on_commit_callbacks, "--year", "2026", "--dry-run"
    )


def test_a_year_still_to_come_is_refused(django_capture_on_commit_callbacks):
    with pytest.raises(CommandError):
        run(django_capture_on_commit_callbacks, "--year", "2999")


def signed_in_as(client, donor):
    import time

    from donors.views import SESSION_DONOR, SESSION_SIGNED_IN_AT

    session = client.session
    session[SESSION_DONOR] = donor.pk
    session[SESSION_SIGNED_IN_AT] = int(time.time())
    session.save()
    return client


def test_the_giving_page_offers_a_statement_for_each_year_given(client, gifts_of_2026, make_donor):
    from django.urls import reverse

    client = signed_in_as(client, gifts_of_2026)
    page = client.get(reverse("donors:giving")).content.decode()
    assert "Your 2026 statement" in page and "Your 2025 statement" in page
    assert page.index("Your 2026 statement") < page.index("Your 2025 statement")

    statement = client.get(reverse("donors:statement", args=[2026])).content.decode()
    # The same rows and total as the emailed statement: $50 + $26.05 + $6 (a refund taken off).
    assert "Total for 2026: $82.05" in statement
    assert "$900" not in statement and "$800" not in statement
    assert "data-print hidden" in statement
    assert client.get(reverse("donors:statement", args=[2024])).status_code == 404

    download = client.get(reverse("donors:statement_csv", args=[2026]))
    assert download["Content-Disposition"] == 'attachment; filename="podari-giving-2026.csv"'
    rows = download.content.decode().splitlines()
    assert rows[0] == "date,receipt,project,amount,currency"
    assert [row.rsplit(",", 2)[1:] for row in rows[1:]] == [
        ["50.00", "USD"],
        ["26.05", "USD"],
        ["6.00", "USD"],
    ]


def test_a_statement_is_only_the_signed_in_donors_own(client, gifts_of_2026, make_donor):
    from django.urls import reverse

    client = signed_in_as(client, make_donor("eve@example.com"))
    assert client.get(reverse("donors:statement", args=[2026])).status_code == 404
    client.logout()
    assert client.get(reverse("donors:statement", args=[2026])).status_code in (302, 403)
