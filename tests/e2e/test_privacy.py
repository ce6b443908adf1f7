"""As on `make run`, in a real Chromium: a monthly donor downloads their data, then erases
themselves; their gifts still count on the project page and in the ledger, and nothing the
site shows, exports or sends names them."""

import io
import json
import re
import zipfile

import pytest
from playwright.sync_api import expect

from donations.models import Donor, Gift, Project, RecurringGift
from tests.e2e import flows
from tests.e2e.test_accessibility import assert_no_axe_violations
from tests.e2e.test_monthly import fill_monthly_gift

pytestmark = pytest.mark.browser

LINK = re.compile(r"https?://[^/\s]+(/manage/(?:link|data|erase)/\S+/)")


def newest_link(mailoutbox, subject):
    message = [m for m in mailoutbox if m.subject.startswith(subject)][-1]
    return LINK.search(message.body).group(1)


def test_a_donor_downloads_their_data_and_erases_themselves(
    browser_page, content, console_errors, mailoutbox, client
):
    page = browser_page
    project = content["project"]
    fill_monthly_gift(page, project)
    page.get_by_role("textbox", name="Your name").fill("Jane Quaxley")
    page.get_by_role("button", name=flows.DONATE_BUTTON).click()
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(r"/donate/thanks/"))
    raised = Project.objects.get(pk=project.pk).raised_minor
    csv_before = client.get(f"/projects/{project.slug}/ledger.csv").content

    # Manage my giving: the emailed link, then the giving page.
    page.goto("/manage/")
    page.get_by_role("textbox", name="Your email address").fill("jane@example.com")
    page.get_by_role("button", name="Email me a link").click()
    page.goto(newest_link(mailoutbox, "Your link"))
    assert "/manage/link/" in page.url and page.url.endswith("/manage/link/")  # no token in the bar
    page.get_by_role("button", name="Open my giving page").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My giving")

    # Download my data: built in the background, offered by an emailed link.
    page.get_by_role("button", name="Download my data").click()
    expect(page.get_by_role("status")).to_contain_text("email you a link to download it")
    page.goto(newest_link(mailoutbox, "Your data"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data")
    assert_no_axe_violations(page, "donor_data")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download my data").click()
    archive = zipfile.ZipFile(io.BytesIO(open(download.value.path(), "rb").read()))  # noqa: SIM115
    data = json.loads(archive.read("my-data.json"))
    assert data["profile"]["email"] == "jane@example.com"
    assert data["monthly_gifts"][0]["status"] == "Active"

    # Erase me: explained, then confirmed by an emailed link.
    page.goto("/manage/giving/")
    page.get_by_role("link", name="Erase my data").click()
    expect(page.get_by_role("main")).to_contain_text("Your monthly gift stops at once")
    assert_no_axe_violations(page, "donor_erase_request")
    page.get_by_role("button", name="Email me a link to confirm the erasure").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    page.goto(newest_link(mailoutbox, "Confirm: erase"))
    assert_no_axe_violations(page, "donor_erase_confirm")
    page.get_by_role("button", name="Erase my data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your data is being erased")

    assert not Donor.objects.filter(email="jane@example.com").exists()
    assert RecurringGift.objects.get().status == RecurringGift.Status.CANCELLED
    (gift,) = Gift.objects.filter(recurring_gift__isnull=False)
    assert (gift.donor_name, gift.donor_email) == ("Anonymous donor", "")
    assert Project.objects.get(pk=project.pk).raised_minor == raised
    assert client.get(f"/projects/{project.slug}/ledger.csv").content == csv_before
    page.goto(project.get_absolute_url())
    expect(page.get_by_role("main")).not_to_contain_text("Quaxley")
    assert console_errors == [], console_errors
