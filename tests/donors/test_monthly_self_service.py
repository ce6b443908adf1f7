"""A monthly donor changes the amount, pauses or cancels on their own page. Stripe is asked
through the real stripe library (the HTTP stub checks the exact parameters), and the record
changes only when the subscription's webhook arrives; the simulated checkout does the same."""

import copy
import re
import time

import pytest
from django.urls import reverse

from donations import services
from donations.models import RecurringGift
from donors.models import Email
from tests.conftest import load_stripe_fixture
from tests.donors.test_statements import signed_in_as

pytestmark = pytest.mark.django_db

SUBSCRIPTION_ID = "sub_1QcM4rB7WZ01zgkWp2Yt6Hn8"
PATH = f"/v1/subscriptions/{SUBSCRIPTION_ID}"


@pytest.fixture
def monthly(project, make_donor):
    return RecurringGift.objects.create(
        project=project,
        donor=make_donor("ada@example.com"),
        amount_minor=2_500,
        currency="usd",
        fee_covered_minor=87,
        status=RecurringGift.Status.ACTIVE,
        stripe_subscription_id=SUBSCRIPTION_ID,
        stripe_customer_id="cus_QXg1o8vcGmoR32",
    )


def subscription_with_fee():
    """The subscription as Stripe holds it: the gift's line and the covered fee's line."""
    subscription = load_stripe_fixture("customer_subscription_updated")["data"]["object"]
    fee = copy.deepcopy(subscription["items"]["data"][0])
    fee.update(id="si_RVd8FeeLine0001")
    fee["price"].update(id="price_fee", product="prod_RVd8FeeLine", unit_amount=87, unit_amount_decimal="87")
    # Stripe lists items newest first, not in the order Checkout made them.
    subscription["items"]["data"].insert(0, fee)
    return subscription


def test_a_new_amount_goes_to_stripe_as_new_prices_and_metadata(client, monthly, stripe_stub):
    stripe_stub.route("GET", PATH, subscription_with_fee())
    stripe_stub.route("POST", PATH, subscription_with_fee())
    client = signed_in_as(client, monthly.donor)

    response = client.post(
        reverse("donors:change_monthly_amount", args=[monthly.public_id]), {"amount": "30"}
    )

    assert response["Location"] == reverse("donors:monthly_gift", args=[monthly.public_id])
    update = stripe_stub.requests[-1]
    assert update["method"] == "POST" and update["route"] == PATH
    # $30 a month, and the fee for $30 ($0.99), covered as before; nothing prorated.
    assert update["params"] == {
        "items[0][id]": "si_RVd8FeeLine0001",
        "items[0][price_data][currency]": "usd",
        "items[0][price_data][product]": "prod_RVd8FeeLine",
        "items[0][price_data][unit_amount]": "99",
        "items[0][price_data][recurring][interval]": "month",
        "items[1][id]": "si_RVd8Qw3eRt5yUi",
        "items[1][price_data][currency]": "usd",
        "items[1][price_data][product]": "prod_RVd8Nm4bVc6xZa",
        "items[1][price_data][unit_amount]": "3000",
        "items[1][price_data][recurring][interval]": "month",
        "proration_behavior": "none",
        "metadata[amount_minor]": "3000",
        "metadata[fee_covered_minor]": "99",
    }
    # Only Stripe's webhook changes the record.
    monthly.refresh_from_db()
    assert monthly.amount_minor == 2_500


def test_a_bad_amount_is_explained_and_nothing_is_sent(client, monthly, stripe_stub):
    client = signed_in_as(client, monthly.donor)
    response = client.post(reverse("donors:change_monthly_amount", args=[monthly.public_id]), {"amount": "2"})
    assert response.status_code == 400
    assert "From $5 to $25,000" in response.content.decode()
    assert stripe_stub.requests == []


def test_a_pause_asks_stripe_to_void_invoices_until_the_date(client, monthly, stripe_stub):
    stripe_stub.route("POST", PATH, subscription_with_fee())
    client = signed_in_as(client, monthly.donor)
    before = int(time.time())

    client.post(reverse("donors:pause_monthly_gift", args=[monthly.public_id]), {"months": "2"})

    [request] = stripe_stub.requests
    resumes_at = int(request["params"].pop("pause_collection[resumes_at]"))
    assert request["params"] == {"pause_collection[behavior]": "void"}
    assert services.month_later(before, 2) <= resumes_at <= services.month_later(int(time.time()), 2)


def test_a_pause_is_one_to_three_months(client, monthly, stripe_stub):
    client = signed_in_as(client, monthly.donor)
    response = client.post(reverse("donors:pause_monthly_gift", args=[monthly.public_id]), {"months": "6"})
    assert response.status_code == 400 and stripe_stub.requests == []


def test_cancelling_is_confirmed_first_and_sends_the_reason(client, monthly, stripe_stub):
    cancelled = load_stripe_fixture("customer_subscription_deleted")["data"]["object"]
    stripe_stub.route("DELETE", PATH, cancelled)
    client = signed_in_as(client, monthly.donor)

    page = client.get(reverse("donors:cancel_monthly_gift", args=[monthly.public_id])).content.decode()
    assert "Would a smaller gift or a break help instead?" in page
    assert "Pause it for 1 month" in page and "Give less each month" in page
    assert stripe_stub.requests == []

    response = client.post(
        reverse("donors:cancel_monthly_gift", args=[monthly.public_id]), {"reason": "Money is tight"}
    )

    assert response["Location"] == reverse("donors:giving")
    [request] = stripe_stub.requests
    assert request["method"] == "DELETE" and request["route"] == PATH
    assert request["params"] == {
        "cancellation_details[comment]": "Cancelled by the donor on the site. Money is tight"
    }


def test_another_donors_monthly_gift_is_not_found(client, monthly, make_donor, stripe_stub):
    client = signed_in_as(client, make_donor("eve@example.com"))
    for name in ("monthly_gift", "cancel_monthly_gift"):
        assert client.get(reverse(f"donors:{name}", args=[monthly.public_id])).status_code == 404
    assert (
        client.post(
            reverse("donors:pause_monthly_gift", args=[monthly.public_id]), {"months": "1"}
        ).status_code
        == 404
    )
    assert stripe_stub.requests == []


def test_the_webhook_stores_the_next_charge_the_pause_and_the_new_amount(
    monthly, post_event, django_capture_on_commit_callbacks
):
    event = load_stripe_fixture("customer_subscription_updated")
    subscription = event["data"]["object"]
    subscription["metadata"].update(amount_minor="3000", fee_covered_minor="97")
    subscription["pause_collection"] = {"behavior": "void", "resumes_at": 2_000_000_000}
    event["created"] = int(time.time())

    assert post_event(event).status_code == 200

    monthly.refresh_from_db()
    assert monthly.current_period_end.timestamp() == 1769904090
    assert monthly.paused_until.timestamp() == 2_000_000_000 and monthly.is_paused
    assert (monthly.amount_minor, monthly.fee_covered_minor) == (3_000, 97)
    assert monthly.next_charge_at is None  # paused

    event = copy.deepcopy(event)
    event["id"] += "_resumed"
    event["created"] += 1
    event["data"]["object"]["pause_collection"] = None
    post_event(event)
    monthly.refresh_from_db()
    assert not monthly.is_paused and monthly.next_charge_at.timestamp() == 1769904090


def test_a_cancelled_monthly_gift_gets_one_email_with_a_way_back(
    monthly, post_event, django_capture_on_commit_callbacks, mailoutbox
):
    event = load_stripe_fixture("customer_subscription_deleted")
    event["data"]["object"]["id"] = SUBSCRIPTION_ID
    event["data"]["object"]["metadata"]["fee_covered_minor"] = "87"
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(event).status_code == 200
        event["id"] += "_again"
        post_event(event)

    assert Email.objects.filter(kind=Email.Kind.MONTHLY_CANCELLED).count() == 1
    [message] = mailoutbox
    assert message.subject == f"Your monthly gift to {monthly.project.title} is cancelled"
    assert "$25.87 a month" in message.body
    assert f"/donate/?project={monthly.project.slug}&frequency=monthly&amount=2500" in message.body
    html = message.alternatives[0][0]
    assert "Give monthly again" in html


def test_in_the_simulated_checkout_a_donor_changes_pauses_and_cancels(
    settings, client, project, django_capture_on_commit_callbacks, mailoutbox
):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("donations:donate"),
            {
                "frequency": "monthly",
                "amount_preset": "2500",
                "cover_fee": "on",
                "donor_email": "ada@example.com",
                "project": project.slug,
            },
        )
        client.post(response["Location"], {"action": "pay"})
    recurring = RecurringGift.objects.get()
    assert recurring.next_charge_at is not None  # from the first invoice's line
    client = signed_in_as(client, recurring.donor)
    page = client.get(reverse("donors:monthly_gift", args=[recurring.public_id])).content.decode()
    assert re.search(r"\$25\.87 on \w+ \d+, \d{4}", page), re.findall(r"Next charge.{0,200}", page)

    url = reverse("donors:change_monthly_amount", args=[recurring.public_id])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"amount": "10"})
    recurring.refresh_from_db()
    assert (recurring.amount_minor, recurring.fee_covered_minor) == (1_000, 54)
    with django_capture_on_commit_callbacks(execute=True):
        services.simulate_next_monthly_payment(recurring)
    assert recurring.payments.order_by("-created_at").first().amount_minor == 1_000

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("donors:pause_monthly_gift", args=[recurring.public_id]), {"months": "3"})
    recurring.refresh_from_db()
    assert recurring.is_paused and recurring.amount_minor == 1_000
    page = client.get(reverse("donors:giving")).content.decode()
    assert re.search(r"Paused until \w{3} \d+, \d{4}", page)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("donors:resume_monthly_gift", args=[recurring.public_id]))
        client.post(reverse("donors:cancel_monthly_gift", args=[recurring.public_id]), {"reason": "Moving"})
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.CANCELLED and "Moving" in recurring.cancellation_reason
    assert mailoutbox[-1].subject.endswith("is cancelled")
    page = client.get(reverse("donors:giving")).content.decode()
    assert "frequency=monthly&amp;amount=1000" in page
    donate = client.get(f"{project.get_donate_url()}&frequency=monthly&amount=1000").content.decode()
    assert re.search(r'value="1000"[^>]*checked', donate)
