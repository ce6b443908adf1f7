"""Screenshots for the README: five pages on a phone and a desktop, in docs/screenshots/.

Run against a local site with the demo content (`make run`, then in another shell
`.venv/bin/python tools/screenshots.py [http://127.0.0.1:8000]`). Uses Debian's Chromium;
gives through the simulated checkout to reach the thank-you page. Each picture is the
first two screens of the page, reduced to 256 colours to stay small.
"""

import io
import re
import sys
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DEVICES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1},
}
PAGES = {
    "home": "/",
    "story": "/stories/car-t-in-figures/",
    "project": "/projects/car-t-therapy/",
    "donate": "/donate/?project=car-t-therapy",
}


def save(png, path):
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True
    )


def shoot(page, path, screens=2):
    # Pictures below the first screen load lazily; load them all before the shot.
    page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(img => { img.loading = 'eager'; })")
    page.wait_for_load_state("networkidle")
    page.wait_for_function("[...document.images].every(img => img.complete)")
    size = page.viewport_size
    height = min(page.evaluate("document.documentElement.scrollHeight"), size["height"] * screens)
    png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": size["width"], "height": height})
    save(png, path)


def main(base):
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        for device, options in DEVICES.items():
            context = browser.new_context(base_url=base, locale="en-US", **options)
            page = context.new_page()
            for name, path in PAGES.items():
                page.goto(path)
                shoot(page, OUT / f"{name}-{device}.png")
            # The thank-you page: give through the simulated checkout.
            page.goto(PAGES["donate"])
            page.get_by_role("radio", name="$100").check()
            page.get_by_label("Your name").fill("Jane")
            page.get_by_role("button", name=re.compile(r"^Donate")).click()
            page.get_by_role("button", name=re.compile(r"^Pay ")).click()
            page.wait_for_url(re.compile(r"/donate/thanks/"))
            page.get_by_role("heading", level=1, name=re.compile("^Thank you")).wait_for()
            shoot(page, OUT / f"thanks-{device}.png")
            context.close()
        browser.close()
    total = sum(p.stat().st_size for p in OUT.glob("*.png"))
    print(f"{len(list(OUT.glob('*.png')))} screenshots in {OUT}, {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
