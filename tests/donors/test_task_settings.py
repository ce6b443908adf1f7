"""Which task backend runs the emails: at once under `make run`, the database's in production."""

import pytest

from tests.podari.test_settings_security import PRODUCTION, run

PRINT_BACKEND = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.TASKS['default']['BACKEND'])"
)


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({"DEBUG": "1"}, "django_tasks.backends.immediate.ImmediateBackend"),  # make run: no worker needed
        (PRODUCTION, "django_tasks_db.DatabaseBackend"),
        ({**PRODUCTION, "TASKS_BACKEND": "immediate"}, "django_tasks.backends.immediate.ImmediateBackend"),
        ({"DEBUG": "1", "TASKS_BACKEND": "database"}, "django_tasks_db.DatabaseBackend"),  # with make worker
    ],
)
def test_the_task_backend_follows_the_environment(environment, backend):
    result = run(["-c", PRINT_BACKEND], **environment)
    assert result.stdout.strip() == backend, result.stderr


def test_an_unknown_task_backend_stops_the_site():
    result = run(["-c", PRINT_BACKEND], **PRODUCTION, TASKS_BACKEND="celery")
    assert result.returncode != 0
    assert "TASKS_BACKEND must be one of immediate, database, rq" in result.stderr
