from django.urls import path

from stories import views
from stories.feeds import LatestStoriesFeed

app_name = "stories"

urlpatterns = [
    path("", views.home, name="home"),
    path("stories/", views.StoryListView.as_view(), name="list"),
    path("stories/feed/", LatestStoriesFeed(), name="feed"),
    path("stories/preview/<int:pk>/", views.story_preview, name="preview"),
    path("stories/<slug:slug>/", views.story_detail, name="detail"),
]
