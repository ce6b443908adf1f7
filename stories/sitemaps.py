from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap as DjangoSitemap
from django.urls import reverse

from donations.models import Project
from stories.models import Story


class Sitemap(DjangoSitemap):
    """Addresses from SITE_URL, not from the request's Host header."""

    @property
    def protocol(self):
        return urlsplit(settings.SITE_URL).scheme or None

    def get_domain(self, site=None):
        return urlsplit(settings.SITE_URL).netloc or super().get_domain(site)


class StorySitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return Story.objects.published().only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class ProjectSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Project.objects.only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


class PageSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return ["stories:home", "stories:list", "donations:project_list", "donations:donate"]

    def location(self, item):
        return reverse(item)


class CharityPageSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        from charity.models import Page

        return Page.objects.only("slug", "updated_at")

    def lastmod(self, item):
        return item.updated_at


SITEMAPS = {
    "pages": PageSitemap,
    "stories": StorySitemap,
    "projects": ProjectSitemap,
    "about": CharityPageSitemap,
}
