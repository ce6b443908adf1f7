"""Every URL pattern is classified for shared caches, and public pages say they may be shared."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from charity.models import Page
from fundraisers.models import Fundraiser, Supporter
from podari import edge_cache
from podari.edge_cache import OWN_HEADERS, PRIVATE, PUBLIC, group_of


def walk(patterns, namespaces=()):
    """(view name or None, namespaces, route, view) of every pattern, through every include()."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            for name, spaces, route, view in walk(pattern.url_patterns, inner):
                yield name, spaces, f"{pattern.pattern}{route}", view
        else:
            assert isinstance(pattern, URLPattern)
            name = ":".join((*namespaces, pattern.name)) if pattern.name else None
            yield name, list(namespaces), str(pattern.pattern), pattern.callback


ALL_PATTERNS = list(walk(get_resolver().url_patterns))


def test_the_walk_reaches_every_app_and_the_admin():
    names = {name for name, _, _, _ in ALL_PATTERNS}
    assert {"stories:home", "donors:giving", "admin:index", "sitemap", "charity:page"} <= names
    assert len(ALL_PATTERNS) > 100  # the admin's patterns for each model


def test_every_url_pattern_is_classified():
    unclassified = [
        f"{name or '(unnamed)'} at {route!r}"
        for name, namespaces, route, _ in ALL_PATTERNS
        if group_of(name, namespaces) is None
    ]
    assert not unclassified, "Add to PUBLIC, PRIVATE or OWN_HEADERS in podari/edge_cache.py: " + ", ".join(
        unclassified
    )


def test_no_name_is_in_two_groups_and_none_is_stale():
    assert not (PUBLIC & PRIVATE or PUBLIC & OWN_HEADERS or PRIVATE & OWN_HEADERS)
    known = {name for name, _, _, _ in ALL_PATTERNS} | {
        ":".join(spaces[:depth]) for _, spaces, _, _ in ALL_PATTERNS for depth in range(1, len(spaces) + 1)
    }
    # "media" is only routed when the site serves its own uploads.
    assert (PUBLIC | PRIVATE | OWN_HEADERS) - known <= {"media"}


def test_every_page_the_page_cache_keeps_is_public():
    kept = [name for name, _, _, view in ALL_PATTERNS if getattr(view, "public_page", False)]
    assert kept and all(name in PUBLIC for name in kept)


def test_a_new_namespace_is_classified_by_its_name_or_a_whole_app():
    assert group_of("admin:auth_user_changelist", ["admin"]) == "private"
    assert group_of(None, ["admin"]) == "private"
    assert group_of("fundraisers:detail", ["fundraisers"]) == "public"
    assert group_of("fundraisers:new_page", ["fundraisers"]) == "private"
    assert group_of("campaigns:page", ["campaigns"]) is None


def test_a_gift_shows_on_a_shared_copy_within_three_seconds():
    # A shared cache keeps a page PAGE_CACHE_SHARED_SECONDS; the page it fetched may
    # itself lag gifts by PAGE_CACHE_GIFTS_LAG_SECONDS in the site's page cache.
    assert settings.PAGE_CACHE_SHARED_SECONDS + settings.PAGE_CACHE_GIFTS_LAG_SECONDS <= 3


def _live_fundraiser(project):
    supporter = Supporter.objects.create(email="yelena@example.com", name="Yelena")
    return Fundraiser.objects.create(
        supporter=supporter,
        project=project,
        slug="yelenas-birthday",
        title="Yelena’s birthday",
        story="Instead of presents, please give.",
        goal_minor=100_000,
        ends_on=timezone.localdate() + timedelta(days=30),
        status=Fundraiser.Status.LIVE,
    )


@pytest.fixture
def public_urls(make_project, make_story, make_gift):
    project = make_project(title="Hearing aids", slug="hearing-aids")
    make_gift(project, amount_minor=5_000)
    story = make_story(projects=[project])
    page = Page.objects.create(title="About the edge", slug="edge-test-page", body="Who we are.")
    return {
        "stories:home": reverse("stories:home"),
        "stories:list": reverse("stories:list"),
        "stories:detail": story.get_absolute_url(),
        "stories:feed": reverse("stories:feed"),
        "donations:project_list": reverse("donations:project_list"),
        "donations:project_detail": project.get_absolute_url(),
        "ledger:project_json": reverse("ledger:project_json", args=[project.slug]),
        "ledger:project_csv": reverse("ledger:project_csv", args=[project.slug]),
        "charity:page": reverse("charity:page", args=[page.slug]),
        "charity:about": reverse("charity:about"),
        "charity:financial_reports": reverse("charity:financial_reports"),
        "sitemap": reverse("sitemap"),
        "fundraisers:detail": _live_fundraiser(project).get_absolute_url(),
    }


def directives(response):
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


SHAREABLE = {
    "public",
    f"max-age={settings.PAGE_CACHE_BROWSER_SECONDS}",
    f"s-maxage={settings.PAGE_CACHE_SHARED_SECONDS}",
    f"stale-while-revalidate={settings.PAGE_CACHE_STALE_WHILE_REVALIDATE_SECONDS}",
    f"stale-if-error={settings.PAGE_CACHE_STALE_IF_ERROR_SECONDS}",
}


@pytest.mark.django_db
def test_every_public_page_may_be_kept_by_a_shared_cache(client, public_urls):
    assert set(public_urls) == PUBLIC, "give each public pattern an address to check"
    for name, url in public_urls.items():
        response = client.get(url)
        assert response.status_code == 200, name
        assert directives(response) == SHAREABLE, (name, response["Cache-Control"])
        assert not response.cookies, name


@pytest.mark.django_db
@pytest.mark.parametrize("cookie", [settings.SESSION_COOKIE_NAME, "messages"])
def test_a_reader_with_a_session_or_messages_never_gets_a_shareable_page(client, public_urls, cookie):
    client.cookies[cookie] = "x"
    for name, url in public_urls.items():
        assert {"private", "no-store"} <= directives(client.get(url)), name


@pytest.mark.django_db
def test_personal_pages_and_forms_are_private_no_store(client, project):
    for url in [
        reverse("donations:donate"),
        reverse("donations:thanks"),
        reverse("donors:request_link"),
        reverse("donors:giving"),
        reverse("admin:login"),
        reverse("admin:index"),
        reverse("healthz"),
        "/no-such-page/",
    ]:
        response = client.get(url)
        assert {"private", "no-store"} <= directives(response), (url, response.get("Cache-Control"))
        assert "public" not in directives(response), url


@pytest.mark.django_db
def test_the_page_cache_serves_the_same_headers(client, settings, public_urls):
    settings.PAGE_CACHE_ENABLED = True
    first, second = client.get(public_urls["stories:home"]), client.get(public_urls["stories:home"])
    assert directives(first) == directives(second) == SHAREABLE


def a_plain_page(request):
    return HttpResponse("hello")


@never_cache
def say_no_cache(request):
    return HttpResponse("hello")


def set_a_cookie(request):
    response = HttpResponse("hello")
    response.set_cookie("seen", "1")
    return response


def show_a_csrf_token(request):
    return HttpResponse(f"<input name=csrfmiddlewaretoken value={get_token(request)}>")


urlpatterns = [
    path("plain/", a_plain_page, name="plain"),
    path("no-cache/", say_no_cache, name="no_cache"),
    path("cookie/", set_a_cookie, name="cookie"),
    path("csrf/", show_a_csrf_token, name="csrf"),
    path("", include("podari.urls")),
]


@pytest.fixture
def public_test_views(monkeypatch):
    monkeypatch.setattr(edge_cache, "PUBLIC", frozenset({"plain", "no_cache", "cookie", "csrf"}))
    edge_cache.url_group.cache_clear()
    yield
    edge_cache.url_group.cache_clear()


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.usefixtures("public_test_views")
def test_a_public_pattern_that_says_no_cache_sets_a_cookie_or_shows_a_csrf_token_is_private(client):
    assert "public" in directives(client.get("/plain/"))
    assert {"private", "no-store"} <= directives(client.get("/no-cache/"))
    assert {"private", "no-store"} <= directives(client.get("/cookie/"))
    assert {"private", "no-store"} <= directives(client.get("/csrf/"))
