"""Money is an integer count of minor units plus an ISO currency code, as Stripe has it.

This module is the one place that knows how many decimals a currency has, and turns
minor units into words for people. Nothing here touches floats.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, get_currency_name, get_currency_symbol
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


def project_currencies():
    """The currencies a project may take gifts in: PROJECT_CURRENCIES, or the default currency
    and those with amounts of their own above. Each is checked when the site starts
    (donations/checks.py): one Stripe or Babel does not know would fail at checkout."""
    listed = settings.PROJECT_CURRENCIES or [settings.DEFAULT_CURRENCY, *GIFT_AMOUNTS_BY_CURRENCY]
    return list(dict.fromkeys(code.lower() for code in listed))


def currency_label(currency: str) -> str:
    return f"{currency.upper()}: {get_currency_name(currency.upper(), count=2, locale='en_US')}"


def gift_amounts(currency: str) -> GiftAmounts:
    """Presets and limits for gifts in `currency`.

    A currency without a row gets the default currency's amounts moved to its number of
    decimals (and rounded to Stripe's steps), which keeps them whole and chargeable; give it a
    row of its own if its unit is worth much more or less than a dollar.
    """
    currency = currency.lower()
    if currency == settings.DEFAULT_CURRENCY:
        presets, low, high = (
            settings.DONATION_PRESETS_MINOR,
            settings.DONATION_MIN_MINOR,
            settings.DONATION_MAX_MINOR,
        )
    elif currency in GIFT_AMOUNTS_BY_CURRENCY:
        presets, low, high = GIFT_AMOUNTS_BY_CURRENCY[currency]
    else:
        shift = decimals_for(currency) - decimals_for(settings.DEFAULT_CURRENCY)

        def scaled(minor):
            value = int(Decimal(minor).scaleb(shift).to_integral_value(rounding="ROUND_CEILING"))
            return value if is_chargeable(value, currency) else value + 10 - value % 10

        defaults = gift_amounts(settings.DEFAULT_CURRENCY)
        presets = [scaled(m) for m in defaults.presets]
        low, high = scaled(defaults.min_minor), scaled(defaults.max_minor)
    return GiftAmounts(currency=currency, presets=tuple(presets), min_minor=low, max_minor=high)


def fee_to_cover(amount_minor, *, percent_bp=None, fixed_minor=None):
    """What a donor adds so that all of `amount_minor` reaches the project.

    Stripe keeps a percentage of the whole charge plus a fixed amount, so the charge C
    must satisfy C - C * percent - fixed >= amount: C = (amount + fixed) / (1 - percent).
    Integer arithmetic in basis points, rounded up to the next minor unit.
    """
    from django.conf import settings

    percent_bp = settings.FEE_COVER_PERCENT_BP if percent_bp is None else percent_bp
    fixed_minor = settings.FEE_COVER_FIXED_MINOR if fixed_minor is None else fixed_minor
    if amount_minor <= 0 or not 0 <= percent_bp < 10_000:
        return 0
    numerator = (amount_minor + fixed_minor) * 10_000
    denominator = 10_000 - percent_bp
    charge = -(-numerator // denominator)  # ceiling division
    return charge - amount_minor
