"""Staff see and search gifts and totals in the admin; donors' emails never reach public pages."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift, Project

pytestmark = pytest.mark.django_db

LISTED = "Total of the gifts listed (a charge includes the fee its donor covered): "
GIFTS_URL = reverse("admin:donations_gift_changelist")


@pytest.fixture
def gifts(project, make_project, make_gift):
    """CAR-T: $50 paid, $25 paid with $10 refunded, $20 fully refunded, $100 pending, $75 failed.
    Education: $200 paid, and ¥5,000 paid."""
    education = make_project(title="Doctors' education", slug="education")
    now = timezone.now()
    return {
        "paid": make_gift(project, amount_minor=5_000, donor_email="jane@example.com", paid_at=now),
        "partly_refunded": make_gift(
            project,
            amount_minor=2_500,
            amount_refunded_minor=1_000,
            status=Gift.Status.PARTIALLY_REFUNDED,
            paid_at=now,
        ),
        "refunded": make_gift(
            project, amount_minor=2_000, amount_refunded_minor=2_000, status=Gift.Status.REFUNDED, paid_at=now
        ),
        "pending": make_gift(project, amount_minor=10_000, status=Gift.Status.PENDING),
        "failed": make_gift(project, amount_minor=7_500, status=Gift.Status.FAILED),
        "education": make_gift(education, amount_minor=20_000, donor_email="sam@example.org", paid_at=now),
        "yen": make_gift(education, amount_minor=5_000, currency="jpy", paid_at=now),
    }


def listed(response):
    return set(response.context["cl"].result_list)


def totals_line(response):
    match = re.search(r'<p class="podari-totals">(.*?)</p>', response.content.decode(), re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else None


# The gift list


def test_gifts_filtered_by_status_show_their_total(admin_client, gifts):
    response = admin_client.get(GIFTS_URL, {"status__exact": "succeeded", "currency__exact": "usd"})

    assert response.status_code == 200
    assert listed(response) == {gifts["paid"], gifts["education"]}
    assert totals_line(response) == LISTED + ("$250 charged, $0 refunded, $250 kept by their projects")


def test_gifts_filtered_by_project_total_only_money_that_arrived(admin_client, gifts, project):
    response = admin_client.get(GIFTS_URL, {"project__id__exact": project.pk})

    assert listed(response) == {
        gifts[key] for key in ("paid", "partly_refunded", "refunded", "pending", "failed")
    }
    # $50 + $25 + $20 arrived, $30 of it went back; the pending and failed gifts never paid anything.
    assert totals_line(response) == LISTED + ("$95 charged, $30 refunded, $65 kept by their projects")


def test_refunded_gifts_show_what_went_back(admin_client, gifts):
    response = admin_client.get(GIFTS_URL, {"status__exact": "partially_refunded"})

    assert listed(response) == {gifts["partly_refunded"]}
    assert totals_line(response) == LISTED + ("$25 charged, $10 refunded, $15 kept by their projects")


def test_each_currency_is_totalled_on_its_own(admin_client, gifts):
    education = Project.objects.get(slug="education")

    response = admin_client.get(GIFTS_URL, {"project__id__exact": education.pk})

    line = totals_line(response)
    assert "$200 charged, $0 refunded, $200 kept by their projects" in line
    assert "¥5,000 charged, ¥0 refunded, ¥5,000 kept by their projects" in line


def test_no_total_when_nothing_listed_has_been_paid(admin_client, gifts):
    response = admin_client.get(GIFTS_URL, {"status__exact": "pending"})

    assert listed(response) == {gifts["pending"]}
    assert totals_line(response) is None


def test_staff_find_a_gift_by_the_donors_email(admin_client, gifts):
    response = admin_client.get(GIFTS_URL, {"q": "jane@example.com"})

    assert listed(response) == {gifts["paid"]}
    assert totals_line(response) == LISTED + ("$50 charged, $0 refunded, $50 kept by their projects")


def test_staff_find_a_gift_by_its_stripe_ids(admin_client, project, make_gift):
    gift = make_gift(
        project, stripe_checkout_session_id="cs_test_findme", stripe_payment_intent_id="pi_findme"
    )
    make_gift(project)

    assert listed(admin_client.get(GIFTS_URL, {"q": "cs_test_findme"})) == {gift}
    assert listed(admin_client.get(GIFTS_URL, {"q": "pi_findme"})) == {gift}


def test_gifts_cannot_be_added_by_hand(admin_client, gifts):
    assert admin_client.get(reverse("admin:donations_gift_add")).status_code == 403
    assert reverse("admin:donations_gift_add") not in admin_client.get(GIFTS_URL).content.decode()


def test_stripes_record_of_a_gift_cannot_be_edited(admin_client, gifts):
    gift = gifts["paid"]
    url = reverse("admin:donations_gift_change", args=[gift.pk])

    page = admin_client.get(url).content.decode()
    assert 'name="amount_minor"' not in page and 'name="status"' not in page
    assert 'name="donor_name"' in page

    admin_client.post(
        url,
        {
            "project": gift.project_id,
            "amount_minor": 1,
            "status": "refunded",
            "donor_name": "Corrected Name",
            "donor_email": gift.donor_email,
            "dedication": "",
            "dedication_name": "",
            "review_reason": "",
        },
    )
    gift.refresh_from_db()
    assert (gift.donor_name, gift.amount_minor, gift.status) == (
        "Corrected Name",
        5_000,
        Gift.Status.SUCCEEDED,
    )


def test_people_who_are_not_staff_cannot_see_gifts(client, django_user_model, gifts):
    user = django_user_model.objects.create_user("visitor", password="a long password 123")
    client.force_login(user)

    response = client.get(GIFTS_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# Projects in the admin


def test_the_project_page_shows_what_it_raised_read_only(admin_client, gifts, project):
    response = admin_client.get(reverse("admin:donations_project_change", args=[project.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    # Net of refunds: $50 + $25 - $10; the fully refunded, pending and failed gifts count for nothing.
    assert re.search(r'<div class="readonly">\$65</div>', page)
    assert re.search(r'<div class="readonly">2</div>', page)
    assert 'name="raised"' not in page and 'name="gift_count"' not in page


def test_the_project_list_shows_each_total(admin_client, gifts, project):
    response = admin_client.get(reverse("admin:donations_project_changelist"))

    rows = {p.slug: (p.raised_minor, p.gift_count) for p in response.context["cl"].result_list}
    assert rows["car-t"] == (6_500, 2)
    assert rows["education"] == (20_000, 1)  # the yen gift is not in the project's currency


# Public pages


def test_a_project_page_names_donors_who_asked_and_never_shows_emails(client, project, make_gift, gifts):
    yesterday = timezone.now() - timezone.timedelta(days=1)  # the wall shows whole days (test_donor_wall.py)
    make_gift(project, donor_name="Anna Public", donor_email="anna@example.com", show_name_publicly=True,
              paid_at=yesterday)  # fmt: skip
    make_gift(project, donor_name="Boris Private", donor_email="boris@example.com")
    make_gift(
        project,
        donor_name="Pending Pavel",
        donor_email="pavel@example.com",
        show_name_publicly=True,
        status=Gift.Status.PENDING,
    )
    make_gift(
        project,
        donor_name="Refunded Rita",
        donor_email="rita@example.com",
        show_name_publicly=True,
        status=Gift.Status.REFUNDED,
        amount_refunded_minor=5_000,
    )

    page = client.get(project.get_absolute_url()).content.decode()

    assert "Anna Public" in page
    for hidden in ("Boris Private", "Pending Pavel", "Refunded Rita"):
        assert hidden not in page
    assert "@example." not in page


def test_no_public_page_shows_a_donors_email(client, project, make_gift, make_story, gifts):
    make_gift(project, donor_name="Anna Public", donor_email="anna@example.com", show_name_publicly=True)
    make_story(projects=[project])

    for url in ["/", reverse("donations:project_list"), reverse("stories:list"), project.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "@example." not in response.content.decode(), url
