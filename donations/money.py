"""Money is an integer count of minor units plus an ISO currency code, as Stripe has it.

This module is the one place that knows how many decimals a currency has, and turns
minor units into words for people. Nothing here touches floats.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.core import get_global
from babel.numbers import (
    format_currency,
    get_currency_name,
    get_currency_precision,
    get_currency_symbol,
    get_territory_currencies,
)
from django.conf import settings

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


@lru_cache(maxsize=1)
def iso_currencies() -> tuple[tuple[str, str], ...]:
    """The ISO 4217 currencies in use today, from CLDR (Babel): (code in lower case,
    "USD: US dollars"), for the fields where staff pick a currency."""
    codes = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, start_date=date.today(), tender=True))
    return tuple(
        (code.lower(), f"{code}: {get_currency_name(code, count=2, locale='en_US')}")
        for code in sorted(codes)
    )


def is_iso_currency(code: str) -> bool:
    return any(value == (code or "").lower() for value, _ in iso_currencies())


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
    # Stripe takes three-decimal currencies only in steps of ten minor units
    # (https://docs.stripe.com/currencies#three-decimal): 12.345 KWD cannot be charged.
    allowed = 2 if places == 3 else places
    if major != major.quantize(Decimal(1).scaleb(-allowed), rounding="ROUND_DOWN"):
        if allowed == 0:
            raise ValueError("Enter a whole amount, with no decimals.")
        raise ValueError(f"Enter the amount with at most {allowed} decimal places.")
    return int(minor)


def is_chargeable(amount_minor: int, currency: str) -> bool:
    """Whether Stripe can charge this many minor units: three-decimal amounts must end in 0."""
    return decimals_for(currency) != 3 or amount_minor % 10 == 0


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


def format_signed_money(amount_minor: int, currency: str) -> str:
    """format_money with a minus sign (U+2212) for amounts below zero: −$5,000."""
    if amount_minor < 0:
        return "\u2212" + format_money(-amount_minor, currency)
    return format_money(amount_minor, currency)


@dataclass(frozen=True)
class GiftAmounts:
    """What the donate form offers in one currency: presets, limits, all in its minor units."""

    currency: str
    presets: tuple[int, ...]
    min_minor: int
    max_minor: int

    @property
    def default_preset(self) -> int:
        """The second preset is the one most donors pick; preselect it."""
        return self.presets[1] if len(self.presets) > 1 else self.presets[0]

    @property
    def symbol(self) -> str:
        return get_currency_symbol(self.currency.upper(), locale="en_US")

    @property
    def name(self) -> str:
        return get_currency_name(self.currency.upper(), count=2, locale="en_US")

    def format(self, amount_minor: int) -> str:
        return format_money(amount_minor, self.currency)


# Round amounts people in each currency would recognise, not exchange-rate conversions of the
# dollar presets: $50 is not ¥7,412. Minor units. The default currency's row comes from settings
# (DONATION_PRESETS_MINOR, DONATION_MIN_MINOR, DONATION_MAX_MINOR).
GIFT_AMOUNTS_BY_CURRENCY = {
    "usd": ((2_500, 5_000, 10_000, 25_000), 500, 2_500_000),
    "eur": ((2_500, 5_000, 10_000, 25_000), 500, 2_500_000),
    "gbp": ((2_500, 5_000, 10_000, 25_000), 500, 2_500_000),
    "jpy": ((3_000, 5_000, 10_000, 30_000), 500, 3_000_000),
    "krw": ((30_000, 50_000, 100_000, 300_000), 5_000, 30_000_000),
    # Three-decimal currencies: every amount ends in 0, as Stripe requires.
    "kwd": ((10_000, 20_000, 30_000, 75_000), 2_000, 7_500_000),
    "bhd": ((10_000, 20_000, 40_000, 100_000), 2_000, 10_000_000),
    "omr": ((10_000, 20_000, 40_000, 100_000), 2_000, 10_000_000),
    "jod": ((20_000, 35_000, 70_000, 175_000), 4_000, 17_500_000),
    "tnd": ((75_000, 150_000, 300_000, 750_000), 15_000, 75_000_000),
}

# Monthly presets, smaller than the one-time ones (DONATION_MONTHLY_PRESETS_MINOR for the
# default currency). Each is within its currency's limits above and chargeable.
MONTHLY_PRESETS_BY_CURRENCY = {
    "usd": (1_000, 2_500, 5_000, 10_000),
    "eur": (1_000, 2_500, 5_000, 10_000),
    "gbp": (1_000, 2_500, 5_000, 10_000),
    "jpy": (1_000, 3_000, 5_000, 10_000),
    "krw": (10_000, 30_000, 50_000, 100_000),
    "kwd": (3_000, 10_000, 20_000, 30_000),
    "bhd": (3_000, 10_000, 20_000, 40_000),
    "omr": (3_000, 10_000, 20_000, 40_000),
    "jod": (5_000, 20_000, 35_000, 70_000),
    "tnd": (30_000, 75_000, 150_000, 300_000),
}


def project_currencies():
    """The currencies a project may take gifts in: PROJECT_CURRENCIES, or the default currency
    and those with amounts of their own above. Each is checked when the site starts
    (donations/checks.py): one Stripe or Babel does not know would fail at checkout."""
    listed = settings.PROJECT_CURRENCIES or [settings.DEFAULT_CURRENCY, *GIFT_AMOUNTS_BY_CURRENCY]
    return list(dict.fromkeys(code.lower() for code in listed))


def currency_label(currency: str) -> str:
    return f"{currency.upper()}: {get_currency_name(currency.upper(), count=2, locale='en_US')}"


def gift_amounts(currency: str, *, monthly: bool = False) -> GiftAmounts:
    """Presets and limits for gifts in `currency`, one-time or monthly (the limits are the same).

    A currency without a row gets the default currency's amounts moved to its number of
    decimals (and rounded to Stripe's steps), which keeps them whole and chargeable; give it a
    row of its own if its unit is worth much more or less than a dollar.
    """
    currency = currency.lower()
    if currency == settings.DEFAULT_CURRENCY:
        presets, low, high = (
            settings.DONATION_MONTHLY_PRESETS_MINOR if monthly else settings.DONATION_PRESETS_MINOR,
            settings.DONATION_MIN_MINOR,
            settings.DONATION_MAX_MINOR,
        )
    elif currency in GIFT_AMOUNTS_BY_CURRENCY:
        presets, low, high = GIFT_AMOUNTS_BY_CURRENCY[currency]
        if monthly:
            presets = MONTHLY_PRESETS_BY_CURRENCY[currency]
    else:
        shift = decimals_for(currency) - decimals_for(settings.DEFAULT_CURRENCY)

        def scaled(minor):
            value = int(Decimal(minor).scaleb(shift).to_integral_value(rounding="ROUND_CEILING"))
            return value if is_chargeable(value, currency) else value + 10 - value % 10

        defaults = gift_amounts(settings.DEFAULT_CURRENCY, monthly=monthly)
        presets = [scaled(m) for m in defaults.presets]
        low, high = scaled(defaults.min_minor), scaled(defaults.max_minor)
    return GiftAmounts(currency=currency, presets=tuple(presets), min_minor=low, max_minor=high)


# "Cover the fee": the fixed part of Stripe's card fee, per currency charged, in its minor units.
# Stripe keeps a percentage of each charge (FEE_COVER_PERCENT_BP for every currency: 220 is
# its US nonprofit rate, 2.2%) plus a fixed amount that depends on the currency. Where these
# come from (the fixed part of Stripe's card price in each currency's own market, December
# 2026; Stripe changes them, and this US account pays its fees in dollars after conversion,
# so compare now and then with the fees on the account's own payments, Dashboard → Balances):
# - usd 30¢: stripe.com/pricing (the nonprofit rate keeps the 30¢:
#   support.stripe.com/questions/fee-discount-for-nonprofit-organizations);
# - eur €0.25: any euro-area list (stripe.com/ie/pricing); gbp 20p: stripe.com/gb/pricing;
#   cad C$0.30: stripe.com/ca/pricing; aud A$0.30: stripe.com/au/pricing;
#   chf CHF 0.30: stripe.com/ch/pricing;
# - jpy, krw and the dinars have no fixed part of their own to copy: Stripe Japan's list is a
#   flat 3.6%, and Stripe has no local price list in Korea or the dinar countries. This US
#   account pays its 30¢ on those charges too, so their rows are 30¢ at about 150 ¥, 1,400 ₩,
#   0.31 KWD, 0.377 BHD, 0.385 OMR, 0.709 JOD and 3.1 TND to the dollar, rounded up to a
#   round amount Stripe accepts (dinars in steps of 10 fils).
# docs.stripe.com/currencies/settlement-fees lists what an account pays per currency it settles.
# Every row can be changed without a release: FEE_COVER_FIXED_MINOR_BY_CURRENCY
# ("eur=25,gbp=20") replaces rows, and FEE_COVER_FIXED_MINOR the default currency's row.
FEE_FIXED_MINOR_BY_CURRENCY = {
    "usd": 30,
    "eur": 25,
    "gbp": 20,
    "cad": 30,
    "aud": 30,
    "chf": 30,
    "jpy": 50,
    "krw": 500,
    "kwd": 100,
    "bhd": 120,
    "omr": 120,
    "jod": 220,
    "tnd": 950,
}


def round_up_to_chargeable(amount_minor: int, currency: str) -> int:
    """The smallest amount Stripe accepts that is not less than `amount_minor`: three-decimal
    currencies go in steps of ten minor units (https://docs.stripe.com/currencies#three-decimal);
    zero-decimal currencies are already whole units."""
    if is_chargeable(amount_minor, currency):
        return amount_minor
    return amount_minor + 10 - amount_minor % 10


def fee_fixed_minor(currency: str) -> int:
    """Stripe's fixed fee per charge in `currency`, in its minor units (see the table above).

    A currency with no row gets the default currency's fixed fee moved to its number of
    decimals, as gift_amounts() moves the presets; give it a row if its unit is worth much
    more or less than a dollar.
    """
    currency = currency.lower()
    configured = settings.FEE_COVER_FIXED_MINOR_BY_CURRENCY
    if currency in configured:
        return configured[currency]
    if currency == settings.DEFAULT_CURRENCY and settings.FEE_COVER_FIXED_MINOR is not None:
        return settings.FEE_COVER_FIXED_MINOR
    if currency in FEE_FIXED_MINOR_BY_CURRENCY:
        return FEE_FIXED_MINOR_BY_CURRENCY[currency]
    default = settings.DEFAULT_CURRENCY
    if default == currency:  # a default currency with no row: the US figure, moved as below
        default = "usd"
    shift = decimals_for(currency) - decimals_for(default)
    moved = int(Decimal(fee_fixed_minor(default)).scaleb(shift).to_integral_value(rounding="ROUND_CEILING"))
    return round_up_to_chargeable(moved, currency)


def fee_to_cover(amount_minor: int, currency: str) -> int:
    """What a donor adds so that all of `amount_minor` reaches the project: the one rule,
    used by the form, the page's words, Checkout's line items and the records.

    Stripe keeps a percentage of the whole charge plus a fixed amount, so the charge C
    must satisfy C - C * percent - fixed >= amount: C = (amount + fixed) / (1 - percent).
    Integer arithmetic in basis points, rounded up to the next amount Stripe accepts.
    """
    percent_bp = settings.FEE_COVER_PERCENT_BP
    if amount_minor <= 0 or not 0 <= percent_bp < 10_000:
        return 0
    numerator = (amount_minor + fee_fixed_minor(currency)) * 10_000
    denominator = 10_000 - percent_bp
    charge = -(-numerator // denominator)  # ceiling division
    return round_up_to_chargeable(charge, currency) - amount_minor


def format_percent_bp(basis_points: int) -> str:
    """220 → "2.2", 300 → "3", 275 → "2.75"."""
    whole, hundredths = divmod(basis_points, 100)
    return f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".")


# How a monthly amount is named wherever a donor reads it before paying (the donate form, its
# script, the simulated checkout) and after (receipts, Manage my giving, emails).
MONTHLY_CADENCE = "a month"


def format_with_cadence(amount_minor: int, currency: str, monthly: bool) -> str:
    """$25.87 a month for a monthly gift, $25.87 for a one-time one."""
    shown = format_money(amount_minor, currency)
    return f"{shown} {MONTHLY_CADENCE}" if monthly else shown


def format_parts(currency: str) -> dict:
    """How format_money() writes amounts in `currency`, for the donate page's script to write
    them the same way: what goes before and after the digits, and how many decimals a
    non-whole amount shows. Whole amounts show none ($25), others all of them ($25.87)."""
    decimals = decimals_for(currency)
    sample = format_money(1234 * 10**decimals, currency)  # "$1,234", "KWD1,234", "¥1,234"
    before, _, after = sample.partition("1,234")
    return {
        "before": before,
        "after": after,
        "decimals": decimals,
        "digits": get_currency_precision(currency.upper()),
    }
