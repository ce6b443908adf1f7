from babel.numbers import get_currency_symbol
from django.conf import settings


def site(request):
    # Canonical and OpenGraph URLs use the configured public address when there is one,
    # so a page reached through another host name still names the real one.
    origin = settings.SITE_URL or f"{request.scheme}://{request.get_host()}"
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_ORIGIN": origin,
        "CONTACT_EMAIL": settings.CONTACT_EMAIL,
        "CURRENCY_SYMBOL": get_currency_symbol(settings.DEFAULT_CURRENCY.upper(), locale="en_US"),
    }
