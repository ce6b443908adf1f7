"""The donate page earns trust: who we are, what the project needs, what each amount does."""

import re

import pytest
from django.urls import reverse

from charity.models import Charity
from donations.models import AmountMeaning, Gift, ProjectMilestone

pytestmark = pytest.mark.django_db

DONATE = reverse("donations:donate")


def donate_page(client, query=""):
    response = client.get(DONATE + query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_charitys_facts_are_beside_the_button(client, project):
    charity = Charity.load()
    charity.legal_name = "Podari.Life, Inc."
    charity.ein = "12-3456789"
    charity.tax_status = "Podari.Life is a 501(c)(3) public charity."
    charity.save()

    html = donate_page(client)
    form = re.search(r"<form class=\"donate-form\".*?</form>", html, re.S).group(0)

    assert "Podari.Life is a 501(c)(3) public charity." in form
    assert "tax-deductible to the extent allowed by law" in form
    assert 'EIN <span class="nowrap">12-3456789</span>' in form
    assert "Secure payment by Stripe" in form


def test_the_chosen_project_is_shown_with_its_progress_and_next_milestone(client, project, make_gift):
    ProjectMilestone.objects.create(project=project, amount_minor=1_000_000, title="fund a cell product")
    make_gift(project, amount_minor=320_000)

    html = donate_page(client, f"?project={project.slug}")
    chosen = re.search(r'<section class="panel chosen-project".*?</section>', html, re.S).group(0)

    assert project.title in chosen
    assert "<strong>$3,200</strong> raised of $5,000 goal" in chosen
    assert "<strong>$6,800 to go</strong> to fund a cell product" in chosen
    assert "<img " in chosen


def test_each_preset_amount_says_what_it_does(client, project, make_project):
    AmountMeaning.objects.create(
        project=project, amount_minor=10_000, sentence="pays for a day of a nurse's care"
    )
    AmountMeaning.objects.create(project=project, amount_minor=2_500, sentence="buys a child's blood tests")
    AmountMeaning.objects.create(project=project, amount_minor=777, sentence="is not a preset")
    other = make_project()
    AmountMeaning.objects.create(project=other, amount_minor=5_000, sentence="another project's sentence")

    html = donate_page(client, f"?project={project.slug}")

    listed = re.findall(r'<li data-amount="(\d+)"><strong>([^<]+)</strong> ([^<]+)</li>', html)
    assert listed == [
        ("2500", "$25", "buys a child\u2019s blood tests"),
        ("10000", "$100", "pays for a day of a nurse\u2019s care"),
    ]
    assert 'aria-live="polite" data-amount-meaning' in html
    assert "another project" not in html


def test_returning_from_checkout_unpaid_says_nothing_was_charged(
    client, donate, project, stripe_stub, checkout_session
):
    stripe_stub.respond(checkout_session())
    donate(project, amount_preset="10000", donor_name="Jane", donor_email="jane@example.com")
    gift = Gift.objects.get()

    html = donate_page(client, f"?resume={gift.public_id}")

    assert "Nothing was charged." in html
    assert "try again" in html
    assert 'value="jane@example.com"' in html  # the details are kept
    assert "Nothing was charged" not in donate_page(client)


def test_the_dedication_name_says_when_it_is_needed(client, project):
    html = donate_page(client)

    assert "Only if you chose \u201cIn honor of\u201d or \u201cIn memory of\u201d." in html
    assert "In honor of" in html and "honour" not in html.replace('value="honour"', "")
