from django import template

from campaigns.models import Match

register = template.Library()


@register.simple_tag
def match_offered(project):
    """The match a gift to `project` made now would get: running, with money left, in the
    project's currency (the donate form asks in it), or None. Checked when drawn, so that
    "your gift is doubled" is said only while it is true."""
    if project is None:
        return None
    return Match.objects.offered_for(project, project.currency)


@register.simple_tag
def matches_running(project):
    """The matches running for `project`, soonest-ending first, for their progress."""
    return list(Match.objects.running().filter(projects=project).order_by("ends_at", "pk"))
