"""The admin staff use to write stories and watch projects."""

import json
import re
from html import unescape

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format

from donations.models import Gift
from stories.models import Story

STORY_LIST = "/admin/stories/story/"
STORY_ADD = "/admin/stories/story/add/"


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def result_rows(html):
    body = re.search(r'id="result_list".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return re.findall(r"<tr>.*?</tr>", body, re.S)


def test_story_list_shows_status_publish_date_and_projects(admin_client, make_story, make_project):
    car_t = make_project(title="CAR-T therapy")
    education = make_project(title="Doctors' education")
    when = timezone.now() - timezone.timedelta(days=2)
    make_story(title="Masha goes home", publish_at=when, projects=[car_t, education])
    make_story(title="Unfinished draft", status=Story.Status.DRAFT, projects=[education])

    html = page(admin_client, STORY_LIST)
    headers = re.findall(r'<th scope="col" class="[^"]*column-(\w+)', html)
    assert headers == ["title", "status", "publish_at", "project_list", "is_live"]

    rows = {("Masha" in row): row for row in result_rows(html)}
    published, draft = rows[True], rows[False]
    assert "Published" in published
    assert "CAR-T therapy, Doctors&#x27; education" in published
    assert date_format(timezone.localtime(when), "DATETIME_FORMAT") in published
    assert 'alt="True"' in published  # on the site now
    assert "Draft" in draft
    assert 'alt="False"' in draft


def test_story_list_costs_the_same_queries_for_many_stories(admin_client, make_story, project):
    for _ in range(2):
        make_story(projects=[project])
    with CaptureQueriesContext(connection) as few:
        admin_client.get(STORY_LIST)
    for _ in range(8):
        make_story(projects=[project])
    with CaptureQueriesContext(connection) as many:
        admin_client.get(STORY_LIST)
    assert len(many) == len(few)


def test_story_search_finds_by_title(admin_client, make_story):
    make_story(title="Masha goes home")
    make_story(title="Doctors learn CAR-T")
    html = page(admin_client, STORY_LIST + "?q=masha")
    rows = result_rows(html)
    assert len(rows) == 1
    assert "Masha goes home" in rows[0]


def test_slug_is_prepopulated_from_the_title(admin_client):
    html = page(admin_client, STORY_ADD)
    match = re.search(r'data-prepopulated-fields="([^"]+)"', html)
    assert match
    fields = json.loads(unescape(match.group(1)))
    assert fields == [
        {
            "id": "#id_slug",
            "name": "slug",
            "dependency_ids": ["#id_title"],
            "dependency_list": ["title"],
            "maxLength": 200,
            "allowUnicode": False,
        }
    ]
    assert "admin/js/prepopulate.js" in html


def test_story_body_uses_the_markdownx_editor(admin_client):
    html = page(admin_client, STORY_ADD)
    assert "markdownx/js/markdownx.min.js" in html
    assert "markdownx/admin/css/markdownx.min.css" in html
    textarea = re.search(r'<textarea name="body"[^>]*>', html).group(0)
    assert "markdownx-editor" in textarea
    assert 'data-markdownx-upload-urls-path="/markdownx/upload/"' in textarea
    assert 'data-markdownx-urls-path="/markdownx/markdownify/"' in textarea
    assert 'class="markdownx-preview"' in html


def test_story_change_page_links_to_the_preview(admin_client, make_story):
    story = make_story(status=Story.Status.DRAFT)
    html = page(admin_client, f"/admin/stories/story/{story.pk}/change/")
    assert f'href="/stories/preview/{story.pk}/"' in html
    assert "Save the story first" in page(admin_client, STORY_ADD)


def test_admin_is_for_staff_only(client, django_user_model):
    assert client.get(STORY_LIST).status_code == 302
    client.force_login(django_user_model.objects.create_user("donor", password="x"))
    response = client.get(STORY_LIST)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_project_admin_shows_the_raised_total_read_only(admin_client, project, make_gift):
    make_gift(project, amount_minor=200_000)
    make_gift(
        project, amount_minor=150_000, amount_refunded_minor=30_000, status=Gift.Status.PARTIALLY_REFUNDED
    )
    make_gift(project, amount_minor=90_000, status=Gift.Status.PENDING)

    html = page(admin_client, f"/admin/donations/project/{project.pk}/change/")
    raised = re.search(r'field-raised">.*?<div class="readonly">([^<]*)</div>', html, re.S)
    assert raised and raised.group(1) == "$3,200"
    count = re.search(r'field-gift_count">.*?<div class="readonly">([^<]*)</div>', html, re.S)
    assert count and count.group(1) == "2"
    assert 'name="raised"' not in html
    assert 'name="gift_count"' not in html

    listing = page(admin_client, "/admin/donations/project/")
    row = next(r for r in result_rows(listing) if project.title in r)
    assert "$3,200" in row
    assert "$5,000" in row  # the goal


# The project form's milestone and amount inlines, left empty.
NO_INLINES = {
    f"{prefix}-{key}": value
    for prefix in ("milestones", "amount_meanings")
    for key, value in {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0"}.items()
}


def test_editing_a_project_without_a_new_picture_keeps_it(admin_client, project):
    renditions = project.image_renditions
    data = {
        "title": "CAR-T therapy for more children",
        "slug": project.slug,
        "summary": project.summary,
        "description": project.description,
        "image_alt": project.image_alt,
        "goal": "8,000",
        "currency": project.currency,
        "status": project.status,
        "position": project.position,
        **NO_INLINES,
    }
    response = admin_client.post(f"/admin/donations/project/{project.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    project.refresh_from_db()
    assert project.title == "CAR-T therapy for more children"
    assert project.goal_minor == 800_000
    assert project.image_renditions == renditions
