"""Guessing the staff password is cut short: five failures lock the pair out."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes_enabled(settings):
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.AXES_FAILURE_LIMIT = 5


def login(client, password):
    return client.post(
        reverse("admin:login"),
        {"username": "editor", "password": password, "next": "/admin/"},
    )


def test_admin_login_locks_out_after_repeated_failures(client, axes_enabled):
    get_user_model().objects.create_superuser("editor", "editor@example.com", "right-password-123")

    for _ in range(4):
        response = login(client, "wrong")
        assert response.status_code == 200  # the login form again, with its error

    locked = login(client, "wrong")
    assert locked.status_code == 429
    assert "too many failed" in locked.content.decode().lower()

    # Even the right password is refused while locked out.
    assert login(client, "right-password-123").status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_login_works_with_the_right_password(client, axes_enabled):
    get_user_model().objects.create_superuser("editor", "editor@example.com", "right-password-123")

    response = login(client, "right-password-123")

    assert response.status_code == 302
    assert client.session["_auth_user_id"]
