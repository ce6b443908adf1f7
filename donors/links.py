"""Signed tokens in the links emails carry.

A sign-in token names a SignInLink row (one use, expiring); a preferences token names a
donor and never expires, so the unsubscribe link in an old email still works. Both are
signed with SECRET_KEY and a salt of their own, so one cannot stand in for the other.
"""

import uuid

from django.conf import settings
from django.core import signing

SIGN_IN_SALT = "donors.sign-in"
PREFERENCES_SALT = "donors.preferences"
CONFIRM_STORIES_SALT = "donors.confirm-stories"


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


def preferences_token(donor):
    return signing.dumps({"donor": donor.pk}, salt=PREFERENCES_SALT)


def preferences_donor_id(token):
    try:
        donor_id = signing.loads(token, salt=PREFERENCES_SALT)["donor"]
    except (signing.BadSignature, ValueError, TypeError, KeyError) as exc:
        raise BadLink(str(exc)) from exc
    if not isinstance(donor_id, int):
        raise BadLink("not a donor id")
    return donor_id


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
