"""Factories for fundraiser pages: a supporter, a page (live unless told), a signed-in client."""

import time

import pytest
from django.utils import timezone

from tests.conftest import image_upload
from tests.donations.conftest import checkout_session  # noqa: F401 (a fixture, used by tests)


@pytest.fixture
def project(make_project):
    # A small picture: these tests never look at it, and renditions take time.
    return make_project(
        title="CAR-T therapy for children", slug="car-t", image=image_upload("p.png", size=(160, 100))
    )


@pytest.fixture
def supporter(db):
    from fundraisers.models import Supporter

    return Supporter.objects.create(email="yelena@example.com", name="Yelena")


@pytest.fixture
def make_page(supporter, project):
    from fundraisers.models import Fundraiser

    counter = iter(range(1, 10_000))

    def make(**fields):
        n = next(counter)
        fields.setdefault("supporter", supporter)
        fields.setdefault("project", project)
        fields.setdefault("slug", f"page-{n}")
        fields.setdefault("title", f"Birthday page {n}")
        fields.setdefault("story", "Instead of presents, please give.")
        fields.setdefault("image", image_upload(f"page-{n}.png", size=(160, 100)))
        fields.setdefault("image_alt", "Balloons")
        fields.setdefault("photo_permission", True)
        fields.setdefault("goal_minor", 100_000)
        fields.setdefault("ends_on", timezone.localdate() + timezone.timedelta(days=30))
        fields.setdefault("status", Fundraiser.Status.LIVE)
        return Fundraiser.objects.create(**fields)

    return make


@pytest.fixture
def page(make_page):
    return make_page(slug="yelenas-birthday", title="Yelena’s birthday")


@pytest.fixture
def supporter_client(client, supporter):
    from fundraisers import views

    session = client.session
    session[views.SESSION_SUPPORTER] = supporter.pk
    session[views.SESSION_SIGNED_IN_AT] = int(time.time())
    session.save()
    return client
