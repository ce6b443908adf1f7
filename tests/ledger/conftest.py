"""Fixtures for the ledger tests: projects with small pictures, staff in the two groups."""

from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.conftest import image_upload


@pytest.fixture
def make_project(make_project):
    def make(**fields):
        fields.setdefault("image", image_upload("project.png", size=(160, 100)))
        return make_project(**fields)

    return make


@pytest.fixture
def make_story(make_story):
    def make(projects=(), **fields):
        fields.setdefault("image", image_upload("story.png", size=(160, 100)))
        return make_story(projects, **fields)

    return make


@pytest.fixture
def make_use(db):
    from ledger import services
    from ledger.models import FundUse

    def make(project, amount_minor, *, stories=(), **fields):
        """A use of funds recorded through the ledger (even beyond what is available)."""
        fields.setdefault("currency", project.currency)
        fields.setdefault("purpose", "the clinical description")
        fields.setdefault("spent_on", timezone.localdate())
        use = FundUse(project=project, amount_minor=amount_minor, **fields)
        services.record_fund_use(use, by=None, allow_overspend=True)
        use.stories.set(stories)
        return use

    return make


@pytest.fixture
def staff_groups(db):
    if Group.objects.filter(name__in=["Editors", "Finance"]).count() != 2:
        # A transactional test elsewhere flushed the tables the data migration had filled.
        import_module("ledger.migrations.0003_staff_groups").create_groups(django_apps, None)


def staff_in(group_name, username, django_user_model):
    user = django_user_model.objects.create_user(username, f"{username}@podari.test", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def finance_user(staff_groups, django_user_model):
    return staff_in("Finance", "fiona", django_user_model)


@pytest.fixture
def editor_user(staff_groups, django_user_model):
    return staff_in("Editors", "eddie", django_user_model)


@pytest.fixture
def finance_client(client, finance_user):
    client.force_login(finance_user)
    return client


@pytest.fixture
def editor_client(client, editor_user):
    client.force_login(editor_user)
    return client
