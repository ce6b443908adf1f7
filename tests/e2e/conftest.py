"""End-to-end fixtures: one Debian Chromium for the whole package, a fresh browser context per test.

The site runs in pytest-django's live server (a thread of this process, on a transactional
test database), giving through the simulated checkout as on a developer's machine. Every
test leaves a screenshot of its last page in test-artifacts/screenshots/<test name>.png.

Playwright's sync API keeps an asyncio loop running in the main thread while it is started;
Django would take the ORM calls the tests make for async code and refuse them, hence
DJANGO_ALLOW_ASYNC_UNSAFE. Both last only as long as this package's tests: the browser is
package-scoped, so the test folders that run after tests/e2e see neither the loop nor the flag.
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="package")
def chromium():
    """Debian's Chromium, driven by Playwright. Never Playwright's own browser download."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium) "
            "to run the browser tests; CI installs it."
        )
    from playwright.sync_api import sync_playwright

    flag = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if flag is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(autouse=True)
def simulated_checkout(settings):
    """Give through the site's own simulated checkout, as a developer's machine does.

    donations.services reads these at call time. STRIPE_WEBHOOK_SECRET stays the test one:
    the simulated payment is signed with it and checked against it, like Stripe's.
    """
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True


@pytest.fixture
def browser_context(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, viewport=DESKTOP, locale="en-US")
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def console_errors():
    """Console errors, failed loads and page errors (CSP refusals among them) seen by `browser_page`."""
    return []


@pytest.fixture
def browser_page(browser_context, console_errors, request):
    """A tab on the live site. (Not named `page`: pytest-playwright, if installed, would claim it.)"""
    page = browser_context.new_page()

    def on_console(message):
        if message.type == "error":
            console_errors.append(f"{message.text} {message.location}")

    page.on("console", on_console)
    # ERR_ABORTED is a load cut short by the next navigation, not a fault of the page.
    page.on(
        "requestfailed",
        lambda req: (
            "ERR_ABORTED" not in (req.failure or "") and console_errors.append(f"{req.url}: {req.failure}")
        ),
    )
    page.on("response", lambda r: r.status >= 400 and console_errors.append(f"{r.status} {r.url}"))
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    yield page
    screenshot(page, request.node.name)


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", name).strip("_") + ".png")
    try:
        page.screenshot(path=str(path), full_page=True)
    except Exception as exc:  # a closed or crashed page must not hide the test's own result
        print(f"Could not save a screenshot to {path}: {exc}")
    return path


DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def docs_screenshot(page, name):
    """With DOCS_SCREENSHOTS=1, the README's picture of this state: the first two screens,
    reduced to 256 colours as tools/screenshots.py makes the others. Otherwise nothing."""
    if os.environ.get("DOCS_SCREENSHOTS") != "1":
        return
    import io

    from PIL import Image

    size = page.viewport_size
    height = min(page.evaluate("document.documentElement.scrollHeight"), size["height"] * 2)
    png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": size["width"], "height": height})
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        DOCS_SCREENSHOTS / f"{name}.png", optimize=True
    )


@pytest.fixture
def content(make_project, make_story, make_gift):
    """A small site: a general fund, a CAR-T project 64% funded, and stories about it."""
    from django.utils import timezone

    from tests.conftest import image_upload

    def picture(name, color):
        # Small enough for a single rendition: seeding stays quick (the WebP encoding is the slow part).
        return image_upload(f"{name}.png", size=(480, 320), color=color)

    general_fund = make_project(
        title="General fund",
        slug="general-fund",
        is_general_fund=True,
        goal_minor=None,
        position=9,
        image=picture("general-fund", (90, 140, 170)),
    )
    project = make_project(
        title="CAR-T therapy for children",
        slug="car-t",
        summary="CAR-T cell therapy for children whose leukaemia came back.",
        description="CAR-T cell therapy **retrains** a child's own immune cells to fight leukaemia.",
        goal_minor=500_000,
        is_featured=True,
        image=picture("car-t", (200, 90, 90)),
        image_alt="A nurse checks a drip bag of CAR-T cells beside a child's bed",
    )
    from donations.models import AmountMeaning, ProjectMilestone

    ProjectMilestone.objects.create(project=project, amount_minor=300_000, title="prepare the documents")
    ProjectMilestone.objects.create(project=project, amount_minor=400_000, title="fund the next cell product")
    AmountMeaning.objects.create(
        project=project, amount_minor=10_000, sentence="pays for a day of a nurse's care"
    )
    AmountMeaning.objects.create(project=project, amount_minor=2_500, sentence="buys a child's blood tests")
    make_gift(project, amount_minor=200_000, donor_name="Anna K.", show_name_publicly=True)
    make_gift(project, amount_minor=120_000)
    make_gift(general_fund, amount_minor=10_000)
    stories = [
        make_story(
            projects=[project],
            title="Masha rings the bell",
            slug="masha-rings-the-bell",
            summary="After CAR-T therapy in Moscow, Masha, 7, is in remission.",
            body=(
                "## The phone call\n\nIn March the doctors called.\n\n- Week one\n- Week two\n\n"
                "!!! impact $5,000\n    paid for Masha's cell product.\n"
            ),
            quote="We're home, and she's laughing again.",
            quote_name="Irina",
            quote_role="Masha's mother",
            image=picture("masha", (230, 180, 90)),
            image_alt="Masha, smiling, holds a bell in a hospital corridor",
            publish_at=timezone.now() - timezone.timedelta(days=1),
        ),
        make_story(
            projects=[project, general_fund],
            title="A new lab for cell therapy",
            slug="a-new-lab",
            summary="Doctors in Saint Petersburg trained to make CAR-T cells.",
            image=picture("lab", (120, 170, 120)),
            image_alt="Two doctors in a clean room",
            publish_at=timezone.now() - timezone.timedelta(days=3),
        ),
    ]
    return {"general_fund": general_fund, "project": project, "stories": stories}
