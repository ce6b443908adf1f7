"""Sign-in that tells nothing: *Manage my giving* does the same work for any address, a
stranger cannot lock a donor out, and token pages leak no token and no address."""

import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from donations.models import Donor
from donors import links

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/manage/link/[^/\s]+/)")
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def shape(queries):
    """The statements run, without their values: the work done, whatever the address."""
    return [re.sub(r"\b\d+\b", "?", re.sub(r"'(?:[^']|'')*'", "?", q["sql"])) for q in queries]


def token_free(url):
    return url.rstrip("/").count("/") <= 2  # /manage/link/, /email/preferences/ ...


def ask(client, email, capture=None, ip="203.0.113.7"):
    if capture is None:
        return client.post(reverse("donors:request_link"), {"email": email}, REMOTE_ADDR=ip)
    with capture(execute=True):
        return client.post(reverse("donors:request_link"), {"email": email}, REMOTE_ADDR=ip)


@pytest.mark.django_db(transaction=True)
def test_asking_for_a_link_does_the_same_work_for_a_known_and_an_unknown_address(
    settings, make_donor, mailoutbox
):
    settings.TASKS = DATABASE_TASKS
    make_donor("ada@example.com")
    answers, work = [], []
    for email in ("ada@example.com", "nobody@example.com"):
        with CaptureQueriesContext(connection) as queries:
            response = Client().post(reverse("donors:request_link"), {"email": email})
        answers.append((response.status_code, response["Location"]))
        work.append(shape(queries.captured_queries))

    assert answers[0] == answers[1] == (302, reverse("donors:link_sent"))
    assert work[0] == work[1]
    assert not any("donations_donor" in sql for sql in work[0])  # nobody looked the address up
    assert mailoutbox == []  # built in the background

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert [m.to for m in mailoutbox] == [["ada@example.com"]]


def test_a_stranger_asking_again_and_again_never_locks_the_donor_out(
    make_donor, django_capture_on_commit_callbacks, mailoutbox
):
    make_donor("ada@example.com")
    stranger = Client()
    for _ in range(5):
        assert ask(stranger, "ada@example.com", django_capture_on_commit_callbacks).status_code == 302
    assert len(mailoutbox) == 3  # DONOR_LINK_RATE_LIMIT_PER_EMAIL: what is sent is throttled

    donor_browser = Client()
    response = ask(donor_browser, "ada@example.com", django_capture_on_commit_callbacks, ip="198.51.100.2")

    assert response.status_code == 302  # not "try again in an hour"
    newest = LINK.search(mailoutbox[-1].body).group(1)
    assert donor_browser.post(newest).status_code == 302
    assert donor_browser.get(reverse("donors:giving")).status_code == 200
    # The links sent before it work too, each once.
    older = LINK.search(mailoutbox[0].body).group(1)
    assert Client().post(older)["Location"] == reverse("donors:giving")


def test_token_pages_send_no_referrer_and_are_kept_by_no_cache(
    make_donor, django_capture_on_commit_callbacks, mailoutbox
):
    ada = make_donor("ada@example.com", consent=True)
    ask(Client(), "ada@example.com", django_capture_on_commit_callbacks)
    token = links.preferences_token(ada)
    pages = [
        LINK.search(mailoutbox[-1].body).group(1),
        reverse("donors:preferences", args=[token]),
        reverse("donors:unsubscribe", args=[token]),
        reverse("donors:request_link"),
        reverse("donors:link_sent"),
    ]
    for url in pages:
        browser = Client()
        response = browser.get(url)
        if "/link/" in url or token in url:
            # The address with the token sends no Referer and goes on to the page without it.
            assert response.status_code == 302 and token_free(response["Location"]), url
            assert response["Referrer-Policy"] == "no-referrer", url
            response = browser.get(response["Location"])
        assert response.status_code == 200, url
        assert {"private", "no-store"} <= {p.strip() for p in response["Cache-Control"].split(",")}, url
        assert "Open my giving page" in response.content.decode() or "/link/" not in url


def test_preference_pages_mask_the_address(make_donor):
    ada = make_donor("ada.lovelace@example.com", consent=True)
    token = links.preferences_token(ada)

    for name in ("donors:preferences", "donors:unsubscribe"):
        page = Client().get(reverse(name, args=[token]), follow=True).content.decode()
        assert "ada.lovelace@example.com" not in page and "example.com" not in page
        assert "a•••@e•••.com" in page


def test_preference_links_expire_and_die_with_the_address_they_were_sent_to(settings, make_donor):
    ada = make_donor("ada@example.com", consent=True)
    token = links.preferences_token(ada)
    url = reverse("donors:preferences", args=[token])
    assert Client().get(url, follow=True).status_code == 200

    settings.DONOR_EMAIL_LINK_MAX_AGE_DAYS = -1
    assert Client().get(url, follow=True).status_code == 404
    assert Client().post(reverse("donors:unsubscribe", args=[token])).status_code == 404

    settings.DONOR_EMAIL_LINK_MAX_AGE_DAYS = 90
    Donor.objects.filter(pk=ada.pk).update(email="ada.new@example.com")
    assert Client().get(url, follow=True).status_code == 404
    ada.refresh_from_db()
    fresh = reverse("donors:preferences", args=[links.preferences_token(ada)])
    assert Client().get(fresh, follow=True).status_code == 200
