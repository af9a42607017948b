"""Marks shared by several charts: axes, whiskers, triangles, diamonds, hatching, legends.

Every colour distinction is repeated by a shape (see the package docstring), so these
shapes carry meaning: a triangle is a group clearly above or below the rest, a hollow
diamond a group without agreement, a thick line with a pointer a reference value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ..reporting.formatting import format_number
from .layout import (
    GRID,
    HATCH_LINE,
    HATCH_SPACING,
    HATCH_WIDTH,
    INK,
    LEGEND_GAP,
    LEGEND_ROW,
    LEGEND_SYMBOL,
    LEGEND_SYMBOL_X,
    LEGEND_TEXT_X,
    MARK_SIZE,
    MIN_TICK_SPACING,
    PALETTE,
    PAPER,
    REFERENCE_HALF,
    SMALL_SIZE,
    TICK_LABEL_OFFSET,
    WHISKER_CAP,
    WHISKER_WIDTH,
)
from .svg import element, group_at, num, text_element
from .text import text_width


def missing(value: Any) -> bool:
    """True for None, NaN and infinity: nothing to draw."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def interval(ci: Sequence[float | None] | None) -> tuple[float, float] | None:
    """A 95% interval as two floats, or None if it or either end is missing."""
    if not ci or missing(ci[0]) or missing(ci[1]):
        return None
    return float(ci[0]), float(ci[1])


class Axis:
    """A linear map from values to x positions."""

    def __init__(self, low: float, high: float, x0: float, x1: float) -> None:
        self.low, self.high, self.x0, self.x1 = low, high, x0, x1

    def __call__(self, value: float) -> float:
        value = min(max(value, self.low), self.high)
        return self.x0 + (value - self.low) / (self.high - self.low) * (self.x1 - self.x0)

    def ticks(self, step: float = 1.0) -> list[float]:
        first = math.ceil(self.low / step - 1e-9)
        last = math.floor(self.high / step + 1e-9)
        return [k * step for k in range(first, last + 1)]


def tick_step(span: float, pixels: float, smallest: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k (at least ``smallest``) keeping ticks 40 px apart."""
    for exponent in range(-2, 4):
        for mantissa in (1, 2, 2.5, 5):
            step = mantissa * 10**exponent
            if step >= smallest - 1e-12 and pixels * step / span >= MIN_TICK_SPACING:
                return step
    return span


def step_digits(step: float) -> int:
    """Decimals that print every multiple of ``step`` exactly: 0 for 1, 1 for 2.5, 2 for 0.25."""
    for digits in range(3):
        if abs(step * 10**digits - round(step * 10**digits)) < 1e-9:
            return digits
    return 3


def axis_line(x0: float, x1: float, y: float) -> str:
    return element("line", class_="axis", x1=x0, x2=x1, y1=y, y2=y, stroke=PALETTE["grey"])


def tick(x: float, top: float, bottom: float, label: str, colour: str = GRID) -> str:
    """A vertical grid line with its number under the axis."""
    return element(
        "line", class_="grid", x1=x, x2=x, y1=top, y2=bottom, stroke=colour
    ) + text_element(
        label,
        x=x,
        y=bottom + TICK_LABEL_OFFSET,
        text_anchor="middle",
        font_size=SMALL_SIZE,
        fill=PALETTE["grey"],
    )


def axis_lines(axis: Axis, top: float, bottom: float, lang: str) -> list[str]:
    """The value axis under the rows, with grid lines and numbers at whole steps."""
    step = tick_step(axis.high - axis.low, axis.x1 - axis.x0, 1.0)
    digits = step_digits(step)
    out = [axis_line(axis.x0, axis.x1, bottom)]
    for value in axis.ticks(step):
        out.append(tick(axis(value), top, bottom, format_number(value, digits, lang)))
    return out


def whisker(
    x_low: float, x_high: float, y: float, cap: float = WHISKER_CAP, colour: str = INK
) -> str:
    """A 95% interval: a line with a cap at each end."""
    d = (
        f"M{num(x_low)} {num(y)}H{num(x_high)}"
        f"M{num(x_low)} {num(y - cap)}V{num(y + cap)}M{num(x_high)} {num(y - cap)}V{num(y + cap)}"
    )
    return element(
        "path", class_="whisker", d=d, stroke=colour, stroke_width=WHISKER_WIDTH, fill="none"
    )


def triangle(x: float, y: float, up: bool, size: float = MARK_SIZE, fill: str = INK) -> str:
    """Clearly above (pointing up) or below (down) the rest of the organisation."""
    h = size * 0.9
    if up:
        points = f"{num(x - size)},{num(y + h)} {num(x + size)},{num(y + h)} {num(x)},{num(y - h)}"
    else:
        points = f"{num(x - size)},{num(y - h)} {num(x + size)},{num(y - h)} {num(x)},{num(y + h)}"
    return element("polygon", class_="above" if up else "below", points=points, fill=fill)


def diamond(x: float, y: float, size: float = MARK_SIZE, stroke: str = INK) -> str:
    """A hollow diamond: the group's members do not agree with each other."""
    d = (
        f"M{num(x)} {num(y - size)}L{num(x + size)} {num(y)}"
        f"L{num(x)} {num(y + size)}L{num(x - size)} {num(y)}Z"
    )
    return element("path", class_="no-agreement", d=d, fill=PAPER, stroke=stroke, stroke_width=1.6)


def reference(x: float, y: float, half: float = REFERENCE_HALF) -> str:
    """A reference value: a thick line with a pointer on top, unlike any whisker cap."""
    line = element(
        "path",
        class_="reference",
        d=f"M{num(x)} {num(y - half + 4)}V{num(y + half)}",
        stroke=INK,
        stroke_width=2.5,
    )
    return line + element("path", d=f"M{num(x - 5)} {num(y - half - 2)}h10l-5 6z", fill=INK)


def hatch(ident: str) -> str:
    """The diagonal stripes of withheld cells and the benchmark band (``url(#ident-hatch)``)."""
    size = HATCH_SPACING
    pattern = element(
        "pattern",
        element("rect", width=size, height=size, fill=PAPER),
        element("line", x1=0, y1=0, x2=0, y2=size, stroke=HATCH_LINE, stroke_width=HATCH_WIDTH),
        id=f"{ident}-hatch",
        patternUnits="userSpaceOnUse",
        width=size,
        height=size,
        patternTransform="rotate(45)",
    )
    return element("defs", pattern)


def swatch(fill: str, width: float, height: float, **values: Any) -> str:
    """A legend's rectangle centred on its origin."""
    return element(
        "rect", x=-width / 2, y=-height / 2, width=width, height=height, fill=fill, **values
    )


def legend(
    x: float, y: float, entries: Iterable[tuple[str, str]], width: float
) -> tuple[str, float]:
    """Legend entries (symbol SVG at (0, 0), label) flowed left to right; returns (svg, height)."""
    out, cx, cy = [], x, y
    for symbol, words in entries:
        needed = LEGEND_SYMBOL + text_width(words, SMALL_SIZE) + LEGEND_GAP
        if cx > x and cx + needed > width:
            cx, cy = x, cy + LEGEND_ROW
        out.append(group_at(cx + LEGEND_SYMBOL_X, cy, symbol))
        out.append(text_element(words, x=cx + LEGEND_TEXT_X, y=cy + 4, font_size=SMALL_SIZE))
        cx += needed
    return "".join(out), cy - y + LEGEND_ROW
