from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.generic import ListView

from donations.models import Project
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


def _projects_with_milestones():
    return Prefetch("projects", queryset=Project.objects.prefetch_related("milestones"))


def home(request):
    featured = (
        Project.objects.accepting_gifts()
        .order_by("-is_featured", "is_general_fund", "position")
        .prefetch_related("milestones")
        .first()
    )
    stories = _story_cards(Story.objects.published())[:3]
    context = {
        "featured_project": featured,
        "stories": stories,
        "site_figures": site_figures(),
        "project_count": Project.objects.filter(is_general_fund=False).count(),
        "verified_figures": VerifiedFigure.objects.all(),
    }
    return render(request, "stories/home.html", context)


class StoryListView(ListView):
    template_name = "stories/story_list.html"
    context_object_name = "stories"
    paginate_by = 9

    def get_queryset(self):
        return _story_cards(Story.objects.published())


def _render_story(request, story, *, preview=False, neighbours=None):
    previous_story, next_story = neighbours or (story.previous_story(), story.next_story())
    return render(
        request,
        "stories/story_detail.html",
        {
            "story": story,
            "previous_story": previous_story,
            "next_story": next_story,
            "fund_uses": uses_reported_by(story),
            "preview": preview,
        },
    )


def story_detail(request, slug):
    story = get_object_or_404(
        Story.objects.published().prefetch_related(_projects_with_milestones(), "photos"), slug=slug
    )
    # Two queries that only a story edit or a story going live can change.
    neighbours = content_cache.cached(
        request, f"story-neighbours:{story.pk}", lambda: (story.previous_story(), story.next_story())
    )
    return _render_story(request, story, neighbours=neighbours)


@never_cache
# As in the admin, permission to change stories includes permission to see them.
@staff_with_any_permission("stories.view_story", "stories.change_story")
def story_preview(request, pk):
    """Staff see a draft or scheduled story exactly as it will look, marked as a preview.

    Drafts are private: no shared cache or browser history keeps a copy.
    """
    story = get_object_or_404(Story.objects.prefetch_related(_projects_with_milestones(), "photos"), pk=pk)
    return _render_story(request, story, preview=True)
