"""Cached cards: a list of objects drawn with one include each, kept in the cache.

Pages that bypass the page cache (staff, donors back from checkout, the first reader
after a change) draw the same story and project cards over and over; drawing one costs
more than fetching it from the cache. `{% cards %}` fetches every card of a list in one
round trip and draws only the missing ones.

A card is stored under the content version (any change to a story or project makes a
new one, see podari/page_cache.py), the object's primary key, the include's name and
arguments, and the values of the fields named in `vary` (a project card names its
totals, which gifts change without a new content version). Only the list itself is
queried afresh on every request, so a scheduled story appears when its time comes.
"""

from django import template
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet, prefetch_related_objects
from django.utils.safestring import mark_safe

from podari.content_cache import request_content_version

register = template.Library()


@register.simple_tag(takes_context=True)
def cards(context, template_name, objects, name, vary="", lead_first=False, **extra):
    """{% cards "includes/story_card.html" stories "story" heading_level=2 %}

    The same markup as `{% for story in stories %}{% include "..." with heading_level=2 %}{% endfor %}`.
    A queryset's prefetch_related lookups run only for the cards not in the cache.
    `lead_first=True` draws the first card with `lead=True` as well.
    """
    lookups = ()
    # A queryset not yet run runs here without its prefetches (private API, but stable
    # since Django 1.4); they are applied to the cards missing from the cache only.
    if isinstance(objects, QuerySet) and objects._result_cache is None and objects._prefetch_related_lookups:
        lookups = objects._prefetch_related_lookups
        objects = objects.prefetch_related(None)
    objects = list(objects)
    if not objects:
        return ""
    include = context.template.engine.get_template(template_name)

    def own(n):
        return {**extra, "lead": True} if lead_first and n == 0 else extra

    def draw(n, obj):
        with context.push(**{name: obj}, **own(n)):
            return include.render(context)

    if not settings.PAGE_CACHE_ENABLED:
        if lookups:
            prefetch_related_objects(objects, *lookups)
        return mark_safe("".join(draw(n, obj) for n, obj in enumerate(objects)))  # noqa: S308 (rendered templates)

    version = request_content_version(context.get("request"))
    fields = vary.split()
    keys = [
        f"card:{version}:{template_name}:"
        + ":".join(f"{k}={v}" for k, v in sorted(own(n).items()))
        + f":{obj.pk}:"
        + ":".join(str(getattr(obj, f)) for f in fields)
        for n, obj in enumerate(objects)
    ]
    found = cache.get_many(keys)
    missing = [obj for obj, key in zip(objects, keys, strict=True) if key not in found]
    if missing:
        if lookups:
            prefetch_related_objects(missing, *lookups)
        drawn = {
            key: draw(n, obj)
            for n, (obj, key) in enumerate(zip(objects, keys, strict=True))
            if key not in found
        }
        cache.set_many(drawn, settings.PAGE_CACHE_SECONDS)
        found.update(drawn)
    return mark_safe("".join(found[key] for key in keys))  # noqa: S308 (rendered templates)
