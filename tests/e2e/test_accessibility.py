"""Accessibility of every public page in a real Chromium: axe-core, keyboard, names, motion."""

import io
import json
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e import flows

pytestmark = pytest.mark.browser

PAGES = [
    "home",
    "story_list",
    "story_detail",
    "project_list",
    "project_detail",
    "donate",
    "donate_other_amount",
    "donate_errors",
    "donate_returned",
    "donate_dedication",
    "simulated_checkout",
    "thanks_confirming",
    "thanks_confirmed",
    "thanks_generic",
    "not_found",
]
AXE_REPORTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe"

# Every rule axe runs by default: WCAG 2.x A and AA, plus its best practices (region,
# heading-order, landmark-*, page-has-heading-one...). Any impact fails the test.
axe = Axe()


def describe(violations):
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}  {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:400]}")
    return "\n".join(lines)


# Images without alt, or content pictures with an empty one (decoration: aria-hidden or role=presentation).
MISSING_ALT_SCRIPT = """() => [...document.images].filter(img => !img.hasAttribute('alt')
    || (img.closest('main') && img.getAttribute('alt').trim() === ''
        && img.getAttribute('role') !== 'presentation' && !img.closest('[aria-hidden=true]')))
  .map(img => img.outerHTML)"""


@pytest.mark.parametrize("name", PAGES)
def test_no_axe_violations_and_every_image_has_alt(browser_page, content, console_errors, name):
    page = browser_page
    dict(flows.public_pages(content))[name](page)
    page.wait_for_load_state("load")
    # If the confirming thank-you page ever reloads itself again, axe must run at once.
    violations = axe.run(page).response["violations"]

    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    (AXE_REPORTS / f"{name}.json").write_text(json.dumps(violations, indent=2))
    if violations:
        print(f"axe found {len(violations)} violation(s) on {name} ({page.url}):\n{describe(violations)}")
    assert not violations, f"axe on {name} ({page.url}):\n{describe(violations)}"

    assert page.evaluate(MISSING_ALT_SCRIPT) == [], f"Images without alt text on {name}"
    if name == "story_detail":
        expect(page.get_by_role("img", name=content["stories"][0].image_alt)).to_be_visible()
    # Nothing refused by the Content-Security-Policy, no missing files (the 404 page's own status aside).
    errors = [e for e in console_errors if name != "not_found" or "404" not in e]
    assert errors == [], f"Console errors on {name}: {errors}"


def assert_no_axe_violations(page, name):
    violations = axe.run(page).response["violations"]
    AXE_REPORTS.mkdir(parents=True, exist_ok=True)
    (AXE_REPORTS / f"{name}.json").write_text(json.dumps(violations, indent=2))
    assert not violations, f"axe on {name} ({page.url}):\n{describe(violations)}"


def test_donate_page_in_another_currency_has_no_axe_violations(
    browser_page, content, make_project, console_errors
):
    """The amounts switched to yen by the script, and the server asking again after a switch without it."""
    make_project(title="Tokyo clinic", slug="tokyo", currency="jpy")
    page = browser_page
    page.goto("/donate/")
    project = page.get_by_role("combobox", name=re.compile("Where should your gift go"))
    project.select_option("tokyo")
    expect(page.get_by_role("radio", name="¥5,000")).to_be_checked()
    assert_no_axe_violations(page, "donate_yen")

    # As without JavaScript: the project changes but the amounts on the page stay in dollars.
    page.goto("/donate/")
    page.evaluate("document.getElementById('id_project').value = 'tokyo'")
    page.get_by_role("button", name=flows.DONATE_BUTTON).click()
    expect(page.get_by_role("alert")).to_contain_text("Gifts to Tokyo clinic are in Japanese yen")
    expect(page.get_by_role("radio", name="¥5,000")).not_to_be_checked()
    assert_no_axe_violations(page, "donate_currency_changed")
    assert console_errors == [], console_errors


def test_skip_link_is_first_and_moves_focus_to_main(browser_page, content):
    page = browser_page
    page.goto("/")
    page.keyboard.press("Tab")
    first = flows.assert_focus_visible(page)
    assert first["href"] == "#main", f"The first focusable element is not the skip link: {first}"
    assert re.match(r"skip to (main )?content", first["name"], re.IGNORECASE), first
    skip = page.get_by_role("link", name=re.compile("Skip to", re.IGNORECASE))
    # Visible once focused, inside the viewport.
    box = skip.bounding_box()
    assert box and box["width"] > 10 and box["height"] > 10 and box["y"] >= 0 and box["x"] >= 0, box

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab continues from the main content, not from the top of the page.
    page.keyboard.press("Tab")
    inside_main = page.evaluate("document.querySelector('main').contains(document.activeElement)")
    assert inside_main, flows.focused(page)


def test_progress_bars_say_how_much_is_raised(browser_page, content):
    page = browser_page
    for path in ["/", "/projects/", content["project"].get_absolute_url()]:
        page.goto(path)
        bar = page.get_by_role("progressbar", name="$3,200 of $5,000 raised, 64%", exact=True)
        expect(bar.first).to_be_visible()
        names = page.evaluate(
            """() => [...document.querySelectorAll('progress, [role=progressbar]')]
                .map(el => el.getAttribute('aria-label') || (el.labels && el.labels[0] ?
                  el.labels[0].textContent : '') || el.getAttribute('aria-labelledby') || '')"""
        )
        pattern = re.compile(r"^\$[\d,]+(\.\d\d)? of \$[\d,]+(\.\d\d)? raised, \d{1,3}%$")
        assert names and all(pattern.match(n.strip()) for n in names), (path, names)


MOTION_SCRIPT = """() => [...document.querySelectorAll('a, button, input, select, textarea, .button')]
  .map(el => {
    const s = getComputedStyle(el);
    const seconds = (v) => Math.max(...v.split(',').map(t => t.trim().endsWith('ms')
      ? parseFloat(t) / 1000 : parseFloat(t)));
    return {el: el.outerHTML.slice(0, 80), transition: s.transitionDuration,
            animation: s.animationName === 'none' ? 0 : seconds(s.animationDuration),
            moving: seconds(s.transitionDuration) > 0 || (s.animationName !== 'none'
              && seconds(s.animationDuration) > 0)};
  }).filter(x => x.moving)"""


def test_reduced_motion_turns_off_transitions(browser_page, content):
    page = browser_page
    page.emulate_media(reduced_motion="reduce")
    for path in ["/", content["project"].get_absolute_url(), "/donate/"]:
        page.goto(path)
        moving = page.evaluate(MOTION_SCRIPT)
        assert not moving, f"Transitions or animations left on {path} with prefers-reduced-motion: {moving}"
        # Hovering and focusing a button starts nothing either.
        button = page.locator(".button, button").first
        button.hover()
        button.focus()
        running = page.evaluate("document.getAnimations().length")
        assert running == 0, f"{running} animation(s) running on {path} with prefers-reduced-motion"


@pytest.mark.django_db(transaction=True)
def test_demo_content_is_accessible_on_a_small_screen(browser_page):
    """The demo stories (long Markdown, quotes, figures) on a 360px phone: axe, and no sideways scroll."""
    from django.core.management import call_command

    from donations.models import Project
    from stories.models import Story

    call_command("seed_demo", stdout=io.StringIO())
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    paths = ["/", "/stories/", "/projects/"]
    paths += [story.get_absolute_url() for story in Story.objects.published()]
    paths += [project.get_absolute_url() for project in Project.objects.all()]
    paths += ["/fundraisers/yelena-birthday-car-t/"]  # the demo's birthday page
    problems = {}
    for path in paths:
        page.goto(path)
        violations = axe.run(page).response["violations"]
        if violations:
            problems[path] = describe(violations)
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            problems[path] = problems.get(path, "") + f"\n- scrolls sideways: {scroll}px wide at {inner}px"
    assert not problems, "\n".join(f"{path}:\n{text}" for path, text in problems.items())
