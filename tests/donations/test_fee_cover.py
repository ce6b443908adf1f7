"""Covering the fee in each currency, and the words a donor reads before paying.

The fee is one rule (donations.money.fee_to_cover) with Stripe's fixed fee per currency.
The donate page's button, fee line and summary name one total with its cadence ("Donate
$25.87 a month"), drawn by the server for the form as it stands, and Checkout's two line
items say the same amounts. The page's script is checked against these words in a real
browser (tests/e2e/test_gift_total.py).
"""

import html
import re

import pytest
from django.urls import reverse

from donations.models import Gift
from donations.money import (
    fee_fixed_minor,
    fee_to_cover,
    format_with_cadence,
    is_chargeable,
    round_up_to_chargeable,
)

pytestmark = pytest.mark.django_db

DONATE_URL = reverse("donations:donate")


# The fee


@pytest.mark.parametrize(
    ("currency", "fixed"),
    [("usd", 30), ("eur", 25), ("gbp", 20), ("jpy", 50), ("krw", 500), ("kwd", 100), ("tnd", 950)],
)
def test_the_fixed_fee_is_stripes_for_the_currency(currency, fixed):
    assert fee_fixed_minor(currency) == fixed
    assert fee_fixed_minor(currency.upper()) == fixed


@pytest.mark.parametrize(
    ("amount", "currency", "fee"),
    [
        (2_500, "usd", 87),  # (2500 + 30) / 0.978 = 2586.91… → 2587
        (2_500, "eur", 82),  # (2500 + 25) / 0.978 = 2581.80… → 2582
        (2_500, "gbp", 77),  # (2500 + 20) / 0.978 = 2576.68… → 2577
        (3_000, "jpy", 119),  # (3000 + 50) / 0.978 = 3118.61… → ¥3,119
        # (10000 + 100) / 0.978 = 10327.19… → 10328 fils, which Stripe cannot charge: 10330.
        (10_000, "kwd", 330),
    ],
)
def test_the_fee_to_cover_uses_the_currencys_fixed_fee(amount, currency, fee):
    assert fee_to_cover(amount, currency) == fee


@pytest.mark.parametrize("currency", ["usd", "eur", "gbp", "jpy", "krw", "kwd", "bhd", "jod", "omr", "tnd"])
def test_the_fee_leaves_the_whole_gift_and_is_an_amount_stripe_accepts(currency):
    fixed = fee_fixed_minor(currency)
    for amount in [*range(10, 5_000, 10), 123_450, 2_500_000]:
        fee = fee_to_cover(amount, currency)
        charged = amount + fee
        # What Stripe keeps of that charge (2.2% rounded half up, plus the fixed fee) leaves the gift.
        stripe_keeps = (charged * 220 + 5_000) // 10_000 + fixed
        assert charged - stripe_keeps >= amount, (currency, amount)
        assert is_chargeable(fee, currency) and is_chargeable(charged, currency), (currency, amount)


def test_three_decimal_amounts_round_up_to_steps_of_ten_and_others_stay():
    assert [round_up_to_chargeable(n, "kwd") for n in (10_320, 10_321, 10_329)] == [10_320, 10_330, 10_330]
    assert [round_up_to_chargeable(n, "usd") for n in (2_587, 2_500)] == [2_587, 2_500]
    assert round_up_to_chargeable(3_119, "jpy") == 3_119


def test_the_fixed_fees_can_be_changed_without_a_release(settings):
    settings.FEE_COVER_FIXED_MINOR_BY_CURRENCY = {"eur": 35, "jpy": 0}
    settings.FEE_COVER_FIXED_MINOR = 40  # the default currency's (usd)

    assert (fee_fixed_minor("eur"), fee_fixed_minor("jpy"), fee_fixed_minor("usd")) == (35, 0, 40)
    assert fee_fixed_minor("gbp") == 20
    # (2500 + 40) / 0.978 = 2597.13… → 2598
    assert fee_to_cover(2_500, "usd") == 98


def test_a_currency_without_a_row_gets_the_default_currencys_fee_in_its_decimals(settings):
    assert fee_fixed_minor("inr") == 30
    assert fee_fixed_minor("xof") == 1  # zero decimals: 30 cents moved is 0.3, up to 1
    settings.FEE_COVER_FIXED_MINOR = 45
    assert fee_fixed_minor("inr") == 45


def test_the_percentage_is_the_same_for_every_currency(settings):
    settings.FEE_COVER_PERCENT_BP = 290
    # (10000 + 25) / 0.971 = 10324.41… → 10325
    assert fee_to_cover(10_000, "eur") == 325
    assert fee_to_cover(0, "eur") == 0


@pytest.mark.parametrize(
    ("amount", "currency", "monthly", "words"),
    [
        (2_587, "usd", True, "$25.87 a month"),
        (2_587, "usd", False, "$25.87"),
        (2_500, "usd", True, "$25 a month"),
        (2_582, "eur", True, "€25.82 a month"),
        (3_119, "jpy", True, "¥3,119 a month"),
        (10_330, "kwd", False, "KWD10.330"),
    ],
)
def test_format_with_cadence_names_the_amount_and_how_often(amount, currency, monthly, words):
    assert format_with_cadence(amount, currency, monthly) == words


# The words on the donate page


def words_on(response):
    """The button, the fee line and the summary as the page shows them, without a script."""
    page = response.content.decode()

    def text(pattern):
        found = re.search(pattern, page, re.S)
        return html.unescape(found.group(1).strip()) if found else None

    return (
        text(r"<button[^>]*data-donate-button>(.*?)</button>"),
        text(r'<label for="id_cover_fee"[^>]*>(.*?)</label>'),
        text(r"<p[^>]*data-donate-summary[^>]*>(.*?)</p>"),
    )


@pytest.fixture
def projects(project, make_project):
    return {
        "usd": project,
        "eur": make_project(title="Berlin clinic", slug="berlin", currency="eur"),
        "jpy": make_project(title="Tokyo clinic", slug="tokyo", currency="jpy"),
        "kwd": make_project(title="Kuwait appeal", slug="kuwait", currency="kwd"),
    }


@pytest.mark.parametrize(
    ("currency", "frequency", "words"),
    [
        (
            "usd",
            "",
            ("Donate $50", "Add $1.44 so all of your gift reaches the project", "Total: $50"),
        ),
        (
            "usd",
            "monthly",
            (
                "Donate $25 a month",
                "Add $0.87 a month so all of your gift reaches the project",
                "Total: $25 a month",
            ),
        ),
        (
            "eur",
            "monthly",
            (
                "Donate €25 a month",
                "Add €0.82 a month so all of your gift reaches the project",
                "Total: €25 a month",
            ),
        ),
        (
            "jpy",
            "monthly",
            (
                "Donate ¥3,000 a month",
                "Add ¥119 a month so all of your gift reaches the project",
                "Total: ¥3,000 a month",
            ),
        ),
        (
            "kwd",
            "",
            ("Donate KWD20", "Add KWD0.560 so all of your gift reaches the project", "Total: KWD20"),
        ),
    ],
)
def test_the_page_names_the_preselected_total_with_its_cadence(client, projects, currency, frequency, words):
    url = projects[currency].get_donate_url() + (f"&frequency={frequency}" if frequency else "")

    assert words_on(client.get(url)) == words


@pytest.mark.parametrize(
    ("currency", "fields", "words"),
    [
        (
            "usd",
            {"amount_preset": "2500"},
            (
                "Donate $25.87 a month",
                "Add $0.87 a month so all of your gift reaches the project",
                "Total: $25.87 a month ($25 gift + $0.87 card fee)",
            ),
        ),
        (
            "eur",
            {"amount_preset": "other", "amount_custom": "25"},
            (
                "Donate €25.82 a month",
                "Add €0.82 a month so all of your gift reaches the project",
                "Total: €25.82 a month (€25 gift + €0.82 card fee)",
            ),
        ),
        (
            "jpy",
            {"amount_preset": "3000"},
            (
                "Donate ¥3,119 a month",
                "Add ¥119 a month so all of your gift reaches the project",
                "Total: ¥3,119 a month (¥3,000 gift + ¥119 card fee)",
            ),
        ),
        (
            "kwd",
            {"amount_preset": "10000"},
            (
                "Donate KWD10.330 a month",
                "Add KWD0.330 a month so all of your gift reaches the project",
                "Total: KWD10.330 a month (KWD10 gift + KWD0.330 card fee)",
            ),
        ),
    ],
)
def test_a_form_sent_back_names_the_total_with_the_fee_and_cadence(client, projects, currency, fields, words):
    # Asking for stories without an email brings the form back, filled in as it was sent.
    response = client.post(
        DONATE_URL,
        {
            "project": projects[currency].slug,
            "currency": currency,
            "frequency": "monthly",
            "cover_fee": "on",
            "wants_impact_emails": "on",
            **fields,
        },
    )

    assert response.status_code == 200
    assert words_on(response) == words


def test_one_time_with_the_fee_names_no_cadence(client, projects):
    response = client.post(
        DONATE_URL,
        {
            "project": "car-t",
            "currency": "usd",
            "amount_preset": "2500",
            "cover_fee": "on",
            "donor_email": "x",
        },
    )

    assert words_on(response) == (
        "Donate $25.87",
        "Add $0.87 so all of your gift reaches the project",
        "Total: $25.87 ($25 gift + $0.87 card fee)",
    )


def test_without_an_amount_the_fee_line_states_the_rule(client, projects):
    response = client.post(
        DONATE_URL,
        {
            "project": "berlin",
            "currency": "eur",
            "amount_preset": "other",
            "amount_custom": "",
            "frequency": "monthly",
        },
    )

    assert words_on(response) == (
        "Donate",
        "Add the card fee (2.2% + €0.25) each month so all of your gift reaches the project",
        "",
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"amount_preset": "other", "amount_custom": "4.99"},  # below the smallest gift
        {"amount_preset": "other", "amount_custom": "25001"},  # above the largest
        {"amount_preset": "other", "amount_custom": "9" * 20},
        {"amount_preset": "other", "amount_custom": "9" * 2_000},
        {"amount_preset": "9" * 2_000},  # not one of the presets
        {"amount_preset": "2600"},
    ],
)
def test_an_amount_the_form_would_refuse_is_not_named(client, projects, fields):
    response = client.post(DONATE_URL, {"project": "car-t", "currency": "usd", "cover_fee": "on", **fields})

    assert response.status_code == 200
    assert words_on(response) == (
        "Donate",
        "Add the card fee (2.2% + $0.30) so all of your gift reaches the project",
        "",
    )


# Checkout says what the form said


@pytest.mark.parametrize(
    ("currency", "preset", "gift", "fee", "total"),
    [
        ("usd", "2500", "$25", "$0.87", "$25.87"),
        ("eur", "2500", "€25", "€0.82", "€25.82"),
        ("jpy", "3000", "¥3,000", "¥119", "¥3,119"),
        ("kwd", "10000", "KWD10", "KWD0.330", "KWD10.330"),
    ],
)
def test_checkout_lines_state_the_month_and_the_amounts_the_form_named(
    client, projects, stripe_stub, checkout_session, currency, preset, gift, fee, total
):
    project = projects[currency]
    stripe_stub.respond(checkout_session())
    client.post(
        DONATE_URL,
        {
            "project": project.slug,
            "currency": currency,
            "amount_preset": preset,
            "frequency": "monthly",
            "cover_fee": "on",
        },
    )
    record = Gift.objects.get()
    # Back from Checkout unpaid: the form, as the donor filled it, names the same total.
    button, fee_line, _ = words_on(client.get(f"{DONATE_URL}?resume={record.public_id}"))

    params = stripe_stub.requests[0]["params"]
    assert button == f"Donate {total} a month"
    assert fee_line == f"Add {fee} a month so all of your gift reaches the project"
    assert params["mode"] == "subscription"
    assert params["line_items[0][price_data][unit_amount]"] == preset
    assert params["line_items[1][price_data][unit_amount]"] == str(record.fee_covered_minor)
    assert record.amount_minor + record.fee_covered_minor == int(preset) + fee_to_cover(int(preset), currency)
    assert params["line_items[0][price_data][product_data][name]"] == f"Monthly gift: {project.title}"
    assert params["line_items[0][price_data][product_data][description]"] == (
        f"{gift} per month until you stop it. {project.summary}"
    )
    assert params["line_items[1][price_data][product_data][name]"] == "Covering the card fee, per month"
    assert params["line_items[1][price_data][product_data][description]"] == (
        f"{fee} per month, so that all of your {gift} per month reaches the project."
    )
    assert params["line_items[0][price_data][recurring][interval]"] == "month"
    assert params["line_items[1][price_data][recurring][interval]"] == "month"


def test_a_one_time_checkout_names_the_fee_and_the_gift_without_a_cadence(
    client, projects, stripe_stub, checkout_session
):
    stripe_stub.respond(checkout_session())
    client.post(
        DONATE_URL, {"project": "tokyo", "currency": "jpy", "amount_preset": "3000", "cover_fee": "on"}
    )

    params = stripe_stub.requests[0]["params"]
    assert params["mode"] == "payment"
    assert (
        params["line_items[0][price_data][product_data][name]"],
        params["line_items[0][price_data][unit_amount]"],
    ) == (
        "Tokyo clinic",
        "3000",
    )
    assert params["line_items[1][price_data][product_data][name]"] == "Covering the card fee"
    assert params["line_items[1][price_data][product_data][description]"] == (
        "¥119, so that all of your ¥3,000 gift reaches the project."
    )
    assert params["line_items[1][price_data][unit_amount]"] == "119"
    assert "line_items[1][price_data][recurring][interval]" not in params
