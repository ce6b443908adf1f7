"""Money: what donors type becomes minor units, and minor units become what people read."""

import pytest

from donations.money import decimals_for, format_money, gift_amounts, is_chargeable, parse_major_amount


@pytest.mark.parametrize(
    ("typed", "minor"),
    [
        ("50", 5_000),
        ("12.50", 1_250),
        ("12.5", 1_250),
        ("12.500", 1_250),
        ("1,000", 100_000),
        ("1,000.50", 100_050),
        ("$25", 2_500),
        ("25$", 2_500),
        ("  75  ", 7_500),
        ("$ 1 000", 100_000),
        (".5", 50),
        ("0", 0),
    ],
)
def test_amounts_donors_type_become_cents(typed, minor):
    assert parse_major_amount(typed, "usd") == minor


@pytest.mark.parametrize("typed", ["", "   ", "$", None])
def test_an_empty_amount_asks_for_one(typed):
    with pytest.raises(ValueError, match="Enter an amount"):
        parse_major_amount(typed, "usd")


@pytest.mark.parametrize(
    "typed",
    [
        "fifty",
        "12.50.1",
        "1e3",  # Decimal would read this as 1000
        "NaN",
        "Infinity",
        "-5",
        "+5",
        "1_000",
        "0x10",
        "١٢",  # Arabic-Indic digits: Decimal would read this as 12
        "12,50",  # a decimal comma, not $1,250
        "1,0,0",
        ".",
    ],
)
def test_anything_but_a_plain_number_is_refused(typed):
    with pytest.raises(ValueError, match="Enter the amount as a number, like 50 or 12.50."):
        parse_major_amount(typed, "usd")


def test_fractions_of_a_cent_are_refused():
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        parse_major_amount("12.505", "usd")


def test_yen_are_whole_units():
    assert parse_major_amount("500", "jpy") == 500
    assert parse_major_amount("10,000", "JPY") == 10_000
    with pytest.raises(ValueError, match="whole amount"):
        parse_major_amount("500.5", "jpy")


def test_kuwaiti_dinars_have_three_decimals():
    assert parse_major_amount("1.23", "kwd") == 1_230
    assert parse_major_amount("1.230", "kwd") == 1_230
    assert parse_major_amount("5", "kwd") == 5_000


@pytest.mark.parametrize("currency", ["kwd", "bhd", "jod", "omr", "tnd"])
@pytest.mark.parametrize("typed", ["1.234", "1.2345", "0.005"])
def test_three_decimal_amounts_must_end_in_zero_as_stripe_requires(currency, typed):
    with pytest.raises(ValueError, match="at most 2 decimal places"):
        parse_major_amount(typed, currency)


@pytest.mark.parametrize(
    "currency", ["usd", "eur", "jpy", "kwd", "bhd", "jod", "omr", "tnd", "chf", "clp", "isk"]
)
def test_every_currency_gets_presets_and_limits_it_can_charge(currency):
    amounts = gift_amounts(currency)
    assert amounts.min_minor < min(amounts.presets) <= max(amounts.presets) < amounts.max_minor
    assert list(amounts.presets) == sorted(set(amounts.presets))
    for minor in (*amounts.presets, amounts.min_minor, amounts.max_minor):
        assert is_chargeable(minor, currency)
        assert format_money(minor, currency).count(".") == 0, "presets and limits are whole amounts"


def test_yen_presets_are_round_yen_amounts_not_dollars():
    amounts = gift_amounts("jpy")
    assert [format_money(m, "jpy") for m in amounts.presets] == ["¥3,000", "¥5,000", "¥10,000", "¥30,000"]
    assert (amounts.min_minor, amounts.max_minor, amounts.default_preset) == (500, 3_000_000, 5_000)


def test_the_default_currency_takes_its_amounts_from_settings(settings):
    settings.DONATION_PRESETS_MINOR = [1_000, 2_000]
    settings.DONATION_MIN_MINOR = 100
    amounts = gift_amounts("usd")
    assert amounts.presets == (1_000, 2_000)
    assert amounts.min_minor == 100


@pytest.mark.parametrize(
    ("currency", "places"),
    [("usd", 2), ("USD", 2), ("eur", 2), ("jpy", 0), ("JPY", 0), ("krw", 0), ("kwd", 3), ("bhd", 3)],
)
def test_decimals_for_each_currency(currency, places):
    assert decimals_for(currency) == places


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (500_000, "usd", "$5,000"),
        (1_250, "usd", "$12.50"),
        (5_000, "usd", "$50"),
        (5, "usd", "$0.05"),
        (123_456_789, "usd", "$1,234,567.89"),
        (1_250, "eur", "€12.50"),
        (500, "jpy", "¥500"),
        (1_000_000, "JPY", "¥1,000,000"),
        (1_234, "kwd", "KWD1.234"),
    ],
)
def test_format_money(minor, currency, shown):
    assert format_money(minor, currency) == shown


def test_parsing_and_formatting_agree():
    for typed in ["5", "12.50", "1,000", "25,000"]:
        assert format_money(parse_major_amount(typed, "usd"), "usd") == "$" + typed
