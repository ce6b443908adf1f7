"""Charts drawn on the server as SVG: no JavaScript, nothing from another host."""

from donations.money import format_money

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 72, 8, 16, 32


def bar_chart(points, currency):
    """Geometry of a bar chart of [(month, net minor, gift count)], in whole SVG units."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    highest = max((net for _, net, _ in points), default=0)
    slot = plot_width // max(len(points), 1)
    bars = []
    for i, (month, net, count) in enumerate(points):
        height = net * plot_height // highest if highest > 0 else 0
        x = LEFT + i * slot
        bars.append(
            {
                "x": x + 2,
                "y": TOP + plot_height - height,
                "width": max(slot - 4, 1),
                "height": height,
                "label_x": x + slot // 2,
                "month": month,
                "show_label": i % 3 == 0 or i == len(points) - 1,
                "amount": format_money(net, currency),
                "count": count,
            }
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "baseline": TOP + plot_height,
        "label_y": HEIGHT - 10,
        "highest": format_money(highest, currency),
        "bars": bars,
    }
