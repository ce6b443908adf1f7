"""What donors and staff do on the site, in a real Chromium: read, follow, give, publish."""

import io
import re
import xml.etree.ElementTree as ET

import pytest
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = pytest.mark.browser

ATOM = "{http://www.w3.org/2005/Atom}"


def raised_text(page):
    return page.locator(".progress__text").first.inner_text()


def test_donor_reads_a_story_and_gives_a_custom_amount(browser_page, content, console_errors):
    page = browser_page
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page).to_have_title(re.compile("Podari.Life"))
    # The stylesheet loads through the live server and CSP lets it apply.
    assert page.evaluate(
        "[...document.styleSheets].some(s => s.href && s.href.includes('/static/css/') && s.cssRules.length)"
    )

    page.get_by_role("link", name="Masha rings the bell").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Masha rings the bell")
    expect(page.get_by_role("img", name=content["stories"][0].image_alt)).to_be_visible()

    page.get_by_role("link", name="CAR-T therapy for children", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/projects/car-t/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("CAR-T therapy for children")
    assert "$3,200" in raised_text(page)

    page.get_by_role("link", name="Donate to CAR-T therapy for children").first.click()
    expect(page).to_have_url(re.compile(r"/donate/\?project=car-t$"))
    expect(page.get_by_role("combobox", name=re.compile("Where should your gift go"))).to_have_value("car-t")
    flows.fill_donate_form(page, "37.50")

    expect(page).to_have_url(re.compile(r"/donate/simulated-checkout/cs_test_simulated_\w+/$"))
    expect(page.get_by_text("test mode", exact=False).first).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Pay \$37\.50")).click()

    expect(page).to_have_url(re.compile(r"/donate/thanks/\?session_id=cs_test_simulated_\w+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(flows.THANK_YOU)
    main = page.get_by_role("main")
    expect(main).to_contain_text("$37.50")
    expect(main.get_by_role("link", name="CAR-T therapy for children").first).to_be_visible()

    main.get_by_role("link", name="CAR-T therapy for children").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CAR-T therapy for children")
    assert "$3,237.50" in raised_text(page)
    assert console_errors == [], console_errors


@pytest.fixture
def stripe_checkout(settings, stripe_stub, live_server):
    """Real Stripe mode against the HTTP stub.

    Stripe's own Checkout page is out of reach in tests, so the session's address sends the
    browser straight back to the thank-you page, as Checkout does once the donor has paid.
    """
    from tests.conftest import load_stripe_fixture

    settings.STRIPE_SECRET_KEY = "sk_test_suite_key"
    settings.SIMULATED_CHECKOUT = False
    session = load_stripe_fixture("checkout_session_completed")["data"]["object"]
    session.update(
        id="cs_test_e2e", status="open", url=f"{live_server.url}/donate/thanks/?session_id=cs_test_e2e"
    )
    stripe_stub.respond(session)
    return stripe_stub


def test_the_amount_chosen_is_the_amount_charged(browser_page, content, stripe_checkout, console_errors):
    page = browser_page
    page.goto(content["project"].get_donate_url())
    fifty = page.get_by_role("radio", name="$50")
    other = page.get_by_role("radio", name="Other amount")
    box = page.get_by_role("textbox", name=flows.AMOUNT_BOX)
    button = page.get_by_role("button", name=flows.DONATE_BUTTON)
    expect(fifty).to_be_checked()
    expect(box).to_be_hidden()
    expect(button).to_have_text("Donate $50")

    other.check()
    expect(box).to_be_visible()
    expect(button).to_have_text("Donate")
    box.fill("30")
    expect(fifty).not_to_be_checked()
    expect(other).to_be_checked()
    expect(button).to_have_text("Donate $30")

    # Back to $50: the typed 30 stays in view but no longer counts; typing again chooses "Other".
    page.locator("label", has=fifty).click()
    expect(fifty).to_be_checked()
    expect(button).to_have_text("Donate $50")
    box.fill("30.5")
    expect(other).to_be_checked()
    expect(fifty).not_to_be_checked()
    expect(button).to_have_text("Donate $30.50")
    box.fill("30")
    expect(button).to_have_text("Donate $30")

    button.click()
    page.wait_for_url(re.compile(r"/donate/thanks/\?session_id=cs_test_e2e$"))
    (request,) = stripe_checkout.requests
    assert request["params"]["line_items[0][price_data][unit_amount]"] == "3000"
    assert request["params"]["line_items[0][price_data][currency]"] == "usd"
    assert console_errors == [], console_errors


def test_choosing_a_project_in_yen_shows_and_charges_yen(
    browser_page, content, make_project, stripe_checkout, console_errors, settings
):
    settings.DONATION_PRESETS_MINOR = [2_500, 5_000, 10_000]  # three in dollars, four in yen
    make_project(title="Tokyo clinic", slug="tokyo", currency="jpy")
    page = browser_page
    page.goto("/donate/")
    button = page.get_by_role("button", name=flows.DONATE_BUTTON)
    expect(button).to_have_text("Donate $50")
    expect(page.get_by_role("group", name="Amount").get_by_role("radio")).to_have_count(4)

    page.get_by_role("combobox", name=re.compile("Where should your gift go")).select_option("tokyo")
    amounts = page.get_by_role("group", name="Amount")
    expect(amounts.get_by_role("radio")).to_have_count(5)
    expect(amounts).not_to_contain_text("$")
    expect(page.get_by_role("radio", name="¥5,000")).to_be_checked()
    expect(button).to_have_text("Donate ¥5,000")
    expect(page.get_by_role("textbox", name=re.compile("Japanese yen"))).to_be_hidden()
    page.get_by_role("radio", name="¥30,000").check()
    expect(button).to_have_text("Donate ¥30,000")
    expect(page.get_by_role("radio", name="¥5,000")).not_to_be_checked()

    page.get_by_role("radio", name="Other amount").check()
    page.get_by_role("textbox", name=flows.AMOUNT_BOX).fill("7,000")
    expect(button).to_have_text("Donate ¥7,000")
    button.click()
    page.wait_for_url(re.compile(r"/donate/thanks/"))
    params = stripe_checkout.requests[0]["params"]
    assert params["line_items[0][price_data][currency]"] == "jpy"
    assert params["line_items[0][price_data][unit_amount]"] == "7000"
    assert console_errors == [], console_errors


def test_without_javascript_the_chosen_radio_decides(chromium, live_server, content, stripe_checkout):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/donate/")
        box = page.get_by_role("textbox", name=flows.AMOUNT_BOX)
        expect(box).to_be_visible()
        expect(page.get_by_text("Used only when “Other amount” is chosen.")).to_be_visible()
        box.fill("30")
        expect(page.get_by_role("radio", name="$50")).to_be_checked()
        # The button names the total as the page was drawn: the chosen radio's $50.
        page.get_by_role("button", name="Donate $50").click()
        page.wait_for_url(re.compile(r"/donate/thanks/"))
        assert stripe_checkout.requests[0]["params"]["line_items[0][price_data][unit_amount]"] == "5000"
    finally:
        context.close()


def test_keyboard_only_gift(browser_page, content):
    """The same gift with Tab, Shift+Tab, arrows, Space and Enter; every stop shows its focus."""
    page = browser_page
    page.goto(content["project"].get_absolute_url())

    flows.tab_until(page, lambda f: f["name"] == "Donate to CAR-T therapy for children")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/donate/\?project=car-t$"))

    # Tab lands on the checked radio of "how often" (giving once is preselected), then on
    # the checked radio of the amount group; arrows move the choice.
    info = flows.tab_until(page, lambda f: f["type"] == "radio")
    assert info["name"] == "One-time"
    info = flows.tab_until(page, lambda f: f["type"] == "radio", limit=1)
    assert info["name"] == "$50"
    for _ in range(10):
        if flows.focused(page)["name"] == "Other amount":
            break
        page.keyboard.press("ArrowDown")
        flows.assert_focus_visible(page)
    page.keyboard.press("Space")
    other = page.get_by_role("radio", name="Other amount")
    expect(other).to_be_focused()
    expect(other).to_be_checked()

    flows.tab_until(page, lambda f: f["tag"] == "input" and f["type"] != "radio", limit=3)
    amount_box = page.get_by_role("textbox", name=flows.AMOUNT_BOX)
    expect(amount_box).to_be_focused()
    page.keyboard.type("37.50")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/donate/simulated-checkout/"))
    pay = flows.tab_until(page, lambda f: f["name"].startswith("Pay "))
    assert "$37.50" in pay["name"]
    # One step on to Cancel and back again with Shift+Tab.
    flows.tab_until(page, lambda f: f["name"].startswith("Cancel"), limit=1)
    flows.tab_until(page, lambda f: f["name"].startswith("Pay "), key="Shift+Tab", limit=1)
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/donate/thanks/\?session_id="))
    expect(page.get_by_role("heading", level=1)).to_have_text(flows.THANK_YOU)
    expect(page.get_by_role("main")).to_contain_text("$37.50")
    expect(page.get_by_role("main")).to_contain_text("CAR-T therapy for children")


def test_confirming_page_shows_the_gift_once_the_payment_arrives(browser_page, content):
    """While Stripe's webhook is on its way the page checks quietly, without reloading; then shows it."""
    from donations import services
    from donations.models import Gift

    page = browser_page
    page.clock.install()  # the page's timers run when the test moves the clock on
    session_id = flows.open_thanks_confirming(page, "37.50")
    expect(page.get_by_role("status")).to_contain_text("waiting for the payment processor")
    page.evaluate("window.sameDocument = true")
    with page.expect_response(lambda response: "/donate/thanks/" in response.url):
        page.clock.fast_forward(5_000)  # the script asks again in the background
    page.wait_for_timeout(200)
    assert page.evaluate("window.sameDocument === true"), "The pending page reloaded itself"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirming")

    services.pay_simulated_checkout(Gift.objects.get(stripe_checkout_session_id=session_id))
    with page.expect_navigation():
        page.clock.fast_forward(5_000)
    expect(page.get_by_role("heading", level=1)).to_have_text(flows.THANK_YOU)
    expect(page.get_by_role("main")).to_contain_text("$37.50 to General fund")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("abc", "amount"), ("1", re.escape("The smallest gift we can take online is $5"))],
    ids=["not-a-number", "below-the-minimum"],
)
def test_bad_amount_is_explained_next_to_the_field(browser_page, content, amount, message):
    page = browser_page
    page.goto("/donate/")
    flows.fill_donate_form(page, amount)

    expect(page).to_have_title(re.compile("^Error: "))
    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text(re.compile(message, re.IGNORECASE))

    field = page.get_by_role("textbox", name=flows.AMOUNT_BOX)
    expect(field).to_have_attribute("aria-invalid", "true")
    described_by = field.get_attribute("aria-describedby") or ""
    error_ids = [i for i in described_by.split() if page.locator(f"#{i}.errorlist").count()]
    assert error_ids, f"The amount's error is not linked with aria-describedby ({described_by!r})"
    error = page.locator(f"#{error_ids[0]}")
    expect(error).to_be_visible()
    expect(error).to_contain_text(re.compile(message, re.IGNORECASE))
    # The error sits next to the field, not elsewhere on the page.
    field_box, error_box = field.bounding_box(), error.bounding_box()
    assert abs(field_box["y"] - error_box["y"]) < 150

    # Without any script, focus has gone to the error summary (or the field itself).
    active = page.evaluate(
        "() => ({role: document.activeElement.getAttribute('role'), id: document.activeElement.id})"
    )
    assert active["role"] == "alert" or active["id"] == "id_amount_custom", active
    flows.assert_focus_visible(page)

    # The summary's link takes the donor to the field; a good amount then goes through.
    summary.get_by_role("link").first.click()
    field.fill("37.50")
    page.get_by_role("button", name=flows.DONATE_BUTTON).click()
    page.wait_for_url(re.compile(r"/donate/simulated-checkout/"))


def png_file(path):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (210, 120, 90)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_staff_writes_previews_and_publishes_a_story(browser_page, content, django_user_model, tmp_path):
    page = browser_page
    django_user_model.objects.create_superuser("editor", "editor@example.com", "a-long-test-password")
    page.goto("/admin/")
    page.get_by_label("Username").fill("editor")
    page.get_by_label("Password").fill("a-long-test-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()

    page.goto("/admin/stories/story/add/")
    page.get_by_label("Title").press_sequentially("Dima goes home")
    page.get_by_label("Summary").fill("Two months after CAR-T therapy, Dima, 9, is back at school.")
    expect(page.locator("#id_slug")).to_have_value("dima-goes-home")  # prepopulated by the admin's script
    page.locator("#id_image").set_input_files(str(png_file(tmp_path / "dima.png")))
    # The first one is the story's own picture; the gallery's photos have theirs below.
    page.get_by_label("Image description (alt text)").first.fill("Dima waves from the hospital door")
    page.locator("#id_body").fill("## Home again\n\nDima's *first* day at school.\n\n- Maths\n- Football\n")
    expect(page.locator("#id_status")).to_have_value("draft")
    page.locator("#id_projects_from").select_option(label="CAR-T therapy for children")
    page.locator("#id_projects_add").click()
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    from stories.models import Story

    story = Story.objects.get(slug="dima-goes-home")
    assert story.status == Story.Status.DRAFT
    assert [p.slug for p in story.projects.all()] == ["car-t"]

    with page.context.expect_page() as preview_info:
        page.get_by_role("link", name="Preview this story as donors will see it").click()
    preview = preview_info.value
    preview.wait_for_load_state()
    assert preview.url.endswith(f"/stories/preview/{story.pk}/")
    expect(preview.get_by_role("heading", level=1)).to_have_text("Dima goes home")
    expect(preview.get_by_text("Preview: this story is not public yet.")).to_be_visible()
    expect(preview.get_by_role("heading", name="Home again")).to_be_visible()
    expect(preview.get_by_role("img", name="Dima waves from the hospital door")).to_be_visible()
    preview.close()

    # Not on the site yet.
    assert page.request.get(story.get_absolute_url()).status == 404

    page.locator("#id_status").select_option("published")
    page.locator(".field-publish_at").get_by_role("link", name="Today").click()
    page.locator(".field-publish_at").get_by_role("link", name="Now").click()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    story.refresh_from_db()
    assert story.is_public

    page.goto("/")
    link = page.get_by_role("link", name="Dima goes home")
    expect(link).to_be_visible()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dima goes home")
    expect(page.get_by_text("Preview: this story is not public yet.")).to_have_count(0)

    feed = page.request.get("/stories/feed/")
    assert feed.ok
    assert "atom" in feed.headers["content-type"]
    root = ET.fromstring(feed.body())  # noqa: S314 (our own feed, from the test server)
    titles = [entry.findtext(f"{ATOM}title") for entry in root.iter(f"{ATOM}entry")]
    assert titles[0] == "Dima goes home", titles


# The page's width against the window's, and the first few elements sticking out on the right.
WIDTH_SCRIPT = """() => ({
  scroll: document.documentElement.scrollWidth,
  inner: window.innerWidth,
  wide: [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 0.5)
    .slice(0, 5)
    .map(el => el.outerHTML.slice(0, 100) + ' right=' + Math.round(el.getBoundingClientRect().right)),
})"""


def test_no_horizontal_scroll_at_360px(browser_page, content):
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    overflowing = {}
    for name, open_page in flows.public_pages(content):
        open_page(page)
        page.wait_for_load_state("load")
        sizes = page.evaluate(WIDTH_SCRIPT)
        if sizes["scroll"] > sizes["inner"]:
            overflowing[name] = sizes
    assert not overflowing, f"Pages wider than a 360px screen: {overflowing}"
