"""Who signed in by an emailed link: donors (Manage my giving) and fundraiser supporters
keep the same kind of session, each under keys of its own."""

import time
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect


def signed_in(request, model, id_key, signed_in_at_key):
    """The `model` row whose id the session holds under `id_key`, if it was signed in less
    than DONOR_SESSION_SECONDS ago (the time under `signed_in_at_key`); otherwise None."""
    row_id = request.session.get(id_key)
    signed_in_at = request.session.get(signed_in_at_key, 0)
    if not row_id or time.time() - signed_in_at > settings.DONOR_SESSION_SECONDS:
        return None
    return model.objects.filter(pk=row_id).first()


def sign_in_required(who, *, prompt, sign_in_url):
    """A view decorator: the view gets `who(request)` as its second argument; without one,
    the visitor is sent to `sign_in_url` with `prompt` as a message."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            person = who(request)
            if person is None:
                messages.info(request, prompt)
                return redirect(sign_in_url)
            return view(request, person, *args, **kwargs)

        return wrapped

    return decorator
