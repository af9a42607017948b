"""Differences around zero with their 95% intervals: perception gap and change per dimension."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup

from ..reporting.formatting import format_number
from .layout import (
    AXIS_TOP,
    BARS_LABEL_SHARE,
    BARS_LABEL_WIDTH,
    BASELINE,
    DIFF_BAR,
    DIFF_CAPTION_TOP,
    DIFF_CAPTIONS_STACKED_TOP,
    DIFF_RIGHT,
    DIFF_ROW,
    DIFF_STEP,
    DIFF_TOP,
    GRID,
    INK,
    LABEL_GAP,
    PALETTE,
    PAPER,
    SMALL_SIZE,
)
from .marks import Axis, axis_line, interval, legend, missing, swatch, tick, tick_step, whisker
from .svg import document, element, text_element, uid
from .text import label, row_height, row_lines, text_width
from .words import merged

if TYPE_CHECKING:
    from ..reporting.view import Difference, DimensionView

#: The differences a dimension carries: the perception gap and the change.
Key = Literal["gap", "change"]

#: How a clear (solid) and an uncertain (outlined) difference bar are drawn.
SOLID = {"stroke": INK, "stroke_width": 0.6}
OUTLINED = {"stroke_width": 1.6}


def _entry(row: DimensionView, key: Key) -> Difference | None:
    """The row's difference of kind ``key``, if it has one to draw."""
    entry: Difference | None = getattr(row, key)
    return None if entry is None or missing(entry.diff) else entry


def _limit(rows: Sequence[DimensionView], key: Key) -> float:
    """The widest difference or interval end, rounded up to a multiple of 0.25."""
    ends = [DIFF_STEP]
    for row in rows:
        entry = _entry(row, key)
        if entry is None:
            continue
        ends.append(abs(float(entry.diff)))
        ci = interval(entry.ci)
        if ci:
            ends += [abs(ci[0]), abs(ci[1])]
    return math.ceil(max(ends) / DIFF_STEP - 1e-9) * DIFF_STEP


def _bar_style(significant: bool, colour: str) -> dict[str, Any]:
    if significant:
        return {"fill": colour, **SOLID}
    return {"fill": PAPER, "stroke": colour, **OUTLINED}


def difference_bars(
    rows: Sequence[DimensionView],
    *,
    key: Key,
    title: str,
    left: str = "",
    right: str = "",
    limit: float | None = None,
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
) -> Markup:
    """Diverging bars of differences (with 95% intervals) around zero, one row per dimension.

    ``rows``: the view's dimensions; ``key`` names their difference to draw (``gap`` or
    ``change``: a ``Difference`` with ``diff``, ``ci`` and ``significant``, or None: drawn
    as "not available"). A significant difference is a
    solid bar; one that may be chance is a white bar with a dark outline, so the two differ
    in black and white too. ``left``/``right`` caption the two directions. The axis is
    symmetric, ``±limit`` (default: the widest interval end, rounded up to 0.25).
    """
    words = merged(text)
    ident = uid(
        "diff",
        width,
        key,
        title,
        [(r.name, getattr(r, key).diff if getattr(r, key) else None) for r in rows],
    )
    label_width = min(BARS_LABEL_WIDTH, width * BARS_LABEL_SHARE)
    x0, x1 = label_width + LABEL_GAP, width - DIFF_RIGHT
    if limit is None:
        limit = _limit(rows, key)
    axis = Axis(-limit, limit, x0, x1)
    side_by_side = (
        axis(0) - 6 - text_width("← " + left, SMALL_SIZE) >= 0
        and axis(0) + 6 + text_width(right + " →", SMALL_SIZE) <= width
    )
    if not (left or right):
        top = DIFF_TOP
    elif side_by_side or not (left and right):
        top = DIFF_CAPTION_TOP
    else:
        top = DIFF_CAPTIONS_STACKED_TOP
    y = top
    marks: list[str] = []
    summary: list[str] = []
    for row in rows:
        name = str(row.name)
        lines = row_lines(name, label_width)
        row_h = row_height(lines, DIFF_ROW)
        mid = y + row_h / 2
        marks.append(label(label_width, mid, lines, "end"))
        entry = _entry(row, key)
        if entry is None:
            marks.append(
                text_element(
                    words["not_available"],
                    class_="missing",
                    x=axis(0) + 6,
                    y=mid + BASELINE,
                    font_style="italic",
                    fill=PALETTE["grey"],
                )
            )
            y += row_h
            continue
        diff = float(entry.diff)
        zero, end = axis(0), axis(diff)
        significant = bool(entry.significant)
        colour = PALETTE["blue"] if diff >= 0 else PALETTE["vermillion"]
        marks.append(
            element(
                "rect",
                class_="bar " + ("significant" if significant else "not-significant"),
                x=min(zero, end),
                y=mid - DIFF_BAR / 2,
                width=abs(end - zero),
                height=DIFF_BAR,
                **_bar_style(significant, colour),
            )
        )
        ci = interval(entry.ci)
        extent = end
        if ci:
            marks.append(whisker(axis(ci[0]), axis(ci[1]), mid, 4))
            extent = axis(ci[1])
        value = format_number(diff, 2, lang, signed=True)
        marks.append(
            text_element(
                value,
                class_="value",
                x=max(extent, end, zero) + 6,
                y=mid + BASELINE,
                font_weight="bold" if significant else "normal",
            )
        )
        verdict = words["significant"] if significant else words["not_significant"]
        summary.append(f"{name}: {value} ({verdict})")
        y += row_h
    bottom = y
    step = tick_step(2 * limit, x1 - x0, DIFF_STEP)
    body: list[str] = [axis_line(x0, x1, bottom)]
    for value in axis.ticks(step):
        body.append(
            tick(
                axis(value),
                top,
                bottom,
                format_number(value, 2, lang, signed=True),
                INK if value == 0 else GRID,
            )
        )
    body += _captions(axis, x0, width, left, right, side_by_side)
    body += marks
    entries = [
        (swatch(PALETTE["blue"], 14, 10, **SOLID), words["significant"]),
        (swatch(PAPER, 14, 10, stroke=PALETTE["blue"], **OUTLINED), words["not_significant"]),
        (whisker(-6, 6, 0, 4), words["interval"]),
    ]
    key_svg, key_h = legend(8, bottom + AXIS_TOP + 4, entries, width)
    body.append(key_svg)
    return document(key, ident, width, bottom + AXIS_TOP + key_h, title, "; ".join(summary), body)


def _captions(
    axis: Axis, x0: float, width: float, left: str, right: str, side_by_side: bool
) -> list[str]:
    """Captions either side of zero; on a narrow chart, one under the other at the plot's
    edges so that neither runs off the chart."""
    out = []
    zero = axis(0)
    caption = {"font_size": SMALL_SIZE, "fill": PALETTE["grey"]}
    if left:
        x, anchor = (zero - 6, "end") if side_by_side else (x0, "start")
        out.append(
            text_element(f"← {left}", class_="caption", x=x, y=12, text_anchor=anchor, **caption)
        )
    if right:
        x, y = (zero + 6, 12) if side_by_side else (width - 2, 26 if left else 12)
        anchor = "start" if side_by_side else "end"
        out.append(
            text_element(f"{right} →", class_="caption", x=x, y=y, text_anchor=anchor, **caption)
        )
    return out


def gap_bars(
    rows: Sequence[DimensionView],
    *,
    title: str = "Top management minus staff",
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
    limit: float | None = None,
) -> Markup:
    """Perception gap per dimension: top management − everyone else (``row.gap``).

    Solid bars hold after Holm's adjustment over the dimensions (``significant``).
    """
    return _captioned("gap", rows, title, text, lang, width, limit)


def change_bars(
    rows: Sequence[DimensionView],
    *,
    title: str = "Change since the previous campaign",
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
    limit: float | None = None,
) -> Markup:
    """Change per dimension: this campaign − the previous one (``row.change``).

    Solid bars hold after Holm's adjustment over the dimensions (``significant``).
    """
    return _captioned("change", rows, title, text, lang, width, limit)


def _captioned(
    key: Key,
    rows: Sequence[DimensionView],
    title: str,
    text: Mapping[str, str] | None,
    lang: str,
    width: float,
    limit: float | None,
) -> Markup:
    """Difference bars of ``key`` captioned with the words ``{key}_left`` and ``{key}_right``."""
    words = merged(text)
    return difference_bars(
        rows,
        key=key,
        title=title,
        left=words[f"{key}_left"],
        right=words[f"{key}_right"],
        limit=limit,
        text=words,
        lang=lang,
        width=width,
    )
