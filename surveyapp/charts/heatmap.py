"""The heatmap: departments × dimensions, each cell the group's mean on one blue ramp."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup

from ..reporting.formatting import format_number
from .colours import ink, ramp
from .layout import (
    BASELINE,
    CHAR_WIDTH,
    GRID,
    HEAT_CELL,
    HEAT_HEADER_CHARS,
    HEAT_KEY_STEPS,
    HEAT_LABEL_SHARE,
    HEAT_LABEL_WIDTH,
    HEAT_NARROW_CELL,
    HEAT_STEPS,
    HEAT_WIDE_CELL,
    INDENT,
    PALETTE,
    PAPER,
    SMALL_SIZE,
    SWATCH_EDGE,
    TINY_SIZE,
    WITHHELD_INK,
)
from .marks import diamond, hatch, legend, missing, swatch, triangle
from .svg import document, element, esc, num, text_element, uid
from .text import chars_in, label, text_width, wrap_label
from .words import merged

if TYPE_CHECKING:
    from ..reporting.view import GroupRow, HeatColumn, HeatRow

HEADER_LINE = 12  # between the two lines of a column head


def _column_heads(
    columns: Sequence[HeatColumn], x_start: float, cell_w: float, header_h: float
) -> list[str]:
    """Column names running upwards; up to two lines side by side within a column."""
    out = []
    for k, column in enumerate(columns):
        lines = wrap_label(
            str(column.name),
            HEAT_HEADER_CHARS,
            2 if cell_w >= HEAT_NARROW_CELL else 1,
        )
        cx = x_start + (k + 0.5) * cell_w
        spans = "".join(
            element("tspan", esc(line), x=0, y=(j - (len(lines) - 1) / 2) * HEADER_LINE + 3.5)
            for j, line in enumerate(lines)
        )
        out.append(
            element(
                "text",
                spans,
                class_="column",
                transform=f"translate({num(cx)},{num(header_h - 4)}) rotate(-90)",
                font_size=TINY_SIZE,
            )
        )
    return out


def heatmap(
    columns: Sequence[HeatColumn],
    rows: Sequence[HeatRow],
    scale_min: float,
    scale_max: float,
    *,
    title: str = "Departments by dimension",
    domain: tuple[float, float] | None = None,
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
) -> Markup:
    """Groups × dimensions: each cell shows the group's mean, shaded on one blue ramp.

    ``columns`` and ``rows``: the view's ``heatmap`` (``HeatColumn``s, and ``HeatRow``s with
    one ``GroupRow`` per column, or None); rows of sub-departments (``parent`` set on the
    row, or on its first cell) are indented. A filled triangle up/down after the value marks a group
    significantly above/below the rest of the organisation (BH-adjusted); a hollow diamond
    in the corner and a dashed border mark a group without agreement; a withheld cell is
    hatched, shows a dash and no number. ``domain`` (default the scale) sets the colour ramp.
    """
    words = merged(text)
    ident = uid("heat", width, title, [c.name for c in columns], [r.name for r in rows])
    low, high = domain or (scale_min, scale_max)
    label_width = min(HEAT_LABEL_WIDTH, width * HEAT_LABEL_SHARE)
    ncol = max(len(columns), 1)
    cell_w = (width - label_width - 10) / ncol
    cell_h = HEAT_CELL
    header_h = HEAT_HEADER_CHARS * TINY_SIZE * CHAR_WIDTH + 8
    x_start = label_width + 10
    wide = cell_w >= HEAT_WIDE_CELL
    digits = 2 if wide else 1
    size = SMALL_SIZE if wide else (TINY_SIZE if cell_w >= HEAT_NARROW_CELL else 9)
    body: list[str] = [hatch(ident), *_column_heads(columns, x_start, cell_w, header_h)]
    y = header_h + 2
    summary = []
    any_above = any_below = any_no_agreement = any_withheld = False
    for row in rows:
        name = str(row.name)
        first_cell = next((c for c in row.cells if c is not None), None)
        parent = row.parent if row.parent is not None else first_cell and first_cell.parent
        indent = INDENT if parent not in (None, "") else 0
        lines = wrap_label(name, chars_in(label_width - indent - 4, SMALL_SIZE), 1)
        mid = y + cell_h / 2
        body.append(label(2 + indent, mid, lines, "start", font_size=SMALL_SIZE))
        cells: list[GroupRow | None] = list(row.cells)
        cells += [None] * (len(columns) - len(cells))
        for k, cell in enumerate(cells[: len(columns)]):
            x = x_start + k * cell_w
            box = {"x": x + 1, "y": y + 1, "width": cell_w - 2, "height": cell_h - 2}
            cx = x + cell_w / 2
            if cell is None:
                body.append(element("rect", class_="empty", **box, fill=PAPER, stroke=GRID))
                continue
            mean = cell.mean
            if cell.suppressed or missing(mean):
                any_withheld = True
                body.append(
                    element("rect", class_="withheld", **box, fill=f"url(#{ident}-hatch)")
                    + text_element(
                        "–",
                        x=cx,
                        y=mid + BASELINE,
                        text_anchor="middle",
                        font_size=SMALL_SIZE,
                        font_weight="bold",
                        fill=WITHHELD_INK,
                    )
                )
                continue
            fill = ramp(round((float(mean) - low) / (high - low) * HEAT_STEPS) / HEAT_STEPS)
            colour = ink(fill)
            diff = cell.vs_rest.diff if cell.vs_rest else None
            flag = bool(cell.vs_rest and cell.vs_rest.significant) and not missing(diff)
            no_agreement = cell.agreement_ok is False
            outline = (
                {"stroke": PALETTE["vermillion"], "stroke_width": 1.5, "stroke_dasharray": "3 2"}
                if no_agreement
                else {}
            )
            body.append(element("rect", class_="cell", **box, fill=fill, **outline))
            value = format_number(mean, digits, lang)
            # The triangle follows the number when both fit, else it sits in the corner.
            inline = text_width(value, size) + 14 <= cell_w - 2
            shift = -5 if flag and inline else 0
            body.append(
                text_element(
                    value,
                    class_="value",
                    x=cx + shift,
                    y=mid + BASELINE,
                    text_anchor="middle",
                    font_size=size,
                    fill=colour,
                )
            )
            if flag:
                up = diff > 0
                any_above, any_below = any_above or up, any_below or not up
                if inline:
                    tx = cx + shift + text_width(value, size) / 2 + 6
                    body.append(triangle(tx, mid, up, 4, colour))
                else:
                    body.append(triangle(x + cell_w - 5, y + 5.5, up, 3, colour))
            if no_agreement:
                any_no_agreement = True
                body.append(diamond(x + 6, y + 6, 3.5, PALETTE["vermillion"]))
            summary.append(f"{name}, {columns[k].name}: {value}")
        y += cell_h
    bottom = y
    # Colour key: five swatches over the domain.
    entries = []
    for k in range(HEAT_KEY_STEPS + 1):
        v = low + (high - low) * k / HEAT_KEY_STEPS
        key_swatch = swatch(ramp(k / HEAT_KEY_STEPS), 14, 12, stroke=SWATCH_EDGE, stroke_width=0.5)
        entries.append((key_swatch, format_number(v, 0 if float(v).is_integer() else 1, lang)))
    if any_above:
        entries.append((triangle(0, 0, True, 4.5), words["above"]))
    if any_below:
        entries.append((triangle(0, 0, False, 4.5), words["below"]))
    if any_no_agreement:
        entries.append((diamond(0, 0, 4.5, PALETTE["vermillion"]), words["no_agreement"]))
    if any_withheld:
        entries.append((swatch(f"url(#{ident}-hatch)", 14, 12), "– " + words["withheld"]))
    key, key_h = legend(8, bottom + 16, entries, width)
    body.append(key)
    return document("heatmap", ident, width, bottom + 8 + key_h, title, "; ".join(summary), body)
