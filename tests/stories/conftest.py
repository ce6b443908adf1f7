"""Story tests use small pictures: renditions of a full-size one take a tenth of a second each."""

import pytest

from tests.conftest import image_upload

SMALL = (320, 200)


@pytest.fixture
def make_story(make_story):
    def make(projects=(), **fields):
        fields.setdefault("image", image_upload("story.png", size=SMALL))
        return make_story(projects, **fields)

    return make


@pytest.fixture
def make_project(make_project):
    def make(**fields):
        fields.setdefault("image", image_upload("project.png", size=SMALL))
        return make_project(**fields)

    return make
