from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed

from stories.models import Story


class LatestStoriesFeed(Feed):
    feed_type = Atom1Feed
    title = "Podari.Life: stories of what your gifts did"
    link = "/stories/"
    subtitle = "Impact stories from Podari.Life, funding cancer treatment for children in Russia."

    def items(self):
        return Story.objects.published()[:20]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_pubdate(self, item):
        return item.publish_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return item.author_name
