"""What staff may do depends on their permissions, not only on being staff.

A staff account made for one job (say, reading gifts) must not read every draft story
by its sequential id, nor put files on the public site through the Markdown editor.
"""

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from stories.models import Story
from tests.conftest import image_upload

UPLOAD_URL = "/markdownx/upload/"
MARKDOWNIFY_URL = "/markdownx/markdownify/"
XHR = {"X-Requested-With": "XMLHttpRequest"}


@pytest.fixture
def make_staff(django_user_model):
    def make(*codenames):
        user = django_user_model.objects.create_user(
            f"staff-{len(codenames)}-{'-'.join(codenames)}", password="x"
        )
        user.is_staff = True
        user.save()
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        return user

    return make


@pytest.fixture
def draft(make_story):
    return make_story(title="Dasha's draft", body="Dasha's private notes.", status=Story.Status.DRAFT)


def test_staff_without_view_story_cannot_preview_a_draft(client, make_staff, draft):
    client.force_login(make_staff("view_gift"))
    response = client.get(reverse("stories:preview", args=[draft.pk]))
    assert response.status_code == 403
    assert "Dasha" not in response.content.decode()


@pytest.mark.parametrize("codename", ["view_story", "change_story"])
def test_staff_who_may_see_stories_preview_drafts(client, make_staff, draft, codename):
    # Django's change permission implies view.
    client.force_login(make_staff(codename))
    response = client.get(reverse("stories:preview", args=[draft.pk]))
    assert response.status_code == 200
    assert "private notes." in response.content.decode()


def test_the_preview_is_never_kept_by_a_cache(admin_client, draft):
    response = admin_client.get(reverse("stories:preview", args=[draft.pk]))
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control


@pytest.mark.parametrize("codenames", [(), ("view_story",), ("view_project", "view_gift")])
def test_staff_without_a_change_permission_cannot_upload_or_preview_markdown(
    client, make_staff, media_root, codenames
):
    client.force_login(make_staff(*codenames))
    response = client.post(UPLOAD_URL, {"image": image_upload()}, headers=XHR)
    assert response.status_code == 403
    assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*"))
    response = client.post(MARKDOWNIFY_URL, {"content": "**draft**"})
    assert response.status_code == 403


@pytest.mark.parametrize("codename", ["change_story", "change_project"])
def test_staff_who_edit_stories_or_projects_use_the_editor(client, make_staff, codename):
    client.force_login(make_staff(codename))
    response = client.post(UPLOAD_URL, {"image": image_upload()}, headers=XHR)
    assert response.status_code == 200
    assert response.json()["image_code"].startswith("![](/media/stories/body/")
    response = client.post(MARKDOWNIFY_URL, {"content": "**draft**"})
    assert response.status_code == 200
    assert b"<strong>draft</strong>" in response.content


def test_staff_sessions_end_after_twelve_hours(admin_client):
    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    session = admin_client.session
    lifetime = session.get_expiry_date() - timezone.now()
    assert timezone.timedelta(hours=11, minutes=59) < lifetime <= timezone.timedelta(hours=12)


def test_a_login_cookie_lasts_twelve_hours(client, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.org", "a long password 123")
    client.get("/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "boss", "password": "a long password 123"}
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["max-age"] == 12 * 60 * 60
