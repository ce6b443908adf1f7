"""Public pages cost the same few queries with 5 stories and gifts as with 200."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from donations.models import Gift, Project
from donations.money import format_money
from stories.models import Story
from tests.conftest import bulk_paid_gifts, money

MAX_QUERIES = 10


def ago(**kwargs):
    return timezone.now() - timezone.timedelta(**kwargs)


@pytest.fixture
def site(make_project, make_story, make_gift, general_fund):
    projects = [
        general_fund,
        make_project(title="CAR-T therapy", slug="car-t", is_featured=True),
        make_project(title="Doctors' education", slug="education"),
        make_project(title="Closed appeal", slug="closed", status=Project.Status.CLOSED),
    ]
    stories = [
        make_story(title=f"Story {n}", slug=f"story-{n}", publish_at=ago(days=n), projects=projects[1:3])
        for n in range(1, 6)
    ]
    for n, project in zip(range(5), itertools.cycle(projects), strict=False):
        make_gift(project, amount_minor=1000 * (n + 1), donor_name=f"Donor {n}", show_name_publicly=True)
    return {"projects": projects, "stories": stories}


def grow(site, stories=195, gifts=195):
    """Add many stories and gifts the fast way: bulk_create skips save() and its renditions."""
    template = site["stories"][0]
    base = Story.objects.count()
    new_stories = Story.objects.bulk_create(
        Story(
            title=f"Bulk story {n}",
            slug=f"bulk-story-{n}",
            summary=f"Summary {n}.",
            body=f"Body {n}.",
            body_html=f"<p>Body {n}.</p>",
            image=template.image.name,
            image_width=template.image_width,
            image_height=template.image_height,
            image_alt=f"Picture {n}",
            image_renditions=template.image_renditions,
            status=Story.Status.PUBLISHED,
            # Interleaved with the first five, so every page and neighbour has many around it.
            publish_at=ago(hours=n * 7 + 1),
        )
        for n in range(base, base + stories)
    )
    links = Story.projects.through
    projects = site["projects"]
    links.objects.bulk_create(
        links(story_id=story.pk, project_id=project.pk)
        for n, story in enumerate(new_stories)
        for project in (projects[n % 4], projects[(n + 1) % 4])
    )
    statuses = itertools.cycle(
        [
            (Gift.Status.SUCCEEDED, 0),
            (Gift.Status.PARTIALLY_REFUNDED, 700),
            (Gift.Status.REFUNDED, None),
            (Gift.Status.PENDING, 0),
            (Gift.Status.FAILED, 0),
            (Gift.Status.SUCCEEDED, 0),
        ]
    )
    paid, refunded, unpaid = [], [], []
    for n, project, (status, back) in zip(range(gifts), itertools.cycle(projects), statuses, strict=False):
        amount = 2500 + 37 * n
        gift = Gift(
            project=project,
            amount_minor=amount,
            currency="eur" if n % 13 == 0 else project.currency,
            status=status,
            donor_name=f"Bulk donor {n}",
            show_name_publicly=n % 2 == 0,
            paid_at=ago(minutes=n),
        )
        if status in Gift.PAID_STATUSES:
            paid.append(gift)
            refunded.append(amount if back is None else back)
        else:
            unpaid.append(gift)
    Gift.objects.bulk_create(unpaid)
    # A bulk load writes each paid gift's entries and then recounts the stored sums.
    bulk_paid_gifts(paid, refunded)


def page_urls(site):
    story = site["stories"][2]
    project = site["projects"][1]
    return {
        "home": "/",
        "story list": "/stories/",
        "story list, page 2": "/stories/?page=2",
        "story detail": story.get_absolute_url(),
        "project list": "/projects/",
        "project detail": project.get_absolute_url(),
        "donate": f"/donate/?project={project.slug}",
    }


def count_queries(client, urls):
    # The footer's charity facts are read once and then kept in the cache, whatever the content.
    client.get("/")
    counts = {}
    for name, url in urls.items():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, url)
        counts[name] = len(queries)
    return counts


def test_query_counts_do_not_grow_with_content(client, site):
    urls = page_urls(site)
    urls.pop("story list, page 2")  # five stories fill one page
    small = count_queries(client, urls)

    grow(site)
    assert Story.objects.published().count() == 200
    assert Gift.objects.count() == 200
    large = count_queries(client, urls)

    assert large == small
    assert all(n <= MAX_QUERIES for n in large.values()), large


def test_the_second_page_of_stories_costs_no_more_than_the_first(client, site):
    grow(site)
    counts = count_queries(client, page_urls(site))
    assert counts["story list, page 2"] == counts["story list"]


def expected_totals(projects):
    """What each project has raised, worked out in Python from every gift."""
    totals = {}
    for project in projects:
        nets = [
            money(g).net_minor for g in Gift.objects.filter(project=project) if g.currency == project.currency
        ]
        totals[project.slug] = (sum(nets), sum(1 for net in nets if net > 0))
    return totals


def test_project_totals_recounted_by_the_database_match_every_gift(client, site):
    grow(site)
    expected = expected_totals(site["projects"])
    assert all(raised > 0 and count > 10 for raised, count in expected.values()), expected

    with CaptureQueriesContext(connection) as queries:
        projects = list(Project.objects.all())
    assert len(queries) == 1
    assert {p.slug: (p.raised_minor, p.gift_count) for p in projects} == expected

    for project in projects:
        html = client.get(project.get_absolute_url()).content.decode()
        assert f"<strong>{format_money(expected[project.slug][0], project.currency)}</strong> raised" in html
