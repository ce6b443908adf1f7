"""The donate page is never served from the page cache (each visitor needs a CSRF token
of their own), but the form as a visitor first sees it is the same for everyone asking
for the same project: its markup comes from the fragment cache, under the page cache's
versions, so every change to projects or gifts shows at once.

Real transactions (transaction=True): versions move when a change commits.
"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from donations.models import Gift

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("page_cache_on", "charity_facts"),
]

DONATE_URL = reverse("donations:donate")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def get_counting_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return response, len(queries)


def without_token(page):
    return TOKEN.sub("", page)


def test_a_second_visit_draws_the_form_without_touching_the_database(client, general_fund, project):
    first, first_queries = get_counting_queries(client, DONATE_URL)
    second, second_queries = get_counting_queries(client, DONATE_URL)

    assert first_queries > 0
    assert second_queries == 0
    assert without_token(second.content.decode()) == without_token(first.content.decode())
    assert 'data-chosen-project="general-fund"' in second.content.decode()


def test_each_visitor_gets_a_csrf_token_of_their_own_that_lets_them_post(general_fund):
    cookies = []
    for _ in range(3):
        browser = Client(enforce_csrf_checks=True)
        page = browser.get(DONATE_URL)
        assert "public" not in page.get("Cache-Control", "")
        token = TOKEN.search(page.content.decode()).group(1)

        sent = browser.post(DONATE_URL, {"csrfmiddlewaretoken": token, "amount_preset": ""})

        assert sent.status_code == 200  # the form again, asking for an amount: not refused (403)
        assert "Choose an amount" in sent.content.decode()
        cookies.append(page.cookies["csrftoken"].value)
    assert len(set(cookies)) == 3


def test_each_project_and_frequency_asked_for_gets_its_own_form(client, general_fund, project):
    client.get(DONATE_URL)

    asked = client.get(f"{DONATE_URL}?project={project.slug}&frequency=monthly").content.decode()
    plain = client.get(DONATE_URL).content.decode()

    assert f'data-chosen-project="{project.slug}"' in asked
    assert re.search(r'<option value="car-t" selected>', asked)
    assert re.search(r'value="monthly"[^>]* checked', asked)
    assert 'data-chosen-project="general-fund"' in plain
    assert re.search(r'<option value="general-fund" selected>', plain)
    assert re.search(r'value="one_time"[^>]* checked', plain)


def test_made_up_projects_share_one_kept_form(client, general_fund, project):
    first = client.get(f"{DONATE_URL}?project=no-such-project").content.decode()

    other, queries = get_counting_queries(client, f"{DONATE_URL}?project=another-made-up-one")

    assert queries == 0
    assert without_token(other.content.decode()) == without_token(first)
    assert " selected>" not in first  # no option chosen: the browser shows the first


def test_a_gift_shows_on_the_donate_page_at_once(client, general_fund, project, make_gift):
    url = f"{DONATE_URL}?project={project.slug}"
    assert "0% funded &middot; 0 gifts" in client.get(url).content.decode()

    make_gift(project, amount_minor=12_300)

    page = client.get(url).content.decode()
    assert "<strong>$123</strong> raised of $5,000 goal" in page
    assert "2% funded &middot; 1 gift<" in page


def test_a_renamed_project_shows_in_the_list_at_once(client, general_fund, project):
    client.get(DONATE_URL)

    project.title = "Bone marrow transplants"
    project.save()

    page = client.get(DONATE_URL).content.decode()
    assert '<option value="car-t">Bone marrow transplants</option>' in page


def test_a_closed_project_leaves_the_list_at_once(client, general_fund, project):
    client.get(DONATE_URL)
    client.get(f"{DONATE_URL}?project={project.slug}")

    project.status = project.Status.CLOSED
    project.save()

    assert 'value="car-t"' not in client.get(DONATE_URL).content.decode()
    assert 'value="car-t"' not in client.get(f"{DONATE_URL}?project={project.slug}").content.decode()


def test_a_form_sent_back_with_errors_is_the_donors_own(client, general_fund, project):
    client.get(DONATE_URL)

    sent = client.post(
        DONATE_URL,
        {"project": project.slug, "amount_preset": "", "donor_email": "anna@example.com"},
    ).content.decode()
    sent_later = client.post(
        DONATE_URL,
        {"project": project.slug, "amount_preset": "", "donor_email": "boris@example.com"},
    ).content.decode()
    page = client.get(DONATE_URL).content.decode()

    assert "<title>Error: Donate" in sent
    assert 'value="anna@example.com"' in sent
    assert f'data-chosen-project="{project.slug}"' in sent
    assert 'value="boris@example.com"' in sent_later
    assert "anna@example.com" not in sent_later
    assert "anna@example.com" not in page
    assert "<title>Donate" in page
    assert "error-summary" not in page


def test_a_form_filled_again_from_a_gift_is_never_kept_for_others(client, general_fund, project, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True
    client.get(f"{DONATE_URL}?project={project.slug}")
    client.post(
        DONATE_URL,
        {"project": project.slug, "amount_preset": "5000", "donor_email": "anna@example.com"},
    )
    gift = Gift.objects.get()

    resumed = client.get(f"{DONATE_URL}?resume={gift.public_id}").content.decode()
    # The same project and frequency as the gift's, asked for by another visitor.
    someone_else = Client().get(f"{DONATE_URL}?project={project.slug}&frequency=one_time").content.decode()

    assert 'value="anna@example.com"' in resumed
    assert "Nothing was charged" in resumed
    assert "anna@example.com" not in someone_else
    assert "Nothing was charged" not in someone_else
