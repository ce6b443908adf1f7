"""Oversized and chunked request bodies are refused before anything reads them."""

import io

import pytest
from django.test import Client

import podari.middleware


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readinto = read


def raw_post(path, length, *, chunked=False, content_type="multipart/form-data; boundary=x", body=None):
    """Call the site as a WSGI server would, with a body nothing may read (unless given)."""
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32  # an attacker's own CSRF cookie
    stream = Unreadable() if body is None else io.BytesIO(body)
    extra = {"wsgi.input": stream, "CONTENT_TYPE": content_type}
    if chunked:
        extra["HTTP_TRANSFER_ENCODING"] = "chunked"
    else:
        extra["CONTENT_LENGTH"] = str(length)
    return client.generic("POST", path, **extra)


@pytest.fixture
def views_reached(monkeypatch):
    """Every request that gets past the limit, by path."""
    reached = []
    original = podari.middleware.RequestBodyLimitMiddleware.__call__

    def spy(self, request):
        response = original(self, request)
        if response.status_code != 413:
            reached.append(request.path)
        return response

    monkeypatch.setattr(podari.middleware.RequestBodyLimitMiddleware, "__call__", spy)
    return reached


@pytest.mark.parametrize(
    "path",
    [
        "/donate/",
        "/",
        "/admin/login/",
        "/admin/stories/story/add/",
        "/markdownx/upload/",
        "/webhooks/stripe/",
    ],
)
def test_a_300_mb_anonymous_upload_is_refused_unread(db, path, views_reached):
    response = raw_post(path, 300 * 1024 * 1024)
    assert response.status_code == 413
    assert response["Connection"] == "close"
    assert views_reached == []


@pytest.mark.parametrize("path", ["/donate/", "/admin/login/", "/markdownx/upload/", "/webhooks/stripe/"])
def test_chunked_bodies_are_refused_unread(db, path, views_reached):
    response = raw_post(path, None, chunked=True)
    assert response.status_code == 413
    assert views_reached == []


@pytest.mark.parametrize(
    "path, allowed",
    [
        ("/donate/", 64 * 1024),
        ("/webhooks/stripe/", 1024 * 1024),
        ("/markdownx/markdownify/", 1024 * 1024),
        ("/admin/stories/story/add/", 11 * 1024 * 1024),
        ("/admin/charity/page/add/", 21 * 1024 * 1024),
        ("/markdownx/upload/", 10 * 1024 * 1024 + 64 * 1024),
    ],
)
def test_each_route_takes_what_it_needs_and_no_more(db, path, allowed, views_reached):
    assert raw_post(path, allowed + 1).status_code == 413
    assert views_reached == []
    # At the limit the request goes on (and is then refused or served for other reasons).
    body = b"a=" + b"b" * (allowed - 2)
    raw_post(path, allowed, content_type="application/x-www-form-urlencoded", body=body)
    assert views_reached == [path]


def test_a_bad_content_length_is_a_400(db):
    assert raw_post("/donate/", "lots").status_code == 400
    assert raw_post("/donate/", "-1").status_code == 400


def test_ordinary_forms_and_uploads_still_work(admin_client):
    from tests.conftest import image_upload

    response = admin_client.post(
        "/markdownx/upload/", {"image": image_upload()}, headers={"X-Requested-With": "XMLHttpRequest"}
    )
    assert response.status_code == 200
