from django.urls import path

from podari.page_cache import public_page
from stories import views
from stories.feeds import LatestStoriesFeed

app_name = "stories"

urlpatterns = [
    path("", public_page(views.home), name="home"),
    # No totals or donor names on these two: gifts leave them in the cache.
    path(
        "stories/",
        public_page(views.StoryListView.as_view(), query=("page",), shows_gifts=False),
        name="list",
    ),
    path("stories/feed/", public_page(LatestStoriesFeed(), shows_gifts=False), name="feed"),
    path("stories/preview/<int:pk>/", views.story_preview, name="preview"),
    path("stories/<slug:slug>/", public_page(views.story_detail), name="detail"),
]
