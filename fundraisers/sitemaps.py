from fundraisers.models import Fundraiser
from stories.sitemaps import Sitemap


class FundraiserSitemap(Sitemap):
    """Live pages only (ended ones too: they stay readable); a page waiting for approval,
    paused or removed is never listed."""

    changefreq = "daily"

    def items(self):
        return Fundraiser.objects.live().only("slug", "updated_at").order_by("pk")

    def lastmod(self, item):
        return item.updated_at
