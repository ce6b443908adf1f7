"""Money is an integer count of minor units plus an ISO currency code, as Stripe has it.

This module is the one place that knows how many decimals a currency has, and turns
minor units into words for people. Nothing here touches floats.
"""

import re
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency

# Stripe's zero-decimal currencies: amounts are already whole units (¥500 is 500).
# https://docs.stripe.com/currencies#zero-decimal
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
# Stripe's three-decimal currencies.
THREE_DECIMAL_CURRENCIES = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])

# ASCII digits, commas only between thousands, at most one decimal point. Decimal() alone
# would also take "1e3", "-5", "1_000" and other scripts' digits; stripping every comma
# would read a decimal comma ("12,50") as 1250.
PLAIN_AMOUNT = re.compile(r"([0-9]+|[0-9]{1,3}(,[0-9]{3})+)(\.[0-9]*)?|\.[0-9]+")


def decimals_for(currency: str) -> int:
    currency = currency.lower()
    if currency in ZERO_DECIMAL_CURRENCIES:
        return 0
    if currency in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def to_major(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-decimals_for(currency))


def parse_major_amount(text: str, currency: str) -> int:
    """Turn what a donor typed ("50", "1,000", "12.50", "$25") into minor units.

    Raises ValueError with a message fit for the donor when it is not an amount.
    """
    cleaned = (text or "").strip().replace("$", "").replace(" ", "")
    if not cleaned:
        raise ValueError("Enter an amount.")
    if not PLAIN_AMOUNT.fullmatch(cleaned):
        raise ValueError("Enter the amount as a number, like 50 or 12.50.")
    major = Decimal(cleaned.replace(",", ""))
    places = decimals_for(currency)
    minor = major.scaleb(places)
    if minor != minor.to_integral_value():
        if places == 0:
            raise ValueError("Enter a whole amount, with no decimals.")
        raise ValueError(f"Enter the amount with at most {places} decimal places.")
    return int(minor)


@lru_cache(maxsize=8192)
def format_money(amount_minor: int, currency: str, *, locale: str = "en_US") -> str:
    """$5,000 for whole amounts, $12.50 otherwise."""
    major = to_major(amount_minor, currency)
    whole = major == major.to_integral_value()
    return format_currency(
        major,
        currency.upper(),
        locale=locale,
        format="¤#,##0" if whole else None,
        currency_digits=not whole,
    )
