"""Export and erasure on request: a donor downloads their data and erases themselves from
*Manage my giving*, staff do both with a reason, and the registry in donors/privacy.py covers
every field that holds a donor's personal data."""

import csv
import io
import json
import re
import zipfile

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.db import models
from django.db.models.functions import Cast
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from donations.models import Donor, Gift, Project, RecurringGift, StripeEvent
from donors import privacy, tasks
from donors.models import ConsentChange, Email, PrivacyRequest, SuppressedEmail
from donors.privacy import NOT_DONOR_EMAIL_FIELDS, NOT_PERSONAL, PERSONAL_DATA
from ledger import services

pytestmark = pytest.mark.django_db

NAME, EMAIL = "Zinaida Quaxley", "zinaida.quaxley@example.com"
HONOREE, NOTE, FEEDBACK = "Grandma Ulyana", "Pledged at the Quaxley gala", "Zinaida moves to Lisbon"
MARKERS = ["Zinaida", "Quaxley", EMAIL, "Ulyana", "Lisbon"]
LINK = re.compile(r"http://testserver(/manage/(?:link|data|erase)/[^/\s]+/)")
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
MONEY_FIELDS = (
    "pk", "project_id", "amount_minor", "currency", "fee_covered_minor", "net_minor", "status",
    "paid_at", "created_at", "stripe_checkout_session_id", "stripe_payment_intent_id", "stripe_invoice_id",
    "recurring_gift_id", "source", "livemode",
)  # fmt: skip


def rows_mentioning(markers):
    """(model, field, marker) for every text or JSON column of every table that holds a marker."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.CharField | models.TextField | models.JSONField):
                continue
            rows = model._base_manager.all()
            if isinstance(field, models.JSONField):
                rows = rows.annotate(_text=Cast(field.name, models.TextField()))
                name = "_text"
            else:
                name = field.name
            for marker in markers:
                if rows.filter(**{f"{name}__icontains": marker}).exists():
                    found.append((model._meta.label_lower, field.name, marker))
    return found


@pytest.fixture
def zinaida(
    project, make_pending_gift, post_event, stripe_event, admin_client, admin_user, make_project,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    """A donor who left her name and address in every place the site keeps them."""
    gift = make_pending_gift(
        project, donor_name=NAME, donor_email=EMAIL, show_name_publicly=True, wants_impact_emails=True,
        dedication=Gift.Dedication.MEMORY, dedication_name=HONOREE, amount_minor=12_500,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        event = stripe_event("checkout_session_completed", gift=gift)
        event["data"]["object"]["customer_details"]["name"] = NAME
        event["data"]["object"]["customer"] = "cus_Zq1"
        assert post_event(event).status_code == 200
    gift.refresh_from_db()
    Gift.objects.filter(pk=gift.pk).update(note=NOTE, paid_at=timezone.now() - timezone.timedelta(days=3))
    donor = Donor.objects.get(email=EMAIL)
    Donor.objects.filter(pk=donor.pk).update(name=NAME, stripe_customer_id="cus_Zq1")
    monthly = RecurringGift.objects.create(
        project=project, donor=donor, amount_minor=2_500, currency="usd", status="active",
        stripe_subscription_id="sub_Zq1", stripe_customer_id="cus_Zq1", cancellation_reason=FEEDBACK,
    )  # fmt: skip
    doctors = make_project(title="Doctors", slug="doctors")
    services.move_gift(gift, doctors, by=admin_user, reason=f"{NAME} asked")
    services.move_gift(gift, project, by=admin_user, reason="back")
    # Staff correct the dedication in the admin: the audit log keeps the values before and after.
    data = {"donor_name": NAME, "donor_email": EMAIL, "show_name_publicly": "on", "dedication": "memory",
            "dedication_name": f"{HONOREE} Petrova", "review_reason": f"Checked with {NAME}"}  # fmt: skip
    assert admin_client.post(reverse("admin:donations_gift_change", args=[gift.pk]), data).status_code == 302
    with override_settings(TASKS=DATABASE_TASKS):
        tasks.send_sign_in_link.enqueue(EMAIL)  # a task row that names the address
    donor.refresh_from_db()
    gift.refresh_from_db()
    return {"donor": donor, "gift": gift, "monthly": monthly}


@pytest.fixture
def pay_with_tick(post_event, stripe_event, django_capture_on_commit_callbacks):
    def pay(gift):
        event = stripe_event("checkout_session_completed", gift=gift, payment_intent=f"pi_again_{gift.pk}")
        with django_capture_on_commit_callbacks(execute=True):
            assert post_event(event).status_code == 200

    return pay


def sign_in(client, capture, mailoutbox):
    with capture(execute=True):
        client.post(reverse("donors:request_link"), {"email": EMAIL})
    response = client.post(LINK.search(mailoutbox[-1].body).group(1))
    assert response["Location"] == reverse("donors:giving")


def unzip(payload):
    archive = zipfile.ZipFile(io.BytesIO(payload))
    return {name: archive.read(name).decode() for name in archive.namelist()}


def test_a_donor_downloads_their_data_from_manage_my_giving(
    zinaida, client, django_capture_on_commit_callbacks, mailoutbox
):
    sign_in(client, django_capture_on_commit_callbacks, mailoutbox)
    assert "Download my data" in client.get(reverse("donors:giving")).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("donors:request_data"))
    assert response["Location"] == reverse("donors:giving")

    (ready,) = [m for m in mailoutbox if "ready to download" in m.subject]
    assert ready.to == [EMAIL]
    link = LINK.search(ready.body).group(1)
    browser = Client()  # the link works from the email, in any browser
    page = browser.get(link, follow=True)
    assert page.redirect_chain[-1][0] == reverse("donors:data_page") and page.status_code == 200
    download = browser.get(reverse("donors:data_download"))
    assert download["Content-Type"] == "application/zip"
    assert {"private", "no-store"} <= {p.strip() for p in download["Cache-Control"].split(",")}

    files = unzip(download.content)
    assert set(files) == {
        "my-data.json", "profile.csv", "gifts.csv", "receipts.csv", "monthly-gifts.csv",
        "email-preferences.csv", "consent-history.csv",
    }  # fmt: skip
    data = json.loads(files["my-data.json"])
    assert data["profile"]["email"] == EMAIL and data["profile"]["name"] == NAME
    (gift,) = data["gifts"]
    assert (gift["amount_minor"], gift["dedication_name"], gift["note"]) == (
        12_500,
        f"{HONOREE} Petrova",
        NOTE,
    )
    assert data["receipts"][0]["number"].startswith("PL-")
    assert data["monthly_gifts"][0]["cancellation_reason"] == FEEDBACK
    assert data["email_preferences"]["stories_about_what_gifts_pay_for"] is True
    assert data["consent_history"][0]["how"].startswith("Ticked on the donate form")
    gifts_csv = list(csv.DictReader(io.StringIO(files["gifts.csv"])))
    assert gifts_csv[0]["email_given"] == EMAIL and gifts_csv[0]["amount_minor"] == "12500"


def test_every_personal_field_the_registry_exports_is_in_the_download(zinaida):
    text = json.dumps(privacy.export_data(zinaida["donor"]), ensure_ascii=False)
    rows = {
        "donations.donor": zinaida["donor"],
        "donations.gift": zinaida["gift"],
        "donations.recurringgift": zinaida["monthly"],
        "donors.email": Email.objects.filter(donor=zinaida["donor"]).first(),
        "donors.consentchange": ConsentChange.objects.filter(donor=zinaida["donor"]).first(),
    }
    for label, fields in PERSONAL_DATA.items():
        for name, held in fields.items():
            if not held.export:
                assert held.why_not_exported, (label, name)
                continue
            assert label in rows, f"{label} holds exported personal data: add a row of it to this test"
            value = getattr(rows[label], name)
            if isinstance(value, str) and value:
                assert value in text, (label, name, value)


def test_a_download_link_expires_after_its_days(
    settings, zinaida, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        request = privacy.request_export(zinaida["donor"])
    link = LINK.search(mailoutbox[-1].body).group(1)
    browser = Client()
    assert browser.get(link, follow=True).status_code == 200

    PrivacyRequest.objects.filter(pk=request.pk).update(
        expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )

    assert browser.get(reverse("donors:data_download")).status_code == 410
    settings.DATA_EXPORT_DAYS = 0
    assert Client().get(link, follow=True).status_code == 410


def test_a_donor_erases_themselves_and_their_gifts_still_count_under_no_name(
    zinaida, client, stripe_stub, project, django_capture_on_commit_callbacks, mailoutbox, admin_client
):
    gift = zinaida["gift"]
    before = Gift.objects.filter(pk=gift.pk).values(*MONEY_FIELDS).get()
    totals = Project.objects.filter(pk=project.pk).values("raised_minor", "gift_count").get()
    csv_before = client.get(reverse("ledger:project_csv", args=[project.slug])).content
    sign_in(client, django_capture_on_commit_callbacks, mailoutbox)
    page = client.get(reverse("donors:request_erasure")).content.decode()
    assert "Your monthly gift stops at once" in page and project.title in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("donors:request_erasure"))
    (confirm,) = [m for m in mailoutbox if m.subject.startswith("Confirm: erase")]
    link = LINK.search(confirm.body).group(1)
    browser = Client()
    assert "Erase my data?" in browser.get(link, follow=True).content.decode()  # a scanner erases nothing
    assert Donor.objects.filter(email=EMAIL).exists()

    stripe_stub.respond({"id": "sub_Zq1", "object": "subscription", "status": "canceled"})
    stripe_stub.respond({"id": "cus_Zq1", "object": "customer", "deleted": True})
    with django_capture_on_commit_callbacks(execute=True):
        done = browser.post(reverse("donors:erase_page"))

    assert "Your data is being erased" in done.content.decode()
    # Stripe first cancelled the monthly gift, then deleted the customer: exact calls.
    assert [(r["method"], r["path"].split("?")[0]) for r in stripe_stub.requests] == [
        ("DELETE", "/v1/subscriptions/sub_Zq1"),
        ("DELETE", "/v1/customers/cus_Zq1"),
    ]
    assert stripe_stub.requests[0]["params"] == {
        "cancellation_details[comment]": "The donor asked for their data to be erased."
    }
    # Nothing anywhere names her; the money is as it was.
    assert rows_mentioning(MARKERS) == []
    assert not Donor.objects.filter(pk=zinaida["donor"].pk).exists()
    assert Gift.objects.filter(pk=gift.pk).values(*MONEY_FIELDS).get() == before
    assert Gift.objects.get(pk=gift.pk).donor_name == "Anonymous donor"
    assert Project.objects.filter(pk=project.pk).values("raised_minor", "gift_count").get() == totals
    assert client.get(reverse("ledger:project_csv", args=[project.slug])).content == csv_before
    assert RecurringGift.objects.get(pk=zinaida["monthly"].pk).status == RecurringGift.Status.CANCELLED
    assert SuppressedEmail.objects.filter(digest=privacy.email_digest(EMAIL)).exists()
    request = PrivacyRequest.objects.get(kind=PrivacyRequest.Kind.ERASURE)
    assert (request.status, request.donor, request.stripe_follow_up) == (PrivacyRequest.Status.DONE, None, "")
    assert "1 gift(s) kept as “Anonymous donor”" in request.summary
    # Her session ended; the public page shows "Anonymous" where her name was.
    assert client.get(reverse("donors:giving")).status_code == 302
    wall = Client().get(project.get_absolute_url()).content.decode()
    assert "<li>Anonymous</li>" in wall and "<strong>$125</strong> raised" in wall
    everything = "".join(
        admin_client.get(url).content.decode()
        for url in (
            reverse("admin:donations_gift_change", args=[gift.pk]),
            reverse("admin:donations_gift_changelist"),
            reverse("admin:auditlog_logentry_changelist"),
            reverse("admin:donations_stripeevent_changelist"),
        )
    )
    assert not any(marker in everything for marker in MARKERS)


def test_after_erasure_the_unsubscribe_stays_honoured(
    zinaida,
    stripe_stub,
    pay_with_tick,
    make_pending_gift,
    project,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    stripe_stub.respond({"id": "sub_Zq1", "object": "subscription", "status": "canceled"})
    stripe_stub.respond({"id": "cus_Zq1", "object": "customer", "deleted": True})
    with django_capture_on_commit_callbacks(execute=True):
        privacy.erase_by_staff(zinaida["donor"], by=None, reason="Asked by letter")
    assert not Donor.objects.filter(email=EMAIL).exists()  # nothing to go by but the suppression list

    pay_with_tick(make_pending_gift(project, donor_email=EMAIL, wants_impact_emails=True))

    assert not Donor.objects.get(email=EMAIL).wants_impact_emails
    assert any(m.subject.startswith("Do you want stories") for m in mailoutbox)


def test_when_stripe_cannot_cancel_the_monthly_gift_nothing_is_erased_until_tried_again(
    zinaida, stripe_stub, finance_client, django_capture_on_commit_callbacks
):
    stripe_stub.respond({"error": {"type": "api_error", "message": "down"}}, status=500)
    with django_capture_on_commit_callbacks(execute=True):
        request = privacy.erase_by_staff(zinaida["donor"], by=None, reason="Asked by letter")

    request.refresh_from_db()
    assert (
        request.status == PrivacyRequest.Status.FAILED and "could not be cancelled at Stripe" in request.error
    )
    assert Donor.objects.filter(email=EMAIL).exists()
    assert Gift.objects.get(pk=zinaida["gift"].pk).donor_email == EMAIL

    stripe_stub.respond({"id": "sub_Zq1", "object": "subscription", "status": "canceled"})
    stripe_stub.respond({"id": "cus_Zq1", "object": "customer", "deleted": True})
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(
            reverse("admin:donors_privacyrequest_changelist"),
            {"action": "try_again", "_selected_action": [str(request.pk)]},
        )

    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.DONE
    assert not Donor.objects.filter(email=EMAIL).exists()


def test_when_stripe_cannot_delete_the_customer_the_erasure_stands_and_waits_for_follow_up(
    zinaida, stripe_stub, django_capture_on_commit_callbacks
):
    stripe_stub.respond({"id": "sub_Zq1", "object": "subscription", "status": "canceled"})
    stripe_stub.respond({"error": {"type": "api_error", "message": "down"}}, status=500)
    with django_capture_on_commit_callbacks(execute=True):
        request = privacy.erase_by_staff(zinaida["donor"], by=None, reason="Asked by phone")

    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.DONE
    assert request.stripe_follow_up.startswith("cus_Zq1: ")
    assert rows_mentioning(MARKERS) == []

    stripe_stub.respond({"id": "cus_Zq1", "object": "customer", "deleted": True})
    with django_capture_on_commit_callbacks(execute=True):
        privacy.retry(request)
    request.refresh_from_db()
    assert request.stripe_follow_up == ""
    assert stripe_stub.requests[-1]["path"] == "/v1/customers/cus_Zq1"


def test_finance_erases_a_donor_with_a_reason_and_the_record_says_what_not_whom(
    zinaida, finance_client, finance_user, stripe_stub, django_capture_on_commit_callbacks
):
    stripe_stub.respond({"id": "sub_Zq1", "object": "subscription", "status": "canceled"})
    stripe_stub.respond({"id": "cus_Zq1", "object": "customer", "deleted": True})
    changelist = reverse("admin:donations_donor_changelist")
    selected = {"action": "erase", "_selected_action": [str(zinaida["donor"].pk)]}

    form = finance_client.post(changelist, selected)
    assert form.status_code == 200 and EMAIL in form.content.decode()
    unconfirmed = finance_client.post(changelist, {**selected, "apply": "1", "reason": "Letter of March 3"})
    assert "Tick the box" in unconfirmed.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(
            changelist, {**selected, "apply": "1", "reason": f"Letter from {NAME}, March 3", "confirm": "on"}
        )

    request = PrivacyRequest.objects.get()
    assert (request.requested_by, request.status) == (finance_user, PrivacyRequest.Status.DONE)
    assert request.reason == "Letter from [erased], March 3"
    page = finance_client.get(
        reverse("admin:donors_privacyrequest_change", args=[request.pk])
    ).content.decode()
    assert "Erased one donor" in page and not any(marker in page for marker in MARKERS)
    assert rows_mentioning(MARKERS) == []


def test_staff_send_a_donor_their_data(
    zinaida, finance_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post(
            reverse("admin:donations_donor_changelist"),
            {"action": "send_their_data", "_selected_action": [str(zinaida["donor"].pk)], "apply": "1",
             "reason": "Asked by phone"},
        )  # fmt: skip

    assert [m.to for m in mailoutbox if "ready to download" in m.subject] == [[EMAIL]]
    assert PrivacyRequest.objects.get().requested_by.username == "fiona"


# The registry covers every field


def donor_models():
    """Every model that refers to a donor, or that the registry lists."""
    found = {label for label in PERSONAL_DATA}
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        if any(f.is_relation and f.related_model is Donor for f in model._meta.concrete_fields):
            found.add(model._meta.label_lower)
    return found


def test_every_field_of_every_model_holding_donor_data_is_covered_by_export_and_erasure():
    for label in donor_models():
        model = apps.get_model(label)
        assert label in PERSONAL_DATA, f"{label} refers to donors: add it to donors/privacy.py"
        fields = {f.name for f in model._meta.concrete_fields}
        covered = set(PERSONAL_DATA[label]) | NOT_PERSONAL.get(label, set())
        assert fields - covered == set(), (
            f"{label}: say in donors/privacy.py how export and erasure treat these"
        )
        assert covered - fields == set(), f"{label}: donors/privacy.py names fields the model does not have"


def test_no_model_holds_an_email_address_the_registry_does_not_know():
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.EmailField):
                key = f"{model._meta.label_lower}.{field.name}"
                known = field.name in PERSONAL_DATA.get(model._meta.label_lower, {})
                assert known or key in NOT_DONOR_EMAIL_FIELDS, f"{key} may hold a donor's address"


def test_the_audit_log_of_an_erased_gift_keeps_what_changed_but_not_the_values(zinaida, stripe_stub):
    stripe_stub.respond({"id": "sub_Zq1", "object": "subscription", "status": "canceled"})
    stripe_stub.respond({"id": "cus_Zq1", "object": "customer", "deleted": True})
    request = PrivacyRequest.objects.create(
        kind=PrivacyRequest.Kind.ERASURE, status=PrivacyRequest.Status.QUEUED, donor=zinaida["donor"]
    )
    privacy.erase_donor(request.pk)

    entries = LogEntry.objects.get_for_object(zinaida["gift"]).filter(changes__has_key="dedication_name")
    assert entries.exists()
    assert all(entry.changes["dedication_name"] == ["[erased]", "[erased]"] for entry in entries)
    (event,) = StripeEvent.objects.all()
    session = event.payload["data"]["object"]
    assert session["customer_details"] is None and session["customer_email"] is None
    assert session["amount_total"] == 12_500 and session["id"] == zinaida["gift"].stripe_checkout_session_id
