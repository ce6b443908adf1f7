from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape

from stories.models import Story


class LatestStoriesFeed(Feed):
    feed_type = Atom1Feed
    title = "Podari.Life: stories of what your gifts did"
    subtitle = "Impact stories from Podari.Life, funding cancer treatment for children in Russia."

    # Absolute addresses from SITE_URL, so the request's Host header never reaches the feed.
    def link(self):
        return settings.SITE_URL + reverse("stories:list")

    def feed_url(self):
        return settings.SITE_URL + reverse("stories:feed")

    def item_link(self, item):
        return settings.SITE_URL + item.get_absolute_url()

    def items(self):
        return Story.objects.published()[:20]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        # Atom puts this in <summary type="html">: feed readers render it as HTML. A summary
        # is plain text, so it is escaped once more and a "<script>" in it stays text.
        return escape(item.summary)

    def item_pubdate(self, item):
        return item.publish_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return item.author_name
