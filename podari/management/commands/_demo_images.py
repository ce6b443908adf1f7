"""Abstract illustrations for the demo content, drawn with Pillow at run time.

Nothing binary is committed: each picture is a soft gradient with a few simple shapes,
drawn from a fixed seed so every run (and every machine) gets the same image. The
alt text in `_demo_content.py` describes what each one shows.
"""

import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter

WIDTH, HEIGHT = 1600, 900


def _rgb(hex_colour):
    hex_colour = hex_colour.lstrip("#")
    return tuple(int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))


def _rgba(hex_colour, alpha):
    return (*_rgb(hex_colour), alpha)


# The background (gradient and soft circles) has no sharp edges, so it is drawn at an
# eighth of the size and scaled up: it looks the same and takes a fraction of the time.
SCALE = 8
SMALL = (WIDTH // SCALE, HEIGHT // SCALE)


def _gradient(start, end):
    """A diagonal gradient from the top-left colour to the bottom-right one, at SMALL size."""
    vertical = Image.linear_gradient("L").resize(SMALL)
    horizontal = (
        Image.linear_gradient("L").rotate(90).transpose(Image.Transpose.FLIP_LEFT_RIGHT).resize(SMALL)
    )
    mask = Image.blend(vertical, horizontal, 0.5)
    top_left, bottom_right = (Image.new("RGBA", SMALL, _rgba(c, 255)) for c in (start, end))
    return Image.composite(bottom_right, top_left, mask)


def _bokeh(rng, colours, count=14):
    """Large, very soft circles, at SMALL size."""
    layer = Image.new("RGBA", SMALL, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(count):
        r = rng.uniform(6, 22)
        x, y = rng.uniform(0, SMALL[0]), rng.uniform(0, SMALL[1])
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(rng.choice(colours), rng.randint(40, 90)))
    return _premultiplied(layer, ImageFilter.GaussianBlur(4))


def _premultiplied(layer, image_filter):
    # Filtering premultiplied pixels keeps transparent edges from darkening into grey rings.
    return layer.convert("RGBa").filter(image_filter).convert("RGBA")


def _soften(layer):
    """A one-pixel blur that stands in for anti-aliasing, applied only where something is drawn."""
    box = layer.getbbox()
    if box is None:
        return layer
    pad = 4
    box = (max(0, box[0] - pad), max(0, box[1] - pad), min(WIDTH, box[2] + pad), min(HEIGHT, box[3] + pad))
    layer.paste(_premultiplied(layer.crop(box), ImageFilter.BoxBlur(1)), box[:2])
    return layer


def _canvas(rng, start, end, bokeh_colours):
    background = _gradient(start, end)
    background.alpha_composite(_bokeh(rng, bokeh_colours))
    return background.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)


def _layer():
    layer = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    return layer, ImageDraw.Draw(layer)


def _heart_points(cx, cy, size, steps=90):
    points = []
    for i in range(steps):
        t = 2 * math.pi * i / steps
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        points.append((cx + x * size / 32, cy - y * size / 32))
    return points


def _cell(draw, x, y, r, body, nucleus, receptors=7, spin=0.0):
    """A round cell with a nucleus and a few Y-shaped receptors on its surface."""
    width = max(4, int(r / 11))
    for i in range(receptors):
        angle = spin + 2 * math.pi * i / receptors
        stem = (x + r * 1.12 * math.cos(angle), y + r * 1.12 * math.sin(angle))
        draw.line((x, y, *stem), fill=body, width=width)
        for fork in (-0.5, 0.5):
            tip = (stem[0] + r * 0.2 * math.cos(angle + fork), stem[1] + r * 0.2 * math.sin(angle + fork))
            draw.line((*stem, *tip), fill=body, width=width)
    draw.ellipse((x - r, y - r, x + r, y + r), fill=body)
    n = r * 0.42
    draw.ellipse((x - n + r * 0.1, y - n - r * 0.08, x + n + r * 0.1, y + n - r * 0.08), fill=nucleus)


def _art_cells(rng):
    image = _canvas(rng, "#cfeee8", "#6fb7b0", ["#ffffff", "#f6b8a6", "#9bd3cb"])
    layer, draw = _layer()
    for _ in range(9):
        r = rng.uniform(28, 60)
        x, y = rng.uniform(80, WIDTH - 80), rng.uniform(80, HEIGHT - 80)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba("#ffffff", 70))
    _cell(draw, 980, 430, 190, _rgba("#f08a72", 235), _rgba("#fde3da", 255), receptors=9, spin=0.2)
    _cell(draw, 470, 560, 110, _rgba("#ffffff", 225), _rgba("#9bd3cb", 255), receptors=7, spin=0.5)
    _cell(draw, 1330, 720, 70, _rgba("#ffffff", 200), _rgba("#f6b8a6", 255), receptors=6)
    image.alpha_composite(_soften(layer))
    return image


def _art_network(rng):
    image = _canvas(rng, "#dfe7fb", "#a9b7e8", ["#ffffff", "#c9c1f0", "#f3d9c4"])
    layer, draw = _layer()
    nodes = [(rng.uniform(140, WIDTH - 140), rng.uniform(120, HEIGHT - 120)) for _ in range(22)]
    for x1, y1 in nodes:
        nearest = sorted(nodes, key=lambda p, x1=x1, y1=y1: (p[0] - x1) ** 2 + (p[1] - y1) ** 2)[1:4]
        for x2, y2 in nearest:
            draw.line((x1, y1, x2, y2), fill=_rgba("#ffffff", 190), width=6)
    for i, (x, y) in enumerate(nodes):
        r = 26 if i % 4 == 0 else 16
        colour = "#3d4f9f" if i % 4 == 0 else "#ffffff"
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(colour, 235))
    image.alpha_composite(_soften(layer))
    return image


def _art_heart(rng):
    image = _canvas(rng, "#fde6d4", "#f4a9a0", ["#ffffff", "#ffd2b8", "#f7b9c4"])
    layer, draw = _layer()
    draw.polygon(_heart_points(800, 470, 520), fill=_rgba("#ffffff", 90))
    draw.polygon(_heart_points(800, 460, 420), fill=_rgba("#e8646a", 235))
    draw.polygon(_heart_points(740, 400, 90), fill=_rgba("#ffffff", 70))
    for _ in range(7):
        x, y, s = rng.uniform(120, WIDTH - 120), rng.uniform(100, HEIGHT - 100), rng.uniform(40, 80)
        if abs(x - 800) > 330:
            draw.polygon(_heart_points(x, y, s), fill=_rgba("#ffffff", 150))
    image.alpha_composite(_soften(layer))
    return image


def _art_documents(rng):
    image = _canvas(rng, "#fbf3e4", "#a8d8d0", ["#ffffff", "#f2d9b3", "#b8e0da"])
    layer, draw = _layer()
    for i, (dx, dy) in enumerate([(-70, 40), (-35, 20), (0, 0)]):
        x0, y0 = 560 + dx, 150 + dy
        fill = _rgba("#ffffff", 245 if i == 2 else 150)
        draw.rounded_rectangle((x0, y0, x0 + 440, y0 + 600), radius=28, fill=fill)
    for row in range(9):
        y = 240 + row * 52
        length = 330 if row % 3 != 2 else 220
        draw.rounded_rectangle((615, y, 615 + length, y + 16), radius=8, fill=_rgba("#b9c9c6", 255))
    draw.line((1050, 470, 1110, 530, 1230, 380), fill=_rgba("#2f9e8f", 255), width=26, joint="curve")
    _cell(draw, 1260, 690, 80, _rgba("#f08a72", 220), _rgba("#fde3da", 255), receptors=6, spin=0.4)
    image.alpha_composite(_soften(layer))
    return image


def _art_confetti(rng):
    image = _canvas(rng, "#ffe2b8", "#f3a3a6", ["#ffffff", "#ffd38a", "#f7b2c0"])
    layer, draw = _layer()
    colours = ["#ffffff", "#f2795f", "#ffc857", "#6fb7b0", "#8e9ce0"]
    for _ in range(70):
        x, y = rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)
        colour = _rgba(rng.choice(colours), rng.randint(170, 240))
        if rng.random() < 0.5:
            r = rng.uniform(8, 20)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            angle, length = rng.uniform(0, math.pi), rng.uniform(20, 44)
            dx, dy = length * math.cos(angle), length * math.sin(angle)
            draw.line((x - dx, y - dy, x + dx, y + dy), fill=colour, width=10)
    for r, alpha in ((250, 80), (180, 120), (120, 200)):
        draw.ellipse((800 - r, 450 - r, 800 + r, 450 + r), fill=_rgba("#ffffff", alpha))
    draw.polygon(_heart_points(800, 455, 150), fill=_rgba("#f2795f", 240))
    image.alpha_composite(_soften(layer))
    return image


def _art_balloons(rng):
    image = _canvas(rng, "#fde1ec", "#ffd9b5", ["#ffffff", "#f9c0d3", "#ffe3a3"])
    layer, draw = _layer()
    balloons = [
        (560, 330, 105, "#f2795f"),
        (790, 260, 125, "#ffc857"),
        (1030, 340, 110, "#8e9ce0"),
        (1230, 250, 80, "#6fb7b0"),
        (380, 250, 70, "#f7a1c4"),
    ]
    for x, y, r, colour in balloons:
        knot_y = y + r * 1.22
        points = []
        for step in range(31):
            t = step / 30
            points.append((x + 22 * math.sin(t * 3 * math.pi), knot_y + t * (820 - knot_y)))
        draw.line(points, fill=_rgba("#9a8a8f", 200), width=4, joint="curve")
        draw.polygon([(x, knot_y - 6), (x - 14, knot_y + 14), (x + 14, knot_y + 14)], fill=_rgba(colour, 255))
        draw.ellipse((x - r, y - r * 1.22, x + r, y + r * 1.22), fill=_rgba(colour, 240))
        draw.ellipse((x - r * 0.55, y - r * 0.85, x - r * 0.2, y - r * 0.3), fill=_rgba("#ffffff", 110))
    image.alpha_composite(_soften(layer))
    return image


def _art_sunrise(rng):
    image = _canvas(rng, "#cfe4f6", "#f8dcc0", ["#ffffff", "#ffe0b0", "#bfe0ee"])
    layer, draw = _layer()
    cx, cy = 800, 980
    for r, colour, alpha in [
        (760, "#ffffff", 70),
        (610, "#ffd59a", 140),
        (470, "#ffb780", 170),
        (330, "#f2795f", 210),
    ]:
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_rgba(colour, alpha))
    for x, y, r, spin in ((330, 260, 70, 0.1), (1250, 220, 90, 0.6), (1420, 520, 55, 0.3)):
        _cell(draw, x, y, r, _rgba("#ffffff", 215), _rgba("#bfe0ee", 255), receptors=6, spin=spin)
    image.alpha_composite(_soften(layer))
    return image


def _art_figures(rng):
    image = _canvas(rng, "#dff3ee", "#bcd6f2", ["#ffffff", "#c6ecdf", "#d9d2f5"])
    layer, draw = _layer()
    base = 760
    heights = [180, 260, 330, 420, 520]
    colours = ["#9bd3cb", "#6fb7b0", "#8e9ce0", "#f6b8a6", "#f08a72"]
    for i, (h, colour) in enumerate(zip(heights, colours, strict=True)):
        x0 = 380 + i * 180
        draw.rounded_rectangle((x0, base - h, x0 + 120, base), radius=22, fill=_rgba(colour, 235))
        dot_x, dot_y, r = x0 + 60, base - h - 70, 26
        draw.ellipse((dot_x - r, dot_y - r, dot_x + r, dot_y + r), fill=_rgba("#ffffff", 220))
    draw.rounded_rectangle((320, base + 14, 1280, base + 30), radius=8, fill=_rgba("#ffffff", 200))
    image.alpha_composite(_soften(layer))
    return image


def _art_globe(rng):
    image = _canvas(rng, "#e9e2f8", "#fbefdc", ["#ffffff", "#d6ccf3", "#f6dcc0"])
    layer, draw = _layer()
    cx, cy, r = 800, 450, 300
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_rgba("#ffffff", 150))
    for k in (0.35, 0.7):
        draw.ellipse((cx - r * k, cy - r, cx + r * k, cy + r), outline=_rgba("#7b6fc4", 200), width=6)
    for dy in (-0.5, 0, 0.5):
        half = r * math.sqrt(1 - dy**2)
        draw.line((cx - half, cy + dy * r, cx + half, cy + dy * r), fill=_rgba("#7b6fc4", 200), width=6)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=_rgba("#7b6fc4", 230), width=8)
    stops = [(260, 250), (420, 690), (1330, 240), (1230, 700), (cx + 120, cy - 140)]
    for x, y in stops[:4]:
        draw.line((x, y, stops[4][0], stops[4][1]), fill=_rgba("#f08a72", 170), width=5)
    for x, y in stops:
        draw.ellipse((x - 24, y - 24, x + 24, y + 24), fill=_rgba("#f08a72", 240))
        draw.ellipse((x - 10, y - 10, x + 10, y + 10), fill=_rgba("#ffffff", 255))
    image.alpha_composite(_soften(layer))
    return image


ART = {
    "cells": _art_cells,
    "network": _art_network,
    "heart": _art_heart,
    "documents": _art_documents,
    "confetti": _art_confetti,
    "balloons": _art_balloons,
    "sunrise": _art_sunrise,
    "figures": _art_figures,
    "globe": _art_globe,
}


def illustration_jpeg(art, seed):
    """The named illustration as JPEG bytes, the same for the same seed."""
    image = ART[art](random.Random(seed)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=86)
    return buffer.getvalue()
