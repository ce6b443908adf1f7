"""The About and Financial reports pages: who runs the charity, its legal facts with a way to
check them at the IRS, how money reaches Russia, each project's ledger and the reports staff
upload; and the warnings while the facts are placeholders."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from charity.models import Charity, FinancialReport, Person
from podari.media_registry import unregistered_fields

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n"


@pytest.fixture
def real_facts():
    charity = Charity.load()
    charity.legal_name = "Podari Life Test Foundation"
    charity.ein = "98-7654321"
    charity.address = "1 Test Plaza\nSpringfield, IL 62701"
    charity.founded_year = 2016
    charity.state_of_incorporation = "Delaware"
    charity.money_path = "We make **grants** to Podari Zhizn, screened against OFAC's lists."
    charity.save()
    return charity


def test_the_about_page_shows_the_people_facts_and_how_money_reaches_russia(client, real_facts):
    Person.objects.create(name="Anna Example", role="Board chair", group=Person.Group.BOARD)
    Person.objects.create(name="Dmitri Demo", role="Executive director", group=Person.Group.STAFF)

    html = client.get(reverse("charity:about")).content.decode()

    assert "<strong>Anna Example</strong>, Board chair" in html
    assert "<strong>Dmitri Demo</strong>, Executive director" in html
    assert html.index("Board of directors") < html.index("Anna Example") < html.index(">Staff<")
    assert "<dd>2016</dd>" in html and "<dd>Delaware</dd>" in html
    assert "98-7654321" in html and 'href="https://apps.irs.gov/app/eos/"' in html
    assert "We make <strong>grants</strong> to Podari Zhizn" in html


def test_the_default_money_path_is_marked_as_demo_and_names_ofac(client):
    html = client.get(reverse("charity:about")).content.decode()
    assert "Demo text" in html and "OFAC" in html


def test_the_financial_reports_page_links_each_projects_ledger_and_the_reports(
    client, real_facts, project, media_root
):
    report = FinancialReport.objects.create(
        kind=FinancialReport.Kind.FORM_990, year=2025, file=SimpleUploadedFile("f.pdf", PDF)
    )
    html = client.get(reverse("charity:financial_reports")).content.decode()
    assert f'href="{project.get_absolute_url()}#ledger"' in html
    assert reverse("ledger:project_csv", args=[project.slug]) in html
    assert f'href="{report.file.url}">Form 990 2025</a>' in html


def report_form(upload, **fields):
    return {"kind": "annual_report", "year": "2025", "file": upload, **fields}


@pytest.mark.parametrize(
    "upload, error",
    [
        (SimpleUploadedFile("report.docx", PDF, content_type="application/pdf"), "ending in .pdf"),
        (SimpleUploadedFile("report.pdf", PDF, content_type="text/html"), "sent as text/html"),
        (
            SimpleUploadedFile("report.pdf", b"<html>not a pdf", content_type="application/pdf"),
            "Upload a PDF",
        ),
    ],
    ids=["extension", "content type", "magic"],
)
def test_a_report_upload_must_be_a_pdf(admin_client, media_root, upload, error):
    response = admin_client.post(reverse("admin:charity_financialreport_add"), report_form(upload))
    assert error in response.content.decode()
    assert not FinancialReport.objects.exists()


def test_a_report_upload_may_be_at_most_20_mb():
    from django.core.exceptions import ValidationError

    from charity.models import validate_pdf

    big = SimpleUploadedFile("big.pdf", PDF, content_type="application/pdf")
    big.size = 20 * 1024 * 1024 + 1  # the check reads the size, not 20 MB of test data
    with pytest.raises(ValidationError, match="at most 20 MB"):
        validate_pdf(big)


def test_a_report_is_stored_under_a_name_of_our_own_and_registered_for_clean_up(admin_client, media_root):
    upload = SimpleUploadedFile("Board – private.pdf", PDF, content_type="application/pdf")
    assert (
        admin_client.post(reverse("admin:charity_financialreport_add"), report_form(upload)).status_code
        == 302
    )
    assert re.fullmatch(r"reports/[0-9a-f]{24}\.pdf", FinancialReport.objects.get().file.name)
    assert unregistered_fields() == []


def test_trust_pages_have_the_space_every_page_has_below_the_header(client):
    for name in ("charity:about", "charity:financial_reports"):
        assert '<article class="wrap section prose page">' in client.get(reverse(name)).content.decode()


def test_staff_are_warned_in_the_admin_while_facts_are_placeholders(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert "legal name, address, EIN still hold placeholders" in html


def test_no_warning_once_the_facts_are_real(admin_client, real_facts):
    assert "still hold placeholders" not in admin_client.get(reverse("admin:index")).content.decode()


def test_check_deploy_warns_while_facts_are_placeholders(capsys):
    from charity.checks import charity_facts_are_real

    (warning,) = charity_facts_are_real(None)
    assert warning.id == "charity.W001"
    assert "legal name, address, EIN are still placeholders" in warning.msg


def test_check_deploy_is_quiet_once_facts_are_real(real_facts):
    from charity.checks import charity_facts_are_real

    assert charity_facts_are_real(None) == []


def test_the_check_runs_only_with_deploy():
    # Tagged deploy: `manage.py check` alone stays quiet for a developer on placeholders.
    from django.core.checks import registry

    assert "charity_facts_are_real" not in [c.__name__ for c in registry.registry.get_checks()]
    assert "charity_facts_are_real" in [
        c.__name__ for c in registry.registry.get_checks(include_deployment_checks=True)
    ]
