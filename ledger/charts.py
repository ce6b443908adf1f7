"""Charts drawn on the server as SVG: no JavaScript, nothing from another host."""

from donations.money import format_money

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 96, 8, 28, 36
# Text in SVG units. The SVG is drawn at least MIN_WIDTH_PX wide (a phone scrolls it
# sideways), so 16 units are never smaller than 16 × 560 / 720 ≈ 12 px.
FONT_SIZE = 16
MIN_WIDTH_PX = 560
# A month this many times the next highest is drawn broken at the top, so the other
# months keep a readable height (a single large bequest would flatten them to nothing).
OUTLIER_RATIO = 3
# A month with any gift shows at least this high, so it is told apart from an empty one.
MIN_BAR = 2


def _axis_top(nets):
    """The amount at the top of the axis, and whether bars above it are broken."""
    positive = sorted((net for net in nets if net > 0), reverse=True)
    if not positive:
        return 0, False
    # With two months only, neither is "the rest": draw them to scale.
    if len(positive) > 2 and positive[0] > OUTLIER_RATIO * positive[1]:
        return positive[1] * 5 // 4, True
    return positive[0], False


def bar_chart(points, currency):
    """Geometry of a bar chart of [(month, net minor, gift count)], in whole SVG units."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    highest = max((net for _, net, _ in points), default=0)
    top, broken = _axis_top([net for _, net, _ in points])
    slot = plot_width // max(len(points), 1)
    # On a phone every label would overlap: one in six months, and always the last.
    label_every = 6 if len(points) > 12 else 3
    bars = []
    for i, (month, net, count) in enumerate(points):
        # A month refunded more than it received draws no bar; the table gives its figure.
        height = min(max(net, 0) * plot_height // top, plot_height) if top > 0 else 0
        if net > 0:
            height = max(height, MIN_BAR)
        x = LEFT + i * slot
        bars.append(
            {
                "x": x + 2,
                "y": TOP + plot_height - height,
                "width": max(slot - 4, 1),
                "height": height,
                "broken": broken and net > top,
                "label_x": x + slot // 2,
                "month": month,
                "show_label": i % label_every == 0 or i == len(points) - 1,
                "amount": format_money(net, currency),
                "count": count,
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "font_size": FONT_SIZE,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "baseline": TOP + plot_height,
        "label_y": HEIGHT - 10,
        "highest": format_money(highest, currency),
        "axis_top": format_money(top, currency),
        "broken": broken,
        "bars": bars,
    }
