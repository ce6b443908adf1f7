"""Steps the browser tests share: reaching each public page in the state a donor sees it."""

import re

from playwright.sync_api import expect

NOT_FOUND_PATH = "/no-such-page/"
# The typed amount's box ("Other amount", "Or enter another amount, in US dollars"...).
AMOUNT_BOX = re.compile(r"(other|another) amount", re.IGNORECASE)
# The "cover the fee" checkbox, whatever sum it names.
FEE_LABEL = re.compile("so all of your gift reaches the project")
# The submit button: the donate script names the amount in it ("Donate $30").
DONATE_BUTTON = re.compile(r"^Donate\b")
# The thank-you page's heading: "Thank you", or "Thank you, Jane! Your gift is at work for…".
THANK_YOU = re.compile(r"^Thank you\b")

# The focused element, described, and whether it shows a focus indicator. An input the CSS
# hides visually (a radio drawn as a pill) may show its focus on its label instead.
FOCUS_SCRIPT = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    return {tag: el ? el.tagName.toLowerCase() : null, indicator: false, name: ""};
  }
  const shows = (node) => {
    const style = getComputedStyle(node);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow && style.boxShadow !== "none";
    return Boolean(outline || shadow);
  };
  const label = el.labels && el.labels.length ? el.labels[0] : el.closest("label");
  const rect = el.getBoundingClientRect();
  const hidden = rect.width <= 1 || rect.height <= 1 || getComputedStyle(el).opacity === "0";
  const name = (el.getAttribute("aria-label") || (label && label.textContent) || el.textContent
    || el.value || "").replace(/\\s+/g, " ").trim();
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute("type"),
    id: el.id,
    name: name,
    href: el.getAttribute("href"),
    indicator: shows(el) || Boolean(hidden && label && shows(label)),
  };
}"""


def focused(page):
    return page.evaluate(FOCUS_SCRIPT)


def assert_focus_visible(page):
    info = focused(page)
    assert info["indicator"], f"The focused element shows no focus indicator: {info}"
    return info


def tab_until(page, matches, *, key="Tab", limit=60):
    """Press Tab (or Shift+Tab) until `matches(focused info)`; every stop must show its focus."""
    seen = []
    for _ in range(limit):
        page.keyboard.press(key)
        info = assert_focus_visible(page)
        if matches(info):
            return info
        seen.append(info.get("name") or info.get("tag"))
    raise AssertionError(f"Never reached the element after {limit} presses of {key}; went through {seen}")


def fill_donate_form(page, amount):
    """On the donate page: choose "Other amount", type `amount` and submit."""
    page.get_by_role("radio", name="Other amount").check()
    page.get_by_role("textbox", name=AMOUNT_BOX).fill(amount)
    page.get_by_role("button", name=DONATE_BUTTON).click()


def open_donate_errors(page, amount="abc"):
    page.goto("/donate/")
    fill_donate_form(page, amount)
    expect(page.get_by_role("alert")).to_be_visible()


def open_donate_other_amount(page):
    """The amount box revealed by choosing "Other amount", with an amount typed in."""
    page.goto("/donate/")
    page.get_by_role("radio", name="Other amount").check()
    page.get_by_role("textbox", name=AMOUNT_BOX).fill("30")
    expect(page.get_by_role("button", name=DONATE_BUTTON)).to_have_text("Donate $30")


def open_simulated_checkout(page, amount="37.50", project_slug=None):
    page.goto(f"/donate/?project={project_slug}" if project_slug else "/donate/")
    fill_donate_form(page, amount)
    page.wait_for_url(re.compile(r"/donate/simulated-checkout/"))
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def open_thanks_confirming(page, amount="37.50"):
    """A gift still waiting for its payment: the thank-you page checks again by itself."""
    session_id = open_simulated_checkout(page, amount)
    page.goto(f"/donate/thanks/?session_id={session_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Confirming")
    return session_id


def open_thanks_confirmed(page, amount="37.50"):
    open_simulated_checkout(page, amount)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.wait_for_url(re.compile(r"/donate/thanks/\?session_id="))
    expect(page.get_by_role("heading", level=1)).to_have_text(THANK_YOU)


def open_donate_returned(page):
    """Back on the donate page from checkout without paying: nothing charged, details kept."""
    open_simulated_checkout(page)
    page.get_by_role("button", name=re.compile(r"^(Cancel|Go back|Back)", re.IGNORECASE)).click()
    expect(page.get_by_role("status").filter(has_text="Nothing was charged")).to_be_visible()


def open_donate_dedication(page, content):
    """A dedication chosen: its name field revealed; an amount chosen: what it does, announced."""
    page.goto(content["project"].get_donate_url())
    page.get_by_role("radio", name="In memory of").check()
    expect(page.get_by_role("textbox", name="Their name")).to_be_visible()
    page.get_by_role("radio", name="$100").check()
    expect(page.locator("[data-amount-meaning]")).to_contain_text("a day of a nurse")


def open_thanks_generic(page):
    page.goto("/donate/thanks/")
    expect(page.get_by_role("heading", level=1)).to_have_text(THANK_YOU)


def open_not_found(page):
    response = page.goto(NOT_FOUND_PATH)
    assert response.status == 404


def public_pages(content):
    """(name, opener) for every public page; each opener leaves `page` on that page."""
    story = content["stories"][0]
    project = content["project"]
    return [
        ("home", lambda page: page.goto("/")),
        ("story_list", lambda page: page.goto("/stories/")),
        ("story_detail", lambda page: page.goto(story.get_absolute_url())),
        ("project_list", lambda page: page.goto("/projects/")),
        ("project_detail", lambda page: page.goto(project.get_absolute_url())),
        ("donate", lambda page: page.goto(project.get_donate_url())),
        ("donate_other_amount", open_donate_other_amount),
        ("donate_errors", open_donate_errors),
        ("donate_returned", open_donate_returned),
        ("donate_dedication", lambda page: open_donate_dedication(page, content)),
        ("simulated_checkout", open_simulated_checkout),
        ("thanks_confirming", open_thanks_confirming),
        ("thanks_confirmed", open_thanks_confirmed),
        ("thanks_generic", open_thanks_generic),
        ("not_found", open_not_found),
    ]
