"""A donor finds who we are from any page: legal name, EIN, address, the tax statement, our pages."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from charity.models import Charity, Page, PageDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def facts():
    charity = Charity.load()
    charity.legal_name = "Podari Life Test Foundation"
    charity.ein = "98-7654321"
    charity.address = "1 Test Plaza\nSpringfield, IL 62701"
    charity.tax_status = "A 501(c)(3) nonprofit. Gifts are tax-deductible to the extent allowed by law."
    charity.save()
    return charity


@pytest.fixture
def pages():
    return [
        Page.objects.create(title="About us", slug="about", body="Who we are.", position=1),
        Page.objects.create(title="Privacy policy", slug="privacy", body="What we keep.", position=2),
        Page.objects.create(title="Financial reports", slug="financial-reports", body="Reports.", position=3),
        Page.objects.create(title="Internal note", slug="note", body="Not linked.", show_in_footer=False),
    ]


def footer(html):
    return html.split('<footer class="site-footer">')[1]


def public_urls(project, story):
    return [
        "/",
        reverse("stories:list"),
        story.get_absolute_url(),
        reverse("donations:project_list"),
        project.get_absolute_url(),
        reverse("donations:donate"),
        "/about/",
        "/no-such-page/",
    ]


def test_every_page_shows_the_charitys_facts_and_links_to_its_pages(
    client, facts, pages, project, make_story
):
    story = make_story(projects=[project])

    for url in public_urls(project, story):
        html = footer(client.get(url).content.decode())
        assert "Podari Life Test Foundation" in html, url
        assert 'EIN <span class="nowrap">98-7654321</span>' in html, url
        assert "1 Test Plaza<br>Springfield, IL 62701" in html, url
        assert "tax-deductible to the extent allowed by law" in html, url
        for page in pages[:3]:
            assert f'href="/{page.slug}/"' in html, url
        assert 'href="/note/"' not in html


def test_facts_edited_in_the_admin_show_on_the_next_request_even_from_the_page_cache(
    settings, client, admin_client, facts, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE_ENABLED = True
    assert "98-7654321" in client.get("/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:charity_charity_change", args=[facts.pk]),
            {
                "legal_name": "Podari.Life, Inc.",
                "ein": "123456789",
                "address": "2 New Street\nBoston, MA 02110",
                "contact_email": "give@podari.life",
                "tax_status": facts.tax_status,
                "state_of_incorporation": "New York",
                "money_path": "Grants to our partner charity.",
            },
        )

    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert 'EIN <span class="nowrap">12-3456789</span>' in html  # typed without the dash
    assert "2 New Street" in html and "98-7654321" not in html


def test_an_ein_must_have_nine_digits(admin_client, facts):
    response = admin_client.post(
        reverse("admin:charity_charity_change", args=[facts.pk]),
        {
            "legal_name": "X",
            "ein": "12-345",
            "address": "A",
            "contact_email": "a@b.org",
            "tax_status": "T",
            "state_of_incorporation": "New York",
            "money_path": "M",
        },  # fmt: skip
    )

    assert "An EIN has nine digits" in response.content.decode()
    assert Charity.load().ein == "98-7654321"


def test_the_demo_facts_are_marked_as_placeholders(client):
    charity = Charity.load()

    assert charity.is_placeholder
    assert "[placeholder]" in footer(client.get("/").content.decode())


def test_a_page_is_rendered_from_sanitised_markdown(client):
    Page.objects.create(
        title="About us",
        slug="about",
        body="We fund **CAR-T**.\n\n<script>alert(1)</script>\n\n[x](javascript:alert(2))",
    )

    html = client.get("/about/").content.decode()

    assert "<strong>CAR-T</strong>" in html
    assert "<script>alert" not in html and "javascript:" not in html


def test_pages_are_in_the_sitemap(client, pages):
    xml = client.get("/sitemap.xml").content.decode()

    for page in pages:
        assert f"/{page.slug}/</loc>" in xml


def test_a_financial_report_must_be_a_pdf_and_is_stored_under_a_name_of_our_own(
    admin_client, pages, media_root
):
    page = pages[2]
    url = reverse("admin:charity_page_change", args=[page.pk])
    form = {
        "title": page.title,
        "slug": page.slug,
        "summary": "",
        "body": page.body,
        "show_in_footer": "on",
        "position": page.position,
        "documents-TOTAL_FORMS": "1",
        "documents-INITIAL_FORMS": "0",
        "documents-MIN_NUM_FORMS": "0",
        "documents-MAX_NUM_FORMS": "1000",
        "documents-0-title": "Annual report 2025",
        "documents-0-position": "0",
    }

    fake = SimpleUploadedFile(
        "report.pdf", b"<html><script>alert(1)</script>", content_type="application/pdf"
    )
    response = admin_client.post(url, {**form, "documents-0-file": fake})
    assert "Upload a PDF file." in response.content.decode()
    assert not PageDocument.objects.exists()

    real = SimpleUploadedFile(
        "Board minutes – private.pdf", b"%PDF-1.7\n%\xe2\xe3\n", content_type="application/pdf"
    )
    assert admin_client.post(url, {**form, "documents-0-file": real}).status_code == 302
    document = PageDocument.objects.get()
    assert re.fullmatch(r"documents/[0-9a-f]{24}\.pdf", document.file.name)
    html = client_page(page)
    assert f'href="{document.file.url}">Annual report 2025</a>' in html


def client_page(page):
    from django.test import Client

    return Client().get(page.get_absolute_url()).content.decode()


def test_favicon_ico_answers(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert client.get(response["Location"]).status_code == 200
