"""The admin's gift list fits a 1280 px screen: no sideways scrolling to reach a column."""

import pytest

pytestmark = pytest.mark.browser


def test_the_gift_list_fits_1280_pixels(browser_page, content, make_gift, django_user_model):
    for n in range(12):
        make_gift(
            content["project"],
            amount_minor=123_456 + n,
            donor_name=f"Alexandra Konstantinopolskaya {n}",
            donor_email=f"alexandra.konstantinopolskaya.{n}@example.com",
        )
    django_user_model.objects.create_superuser("boss", "boss@example.com", "a-long-test-password-1")
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/admin/login/?next=/admin/donations/gift/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "a-long-test-password-1")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/donations/gift/")

    widths = page.evaluate(
        """() => { const r = document.querySelector('.results');
          return [document.documentElement.scrollWidth, r.scrollWidth, r.clientWidth]; }"""
    )
    page_width, table_width, visible_width = widths
    assert page_width <= 1280, widths
    assert table_width <= visible_width, widths
