import logging
import posixpath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.static import serve

from podari.images import prepare_image, random_name
from podari.markdown import render_markdown, validate_markdown
from podari.media_registry import normalise
from podari.permissions import EDITOR_PERMISSIONS, staff_with_any_permission

# Pictures in a story's body are served as stored, so they are stored at page size.
BODY_IMAGE_MAX_SIDE = 1600

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


# What readers may fetch from media, all stored under random names: renditions and the
# editor's body images (cleaned when uploaded), and the PDFs attached to charity pages.
# Original pictures are never served.
PUBLIC_MEDIA = {
    "renditions/": (".webp",),
    "cards/": (".jpg",),
    settings.MARKDOWNX_MEDIA_PATH: (".webp", ".jpg", ".png"),
    "documents/": (".pdf",),
}


@require_GET
@cache_control(max_age=31536000, public=True, immutable=True)
def media(request, path):
    """Renditions and body images, on a single machine with no object storage.

    Every stored name is random and never reused, so browsers may keep them. The allow-list
    is checked against the path as it will be opened, after `.`, `..` and doubled slashes
    are resolved, and a path that resolves differently from how it reads is refused: so
    `renditions/../images/…` cannot reach an original.
    """
    name = normalise(path)
    if name != path or not any(name.startswith(d) and name.endswith(ext) for d, ext in PUBLIC_MEDIA.items()):
        raise Http404
    return serve(request, name, document_root=settings.MEDIA_ROOT)


@never_cache
@require_POST
@staff_with_any_permission(*EDITOR_PERMISSIONS)
def markdownx_upload(request):
    """django-markdownx's image upload: cleaned by prepare_image(), stored under a random name."""
    if request.headers.get("X-Requested-With") != "XMLHttpRequest":
        # The editor always sends it; anything else is not the editor.
        return JsonResponse({"image": ["Add pictures by dropping them into the editor."]}, status=400)
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"image": ["Choose a picture to upload."]}, status=400)
    try:
        prepared = prepare_image(upload, rendition_widths=(), max_side=BODY_IMAGE_MAX_SIDE)
    except ValidationError as error:
        return JsonResponse({"image": error.messages}, status=400)
    name = default_storage.save(
        posixpath.join(settings.MARKDOWNX_MEDIA_PATH, random_name(prepared.extension)),
        ContentFile(prepared.content),
    )
    return JsonResponse({"image_code": f"![]({default_storage.url(name)})"})


@never_cache
@require_POST
@staff_with_any_permission(*EDITOR_PERMISSIONS)
def markdownify(request):
    """The editor's live preview, through the same renderer and length limit as saving."""
    content = request.POST.get("content", "")
    try:
        validate_markdown(content)
    except ValidationError as error:
        return HttpResponse(format_html("<p><strong>{}</strong></p>", error.messages[0]), status=400)
    return HttpResponse(render_markdown(content))


@require_GET
def favicon(request):
    # Browsers ask for /favicon.ico whatever the page links; send them to the hashed static file.
    return HttpResponsePermanentRedirect(static("img/favicon.ico"))
