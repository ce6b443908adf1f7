"""Money: what donors type becomes minor units, and minor units become what people read."""

import pytest

from donations.money import decimals_for, format_money, parse_major_amount


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
    assert parse_major_amount("1.234", "kwd") == 1_234
    assert parse_major_amount("5", "kwd") == 5_000
    with pytest.raises(ValueError, match="at most 3 decimal places"):
        parse_major_amount("1.2345", "kwd")


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
