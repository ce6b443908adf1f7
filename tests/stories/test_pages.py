"""The public pages a donor reads: home, stories, feed, sitemap, robots.txt, health check, media."""

import re
import xml.etree.ElementTree as ET
from html import unescape
from urllib.robotparser import RobotFileParser

import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from donations.models import Project
from podari import views as podari_views
from tests.conftest import image_upload

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def ago(**kwargs):
    return timezone.now() - timezone.timedelta(**kwargs)


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def section(html, heading_id):
    """The <section> labelled by the heading with this id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section labelled {heading_id}"
    return match.group(0)


def meta(html, key):
    """The content of <meta property=key> or <meta name=key>."""
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    return unescape(match.group(1)) if match else None


def titles_in_order(html, titles):
    positions = {title: html.find(title) for title in titles}
    return [t for t, pos in sorted(positions.items(), key=lambda item: item[1]) if pos != -1]


# Home


def test_home_shows_the_featured_project_and_the_latest_stories(client, make_project, make_story, make_gift):
    make_project(title="Doctors' education", slug="education", position=0)
    featured = make_project(title="CAR-T for Masha", slug="car-t-masha", is_featured=True, position=5)
    make_project(title="Closed appeal", slug="closed", is_featured=True, status=Project.Status.CLOSED)
    make_gift(featured, amount_minor=120_000)
    for n in range(1, 8):
        make_story(title=f"Home story number {n}", publish_at=ago(days=n))

    html = page(client, "/")

    featured_html = section(html, "featured-title")
    assert "CAR-T for Masha" in featured_html
    assert "Closed appeal" not in featured_html
    assert 'href="/donate/?project=car-t-masha"' in featured_html
    assert "$1,200" in featured_html

    latest = section(html, "latest-title")
    shown = [f"Home story number {n}" for n in range(1, 4)]
    assert titles_in_order(latest, shown) == shown  # newest first
    assert "Home story number 4" not in latest  # the three latest
    assert 'href="/stories/"' in latest


def test_home_without_any_story_still_invites_a_gift(client, project):
    html = page(client, "/")
    assert "Our first stories are on their way." in html
    assert 'href="/donate/"' in html


# Story list


def test_story_list_paginates_by_nine(client, make_story):
    for n in range(1, 11):
        make_story(title=f"Listed story {n:02d}", publish_at=ago(days=n))

    first = page(client, "/stories/")
    assert titles_in_order(first, [f"Listed story {n:02d}" for n in range(1, 11)]) == [
        f"Listed story {n:02d}" for n in range(1, 10)
    ]
    assert 'href="?page=2"' in first

    second = page(client, "/stories/?page=2")
    assert "Listed story 10" in second
    assert "Listed story 09" not in second
    assert "Page 2 of 2" in second


@pytest.mark.parametrize("page_number", ["999", "0", "two"])
def test_story_list_pages_that_do_not_exist_are_not_found(client, make_story, page_number):
    make_story()
    assert client.get(f"/stories/?page={page_number}").status_code == 404


# Story detail


@pytest.fixture
def three_stories(make_story, make_gift, project):
    make_gift(project, amount_minor=200_000)
    make_gift(project, amount_minor=120_000)
    return [
        make_story(title="Oldest visit", slug="oldest", publish_at=ago(days=30)),
        make_story(
            title="Masha goes home",
            slug="masha-goes-home",
            body="Masha went **home** today, after three months in hospital.",
            publish_at=ago(days=20),
            projects=[project],
        ),
        make_story(title="Newest visit", slug="newest", publish_at=ago(days=10)),
    ]


def test_story_page_shows_the_body_projects_and_progress(client, three_stories, project):
    html = page(client, "/stories/masha-goes-home/")
    assert "<h1>Masha goes home</h1>" in html
    assert "Masha went <strong>home</strong> today, after three months in hospital." in html

    projects = section(html, "projects-title")
    assert "CAR-T therapy for children" in projects
    assert f'href="{project.get_absolute_url()}"' in projects
    assert "<strong>$3,200</strong> raised of $5,000 goal" in projects
    assert "64% funded" in projects
    assert "2 gifts" in projects


def test_story_page_donate_link_preselects_the_project(client, three_stories, project):
    html = page(client, "/stories/masha-goes-home/")
    assert 'href="/donate/?project=car-t"' in html

    donate = page(client, "/donate/?project=car-t")
    selected = re.search(r'<option value="car-t"[^>]*>', donate) or re.search(
        r'<input[^>]*value="car-t"[^>]*>', donate
    )
    assert selected, "the project is not offered on the donate page"
    assert "selected" in selected.group(0) or "checked" in selected.group(0)


def test_story_page_links_to_its_neighbours(client, three_stories):
    html = page(client, "/stories/masha-goes-home/")
    assert re.search(r'<a href="/stories/oldest/" rel="prev">.*Oldest visit</a>', html)
    assert re.search(r'<a href="/stories/newest/" rel="next">.*Newest visit</a>', html)

    newest = page(client, "/stories/newest/")
    assert 'href="/stories/masha-goes-home/" rel="prev"' in newest
    assert 'rel="next"' not in newest


def test_neighbours_with_the_same_publish_date_are_ordered_by_id(client, make_story):
    when = ago(days=1)
    first, second, third = (make_story(title=f"Same day {n}", publish_at=when) for n in "abc")
    html = page(client, second.get_absolute_url())
    assert f'href="{first.get_absolute_url()}" rel="prev"' in html
    assert f'href="{third.get_absolute_url()}" rel="next"' in html


def test_story_page_has_canonical_and_sharing_tags(client, make_story):
    story = make_story(
        title="Masha & her doctors",
        slug="masha-doctors",
        summary="Three months of treatment.",
        image=image_upload("masha.png", size=(1000, 500)),
    )
    html = page(client, story.get_absolute_url())

    assert '<link rel="canonical" href="http://testserver/stories/masha-doctors/">' in html
    assert meta(html, "og:title") == "Masha & her doctors"
    assert meta(html, "og:description") == "Three months of treatment."
    assert meta(html, "og:type") == "article"
    assert meta(html, "twitter:card") == "summary_large_image"

    # The social card made on save: 1200 × 630, the size every service shows large.
    og_image = meta(html, "og:image")
    assert og_image == "http://testserver" + default_storage.url(story.social_card["name"])
    assert meta(html, "twitter:image") == og_image
    assert meta(html, "og:image:width") == "1200"
    assert meta(html, "og:image:height") == "630"
    assert meta(html, "og:image:alt") == story.image_alt
    # The picture a link preview fetches is really there.
    response = client.get(og_image.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


# Feed, sitemap, robots.txt


def test_feed_is_atom_with_published_stories_newest_first(client, make_story):
    make_story(title="Older feed story", slug="older-feed", summary="Older summary.", publish_at=ago(days=2))
    make_story(title="Newer feed story", slug="newer-feed", summary="Newer summary.", publish_at=ago(days=1))

    response = client.get("/stories/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title")
    assert root.findtext(f"{ATOM}updated")

    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Newer feed story", "Older feed story"]
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert links == ["http://testserver/stories/newer-feed/", "http://testserver/stories/older-feed/"]
    assert [e.findtext(f"{ATOM}summary") for e in entries] == ["Newer summary.", "Older summary."]
    assert all(e.findtext(f"{ATOM}id") and e.findtext(f"{ATOM}published") for e in entries)


def test_pages_point_feed_readers_at_the_feed(client, project):
    html = page(client, "/")
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/stories/feed/"' in html


def test_sitemap_lists_pages_published_stories_and_projects(client, make_story, project, general_fund):
    story = make_story(slug="in-the-sitemap")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own sitemap)
    lastmod = {url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod") for url in root}
    assert {"http://testserver/", "http://testserver/stories/", "http://testserver/projects/"} <= set(lastmod)
    for obj in (story, project, general_fund):
        # The sitemap dates a change in the site's time zone (TIME_ZONE), not in UTC.
        changed_on = timezone.localdate(obj.updated_at).isoformat()
        assert lastmod["http://testserver" + obj.get_absolute_url()] == changed_on


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_out_of_admin(client, db):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /admin/" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines
    assert client.get("/sitemap.xml").status_code == 200


def test_every_sitemap_address_may_be_crawled(client, make_story, project):
    make_story()
    robots = RobotFileParser()
    robots.parse(client.get("/robots.txt").content.decode().splitlines())
    root = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 (our own sitemap)
    locs = [loc.text for loc in root.iter(f"{SITEMAP}loc")]
    assert len(locs) >= 4
    assert [url for url in locs if not robots.can_fetch("Googlebot", url)] == []


# Health check


def test_healthz_answers_after_a_database_round_trip(client, db):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert any("SELECT 1" in q["sql"] for q in queries)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


class UnreachableDatabase:
    def cursor(self):
        raise OperationalError("could not connect to server: Connection refused")


def test_healthz_answers_503_when_the_database_is_unreachable(client, db, monkeypatch):
    monkeypatch.setattr(podari_views, "connection", UnreachableDatabase())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
    assert "Connection refused" not in response.content.decode()


# Media


def test_renditions_are_served_with_debug_off(client, settings, make_story):
    assert settings.DEBUG is False
    assert settings.SERVE_MEDIA is True
    story = make_story(image=image_upload("served.png", size=(800, 400)))
    for rendition in story.renditions:
        response = client.get(default_storage.url(rendition["name"]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/webp"
        assert int(response["Content-Length"]) == default_storage.size(rendition["name"])
        assert "immutable" in response["Cache-Control"]


def test_media_that_is_not_there_is_not_found(client, db):
    assert client.get("/media/renditions/missing.webp").status_code == 404


@pytest.mark.parametrize(
    "path", ["/media/../secret.txt", "/media/%2e%2e/secret.txt", "/media/..%2fsecret.txt"]
)
def test_files_outside_the_media_folder_are_not_served(client, db, media_root, path):
    media_root.mkdir(parents=True, exist_ok=True)
    (media_root.parent / "secret.txt").write_text("not for the public")
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert b"not for the public" not in response.content


def test_the_home_page_counts_the_projects_the_projects_page_lists(
    client, general_fund, make_project, make_gift
):
    # Site figures show once money is raised; the general fund is offered apart, not counted.
    car_t = make_project(title="CAR-T therapy", slug="car-t")
    make_project(title="Doctors' education", slug="doctors")
    make_gift(car_t, amount_minor=5_000)

    listed = client.get("/projects/").content.decode().count('class="card project-card"')
    home = client.get("/").content.decode()

    assert listed == 2
    assert f"<strong>{listed}</strong> projects" in home


def test_a_story_offers_plain_share_links_and_no_third_party_script(client, project, make_story, settings):
    settings.SITE_URL = "https://podari.life"
    story = make_story(projects=[project], title="Masha rings the bell", slug="masha")
    html = client.get(story.get_absolute_url()).content.decode()

    share = re.search(r'<section class="share".*?</section>', html, re.S).group(0)
    url = "https%3A%2F%2Fpodari.life%2Fstories%2Fmasha%2F"
    for href in (
        f"https://www.facebook.com/sharer/sharer.php?u={url}",
        "https://x.com/intent/post?text=Masha+rings+the+bell&amp;url=" + url,
        "https://wa.me/?text=",
        f"https://t.me/share/url?url={url}",
        "mailto:?subject=Masha%20rings%20the%20bell",
    ):
        assert href in share, href
    # The device's share sheet: a button the self-hosted script shows where it works.
    assert "data-web-share" in share and "hidden>Share…</button>" in share
    assert re.findall(r'<script\b[^>]*src="([^"]+)"', html) == ["/static/js/share.js"]
