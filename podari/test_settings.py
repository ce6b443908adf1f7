"""Settings for the test suite: production settings with test doubles for the outside world."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-used-anywhere-else")
os.environ.setdefault("STRIPE_SECRET_KEY", "sk_test_suite_key")
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_test_suite_secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SITE_URL", "http://testserver")

from podari.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# One process, so memory will do; tests that need a shared cache start gunicorn with
# the production settings.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
    "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = tempfile.mkdtemp(prefix="podari-test-media-")
# Tests never wait on a retry to a server that is not there.
STRIPE_MAX_NETWORK_RETRIES = 0
# Pages are measured and checked as built; tests of the page cache switch it on.
PAGE_CACHE_ENABLED = False
# The test client's login() passes no request, which django-axes requires; its own
# tests put the axes backend back.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
# WhiteNoise serves straight from the app folders, as runserver does; no collectstatic needed.
STATIC_ROOT = tempfile.mkdtemp(prefix="podari-test-static-")
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Background tasks run at once, in the test's own process; tests of the worker use the database backend.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
