"""`manage.py create_staff_account`: staff accounts are not superusers unless asked for."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("create_staff_account", *args, stdout=out)
    return out.getvalue()


def printed_password(output):
    return re.search(r"Password: (\S+)", output).group(1)


def test_a_staff_account_is_not_a_superuser_but_can_do_the_everyday_work(client):
    output = run("--username", "olga", "--email", "olga@example.org")

    user = get_user_model().objects.get(username="olga")
    assert user.is_staff and not user.is_superuser
    assert user.check_password(printed_password(output))
    assert [g.name for g in user.groups.all()] == ["Staff"]
    assert user.has_perms(["stories.add_story", "stories.change_story", "donations.change_project"])
    assert user.has_perm("donations.view_gift")
    assert not user.has_perm("donations.change_gift")
    assert not user.has_perm("auth.change_user")

    client.force_login(user)
    assert client.get("/admin/stories/story/add/").status_code == 200
    assert client.get("/admin/donations/gift/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403
    assert client.get("/admin/donations/stripeevent/").status_code == 403


def test_a_superuser_only_when_asked_for():
    output = run("--superuser")

    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.is_staff
    assert user.check_password(printed_password(output))
    assert "Superuser created" in output


def test_running_again_changes_nothing():
    run("--superuser")
    again = run("--superuser")
    staff_again = [run("--username", "olga"), run("--username", "olga")][1]

    assert get_user_model().objects.count() == 2
    assert "Superuser admin exists" in again and "Password:" not in again
    assert "Staff account olga exists" in staff_again and "Password:" not in staff_again


def test_an_existing_user_is_never_promoted(django_user_model):
    django_user_model.objects.create_user("admin", password="a-long-test-password")

    output = run("--superuser")

    user = django_user_model.objects.get(username="admin")
    assert not user.is_superuser and not user.is_staff
    assert "changepassword admin" in output
