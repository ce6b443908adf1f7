"""A supporter's birthday page in a real Chromium: signed in by an emailed link, made,
approved by staff in the admin, given on through the simulated checkout, and showing the
right figures; axe finds nothing on any of the new pages, at desktop width or at 390 px."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e import flows
from tests.e2e.test_accessibility import assert_no_axe_violations

pytestmark = pytest.mark.browser


def _photo(tmp_path):
    from PIL import Image

    path = tmp_path / "birthday.png"
    Image.new("RGB", (480, 320), (230, 120, 150)).save(path)
    return path


def make_birthday_page(page, mailoutbox, tmp_path):
    """The supporter asks for a link, signs in with it and makes a birthday page for the
    CAR-T project; it waits for approval."""
    page.goto("/fundraisers/")
    assert_no_axe_violations(page, "fundraiser_start")
    page.get_by_role("textbox", name="Your email address").fill("lena@example.com")
    page.get_by_role("textbox", name=re.compile("^Your name")).fill("Lena")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    link = re.search(r"https?://[^/\s]+(/fundraisers/link/\S+/)", mailoutbox[-1].body).group(1)
    page.goto(link)
    assert_no_axe_violations(page, "fundraiser_sign_in")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your fundraiser pages")
    assert_no_axe_violations(page, "fundraiser_mine")

    page.get_by_role("link", name="Start a new page").click()
    assert_no_axe_violations(page, "fundraiser_form")
    page.get_by_label("Which project will your page support?").select_option(
        label="CAR-T therapy for children"
    )
    page.get_by_label("Title of your page").fill("Lena’s 40th birthday")
    page.get_by_role("radio", name="A birthday").check()
    page.get_by_label("Your goal").fill("500")
    page.get_by_label("Last day of giving").fill(
        (timezone.localdate() + timezone.timedelta(days=20)).isoformat()
    )
    page.get_by_label("Your story").fill("Instead of presents, please give to **CAR-T** therapy.")
    page.get_by_label("A photo").set_input_files(_photo(tmp_path))
    page.get_by_label("image description (alt text)").fill("Lena blowing out candles on a cake")
    page.get_by_label(re.compile("^I may publish this photo")).check()
    page.get_by_role("button", name="Send my page for review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lena’s 40th birthday")
    expect(page.get_by_text("Waiting for approval")).to_be_visible()
    assert_no_axe_violations(page, "fundraiser_owner")


def approve_in_admin(chromium, live_server, django_user_model):
    """A member of staff approves the waiting page in the admin."""
    django_user_model.objects.create_superuser("boss", "boss@example.com", "a-long-test-password-1")
    staff_context = chromium.new_context(base_url=live_server.url, locale="en-US")
    staff = staff_context.new_page()
    staff.goto("/admin/login/?next=/admin/fundraisers/fundraiser/")
    staff.fill("#id_username", "boss")
    staff.fill("#id_password", "a-long-test-password-1")
    staff.click("input[type=submit]")
    staff.wait_for_url("**/admin/fundraisers/fundraiser/")
    staff.locator("input[name=_selected_action]").first.check()
    staff.select_option("select[name=action]", "approve")
    staff.get_by_role("button", name="Go").click()
    expect(staff.get_by_text("Approved 1 page(s).")).to_be_visible()
    staff_context.close()


def give_on_the_page(donor, amount):
    """A donor gives on Lena's page through the simulated checkout, named, and lands on
    the thank-you page."""
    donor.goto("/fundraisers/lenas-40th-birthday/")
    assert_no_axe_violations(donor, "fundraiser_detail")
    donor.get_by_role("link", name="Give on this page").click()
    expect(donor.get_by_text("You are giving on")).to_be_visible()
    assert_no_axe_violations(donor, "fundraiser_donate")
    donor.get_by_role("radio", name="My name and the amount").check()
    donor.get_by_role("textbox", name=re.compile("^Your name")).fill("Ada")
    donor.get_by_role("textbox", name="Email").fill("ada@example.com")
    flows.fill_donate_form(donor, amount)
    donor.get_by_role("button", name=re.compile(r"^Pay ")).click()
    donor.wait_for_url(re.compile(r"/donate/thanks/\?session_id="))
    expect(donor.get_by_role("link", name="Lena’s 40th birthday")).to_be_visible()  # counts there too


def test_a_supporter_makes_a_birthday_page_staff_approve_it_and_a_donor_gives(
    browser_page, chromium, live_server, content, console_errors, mailoutbox, django_user_model, tmp_path
):
    page = browser_page
    make_birthday_page(page, mailoutbox, tmp_path)
    approve_in_admin(chromium, live_server, django_user_model)

    # A donor opens the page and gives on it through the simulated checkout.
    donor_context = chromium.new_context(base_url=live_server.url, locale="en-US")
    donor = donor_context.new_page()
    give_on_the_page(donor, "40")

    # The page shows its own figures and the project's, which counts the gift once.
    donor.goto("/fundraisers/lenas-40th-birthday/")
    expect(donor.get_by_text("$40 raised of $500 goal")).to_be_visible()
    expect(donor.get_by_text("8% of the goal · 1 gift")).to_be_visible()
    expect(donor.get_by_text("$3,240 raised of $5,000 goal")).to_be_visible()  # $3,200 before
    # Readable on a phone: no sideways scrolling, and still nothing for axe.
    donor.set_viewport_size({"width": 390, "height": 844})
    scroll, inner = donor.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner
    assert_no_axe_violations(donor, "fundraiser_detail_390")
    donor.get_by_role("link", name="Report this page").click()
    assert_no_axe_violations(donor, "fundraiser_report")
    donor_context.close()

    # The owner sees the donor as they chose, and never their address.
    page.reload()
    expect(page.get_by_role("cell", name="Ada")).to_be_visible()
    expect(page.get_by_role("cell", name="$40")).to_be_visible()
    assert "ada@example.com" not in page.content()
    assert console_errors == []


def test_an_ended_page_offers_the_project_instead(browser_page, content):
    from fundraisers.models import Fundraiser, Supporter
    from tests.conftest import image_upload

    supporter = Supporter.objects.create(email="old@example.com", name="Oleg")
    ended = Fundraiser.objects.create(
        supporter=supporter,
        project=content["project"],
        slug="olegs-birthday",
        title="Oleg’s birthday",
        story="Thank you, everyone.",
        image=image_upload("oleg.png", size=(480, 320)),
        image_alt="Oleg with friends",
        photo_permission=True,
        goal_minor=50_000,
        ends_on=timezone.localdate() - timezone.timedelta(days=2),
        status=Fundraiser.Status.LIVE,
    )
    page = browser_page
    page.goto(ended.get_absolute_url())
    expect(page.get_by_text("This fundraiser has ended and takes no more gifts.")).to_be_visible()
    assert_no_axe_violations(page, "fundraiser_ended")
    page.get_by_role("link", name="Give to CAR-T therapy for children instead").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Make a gift")
