"""Signed tokens in the links emails carry.

A sign-in token names a SignInLink row (one use, expiring). A preferences token (the
email preferences and unsubscribe links) names a donor and the address it was sent to:
it works for DONOR_EMAIL_LINK_MAX_AGE_DAYS, and no longer once the donor's address changes
or is erased. Each kind is signed with SECRET_KEY and a salt of its own, so one cannot
stand in for another. Tokens travel in URL paths: the pages they open send no Referer,
and the shipped nginx configuration keeps them out of its access log.
"""

import hashlib
import hmac
import uuid

from django.conf import settings
from django.core import signing

SIGN_IN_SALT = "donors.sign-in"
PREFERENCES_SALT = "donors.preferences"
CONFIRM_STORIES_SALT = "donors.confirm-stories"
EXPORT_SALT = "donors.export"
ERASURE_SALT = "donors.erasure"


class BadLink(Exception):
    """Tampered with, expired, or for another purpose."""


def sign_in_token(link_id):
    return signing.dumps(str(link_id), salt=SIGN_IN_SALT)


def sign_in_link_id(token):
    """The SignInLink id in a token; raises BadLink when the token is forged or too old."""
    try:
        return uuid.UUID(signing.loads(token, salt=SIGN_IN_SALT, max_age=settings.DONOR_LINK_MAX_AGE_SECONDS))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise BadLink(str(exc)) from exc


def address_tag(email):
    """A short keyed hash of an address: a token names it without carrying it."""
    key = f"{PREFERENCES_SALT}:{settings.SECRET_KEY}".encode()
    return hmac.new(key, (email or "").strip().lower().encode(), hashlib.sha256).hexdigest()[:16]


def preferences_token(donor):
    return signing.dumps({"donor": donor.pk, "to": address_tag(donor.email)}, salt=PREFERENCES_SALT)


def preferences_donor_id(token):
    """(donor id, address tag or None) from a preferences token; raises BadLink when it is
    forged or older than DONOR_EMAIL_LINK_MAX_AGE_DAYS. The caller checks the tag against
    the donor's address (tokens sent before tags have none, and simply expire)."""
    try:
        data = signing.loads(
            token, salt=PREFERENCES_SALT, max_age=settings.DONOR_EMAIL_LINK_MAX_AGE_DAYS * 86400
        )
        donor_id = data["donor"]
    except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
        raise BadLink(str(exc)) from exc
    if not isinstance(donor_id, int):
        raise BadLink("not a donor id")
    return donor_id, data.get("to")


def confirm_stories_token(email):
    """For the link that turns stories on again after an unsubscribe: names its Email row."""
    return signing.dumps({"email": email.pk}, salt=CONFIRM_STORIES_SALT)


def confirm_stories_email_id(token):
    try:
        email_id = signing.loads(
            token, salt=CONFIRM_STORIES_SALT, max_age=settings.DONOR_CONFIRM_LINK_MAX_AGE_SECONDS
        )["email"]
    except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
        raise BadLink(str(exc)) from exc
    if not isinstance(email_id, int):
        raise BadLink("not an email id")
    return email_id


def request_token(request, salt):
    """For the links of a privacy request (a download, an erasure to confirm): names the request."""
    return signing.dumps({"request": str(request.pk)}, salt=salt)


def request_id(token, salt, max_age):
    try:
        return uuid.UUID(signing.loads(token, salt=salt, max_age=max_age)["request"])
    except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
        raise BadLink(str(exc)) from exc
