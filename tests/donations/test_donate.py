"""The donate page: the form, the Checkout Session Stripe is asked for, and what happens when it can't be."""

import re
import socket

import pytest
from django.core.checks import run_checks
from django.test import Client
from django.urls import reverse

from donations.models import Gift, Project

pytestmark = pytest.mark.django_db

DONATE_URL = reverse("donations:donate")


def only_request(stub):
    assert len(stub.requests) == 1, stub.requests
    return stub.requests[0]


def form_value(response, field):
    return response.context["form"][field].value()


# Showing the form


def test_the_project_in_the_link_is_chosen(client, general_fund, project):
    response = client.get(project.get_donate_url())

    assert response.status_code == 200
    assert form_value(response, "project") == "car-t"
    assert form_value(response, "amount_preset") == "5000"


def test_without_a_project_the_general_fund_is_chosen(client, general_fund, project):
    response = client.get(DONATE_URL)

    assert response.status_code == 200
    assert form_value(response, "project") == "general-fund"


def test_closed_projects_are_not_offered(client, general_fund, project, make_project):
    make_project(title="Finished appeal", slug="finished", status=Project.Status.CLOSED)

    response = client.get(DONATE_URL)

    offered = [slug for slug, _ in response.context["form"].fields["project"].choices]
    assert offered == ["general-fund", "car-t"]
    assert "Finished appeal" not in response.content.decode()


# Giving: the Checkout Session Stripe receives


def test_a_preset_gift_goes_to_stripe_checkout(client, project, stripe_stub, checkout_session):
    session = checkout_session()
    stripe_stub.respond(session)

    response = client.post(
        DONATE_URL,
        {
            "amount_preset": "10000",
            "project": "car-t",
            "donor_name": " Jane Donor ",
            "donor_email": "jane@example.com",
        },
    )

    gift = Gift.objects.get()
    assert response.status_code == 303
    assert response["Location"] == session["url"]
    assert gift.status == Gift.Status.PENDING
    assert (gift.project, gift.amount_minor, gift.currency) == (project, 10_000, "usd")
    assert (gift.donor_name, gift.donor_email) == ("Jane Donor", "jane@example.com")
    assert gift.stripe_checkout_session_id == session["id"]

    request = only_request(stripe_stub)
    assert (request["method"], request["path"]) == ("POST", "/v1/checkout/sessions")
    metadata = {
        "podari_site": "podari-life",
        "gift_public_id": str(gift.public_id),
        "project_id": str(project.pk),
        "project_slug": "car-t",
    }
    assert request["params"] == {
        "mode": "payment",
        "submit_type": "donate",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "10000",
        "line_items[0][price_data][product_data][name]": "CAR-T therapy for children",
        "line_items[0][price_data][product_data][description]": project.summary,
        "client_reference_id": str(gift.public_id),
        **{f"metadata[{key}]": value for key, value in metadata.items()},
        "payment_intent_data[description]": "Gift to CAR-T therapy for children",
        **{f"payment_intent_data[metadata][{key}]": value for key, value in metadata.items()},
        "customer_email": "jane@example.com",
        "success_url": "http://testserver/donate/thanks/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": f"http://testserver/donate/?resume={gift.public_id}",
    }
    # A retried create (a timeout, a double click) must not open a second session for one gift.
    assert request["headers"]["Idempotency-Key"] == f"checkout-{gift.public_id}"
    assert request["headers"]["Authorization"] == "Bearer sk_test_suite_key"


def test_a_typed_amount_is_sent_in_cents(client, general_fund, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    response = client.post(
        DONATE_URL, {"amount_preset": "other", "amount_custom": "12.50", "project": "general-fund"}
    )

    assert response.status_code == 303
    assert Gift.objects.get().amount_minor == 1_250
    params = only_request(stripe_stub)["params"]
    assert params["line_items[0][price_data][unit_amount]"] == "1250"
    assert params["line_items[0][price_data][product_data][name]"] == "General fund"


def test_the_chosen_preset_wins_over_a_typed_amount(client, general_fund, stripe_stub, checkout_session):
    """$50 stays highlighted while 30 sits in the box (no JavaScript): $50 is what was chosen."""
    stripe_stub.respond(checkout_session())

    client.post(DONATE_URL, {"amount_preset": "5000", "amount_custom": "30", "project": "general-fund"})

    assert Gift.objects.get().amount_minor == 5_000
    assert only_request(stripe_stub)["params"]["line_items[0][price_data][unit_amount]"] == "5000"


def test_a_typed_amount_counts_when_other_is_chosen(client, general_fund, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    client.post(DONATE_URL, {"amount_preset": "other", "amount_custom": "1,000", "project": "general-fund"})

    assert Gift.objects.get().amount_minor == 100_000
    assert only_request(stripe_stub)["params"]["line_items[0][price_data][unit_amount]"] == "100000"


def test_a_typed_amount_with_no_amount_chosen_counts(client, general_fund, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    client.post(DONATE_URL, {"amount_custom": "30", "project": "general-fund"})

    assert Gift.objects.get().amount_minor == 3_000


def test_the_page_says_which_amount_counts_and_works_without_a_script(client, general_fund):
    page = client.get(DONATE_URL).content.decode()

    box = re.search(r'<div class="field amount-custom"[^>]*>', page).group(0)
    assert "hidden" not in box, "without JavaScript the box must be there to type in"
    assert "Used only when “Other amount” is chosen." in page
    assert re.search(r'<script src="/static/js/donate\.js[^"]*" defer>', page)
    assert 'value="other"' in page


# The project's currency: what is shown is what is charged


@pytest.fixture
def yen_project(make_project):
    return make_project(title="Tokyo clinic", slug="tokyo", currency="jpy")


@pytest.fixture
def dinar_project(make_project):
    return make_project(title="Kuwait appeal", slug="kuwait", currency="kwd")


def test_a_yen_project_offers_yen(client, general_fund, yen_project):
    response = client.get(yen_project.get_donate_url())

    choices = [label for value, label in response.context["form"].fields["amount_preset"].choices]
    assert choices == ["¥3,000", "¥5,000", "¥10,000", "¥30,000", "Other amount"]
    assert form_value(response, "amount_preset") == "5000"
    page = response.content.decode()
    assert "$" not in re.search(r"<fieldset[^>]*id=\"id_amount_preset\".*?</fieldset>", page, re.S).group(0)
    assert "Gifts from ¥500 to ¥3,000,000." in page
    assert "Japanese yen" in page
    assert 'name="currency" value="jpy"' in page


def test_the_project_list_names_another_currency(client, general_fund, project, yen_project):
    choices = dict(client.get(DONATE_URL).context["form"].fields["project"].choices)

    assert choices == {
        "general-fund": "Where it is needed most",
        "car-t": "CAR-T therapy for children",
        "tokyo": "Tokyo clinic (gifts in Japanese yen)",
    }


def test_a_yen_preset_is_charged_in_yen(client, general_fund, yen_project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    response = client.post(DONATE_URL, {"amount_preset": "10000", "currency": "jpy", "project": "tokyo"})

    assert response.status_code == 303
    gift = Gift.objects.get()
    assert (gift.amount_minor, gift.currency) == (10_000, "jpy")
    params = only_request(stripe_stub)["params"]
    assert params["line_items[0][price_data][currency]"] == "jpy"
    assert params["line_items[0][price_data][unit_amount]"] == "10000"


def test_an_amount_shown_in_dollars_is_not_charged_in_yen(client, general_fund, yen_project, stripe_stub):
    """Without JavaScript a donor saw "$50", then picked the yen project: ask again, charge nothing."""
    response = client.post(DONATE_URL, {"amount_preset": "5000", "currency": "usd", "project": "tokyo"})

    assert response.status_code == 200
    assert not Gift.objects.exists()
    assert stripe_stub.requests == []
    form = response.context["form"]
    assert (
        "Gifts to Tokyo clinic are in Japanese yen. Choose the amount again." in form.errors["amount_preset"]
    )
    assert form["amount_preset"].value() in (None, "")
    page = response.content.decode()
    amounts = re.search(r"<fieldset[^>]*id=\"id_amount_preset\".*?</fieldset>", page, re.S).group(0)
    assert "¥5,000" in amounts and "$" not in amounts
    assert "checked" not in amounts
    assert 'name="currency" value="jpy"' in page


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"amount_preset": "other", "amount_custom": "100"},
            "amount_custom",
            "smallest gift we can take online is ¥500",
        ),
        ({"amount_preset": "other", "amount_custom": "3,000,001"}, "amount_custom", "above ¥3,000,000"),
        ({"amount_preset": "other", "amount_custom": "1000.5"}, "amount_custom", "whole amount"),
        ({"amount_preset": "2500"}, "amount_preset", "Select a valid choice"),
    ],
)
def test_yen_limits(client, general_fund, yen_project, stripe_stub, fields, field, message):
    response = client.post(DONATE_URL, {"project": "tokyo", "currency": "jpy", **fields})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert not Gift.objects.exists()


def test_a_typed_yen_amount_is_whole_yen(client, general_fund, yen_project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    client.post(DONATE_URL, {"amount_preset": "other", "amount_custom": "7,000", "project": "tokyo"})

    assert (Gift.objects.get().amount_minor, Gift.objects.get().currency) == (7_000, "jpy")


def test_dinar_amounts_end_in_zero_as_stripe_requires(client, general_fund, dinar_project, stripe_stub):
    response = client.post(
        DONATE_URL,
        {"amount_preset": "other", "amount_custom": "12.345", "currency": "kwd", "project": "kuwait"},
    )

    assert response.status_code == 200
    assert "at most 2 decimal places" in response.context["form"].errors["amount_custom"][0]
    assert not Gift.objects.exists()
    assert stripe_stub.requests == []


def test_a_dinar_gift_goes_to_stripe_in_fils(
    client, general_fund, dinar_project, stripe_stub, checkout_session
):
    stripe_stub.respond(checkout_session())

    client.post(
        DONATE_URL,
        {"amount_preset": "other", "amount_custom": "12.34", "currency": "kwd", "project": "kuwait"},
    )

    params = only_request(stripe_stub)["params"]
    assert params["line_items[0][price_data][currency]"] == "kwd"
    assert params["line_items[0][price_data][unit_amount]"] == "12340"


def test_projects_in_two_currencies_give_the_script_both(client, general_fund, yen_project):
    response = client.get(DONATE_URL)

    options = response.context["form"].currency_options()
    assert options["projects"] == {"general-fund": "usd", "tokyo": "jpy"}
    assert options["currencies"]["jpy"]["presets"][0] == ["3000", "¥3,000"]
    assert options["currencies"]["usd"]["presets"][1] == ["5000", "$50"]
    assert 'id="donate-currencies"' in response.content.decode()


def test_a_yen_preset_comes_back_selected(client, general_fund, yen_project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())
    client.post(DONATE_URL, {"amount_preset": "30000", "currency": "jpy", "project": "tokyo"})

    response = client.get(f"{DONATE_URL}?resume={Gift.objects.get().public_id}")

    assert form_value(response, "amount_preset") == "30000"
    assert "¥30,000" in response.content.decode()


def test_without_an_email_stripe_asks_for_one(donate, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    response = donate(project, donor_email="")

    assert response.status_code == 303
    assert "customer_email" not in only_request(stripe_stub)["params"]


@pytest.mark.parametrize("typed", ["5", "25,000"])
def test_the_limits_themselves_are_allowed(donate, project, stripe_stub, checkout_session, typed):
    stripe_stub.respond(checkout_session())

    response = donate(project, amount_preset="other", amount_custom=typed)

    assert response.status_code == 303
    assert Gift.objects.get().amount_minor in (500, 2_500_000)


def test_the_donor_choices_are_kept_on_the_gift(donate, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())

    donate(
        project,
        donor_name="Jane Donor",
        show_name_publicly="on",
        dedication="memory",
        dedication_name=" Grandma Olga ",
    )

    gift = Gift.objects.get()
    assert gift.show_name_publicly is True
    assert (gift.dedication, gift.dedication_name) == ("memory", "Grandma Olga")


# Mistakes in the form: an error on the field, no gift, and nothing sent to Stripe


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount_preset": "", "amount_custom": ""}, "amount_preset", "Choose an amount"),
        ({"amount_preset": "other", "amount_custom": ""}, "amount_custom", "Enter an amount."),
        ({"amount_preset": "other", "amount_custom": "fifty"}, "amount_custom", "as a number"),
        ({"amount_preset": "other", "amount_custom": "4.99"}, "amount_custom", "smallest gift"),
        ({"amount_preset": "other", "amount_custom": "25000.01"}, "amount_custom", "cannot be made online"),
        ({"amount_preset": "other", "amount_custom": "12.505"}, "amount_custom", "2 decimal places"),
        ({"amount_preset": "123"}, "amount_preset", "Select a valid choice"),
        ({"project": "no-such-project"}, "project", "Choose one of the projects"),
        ({"project": "finished"}, "project", "Choose one of the projects"),
        ({"donor_email": "jane@"}, "donor_email", "valid email"),
        ({"show_name_publicly": "on", "donor_name": "  "}, "donor_name", "name to show"),
        ({"dedication": "honour", "dedication_name": ""}, "dedication_name", "name of the person"),
        ({"dedication": "birthday", "dedication_name": "Olga"}, "dedication", "Select a valid choice"),
    ],
)
def test_a_mistake_is_shown_on_its_field(client, project, make_project, stripe_stub, fields, field, message):
    make_project(title="Finished appeal", slug="finished", status=Project.Status.CLOSED)
    data = {"amount_preset": "5000", "project": "car-t", **fields}

    response = client.post(DONATE_URL, data)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Gift.objects.exists()
    assert stripe_stub.requests == []


# Stripe down or refusing


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": {"type": "api_error", "message": "Internal wobble sk_live_not_for_donors"}}),
        (
            402,
            {
                "error": {
                    "type": "card_error",
                    "code": "card_declined",
                    "message": "Internal wobble sk_live_not_for_donors",
                }
            },
        ),
        (
            401,
            {"error": {"type": "invalid_request_error", "message": "Internal wobble sk_live_not_for_donors"}},
        ),
    ],
)
def test_stripe_refusing_shows_a_page_to_try_again(client, project, stripe_stub, status, body):
    stripe_stub.respond(body, status=status)

    response = client.post(
        DONATE_URL, {"amount_preset": "other", "amount_custom": "12.50", "project": "car-t"}
    )

    assert response.status_code == 503
    page = response.content.decode()
    assert "Internal wobble" not in page
    assert "sk_live" not in page
    assert "<form" in page and 'value="12.50"' in page
    assert Gift.objects.get().status == Gift.Status.NOT_STARTED
    assert len(stripe_stub.requests) == 1


def test_stripe_out_of_reach_shows_a_page_to_try_again(client, project, settings):
    settings.STRIPE_API_BASE = closed_port_url()

    response = client.post(DONATE_URL, {"amount_preset": "2500", "project": "car-t"})

    assert response.status_code == 503
    page = response.content.decode()
    assert "<form" in page and 'value="2500"' in page
    assert "127.0.0.1" not in page
    assert Gift.objects.get().status == Gift.Status.NOT_STARTED


def test_trying_again_when_stripe_is_back_goes_to_checkout(client, project, stripe_stub, checkout_session):
    stripe_stub.respond({"error": {"type": "api_error", "message": "down"}}, status=500)
    data = {"amount_preset": "2500", "project": "car-t"}
    assert client.post(DONATE_URL, data).status_code == 503

    session = checkout_session()
    stripe_stub.respond(session)
    response = client.post(DONATE_URL, data)

    assert response.status_code == 303
    assert response["Location"] == session["url"]
    assert Gift.objects.get(stripe_checkout_session_id=session["id"]).status == Gift.Status.PENDING
    assert Gift.objects.filter(status=Gift.Status.NOT_STARTED).count() == 1


# Coming back from checkout


def test_cancelling_checkout_brings_back_the_filled_form(client, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())
    client.post(
        DONATE_URL,
        {
            "amount_preset": "other",
            "amount_custom": "12.50",
            "project": "car-t",
            "donor_name": "Jane Donor",
            "donor_email": "jane@example.com",
        },
    )
    gift = Gift.objects.get()
    cancel_url = only_request(stripe_stub)["params"]["cancel_url"]

    response = client.get(cancel_url.removeprefix("http://testserver"))

    assert response.status_code == 200
    assert form_value(response, "amount_preset") == "other"
    assert form_value(response, "amount_custom") == "12.50"
    assert form_value(response, "project") == "car-t"
    assert form_value(response, "donor_email") == "jane@example.com"
    page = response.content.decode()
    assert 'value="12.50"' in page and "jane@example.com" in page
    assert cancel_url.endswith(f"?resume={gift.public_id}")


def test_a_preset_amount_comes_back_selected(client, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())
    client.post(DONATE_URL, {"amount_preset": "25000", "project": "car-t"})

    response = client.get(f"{DONATE_URL}?resume={Gift.objects.get().public_id}")

    assert form_value(response, "amount_preset") == "25000"


def test_another_browser_cannot_resume_someone_elses_gift(client, project, stripe_stub, checkout_session):
    stripe_stub.respond(checkout_session())
    client.post(
        DONATE_URL,
        {
            "amount_preset": "other",
            "amount_custom": "12.50",
            "project": "car-t",
            "donor_name": "Jane Donor",
            "donor_email": "jane@example.com",
        },
    )

    response = Client().get(f"{DONATE_URL}?resume={Gift.objects.get().public_id}")

    assert response.status_code == 200
    assert form_value(response, "amount_custom") in (None, "")
    assert form_value(response, "donor_email") in (None, "")
    page = response.content.decode()
    assert "jane@example.com" not in page and "Jane Donor" not in page and "12.50" not in page


@pytest.mark.parametrize("resume", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", ""])
def test_a_bad_resume_link_shows_a_blank_form(client, general_fund, resume):
    response = client.get(f"{DONATE_URL}?resume={resume}")

    assert response.status_code == 200
    assert form_value(response, "project") == "general-fund"


# Not configured


@pytest.fixture
def giving_not_configured(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = False


def test_without_a_stripe_key_the_page_says_giving_is_not_configured(
    client, project, stripe_stub, giving_not_configured
):
    response = client.get(DONATE_URL)
    posted = client.post(DONATE_URL, {"amount_preset": "5000", "project": "car-t"})

    assert response.status_code == 503
    assert "Online giving is not set up" in response.content.decode()
    assert posted.status_code == 503
    assert not Gift.objects.exists()
    assert stripe_stub.requests == []


def test_the_system_check_warns_without_a_stripe_key(giving_not_configured):
    assert "donations.W001" in [message.id for message in run_checks()]


def test_the_system_check_is_quiet_with_stripe_configured():
    ids = [message.id for message in run_checks()]
    assert "donations.W001" not in ids
    assert "donations.W002" not in ids


def test_the_system_check_warns_without_a_webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert "donations.W002" in [message.id for message in run_checks()]
