"""Refuse request bodies the route cannot use, before anything reads them.

Django parses a multipart body (and writes its files to disk) as soon as anything asks
for request.POST, and CSRF checking asks before any view runs: an anonymous client with
a CSRF cookie of its own could make the site read and store a 300 MB upload just to be
refused with a 403. This middleware answers from the Content-Length header alone. The
proxy in front (deploy/nginx/) enforces the same limits before a byte reaches gunicorn.
"""

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest


class RequestBodyLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Longest prefix first, so "/markdownx/upload/" wins over a shorter one.
        self.limits = sorted(settings.REQUEST_BODY_LIMITS.items(), key=lambda item: -len(item[0]))

    def limit_for(self, path):
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return settings.REQUEST_BODY_MAX_BYTES

    def __call__(self, request):
        limit = self.limit_for(request.path_info)
        if request.META.get("HTTP_TRANSFER_ENCODING"):
            # No route here streams an upload; a chunked body has no length to check first.
            return too_large(limit)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponseBadRequest("Invalid Content-Length.", content_type="text/plain")
        if length < 0:
            return HttpResponseBadRequest("Invalid Content-Length.", content_type="text/plain")
        if length > limit:
            return too_large(limit)
        return self.get_response(request)


def too_large(limit):
    response = HttpResponse(
        f"Request body too large: at most {limit} bytes, with a Content-Length, here.\n",
        status=413,
        content_type="text/plain; charset=utf-8",
    )
    # The client may still be sending; closing stops it from using the connection again.
    response["Connection"] = "close"
    return response
