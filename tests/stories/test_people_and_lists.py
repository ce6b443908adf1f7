"""Stories with people in them; story lists that lead with the newest; short project tags."""

import re

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def ago(**kwargs):
    return timezone.now() - timezone.timedelta(**kwargs)


def test_story_tags_use_the_projects_short_name(client, make_project, make_story):
    car_t = make_project(title="CAR-T cell therapy for children in Russia", short_name="CAR-T therapy")
    general = make_project(title="Where it is needed most")
    make_story(projects=[car_t, general])

    html = client.get("/stories/").content.decode()

    tags = re.findall(r'<span class="tag">([^<]*)</span>', html)
    assert tags == ["CAR-T therapy", "Where it is needed most"]


def test_the_story_list_leads_with_the_newest_story_as_a_large_card(client, make_story):
    for n in range(1, 12):
        make_story(title=f"Story number {n}", publish_at=ago(days=n))

    first = client.get("/stories/").content.decode()
    second = client.get("/stories/?page=2").content.decode()

    lead = re.findall(r'<article class="card story-card card--lead">.*?</article>', first, re.S)
    assert len(lead) == 1 and "Story number 1" in lead[0]
    assert "card--lead" not in second


def test_a_pull_quote_shows_who_said_it(client, make_story):
    story = make_story(
        quote='We\'re home, and Masha says "thank you".',
        quote_name="Irina",
        quote_role="Masha's mother",
    )

    html = client.get(story.get_absolute_url()).content.decode()

    quote = re.search(r'<figure class="pull-quote">.*?</figure>', html, re.S).group(0)
    assert "We\u2019re home, and Masha says \u201cthank you\u201d." in quote
    assert "Irina" in quote and "Masha\u2019s mother" in quote


def test_titles_have_curly_quotes(client, make_story):
    story = make_story(title='Yelena\'s birthday -- a "different" present')

    html = client.get(story.get_absolute_url()).content.decode()

    assert "<h1>Yelena\u2019s birthday \u2013 a \u201cdifferent\u201d present</h1>" in html
    assert "<title>Yelena\u2019s birthday \u2013 a \u201cdifferent\u201d present" in html
