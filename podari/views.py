import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET
from django.views.static import serve
from markdownx.forms import ImageForm
from markdownx.views import ImageUploadView

from podari.images import validate_image_file

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: database unreachable")
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
@cache_control(max_age=86400, public=True)
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    if settings.SITE_URL:
        sitemap = settings.SITE_URL + reverse("sitemap")
    # The donate page may be indexed; its thank-you, checkout and error states carry a
    # noindex of their own, which crawlers can only read if they may fetch them.
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /webhooks/",
        "Disallow: /markdownx/",
        f"Sitemap: {sitemap}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


@cache_control(max_age=31536000, public=True, immutable=True)
def media(request, path):
    """Uploads and renditions, on a single machine with no object storage.

    Every stored name is unique (Django never overwrites), so browsers may keep them.
    """
    return serve(request, path, document_root=settings.MEDIA_ROOT)


class ValidatedImageForm(ImageForm):
    def clean(self):
        upload = super().clean()
        validate_image_file(upload)
        # markdownx re-encodes the picture in the format of its content type (one of
        # MARKDOWNX_UPLOAD_CONTENT_TYPES) but keeps the uploaded file's extension, so
        # "x.html" would be served from our own host as a web page.
        upload.name = "image." + upload.content_type.split("/")[-1]
        return upload


class StaffImageUploadView(ImageUploadView):
    """django-markdownx's upload, with our Pillow checks in front of its processing."""

    form_class = ValidatedImageForm


@require_GET
def favicon(request):
    # Browsers ask for /favicon.ico whatever the page links; send them to the hashed static file.
    return HttpResponsePermanentRedirect(static("img/favicon.ico"))
