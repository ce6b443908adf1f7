"""Guessing the staff password is cut short: five failures lock the pair out, and many
failures from one address lock the address out, whatever the user names."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes_enabled(settings):
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesStandaloneBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.AXES_FAILURE_LIMIT = 5


def login(client, password, username="editor", **extra):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        **extra,
    )


def through_proxy(address, client_wrote=""):
    """What gunicorn sees from the HTTPS proxy on this machine: it appends the client's address."""
    forwarded = f"{client_wrote}, {address}" if client_wrote else address
    return {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded, "HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture
def behind_proxy(settings):
    # What BEHIND_HTTPS_PROXY=1 sets.
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXY_COUNT = 1


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


def test_behind_the_proxy_a_guesser_does_not_lock_the_staff_member_out_everywhere(
    axes_enabled, behind_proxy, settings
):
    get_user_model().objects.create_superuser("editor", "editor@example.com", "right-password-123")
    guesser = Client()

    for n in range(5):
        # Whatever the guesser writes in X-Forwarded-For, the proxy's own entry counts.
        login(guesser, "wrong", **through_proxy("198.51.100.66", client_wrote=f"10.9.9.{n}"))

    assert login(guesser, "right-password-123", **through_proxy("198.51.100.66")).status_code == 429
    staff = Client()
    response = login(staff, "right-password-123", **through_proxy("203.0.113.5"))
    assert response.status_code == 302
    assert staff.session["_auth_user_id"]


def test_guesses_spread_over_many_user_names_lock_the_address_out(axes_enabled, settings):
    get_user_model().objects.create_superuser("editor", "editor@example.com", "right-password-123")
    guesser = Client(REMOTE_ADDR="198.51.100.66")
    statuses = []
    for n in range(25):
        for _ in range(4):  # one fewer than the limit for each user name
            statuses.append(login(guesser, "wrong", username=f"user{n}").status_code)

    assert statuses[: settings.AXES_ADDRESS_FAILURE_LIMIT - 1] == [200] * (
        settings.AXES_ADDRESS_FAILURE_LIMIT - 1
    )
    assert set(statuses[settings.AXES_ADDRESS_FAILURE_LIMIT :]) == {429}
    # Not even a real account from that address, for now...
    assert login(guesser, "right-password-123").status_code == 429
    # ...while the staff member elsewhere logs in as usual.
    assert login(Client(REMOTE_ADDR="203.0.113.5"), "right-password-123").status_code == 302
