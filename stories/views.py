from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.utils.functional import SimpleLazyObject, cached_property
from django.views.decorators.cache import never_cache
from django.views.generic import ListView

from donations.models import Project
from donations.sharing import share_links
from ledger.figures import site_figures, uses_reported_by
from ledger.models import VerifiedFigure
from podari import content_cache
from podari.permissions import staff_with_any_permission
from stories.models import Story


def _story_cards(stories):
    """Only what a story card shows: no story bodies, and just the names of its projects."""
    return stories.defer("body", "body_html").prefetch_related(
        Prefetch("projects", queryset=Project.objects.only("id", "title", "short_name", "slug"))
    )


class HomePage:
    """What the home page shows, each part read when the template first draws it: a part
    kept in the fragment cache (see `{% fragment %}`) costs no query."""

    @cached_property
    def featured_project(self):
        return (
            Project.objects.accepting_gifts()
            .order_by("-is_featured", "is_general_fund", "position")
            .prefetch_related("milestones")
            .first()
        )

    @cached_property
    def stories(self):
        return _story_cards(Story.objects.published())[:3]

    @cached_property
    def site_figures(self):
        return site_figures()

    @cached_property
    def project_count(self):
        # The same projects as the Projects page lists.
        return Project.objects.listed().count()

    @cached_property
    def verified_figures(self):
        return list(VerifiedFigure.objects.all())


def home(request):
    return render(request, "stories/home.html", {"home": HomePage()})


class _CountKeptPaginator(Paginator):
    """A paginator whose count comes from `count()`: the list is drawn in a fragment,
    so with the count kept too, a page built for a reader makes no query at all."""

    def __init__(self, *args, count, **kwargs):
        super().__init__(*args, **kwargs)
        self._kept_count = count

    @cached_property
    def count(self):
        return self._kept_count()


class StoryListView(ListView):
    template_name = "stories/story_list.html"
    context_object_name = "stories"
    paginate_by = 9

    def get_queryset(self):
        return _story_cards(Story.objects.published())

    def get_paginator(self, queryset, per_page, **kwargs):
        # Kept under the content version, which a story going live or changing replaces.
        def count():
            return content_cache.cached(self.request, "published-story-count", queryset.count)

        return _CountKeptPaginator(queryset, per_page, count=count, **kwargs)


def _share_links(request, story):
    path = story.get_absolute_url()
    url = settings.SITE_URL + path if settings.SITE_URL else request.build_absolute_uri(path)
    return share_links(url, text=story.title, subject=story.title)


def story_neighbours(story):
    return story.previous_story(), story.next_story()


def _render_story(request, story, *, preview=False, neighbours=story_neighbours):
    # Below the page's head, everything is read only when the template draws it, which
    # it does not when the fragment is in the cache (never for a preview).
    return render(
        request,
        "stories/story_detail.html",
        {
            "story": story,
            "neighbours": SimpleLazyObject(lambda: neighbours(story)),
            "fund_uses": SimpleLazyObject(lambda: uses_reported_by(story)),
            "preview": preview,
            "share_links": SimpleLazyObject(lambda: _share_links(request, story)),
        },
    )


def story_detail(request, slug):
    story = get_object_or_404(Story.objects.published(), slug=slug)

    def cached_neighbours(story):
        # Two queries that only a story edit or a story going live can change.
        return content_cache.cached(request, f"story-neighbours:{story.pk}", lambda: story_neighbours(story))

    return _render_story(request, story, neighbours=cached_neighbours)


@never_cache
# As in the admin, permission to change stories includes permission to see them.
@staff_with_any_permission("stories.view_story", "stories.change_story")
def story_preview(request, pk):
    """Staff see a draft or scheduled story exactly as it will look, marked as a preview.

    Drafts are private: no shared cache or browser history keeps a copy.
    """
    story = get_object_or_404(Story, pk=pk)
    return _render_story(request, story, preview=True)
