"""Dimension bars: one bar per dimension with its interval, benchmark band and levels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup

from ..reporting.formatting import format_number
from .layout import (
    AXIS_TOP,
    BARS_BAND_INSET,
    BARS_BAR,
    BARS_LABEL_SHARE,
    BARS_LABEL_WIDTH,
    BARS_LEVELS_ROOM,
    BARS_MEDIAN,
    BARS_OPACITY,
    BARS_RIGHT,
    BARS_ROW,
    BARS_TOP,
    BASELINE,
    HATCH_LINE,
    INK,
    LABEL_GAP,
    LEVEL_SIZE,
    PALETTE,
    PAPER,
)
from .marks import (
    Axis,
    axis_lines,
    hatch,
    interval,
    legend,
    missing,
    reference,
    swatch,
    whisker,
)
from .svg import document, element, num, text_element, uid
from .text import label, row_height, row_lines, text_width
from .words import merged

if TYPE_CHECKING:
    from ..reporting.view import DepartmentRow, DimensionView, Level


def _median_mark(d: str, class_: str | None = None) -> str:
    """The benchmark median: an orange diamond."""
    return element("path", class_=class_, d=d, fill=PALETTE["orange"], stroke=INK, stroke_width=0.8)


def dimension_bars(
    rows: Sequence[DimensionView | DepartmentRow],
    scale_min: float,
    scale_max: float,
    *,
    benchmark: bool = True,
    levels: Sequence[Level] | None = None,
    references: Sequence[float | None] | None = None,
    reference_label: str | None = None,
    title: str = "Score per dimension",
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
) -> Markup:
    """Horizontal bars of dimension means with 95% interval whiskers.

    ``rows``: the view's dimensions (``DimensionView``) or a department report's rows
    (``DepartmentRow``, which read like dimensions): ``name``, ``mean``, ``ci``,
    ``suppressed`` and ``benchmark``. With ``benchmark`` the norm group's interquartile
    band is drawn as a hatched band behind each bar and its median as an orange diamond.
    ``levels`` draws the maturity thresholds as dashed lines. ``references`` (one number
    or None per row, e.g. the organisation's mean beside a department's) are thick black
    lines with a pointer, named ``reference_label`` in the legend. Bars start at
    ``scale_min``, so a mean of 3 on 1–5 ends mid-axis.
    """
    words = merged(text)
    ident = uid("dimbars", width, title, [(r.name, r.mean) for r in rows])
    label_width = min(BARS_LABEL_WIDTH, width * BARS_LABEL_SHARE)
    x0, x1 = label_width + LABEL_GAP, width - BARS_RIGHT
    axis = Axis(scale_min, scale_max, x0, x1)
    show_benchmark = benchmark and any(r.benchmark for r in rows)
    top = BARS_TOP + (BARS_LEVELS_ROOM if levels else 0)
    show_reference = False
    body: list[str] = [hatch(ident)]
    y = top
    summary: list[str] = []
    marks: list[str] = []
    for k, row in enumerate(rows):
        name = str(row.name)
        lines = row_lines(name, label_width)
        row_h = row_height(lines, BARS_ROW)
        mid = y + row_h / 2
        marks.append(label(label_width, mid, lines, "end"))
        mean = row.mean
        if row.suppressed or missing(mean):
            note = words["withheld"] if row.suppressed else words["not_available"]
            marks.append(
                text_element(
                    note,
                    class_="withheld",
                    x=x0 + 6,
                    y=mid + BASELINE,
                    font_style="italic",
                    fill=PALETTE["grey"],
                )
            )
            summary.append(f"{name}: {words['withheld']}")
            y += row_h
            continue
        bench = row.benchmark if show_benchmark else None
        if bench and not missing(bench.q1) and not missing(bench.q3):
            bx0, bx1 = axis(bench.q1), axis(bench.q3)
            marks.append(
                element(
                    "rect",
                    class_="benchmark-band",
                    x=bx0,
                    y=y + BARS_BAND_INSET,
                    width=max(bx1 - bx0, 1),
                    height=row_h - 2 * BARS_BAND_INSET,
                    fill=f"url(#{ident}-hatch)",
                    stroke=HATCH_LINE,
                    stroke_width=0.8,
                )
            )
        bar_end = axis(float(mean))
        marks.append(
            element(
                "rect",
                class_="bar",
                x=x0,
                y=mid - BARS_BAR / 2,
                width=bar_end - x0,
                height=BARS_BAR,
                fill=PALETTE["blue"],
                fill_opacity=BARS_OPACITY,
            )
        )
        ci = interval(row.ci)
        right = bar_end
        if ci:
            marks.append(whisker(axis(ci[0]), axis(ci[1]), mid))
            right = max(right, axis(ci[1]))
        if bench and not missing(bench.median):
            bm = axis(bench.median)
            size = BARS_MEDIAN
            marks.append(
                _median_mark(
                    f"M{num(bm)} {num(mid - 2 * size)}l{size} {size}l-{size} {size}"
                    f"l-{size} -{size}z",
                    class_="benchmark-median",
                )
            )
            right = max(right, bm + size)
        if bench and not missing(bench.q3):
            right = max(right, axis(bench.q3))
        ref = references[k] if references is not None and k < len(references) else None
        if not missing(ref):
            rx = axis(float(ref))
            marks.append(reference(rx, mid))
            right = max(right, rx + 2)
            show_reference = True
        value = format_number(mean, 2, lang)
        # A white backing keeps the number readable where it crosses a threshold line.
        marks.append(
            element(
                "rect",
                x=right + 5,
                y=mid - BARS_BAR / 2,
                width=text_width(value) + 6,
                height=BARS_BAR,
                fill=PAPER,
                fill_opacity=0.9,
            )
            + text_element(value, class_="value", x=right + 8, y=mid + BASELINE, font_weight="bold")
        )
        summary.append(
            f"{name}: {value}"
            + (f" ({format_number(ci[0], 2, lang)}–{format_number(ci[1], 2, lang)})" if ci else "")
        )
        y += row_h
    bottom = y
    grid = axis_lines(axis, top, bottom, lang)
    numbered = False
    if levels:
        level_marks, numbered = _level_marks(levels, axis, scale_min, scale_max, top, bottom)
        grid += level_marks
    entries = [
        (swatch(PALETTE["blue"], 12, 10, fill_opacity=BARS_OPACITY), words["score"]),
        (whisker(-6, 6, 0, 4), words["interval"]),
    ]
    if show_reference:
        entries.append((reference(0, 2, 8), reference_label or words["organisation"]))
    if show_benchmark:
        entries += [
            (_median_mark("M0 -6l6 6l-6 6l-6 -6z"), words["benchmark_median"]),
            (swatch(f"url(#{ident}-hatch)", 12, 10, stroke=HATCH_LINE), words["benchmark_band"]),
        ]
    if numbered:
        # The bands carry numbers where their names do not fit: the legend names them.
        entries += [(_level_number(0, 4, level.number), level.name) for level in levels]
    key, key_h = legend(label_width * 0.2, bottom + AXIS_TOP + 4, entries, width)
    body += grid + marks + [key]
    return document(
        "dimensions", ident, width, bottom + AXIS_TOP + key_h, title, "; ".join(summary), body
    )


def _level_number(x: float, y: float, number: int) -> str:
    return text_element(
        str(number),
        class_="level-name",
        x=x,
        y=y,
        text_anchor="middle",
        font_size=LEVEL_SIZE,
        font_weight="bold",
        fill=PALETTE["grey"],
    )


def _level_marks(
    levels: Sequence[Level],
    axis: Axis,
    scale_min: float,
    scale_max: float,
    top: float,
    bottom: float,
) -> tuple[list[str], bool]:
    """Dashed lines at the maturity thresholds, and level names centred in their bands.

    Where any name does not fit its band (a phone's narrow drawing), every band shows its
    level number instead, never a cut name, and the second value returned is True: the
    legend then names the numbers.
    """
    out = []
    for level in levels:
        score = level.min_score
        if missing(score) or score <= scale_min:
            continue
        lx = axis(score)
        out.append(
            element(
                "line",
                class_="level",
                x1=lx,
                x2=lx,
                y1=top - 4,
                y2=bottom,
                stroke=PALETTE["grey"],
                stroke_dasharray="3 3",
            )
        )
    scores = [float(lv.min_score) for lv in levels] + [float(scale_max)]
    bands = [(axis(scores[k]), axis(scores[k + 1])) for k in range(len(levels))]
    numbered = any(
        text_width(str(level.name), LEVEL_SIZE) > b - a - 6
        for level, (a, b) in zip(levels, bands, strict=True)
    )
    for level, (a, b) in zip(levels, bands, strict=True):
        if numbered:
            out.append(_level_number((a + b) / 2, top - 8, level.number))
            continue
        out.append(
            text_element(
                str(level.name),
                class_="level-name",
                x=(a + b) / 2,
                y=top - 8,
                text_anchor="middle",
                font_size=LEVEL_SIZE,
                fill=PALETTE["grey"],
            )
        )
    return out, numbered
