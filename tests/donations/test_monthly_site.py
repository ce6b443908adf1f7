"""What people see of monthly giving, simulated months, Stripe's customer portal, and the fee arithmetic."""

import secrets
import time
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from donations import services, stripe_gateway
from donations.models import Gift, RecurringGift, StripeEvent
from donations.money import fee_to_cover
from podari import page_cache

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulated(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True


@pytest.fixture
def make_monthly(make_gift):
    """make_monthly(project, status=..., amount_minor=..., **fields): a monthly gift record."""

    def make(project, *, status=RecurringGift.Status.ACTIVE, **fields):
        fields.setdefault("amount_minor", 2_500)
        fields.setdefault("currency", project.currency)
        return RecurringGift.objects.create(
            project=project, status=status, stripe_subscription_id=f"sub_{secrets.token_hex(8)}", **fields
        )

    return make


@pytest.fixture
def started_simulation(simulated, project, make_pending_gift):
    """A monthly gift of $25 (+ $0.87 fee) through the simulated checkout, paid once."""
    gift = make_pending_gift(
        project,
        amount_minor=2_500,
        fee_covered_minor=87,
        donor_email="jane@example.com",
        stripe_checkout_session_id=services.SIMULATED_SESSION_PREFIX + secrets.token_hex(16),
    )
    RecurringGift.begin(gift)
    gift.refresh_from_db()
    services.pay_simulated_checkout(gift)
    return RecurringGift.objects.get()


# What people see


def test_the_project_page_shows_how_many_people_give_monthly(client, project, make_monthly, settings):
    make_monthly(project)
    make_monthly(project, status=RecurringGift.Status.PAST_DUE)
    make_monthly(project, status=RecurringGift.Status.CANCELLED)
    make_monthly(project, status=RecurringGift.Status.INCOMPLETE)
    make_monthly(project, livemode=True)  # a live subscription on a test-mode site

    page = client.get(project.get_absolute_url()).content.decode()

    assert "2 people give to this project every month." in page


def test_a_cached_project_page_counts_a_new_monthly_donor_as_soon_as_a_gift(
    client,
    project,
    settings,
    post_event,
    monthly_gift,
    subscription_event,
    django_capture_on_commit_callbacks,
    monkeypatch,
):
    settings.PAGE_CACHE_ENABLED = True
    gift = monthly_gift()
    assert "every month" not in client.get(project.get_absolute_url()).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        # Only the monthly record changes here: no gift is saved.
        post_event(subscription_event(gift, created=2_000_000_000, status="active"))

    # Like a gift, it moves the gifts version: the stored page may lag it that long, no longer.
    later = time.time() + settings.PAGE_CACHE_GIFTS_LAG_SECONDS + 0.1
    monkeypatch.setattr(page_cache, "time", SimpleNamespace(time=lambda: later))
    page = client.get(project.get_absolute_url()).content.decode()
    assert "1 person gives to this project every month." in page


def test_a_project_without_monthly_donors_says_nothing_about_them(client, project):
    page = client.get(project.get_absolute_url()).content.decode()

    assert "every month" not in page


def test_the_admin_shows_monthly_recurring_revenue_per_project(
    admin_client, project, make_project, make_monthly
):
    education = make_project(title="Doctors' education", slug="education")
    make_monthly(project, amount_minor=2_500)
    make_monthly(project, amount_minor=10_000, fee_covered_minor=250)
    make_monthly(project, amount_minor=5_000, status=RecurringGift.Status.CANCELLED)
    make_monthly(education, amount_minor=1_000)

    response = admin_client.get(reverse("admin:donations_project_changelist"))

    rows = {p.slug: p for p in response.context["cl"].result_list}
    assert (rows["car-t"].monthly_donors, rows["car-t"].monthly_minor) == (2, 12_500)
    assert (rows["education"].monthly_donors, rows["education"].monthly_minor) == (1, 1_000)
    assert "$125" in response.content.decode()


def test_staff_see_a_monthly_gift_with_its_payments(admin_client, started_simulation):
    url = reverse("admin:donations_recurringgift_change", args=[started_simulation.pk])

    page = admin_client.get(url).content.decode()

    assert "$25" in page and "Active" in page
    assert "Succeeded" in page  # the first month


def test_the_project_page_query_count_does_not_grow_with_monthly_gifts(client, project, make_monthly):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(project.get_absolute_url()).status_code == 200
        return len(captured)

    client.get("/")  # the footer's charity facts are read once, then cached
    make_monthly(project)
    few = queries()
    for _ in range(10):
        make_monthly(project)

    assert queries() == few


# The simulated checkout, months and cancellation: the same signed webhook path as Stripe's


def test_a_simulated_monthly_checkout_starts_the_gift_with_its_first_payment(started_simulation, project):
    recurring = started_simulation
    assert recurring.status == RecurringGift.Status.ACTIVE
    assert recurring.stripe_subscription_id.startswith("sub_simulated_")
    first = recurring.payments.get()
    assert (first.status, first.amount_minor, first.fee_covered_minor) == (Gift.Status.SUCCEEDED, 2_500, 87)
    assert first.stripe_payment_intent_id.startswith("pi_simulated_")
    assert list(StripeEvent.objects.order_by("pk").values_list("type", "status")) == [
        ("checkout.session.completed", "processed"),
        ("invoice.paid", "processed"),
        ("invoice_payment.paid", "processed"),
    ]
    project.refresh_from_db()
    assert (project.raised_minor, project.gift_count) == (2_500, 1)


def test_the_command_simulates_the_next_month(started_simulation, project):
    call_command("simulate_monthly_payment", "--recurring-gift", str(started_simulation.pk))

    assert started_simulation.payments.filter(status=Gift.Status.SUCCEEDED).count() == 2
    project.refresh_from_db()
    assert (project.raised_minor, project.gift_count) == (5_000, 2)


def test_a_simulated_cancellation_ends_the_monthly_gift(started_simulation, project):
    services.cancel_simulated_subscription(started_simulation)

    recurring = RecurringGift.objects.get()
    assert recurring.status == RecurringGift.Status.CANCELLED
    assert recurring.cancellation_reason == "Cancelled at the donor's request"
    with pytest.raises(CommandError, match="cancelled"):
        call_command("simulate_monthly_payment", "--recurring-gift", str(recurring.pk))
    project.refresh_from_db()
    assert project.raised_minor == 2_500


def test_the_cancel_command_cancels_through_the_webhook_path(started_simulation):
    call_command("cancel_simulated_monthly_gift", str(started_simulation.pk))

    assert RecurringGift.objects.get().status == RecurringGift.Status.CANCELLED
    assert StripeEvent.objects.filter(type="customer.subscription.deleted", status="processed").count() == 1


def test_months_cannot_be_simulated_with_real_keys(started_simulation, settings):
    settings.SIMULATED_CHECKOUT = False
    settings.STRIPE_SECRET_KEY = "sk_test_suite_key"

    with pytest.raises(CommandError):
        call_command("simulate_monthly_payment")
    with pytest.raises(ValueError):
        services.cancel_simulated_subscription(started_simulation)


# Stripe's customer portal, for donors to change their card or cancel


def test_a_billing_portal_session_is_created_for_the_donor(stripe_stub):
    stripe_stub.respond(
        {
            "id": "bps_1QcM5aB7WZ01zgkWNs8s9Auh",
            "object": "billing_portal.session",
            "customer": "cus_RVd8kz1qPm3xYb",
            "livemode": False,
            "return_url": "http://testserver/giving/",
            "url": "https://billing.stripe.com/p/session/test_YWNjdF8xUWJYdzFCN1daMDF6Z2tX",
        }
    )

    url = stripe_gateway.create_billing_portal_session("cus_RVd8kz1qPm3xYb", "http://testserver/giving/")

    assert url == "https://billing.stripe.com/p/session/test_YWNjdF8xUWJYdzFCN1daMDF6Z2tX"
    (request,) = stripe_stub.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/billing_portal/sessions")
    assert request["params"] == {"customer": "cus_RVd8kz1qPm3xYb", "return_url": "http://testserver/giving/"}


def test_a_donors_portal_opens_on_the_customer_of_their_monthly_gift(stripe_stub, project, make_monthly):
    from donations.models import Donor

    donor = Donor.for_email("jane@example.com")
    make_monthly(project, donor=donor, stripe_customer_id="cus_RVd8kz1qPm3xYb")
    stripe_stub.respond({"object": "billing_portal.session", "url": "https://billing.stripe.com/p/session/x"})

    url = services.create_billing_portal_session(donor, "http://testserver/giving/")

    assert url == "https://billing.stripe.com/p/session/x"
    assert stripe_stub.requests[0]["params"]["customer"] == "cus_RVd8kz1qPm3xYb"
    # A donor who never gave monthly has no portal, and Stripe is not asked.
    assert services.create_billing_portal_session(Donor.for_email("sam@example.org"), "http://x/") is None
    assert len(stripe_stub.requests) == 1


def test_a_billing_portal_stripe_refuses_is_reported_as_unavailable(stripe_stub):
    stripe_stub.respond(
        {"error": {"type": "invalid_request_error", "message": "No such customer"}}, status=400
    )

    with pytest.raises(stripe_gateway.StripeUnavailable):
        stripe_gateway.create_billing_portal_session("cus_missing", "http://testserver/giving/")


# Covering the fee


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        # (2500 + 30) / 0.978 = 2586.91… → 2587 charged: 87 added.
        (2_500, 87),
        # (10000 + 30) / 0.978 = 10255.62… → 10256: 256 added.
        (10_000, 256),
        (500, 42),  # (530 / 0.978 = 541.92… → 542)
        (1, 31),  # (31 / 0.978 = 31.69… → 32)
    ],
)
def test_the_fee_to_cover_is_the_charge_that_leaves_the_whole_gift(amount, fee):
    assert fee_to_cover(amount, "usd") == fee
    charged = amount + fee
    # What Stripe keeps of that charge (2.2% + 30, rounded as Stripe rounds) leaves at least the gift.
    stripe_keeps = (charged * 220 + 5_000) // 10_000 + 30
    assert charged - stripe_keeps >= amount


def test_the_fee_settings_change_the_estimate(settings):
    settings.FEE_COVER_PERCENT_BP = 290
    settings.FEE_COVER_FIXED_MINOR = 0

    # 10000 / 0.971 = 10298.66… → 10299
    assert fee_to_cover(10_000, "usd") == 299
    assert fee_to_cover(0, "usd") == 0
