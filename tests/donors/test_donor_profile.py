"""The donor's profile in the admin, for staff who may see donors: gifts with their money
from the ledger, monthly gifts, emails and consent, and what staff do for a donor who
phones (refund through Stripe, cancel a monthly gift, resend a receipt), each audited."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.urls import reverse

from donations.models import Donor, Gift, RecurringGift
from donors.models import Email

pytestmark = pytest.mark.django_db


@pytest.fixture
def zoya(project, make_gift):
    donor = Donor.objects.create(email="zoya@example.com", name="Zoya P.", wants_impact_emails=True)
    gift = make_gift(
        project,
        donor=donor,
        donor_email=donor.email,
        amount_minor=12_345,
        stripe_payment_intent_id="pi_Zoya1",
    )
    refunded = make_gift(project, donor=donor, donor_email=donor.email, amount_minor=2_000, status="refunded")
    monthly = RecurringGift.objects.create(
        project=project,
        donor=donor,
        amount_minor=2_500,
        currency=project.currency,
        status=RecurringGift.Status.ACTIVE,
        stripe_subscription_id="sub_Zoya1",
        stripe_customer_id="cus_Zoya1",
    )
    Email.objects.create(kind=Email.Kind.RECEIPT, key="receipt:z", to=donor.email, donor=donor, gift=gift)
    return {"donor": donor, "gift": gift, "refunded": refunded, "monthly": monthly}


def profile(donor):
    return reverse("admin:donations_donor_change", args=[donor.pk])


def act(donor, action, pk):
    return reverse("admin:donors_donor_act", args=[donor.pk, action, pk])


def test_finance_sees_the_donors_gifts_monthly_gifts_emails_and_consent(finance_client, zoya):
    html = finance_client.get(profile(zoya["donor"])).content.decode()
    assert "$123.45" in html  # charged, from the ledger
    assert "$20" in html  # the refunded gift, and what it refunded
    assert "$25 a month" in html
    assert "Receipt" in html
    assert "Consent to stories" in html
    assert act(zoya["donor"], "refund", zoya["gift"].pk) in html
    assert act(zoya["donor"], "refund", zoya["refunded"].pk) not in html  # nothing left to refund
    assert act(zoya["donor"], "cancel-monthly", zoya["monthly"].pk) in html
    assert act(zoya["donor"], "resend-receipt", zoya["gift"].pk) in html


def test_staff_who_may_not_see_donors_get_no_profile_and_no_actions(client, django_user_model, zoya):
    user = django_user_model.objects.create_user("reader", password="x-long-password-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_gift"))
    user.user_permissions.add(Permission.objects.get(codename="change_gift"))
    client.force_login(user)
    assert client.get(profile(zoya["donor"])).status_code == 403
    assert client.post(act(zoya["donor"], "refund", zoya["gift"].pk)).status_code == 403


def test_viewing_donors_without_changing_gifts_shows_no_action_buttons(client, django_user_model, zoya):
    user = django_user_model.objects.create_user("viewer", password="x-long-password-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_donor"))
    client.force_login(user)
    html = client.get(profile(zoya["donor"])).content.decode()
    assert "$123.45" in html and "Refund…" not in html
    assert client.post(act(zoya["donor"], "resend-receipt", zoya["gift"].pk)).status_code == 403


def test_a_refund_is_asked_of_stripe_and_the_ledger_waits_for_its_webhook(
    finance_client, finance_user, zoya, stripe_stub
):
    gift = zoya["gift"]
    stripe_stub.route(
        "POST",
        "/v1/refunds",
        {"id": "re_Zoya1", "object": "refund", "status": "pending", "amount": 12_345, "currency": "usd"},
    )
    assert (
        "Refund this gift through Stripe"
        in finance_client.get(act(zoya["donor"], "refund", gift.pk)).content.decode()
    )

    response = finance_client.post(act(zoya["donor"], "refund", gift.pk), follow=True)

    (request,) = stripe_stub.requests
    assert (request["method"], request["route"]) == ("POST", "/v1/refunds")
    assert request["params"] == {
        "payment_intent": "pi_Zoya1",
        "reason": "requested_by_customer",
        "metadata[gift_public_id]": str(gift.public_id),
        "metadata[refunded_by]": "fiona",
    }
    assert request["headers"]["Idempotency-Key"] == f"podari-refund-{gift.public_id}-0"
    message = response.content.decode()
    assert "change when Stripe&#x27;s refund webhook arrives" in message
    gift.refresh_from_db()
    assert (gift.status, gift.net_minor) == (Gift.Status.SUCCEEDED, 12_345)  # until the webhook
    entry = LogEntry.objects.get(object_pk=str(gift.pk), actor=finance_user)
    assert entry.changes_dict["staff action"] == ["", "refund asked of Stripe"]


def test_stripe_refusing_a_refund_changes_nothing_and_says_so(finance_client, zoya, stripe_stub):
    stripe_stub.route("POST", "/v1/refunds", {"error": {"message": "charge_already_refunded"}}, status=400)
    response = finance_client.post(act(zoya["donor"], "refund", zoya["gift"].pk), follow=True)
    assert "nothing changed" in response.content.decode()
    assert not LogEntry.objects.filter(changes__icontains="refund asked").exists()


def test_cancelling_a_monthly_gift_goes_through_the_gateway(finance_client, finance_user, zoya, stripe_stub):
    stripe_stub.route("DELETE", "/v1/subscriptions/sub_Zoya1", {"id": "sub_Zoya1", "status": "canceled"})

    response = finance_client.post(act(zoya["donor"], "cancel-monthly", zoya["monthly"].pk), follow=True)

    (request,) = stripe_stub.requests
    assert request["params"] == {
        "cancellation_details[comment]": "Cancelled by fiona for the donor, by phone."
    }
    assert "no further charge" in response.content.decode()
    assert LogEntry.objects.get(object_pk=str(zoya["monthly"].pk), actor=finance_user).changes_dict[
        "staff action"
    ] == ["", "monthly gift cancelled at Stripe"]


def test_resending_a_receipt_queues_a_new_email_and_is_logged(
    finance_client, finance_user, zoya, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(act(zoya["donor"], "resend-receipt", zoya["gift"].pk))
    assert [m.to for m in mailoutbox] == [["zoya@example.com"]]
    assert LogEntry.objects.filter(object_pk=str(zoya["gift"].pk), actor=finance_user).exists()


def test_an_action_on_another_donors_gift_is_not_found(finance_client, zoya, project, make_gift):
    other = make_gift(project, donor_email="someone@example.com")
    assert finance_client.post(act(zoya["donor"], "refund", other.pk)).status_code == 404
    assert finance_client.get(act(zoya["donor"], "delete", zoya["gift"].pk)).status_code == 404
