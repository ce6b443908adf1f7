from django.conf import settings
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path

from fundraisers.sitemaps import FundraiserSitemap
from ledger.dashboard import dashboard
from ledger.reconciliation_views import reconciliation
from podari import views
from stories.sitemaps import SITEMAPS

admin.site.site_header = "Podari.Life administration"
admin.site.site_title = "Podari.Life admin"

urlpatterns = [
    path("admin/dashboard/", admin.site.admin_view(dashboard), name="ledger_dashboard"),
    path("admin/reconciliation/", admin.site.admin_view(reconciliation), name="ledger_reconciliation"),
    path(
        "admin/reconciliation/<int:run_id>/",
        admin.site.admin_view(reconciliation),
        name="ledger_reconciliation_run",
    ),
    path("admin/", admin.site.urls),
    # django-markdownx's own URLs are open to anyone; ours need a permission to edit.
    path("markdownx/upload/", views.markdownx_upload, name="markdownx_upload"),
    path("markdownx/markdownify/", views.markdownify, name="markdownx_markdownify"),
    path("healthz", views.healthz, name="healthz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path(
        "sitemap.xml", sitemap, {"sitemaps": {**SITEMAPS, "fundraisers": FundraiserSitemap}}, name="sitemap"
    ),
    path("fundraisers/", include("fundraisers.urls")),
    path("", include("ledger.urls")),
    path("", include("donations.urls")),
    path("", include("donors.urls")),
    path("", include("stories.urls")),
    path("favicon.ico", views.favicon, name="favicon"),
]

if settings.SERVE_MEDIA:
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns.append(re_path(rf"^{media_prefix}(?P<path>.*)$", views.media, name="media"))

# Last: staff-written pages (/about/, /privacy/, ...) take any address nothing above took.
urlpatterns.append(path("", include("charity.urls")))
