from babel.numbers import get_currency_symbol
from django.conf import settings


def site(request):
    # Canonical and OpenGraph URLs always use the configured public address, never the
    # request's Host header, which a client chooses (podari.checks requires SITE_URL).
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_ORIGIN": settings.SITE_URL,
        "CONTACT_EMAIL": settings.CONTACT_EMAIL,
        "CURRENCY_SYMBOL": get_currency_symbol(settings.DEFAULT_CURRENCY.upper(), locale="en_US"),
    }
