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

import itertools

from django import template
from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet, prefetch_related_objects
from django.template.base import token_kwargs
from django.template.loader_tags import BlockNode
from django.utils.safestring import mark_safe

from podari import content_cache
from podari.content_cache import request_content_version, request_gifts_version

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


class FragmentNode(template.Node):
    # Django walks a base template's nodes for {% block %}s on every render; a fragment
    # never holds one (checked when parsed), so the walk need not enter it.
    child_nodelists = ()

    def __init__(self, nodelist, name, vary, shows_gifts, skip):
        self.nodelist = nodelist
        self.name = name
        self.vary = vary
        self.shows_gifts = shows_gifts
        self.skip = skip

    def render(self, context):
        if not settings.PAGE_CACHE_ENABLED or (self.skip and self.skip.resolve(context)):
            return self.nodelist.render(context)
        request = context.get("request")
        parts = [self.name.resolve(context), *(str(v.resolve(context)) for v in self.vary)]
        shows_gifts = self.shows_gifts and self.shows_gifts.resolve(context)
        gifts = request_gifts_version(request) if shows_gifts else "-"
        markup = content_cache.cached(
            request, f"fragment:{gifts}:" + ":".join(parts), lambda: self.nodelist.render(context)
        )
        return mark_safe(markup)  # noqa: S308 (a rendered template)


@register.tag
def fragment(parser, token):
    """{% fragment "story" story.pk gifts=True skip=preview %}...{% endfragment %}

    The enclosed markup, kept in the cache under the same versions as the page cache
    keeps whole pages: the content version, and the gifts version with `gifts=True`
    (for markup that shows totals or donors). Everything else the markup depends on
    (the object, the page number) must be named after the fragment's name. Whatever the
    markup reads (querysets, lazy values from the view) is read only when the fragment
    is not in the cache. `skip=...` renders afresh when true (a staff preview).

    Pages that bypass the page cache (visitors with a session: staff, donors back from
    checkout) thus cost a few cache reads instead of the queries and template work
    behind a whole page; a fragment can never be staler than the cached page itself.
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% fragment %} needs a name")
    vary = list(itertools.takewhile(lambda bit: "=" not in bit, bits[2:]))
    options = bits[2 + len(vary) :]
    kwargs = token_kwargs(list(options), parser)  # consumes the list it is given
    if len(kwargs) != len(options) or set(kwargs) - {"gifts", "skip"}:
        raise template.TemplateSyntaxError(f"{{% fragment %}} takes only gifts= and skip=, not {options}")
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("{% fragment %} cannot hold a {% block %}: cache inside the block")
    return FragmentNode(
        nodelist,
        parser.compile_filter(bits[1]),
        [parser.compile_filter(bit) for bit in vary],
        kwargs.get("gifts"),
        kwargs.get("skip"),
    )


@register.simple_tag
def prefetch(objects, *lookups):
    """{% prefetch project "milestones__story" "photos" %}: prefetch_related for objects
    the view has already fetched, run where the template first needs them: inside a
    `{% fragment %}`, only when the fragment is not in the cache."""
    if objects:
        prefetch_related_objects(objects if isinstance(objects, list) else [objects], *lookups)
    return ""
