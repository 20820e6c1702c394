"""Learning-curve plots as PNG, drawn with Pillow (no plotting library needed offline)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

COLOURS = ["#0072b2", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#8c564b", "#9467bd",
           "#17becf", "#bcbd22", "#1b9e77", "#e7298a", "#66a61e", "#a6761d", "#7570b3"]
AUTO = "#d55e00"
RANDOM = "#6e6e6e"


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in ("DejaVuSans.ttf", "Arial.ttf", "LiberationSans-Regular.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _dashed(draw: ImageDraw.ImageDraw, pts: list[tuple[float, float]], fill: str, width: int,
            dash: float = 10.0) -> None:
    on, left = True, dash
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        length = max(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5, 1e-9)
        t = 0.0
        while t < length:
            step = min(left, length - t)
            a, b = t / length, (t + step) / length
            if on:
                draw.line([(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a),
                           (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)], fill=fill, width=width)
            t += step
            left -= step
            if left <= 1e-9:
                on, left = not on, dash


def plot_curves(result: dict[str, Any], out: Path, title: str = "") -> None:
    """Accuracy against labels for each strategy (random dashed), AUBC in the legend."""
    w, h = 1100, 640
    left, right, top, bottom = 90, 330, 80, 70
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    small, normal = _font(15), _font(18)
    xs = result["budgets"]
    curves = result["curves"]
    lows = [min(c["mean"]) for c in curves.values()]
    y_min = max(0.0, min(lows) - 0.02) if lows else 0.0
    y_min = int(y_min * 20) / 20  # down to a multiple of 0.05
    y_max = 1.0
    x_min, x_max = xs[0], xs[-1] if xs[-1] > xs[0] else xs[0] + 1

    def px(x: float, y: float) -> tuple[float, float]:
        return (left + (x - x_min) / (x_max - x_min) * (w - left - right),
                top + (y_max - y) / (y_max - y_min) * (h - top - bottom))

    for k in range(round((y_max - y_min) / 0.05) + 1):
        y = y_min + k * 0.05
        a, b = px(x_min, y), px(x_max, y)
        d.line([a, b], fill="#e6e6e6")
        d.text((left - 10, a[1]), f"{y:.2f}", fill="#333333", font=small, anchor="rm")
    ticks = xs if len(xs) <= 12 else xs[:: max(1, len(xs) // 10)]
    for x in ticks:
        a = px(x, y_min)
        d.line([a, (a[0], a[1] + 5)], fill="#333333")
        d.text((a[0], a[1] + 8), str(x), fill="#333333", font=small, anchor="mt")
    d.line([px(x_min, y_min), px(x_max, y_min)], fill="#333333", width=2)
    d.line([px(x_min, y_min), px(x_min, y_max)], fill="#333333", width=2)
    d.text(((left + w - right) / 2, h - 22), "labels", fill="#222222", font=normal, anchor="mm")
    d.text((left - 60, top - 22), "held-out accuracy", fill="#222222", font=small,
           anchor="lm")
    if title:
        d.text((left - 60, 24), title, fill="#111111", font=normal, anchor="lm")
    order = sorted(curves, key=lambda n: (n not in ("auto", "random"), n != "auto", n))
    colour_of = {}
    for i, name in enumerate(n for n in order if n not in ("auto", "random")):
        colour_of[name] = COLOURS[i % len(COLOURS)]
    colour_of.update(auto=AUTO, random=RANDOM)
    for name in reversed(order):  # auto and random drawn last, on top
        pts = [px(x, y) for x, y in zip(xs, curves[name]["mean"], strict=True)]
        colour = colour_of[name]
        if name == "random":
            _dashed(d, pts, colour, 3)
        else:
            d.line(pts, fill=colour, width=5 if name == "auto" else 2, joint="curve")
    for i, name in enumerate(order):
        colour = colour_of[name]
        ly = top + 10 + i * 28
        lx = w - right + 20
        if name == "random":
            _dashed(d, [(lx, ly), (lx + 36, ly)], colour, 3, dash=7)
        else:
            d.line([(lx, ly), (lx + 36, ly)], fill=colour, width=3)
        aubc = result.get("aubc", {}).get(name)
        label = f"{name}" + (f"  ({aubc:.3f})" if aubc is not None else "")
        d.text((lx + 44, ly), label, fill="#222222", font=small, anchor="lm")
    d.text((w - right + 20, top + 10 + len(order) * 28), "(AUBC)", fill="#666666", font=small,
           anchor="lm")
    img.save(out, format="PNG")
