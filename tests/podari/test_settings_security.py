"""Production settings: no secret has a default, DEBUG is off unless asked for, and
`check --deploy` is clean. Each case starts a fresh Python with its own environment."""

import os
import re
import secrets
import subprocess
import sys

from django.conf import settings

BASE_DIR = settings.BASE_DIR
# Every variable podari/settings.py reads, except the database: each case sets its own.
SETTINGS_VARIABLES = set(
    re.findall(r'env\.\w+\(\s*"([A-Z0-9_]+)"', (BASE_DIR / "podari/settings.py").read_text())
)
SETTINGS_VARIABLES.discard("DATABASE_URL")

PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(48),  # 64 characters
    "ALLOWED_HOSTS": "podari.life",
    "SITE_URL": "https://podari.life",
    "STRIPE_SECRET_KEY": "sk_live_placeholder",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder",
}


def environment(**values):
    """This process's environment without anything the settings read (DATABASE_URL passes through)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in SETTINGS_VARIABLES and key != "DJANGO_SETTINGS_MODULE"
    }
    env["DJANGO_SETTINGS_MODULE"] = "podari.settings"
    env.update(values)
    return env


def run(args, **values):
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=environment(**values),
        capture_output=True,
        text=True,
        timeout=60,
    )


PRINT_SETTINGS = (
    "import django; django.setup(); from django.conf import settings as s; "
    "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
    "s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS)"
)


def test_the_environment_used_here_holds_none_of_the_test_settings():
    env = environment()
    assert "SECRET_KEY" in SETTINGS_VARIABLES and "DEBUG" in SETTINGS_VARIABLES
    assert not SETTINGS_VARIABLES & set(env)
    assert env.get("DATABASE_URL") == os.environ.get("DATABASE_URL")


def test_without_debug_a_missing_secret_key_stops_the_site_with_a_clear_message():
    result = run(["-c", "import django; django.setup()"])
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_is_off_unless_asked_for():
    result = run(["-c", PRINT_SETTINGS], SECRET_KEY=PRODUCTION["SECRET_KEY"], ALLOWED_HOSTS="podari.life")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "True", "31536000", "['podari.life']"]


def test_debug_on_a_developers_machine_needs_no_secret_key():
    result = run(["-c", PRINT_SETTINGS], DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "False",
        "False",
        "False",
        "0",
        "['localhost',",
        "'127.0.0.1',",
        "'[::1]']",
    ]


def test_check_deploy_is_clean_in_a_production_environment():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_fails_on_a_weak_secret_key():
    weak = dict(PRODUCTION, SECRET_KEY="short")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **weak)
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr
