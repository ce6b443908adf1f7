"""Retention: a daily run removes the personal data the site no longer needs, after periods set
in the environment, and never touches money; the Privacy page says what is kept, how long."""

import io

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.utils import timezone

from charity.models import Page
from donations.models import Donor, Gift, Project, StripeEvent
from donors.models import Email, PrivacyRequest, SignInLink

pytestmark = pytest.mark.django_db


MONEY = ("pk", "amount_minor", "paid_at", "project_id", "status", "currency", "fee_covered_minor")


def days_ago(n):
    return timezone.now() - timezone.timedelta(days=n)


def run():
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    return out.getvalue()


@pytest.fixture
def history(project, make_gift, make_donor):
    """Personal data of every kind, some past its period and some not."""
    gave = make_donor("gave@example.com")
    make_gift(project, donor=gave, donor_email=gave.email, paid_at=days_ago(40))
    never = make_donor("never@example.com")
    Donor.objects.filter(pk=never.pk).update(created_at=days_ago(31))
    records = {
        "abandoned": make_gift(project, donor=never, donor_name="Olga Abandon", donor_email=never.email,
                               dedication="honour", dedication_name="Mama", status=Gift.Status.ABANDONED,
                               created_at=days_ago(31)),
        "recent abandoned": make_gift(project, donor_name="Fresh Try", donor_email="fresh@example.com",
                                      status=Gift.Status.ABANDONED, created_at=days_ago(5)),
        "old gift": make_gift(project, donor=gave, donor_name="Ivan Oldtimer", donor_email=gave.email,
                              amount_minor=7_000, paid_at=days_ago(8 * 365 + 2), note="At the 2018 gala"),
        "six years": make_gift(project, donor=gave, donor_name="Ivan Recent", donor_email=gave.email,
                               paid_at=days_ago(6 * 365)),
    }  # fmt: skip
    old_link = SignInLink.objects.create(donor=gave, created_at=days_ago(31))
    new_link = SignInLink.objects.create(donor=gave)
    sent = {"to": gave.email, "donor": gave, "status": "sent"}
    Email.objects.create(key="sign_in:old", kind="sign_in", created_at=days_ago(31), **sent)
    Email.objects.create(key="receipt:old", kind="receipt", created_at=days_ago(366), **sent)
    Email.objects.create(key="receipt:new", kind="receipt", **sent)
    PrivacyRequest.objects.create(kind="export", status="done", donor=gave, archive=b"zip",
                                  expires_at=days_ago(1))  # fmt: skip
    event = StripeEvent.objects.create(
        stripe_id="evt_old", type="checkout.session.completed",
        payload={"data": {"object": {"amount_total": 7_000,
                                     "customer_details": {"email": gave.email, "name": "Ivan Oldtimer"}}}},
    )  # fmt: skip
    StripeEvent.objects.filter(pk=event.pk).update(received_at=days_ago(8 * 365))
    return {**records, "gave": gave, "never": never, "old_link": old_link, "new_link": new_link}


def test_a_daily_run_removes_personal_data_past_its_period_and_never_money(history, project):
    totals = Project.objects.filter(pk=project.pk).values("raised_minor", "gift_count").get()
    money = list(Gift.objects.order_by("pk").values_list(*MONEY))

    output = run()

    assert "unpaid gifts made anonymous: 1" in output and "old gifts made anonymous: 1" in output
    abandoned = Gift.objects.get(pk=history["abandoned"].pk)
    assert (abandoned.donor_name, abandoned.donor_email, abandoned.dedication_name, abandoned.donor) == (
        "", "", "", None,
    )  # fmt: skip
    assert Gift.objects.get(pk=history["recent abandoned"].pk).donor_email == "fresh@example.com"
    assert not Donor.objects.filter(pk=history["never"].pk).exists()
    assert Donor.objects.filter(pk=history["gave"].pk).exists()
    assert list(SignInLink.objects.values_list("pk", flat=True)) == [history["new_link"].pk]
    assert not Email.objects.filter(key="sign_in:old").exists()
    assert Email.objects.get(key="receipt:old").to == "" and Email.objects.get(key="receipt:new").to
    assert PrivacyRequest.objects.get().archive is None
    old = Gift.objects.get(pk=history["old gift"].pk)
    assert (old.donor_name, old.donor_email, old.note, old.donor) == ("Anonymous donor", "", "", None)
    assert Gift.objects.get(pk=history["six years"].pk).donor_name == "Ivan Recent"
    assert StripeEvent.objects.get().payload["data"]["object"] == {
        "amount_total": 7_000,
        "customer_details": None,
    }
    assert not LogEntry.objects.filter(changes__icontains="Oldtimer").exists()
    # Money is as it was, and a second run finds nothing more to do.
    assert list(Gift.objects.order_by("pk").values_list(*MONEY)) == money
    assert Project.objects.filter(pk=project.pk).values("raised_minor", "gift_count").get() == totals
    assert "unpaid gifts made anonymous: 0" in run()


def test_the_periods_are_settings(settings, history):
    settings.RETENTION_ABANDONED_CHECKOUT_DAYS = 60
    settings.FINANCIAL_RECORDS_YEARS = 10

    run()

    assert Gift.objects.get(pk=history["abandoned"].pk).donor_name == "Olga Abandon"
    assert Gift.objects.get(pk=history["old gift"].pk).donor_name == "Ivan Oldtimer"


def test_the_privacy_page_says_what_is_kept_for_how_long_and_how_to_ask(settings, client):
    Page.objects.create(title="Privacy policy", slug="privacy", body="What we keep, and why.")
    settings.RETENTION_SIGN_IN_DAYS = 14

    page = client.get("/privacy/").content.decode()

    assert "How long we keep it" in page
    kept_for = '<td data-label="Kept for">'
    assert f"Manage my giving sign-in links and the requests for them</td>{kept_for}14 days" in page
    assert f"{kept_for}7 years</td>" in page
    assert 'href="/manage/"' in page and "Download my data" in page and "Erase my data" in page
    Page.objects.create(title="About us", slug="about", body="Who we are.")
    assert "How long we keep it" not in client.get("/about/").content.decode()
