"""Staff and trust pages in a real Chromium, on a phone (390 px) and a laptop (1280 px): the
About and Financial reports pages (spacing, no sideways scroll, axe), a draft saved unfinished
and viewed on the site, and the story admin's word on its impact emails."""

import os
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser

WIDTHS = [390, 1280]
PASSWORD = "a-long-test-password-1"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def for_docs(page, name):
    # The README's pictures, refreshed on demand: DOCS_SCREENSHOTS=1 pytest tests/e2e/test_staff_trust.py
    if os.environ.get("DOCS_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def sign_in(page, django_user_model, next_url):
    if not django_user_model.objects.filter(username="boss").exists():
        django_user_model.objects.create_superuser("boss", "boss@example.com", PASSWORD)
    page.goto(f"/admin/login/?next={next_url}")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{next_url}")


@pytest.fixture
def trust(content, media_root):
    from charity.models import Charity, FinancialReport, Person

    facts = Charity.load()
    facts.founded_year = 2016
    facts.save()
    Person.objects.create(name="Anna Example (demo)", role="Board chair", group=Person.Group.BOARD)
    Person.objects.create(name="Dmitri Demo (demo)", role="Executive director", group=Person.Group.STAFF)
    FinancialReport.objects.create(
        kind=FinancialReport.Kind.ANNUAL_REPORT, year=2025, file=SimpleUploadedFile("r.pdf", b"%PDF-1.7\n")
    )
    return content


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path, name", [("/about/", "about"), ("/financial-reports/", "financial-reports")])
def test_trust_pages_are_spaced_below_the_header_fit_the_screen_and_pass_axe(
    browser_page, trust, console_errors, width, path, name
):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path)
    header_bottom = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().bottom")
    title_top = page.evaluate("document.querySelector('main h1').getBoundingClientRect().top")
    assert title_top - header_bottom >= 24, (header_bottom, title_top)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if name == "about":
        expect(
            page.get_by_role("link", name=re.compile("IRS Tax Exempt Organization Search"))
        ).to_be_visible()
        expect(page.get_by_text("Anna Example (demo)")).to_be_visible()
    else:
        expect(page.get_by_role("link", name="Annual report 2025")).to_be_visible()
    assert_no_axe_violations(page, f"{name}_{width}")
    assert console_errors == []
    for_docs(page, f"{name}-{'phone' if width < 800 else 'desktop'}")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_draft_saves_unfinished_and_view_on_site_opens_its_preview(
    browser_page, content, django_user_model, width
):
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, django_user_model, "/admin/stories/story/add/")
    page.fill("#id_title", "Notes from the ward")
    page.fill("textarea[name=body]", "First notes, to be finished.")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    change_url = page.url
    page.get_by_role("link", name="View on site").click()
    page.wait_for_url("**/stories/preview/**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Notes from the ward")

    page.goto(change_url)
    page.select_option("#id_status", "published")
    page.click("input[name=_continue]")
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.get_by_text("Needed to publish or schedule the story").first).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_story_admin_says_when_a_scheduled_story_will_be_emailed(
    browser_page, content, django_user_model, make_story, width
):
    from donations.models import Donor

    donor = Donor.objects.create(email="ada@example.com", wants_impact_emails=True)
    from tests.conftest import record_gift

    record_gift(content["project"], donor=donor, donor_email=donor.email)
    story = make_story(
        projects=[content["project"]],
        title="Next month's news",
        slug="next-month",
        publish_at=timezone.now() + timezone.timedelta(days=2),
    )
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    url = f"/admin/stories/story/{story.pk}/change/"
    sign_in(page, django_user_model, url)
    expect(page.get_by_text(re.compile(r"Will be emailed to 1 donor when it goes live \("))).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= max(width, 1280)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_gift_list_and_a_donor_profile_fit_the_screen(
    browser_page, content, django_user_model, make_gift, width
):
    from donations.models import Donor, Gift, RecurringGift

    donor = Donor.objects.create(
        email="zoya.konstantinopolskaya@example.com", name="Zoya Konstantinopolskaya"
    )
    for n in range(3):
        make_gift(
            content["project"], donor=donor, donor_email=donor.email, donor_name=donor.name,
            amount_minor=12_345 + n, stripe_payment_intent_id=f"pi_zoya_{n}",
        )  # fmt: skip
    make_gift(content["project"], needs_review=True, donor_name="Review Me", frequency=Gift.Frequency.MONTHLY)
    make_gift(content["project"], status=Gift.Status.ABANDONED, donor_name="Left Early")
    RecurringGift.objects.create(
        project=content["project"], donor=donor, amount_minor=2_500, currency="usd",
        status=RecurringGift.Status.ACTIVE, stripe_subscription_id="sub_zoya",
    )  # fmt: skip
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, django_user_model, "/admin/donations/gift/")
    expect(page.locator("#result_list .needs-review")).to_have_text("needs review")
    expect(page.get_by_text("Left Early")).to_have_count(0)
    if width == 1280:
        widths = page.evaluate(
            """() => { const r = document.querySelector('.results');
              return [document.documentElement.scrollWidth, r.scrollWidth, r.clientWidth]; }"""
        )
        assert widths[0] <= 1280 and widths[1] <= widths[2], widths
        for_docs(page, "admin-gift-list")

    page.goto(f"/admin/donations/donor/{donor.pk}/change/")
    expect(page.get_by_role("link", name="Refund…").first).to_be_visible()
    expect(page.get_by_text("$25 a month")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= max(width, 1280)
    if width == 1280:
        for_docs(page, "admin-donor-profile")


def test_every_admin_list_fits_1280_pixels(browser_page, content, django_user_model):
    from django.contrib import admin
    from django.urls import reverse

    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, django_user_model, "/admin/")
    too_wide = []
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        page.goto(url)
        widths = page.evaluate(
            """() => { const r = document.querySelector('.results');
              const html = document.documentElement;
              return [html.scrollWidth, r ? r.scrollWidth : 0, r ? r.clientWidth : 0]; }"""
        )
        if widths[0] > 1280 or widths[1] > widths[2]:
            too_wide.append((url, widths))
            screenshot(page, f"too-wide-{model._meta.model_name}")
    assert too_wide == [], "\n".join(map(str, too_wide))
