"""Fixtures for the ledger tests: projects with small pictures, uses of funds (staff: tests/conftest.py)."""

import pytest
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
