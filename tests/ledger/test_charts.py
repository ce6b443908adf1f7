"""The dashboard's monthly chart stays readable with one very large month and on a phone."""

from datetime import date

import pytest

from ledger.charts import FONT_SIZE, MIN_BAR, MIN_WIDTH_PX, WIDTH, bar_chart


def months(*nets):
    return [(date(2026, n + 1, 1) if n < 12 else date(2027, n - 11, 1), net, 1) for n, net in enumerate(nets)]


def test_ordinary_months_fill_the_height_of_the_chart():
    chart = bar_chart(months(10_000, 20_000, 15_000), "usd")
    heights = [bar["height"] for bar in chart["bars"]]
    assert heights[1] == chart["baseline"] - chart["top"]
    assert heights[0] == heights[1] // 2
    assert not chart["broken"] and chart["axis_top"] == chart["highest"] == "$200"


def test_one_very_large_month_is_broken_at_the_top_and_the_others_stay_readable():
    chart = bar_chart(months(10_000, 5_000_000, 20_000, 8_000), "usd")
    plot = chart["baseline"] - chart["top"]
    big, *others = sorted(chart["bars"], key=lambda bar: -bar["height"])
    assert big["broken"] and big["height"] == plot and big["amount"] == "$50,000"
    assert chart["broken"] and chart["highest"] == "$50,000" and chart["axis_top"] == "$250"
    # The second highest month takes four fifths of the height, not 0.4 %.
    assert others[0]["height"] == plot * 4 // 5
    assert all(bar["height"] > plot // 4 for bar in others)
    assert not any(bar["broken"] for bar in others)


def test_a_small_month_is_never_invisible_and_a_net_refund_draws_no_bar():
    chart = bar_chart(months(1, 10_000, 9_000, -500, 0), "usd")
    heights = [bar["height"] for bar in chart["bars"]]
    assert heights[0] == MIN_BAR
    assert heights[3] == heights[4] == 0


def test_labels_on_24_months_leave_room_and_the_text_stays_readable_on_a_phone():
    chart = bar_chart(months(*[1_000] * 24), "usd")
    labelled = [bar for bar in chart["bars"] if bar["show_label"]]
    assert len(labelled) == 5  # every sixth month, and the last
    # The SVG is never drawn narrower than MIN_WIDTH_PX: its text never below 12 px.
    assert FONT_SIZE * MIN_WIDTH_PX / WIDTH >= 12


@pytest.mark.django_db
def test_the_dashboard_draws_the_break_and_keeps_the_chart_wide(admin_client, project, make_gift):
    make_gift(project, amount_minor=5_000_000)
    html = admin_client.get("/admin/dashboard/").content.decode()
    assert 'class="chart-scroll"' in html and 'class="chart"' in html
    assert "css/admin-dashboard.css" in html
