"""Emails to supporters: sign-in links, moderation decisions, digests of new gifts.

Sent by a task after the transaction that decided them commits (tasks.py), so a rolled
back decision sends nothing. The donor's receipt is the charity's, sent as for any gift.
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def absolute(path):
    return settings.SITE_URL + path


def send(*, to, template, subject, context):
    context = {
        **context,
        "SITE_NAME": settings.SITE_NAME,
        "SITE_URL": settings.SITE_URL,
        "CONTACT_EMAIL": settings.CONTACT_EMAIL,
    }
    message = EmailMultiAlternatives(
        subject=subject, body=render_to_string(f"email/{template}.txt", context), to=[to]
    )
    message.attach_alternative(render_to_string(f"email/{template}.html", context), "text/html")
    message.send()
