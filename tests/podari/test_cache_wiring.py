"""The one map from model to page-cache version (podari/cache_wiring.py), and its wiring.

Every table a public page reads belongs to a model in the map (or to rows written only with
one that is), so no change can leave a stale page behind; each model moves only its own
version, once its transaction commits.
"""

import io
import re

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.module_loading import import_string

from charity.models import FACTS_CACHE_KEY, Page
from donations.models import AmountMeaning, Gift, Project, ProjectMilestone, RecurringGift
from podari import cache_wiring, page_cache
from stories.models import Story

TABLE_READ = re.compile(r'\b(?:FROM|JOIN)\s+"(\w+)"')


def public_urls():
    """Every public page of the demo site: the cached ones, and the donate page whose parts are."""
    urls = ["/", reverse("stories:list"), reverse("stories:feed"), reverse("donations:project_list")]
    urls += [story.get_absolute_url() for story in Story.objects.published()]
    for project in Project.objects.all():
        urls += [
            project.get_absolute_url(),
            reverse("ledger:project_json", args=[project.slug]),
            reverse("ledger:project_csv", args=[project.slug]),
            project.get_donate_url(),
        ]
    urls += [page.get_absolute_url() for page in Page.objects.all()]
    return urls


def model_of_table():
    """Table name → model label; a many-to-many table → the model that declares the field."""
    models = {}
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy:
            continue
        owner = model
        if model._meta.auto_created:
            owner = next(
                f.model
                for f in model._meta.auto_created._meta.local_many_to_many
                if f.remote_field.through is model
            )
        models[model._meta.db_table] = owner._meta.label
    return models


@pytest.mark.django_db
def test_every_model_public_pages_read_is_in_the_map(client):
    call_command("seed_demo", stdout=io.StringIO())
    # A monthly donor too, so the monthly figures are drawn.
    gift = Gift.objects.filter(project__slug="car-t-therapy").first()
    RecurringGift.objects.create(
        project=gift.project, amount_minor=2_500, currency="usd", status=RecurringGift.Status.ACTIVE
    )

    with CaptureQueriesContext(connection) as queries:
        for url in public_urls():
            assert client.get(url).status_code == 200, url
    tables = {table for query in queries for table in TABLE_READ.findall(query["sql"])}
    labels = model_of_table()
    read = {labels[table] for table in tables}

    assert {"stories.Story", "donations.Project", "donations.Gift", "donations.RecurringGift"} <= read
    assert {label for label in read if cache_wiring.version_of(label) is None} == set()


def test_a_proxy_of_a_model_in_the_map_is_in_it_too():
    # A row saved through a proxy (an offline gift) sends its signals as the proxy.
    for model in apps.get_models():
        concrete = model._meta.concrete_model._meta.label
        if model._meta.proxy and concrete in cache_wiring.PAGE_CACHE_VERSIONS:
            assert model._meta.label in cache_wiring.PAGE_CACHE_VERSIONS, model


def test_the_map_names_real_models_and_versions():
    for label, version in cache_wiring.PAGE_CACHE_VERSIONS.items():
        assert apps.get_model(label)
        assert version in cache_wiring.BUMPS
    for label, covered_by in cache_wiring.COVERED_BY.items():
        assert apps.get_model(label) and covered_by in cache_wiring.PAGE_CACHE_VERSIONS
    for label, path in cache_wiring.ALSO_DELETED.items():
        assert label in cache_wiring.PAGE_CACHE_VERSIONS
        assert import_string(path) == FACTS_CACHE_KEY


def test_gifts_and_monthly_gifts_move_only_the_gifts_version():
    assert cache_wiring.version_of("donations.Gift") == cache_wiring.GIFTS
    assert cache_wiring.version_of("donations.RecurringGift") == cache_wiring.GIFTS
    assert cache_wiring.version_of("ledger.GiftMonth") == cache_wiring.GIFTS
    assert cache_wiring.version_of("ledger.Entry") == cache_wiring.GIFTS
    assert cache_wiring.version_of("stories.Story") == cache_wiring.CONTENT


# Each change moves its own version, after its transaction commits


def versions():
    return page_cache.content_version(), page_cache.gifts_version()


@pytest.mark.django_db(transaction=True)
def test_a_change_moves_its_version_once_it_commits(make_project, make_story, make_gift):
    project = make_project()
    story = make_story(projects=[project])
    before = versions()

    make_gift(project)
    after_gift = versions()
    recurring = RecurringGift.objects.create(project=project, amount_minor=2_500, currency="usd")
    recurring.status = RecurringGift.Status.ACTIVE
    recurring.save()
    after_monthly = versions()
    story.title = "Edited"
    story.save()
    after_story = versions()

    assert after_gift[0] == before[0] and after_gift[1] != before[1]
    assert after_monthly[0] == before[0] and after_monthly[1] != after_gift[1]
    assert after_story[0] != before[0] and after_story[1] == after_monthly[1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["milestone", "amount meaning", "story link"])
def test_parts_of_projects_and_stories_move_the_content_version(change, make_project, make_story):
    project = make_project()
    story = make_story()
    before = versions()

    if change == "milestone":
        ProjectMilestone.objects.create(project=project, title="Ten children treated", amount_minor=100_000)
    elif change == "amount meaning":
        AmountMeaning.objects.create(project=project, amount_minor=5_000, sentence="pays for a test.")
    else:
        story.projects.add(project)

    assert versions()[0] != before[0]
    assert versions()[1] == before[1]


@pytest.mark.django_db(transaction=True)
def test_a_charity_page_drops_the_facts_before_the_pages():
    page = Page.objects.create(title="About us", slug="about-us", body="We are.")
    cache.set(FACTS_CACHE_KEY, "old facts")
    before = versions()

    page.title = "About Podari"
    page.save()

    assert cache.get(FACTS_CACHE_KEY) is None
    assert versions()[0] != before[0]
