"""Group intervals: each department's (or role's) mean as a dot with its 95% interval."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from ..reporting.formatting import format_number
from .layout import (
    AXIS_TOP,
    BASELINE,
    GROUPS_DIAMOND,
    GROUPS_DOT,
    GROUPS_LABEL_SHARE,
    GROUPS_LABEL_WIDTH,
    GROUPS_NOTE_SHARE,
    GROUPS_ROW,
    GROUPS_TOP,
    GROUPS_TRIANGLE,
    GROUPS_WHISKER_CAP,
    HIGHLIGHT,
    INDENT,
    INK,
    LABEL_GAP,
    LINE_HEIGHT,
    PALETTE,
    SMALL_SIZE,
)
from .marks import Axis, axis_lines, diamond, interval, legend, missing, triangle, whisker
from .svg import document, element, esc, text_element, uid
from .text import chars_in, label, text_width, wrap_label
from .words import merged

if TYPE_CHECKING:
    from ..reporting.view import GroupRow

ORG_DASH = "5 3"  # the organisation's mean: a dashed vertical line


def _dot(**values: Any) -> str:
    return element(
        "circle", **values, r=GROUPS_DOT, fill=PALETTE["blue"], stroke=INK, stroke_width=0.8
    )


def group_intervals(
    rows: Sequence[GroupRow],
    org_mean: float | None,
    scale_min: float,
    scale_max: float,
    *,
    title: str = "Departments",
    highlight: str | None = None,
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
    label_lines: int = 3,
) -> Markup:
    """Dot-and-whisker chart of group means with 95% intervals against the organisation mean.

    ``rows``: the view's groups (``GroupRow``: ``name``, ``mean``, ``ci``, ``suppressed``,
    ``agreement_ok``, ``vs_rest.significant``/``diff``, ``parent``).
    Withheld groups are named with "withheld" and no number; groups without agreement get a
    hollow diamond and the words "no agreement"; a group significantly above or below the
    rest of the organisation gets a filled triangle pointing up or down. Sub-departments
    (``parent`` set) are indented. ``highlight`` (a group ``code``) is drawn in bold.
    Names wrap to at most ``label_lines`` lines (three by default, so a department or role
    name is never cut on a phone); a row grows to hold them. Where "no agreement" does not
    fit beside the number, the diamond alone marks it and the legend names it.
    """
    words = merged(text)
    ident = uid("groups", width, title, [(r.code, r.mean) for r in rows])
    label_width = min(GROUPS_LABEL_WIDTH, width * GROUPS_LABEL_SHARE)
    # Room right of the plot for "▲ 3.25 no agreement": as wide as the longest note needs.
    number_width = text_width("0.00 ", SMALL_SIZE)
    note_width = 14 + number_width + 8
    if any(r.agreement_ok is False and not r.suppressed for r in rows):
        note_width += text_width(words["no_agreement"], SMALL_SIZE)
    note_width = min(note_width, width * GROUPS_NOTE_SHARE)
    note_chars = chars_in(note_width - 22 - number_width, SMALL_SIZE)
    no_agreement_note = words["no_agreement"] if len(words["no_agreement"]) <= note_chars else ""
    x0, x1 = label_width + LABEL_GAP, width - note_width - 8
    axis = Axis(scale_min, scale_max, x0, x1)
    top = GROUPS_TOP
    y = top
    marks: list[str] = []
    summary: list[str] = []
    any_no_agreement = any_above = any_below = False
    for row in rows:
        name = str(row.name)
        indent = INDENT if row.parent not in (None, "") else 0
        lines = wrap_label(name, chars_in(label_width - indent - 4, SMALL_SIZE), label_lines)
        row_h = max(GROUPS_ROW, len(lines) * LINE_HEIGHT + GROUPS_ROW - LINE_HEIGHT)
        mid = y + row_h / 2
        bold = highlight is not None and row.code == highlight
        marks.append(
            label(
                2 + indent,
                mid,
                lines,
                "start",
                font_size=SMALL_SIZE,
                font_weight="bold" if bold else "normal",
            )
        )
        if bold:
            marks.insert(
                0,
                element(
                    "rect", class_="highlight", x=0, y=y, width=width, height=row_h, fill=HIGHLIGHT
                ),
            )
        mean = row.mean
        if row.suppressed or missing(mean):
            marks.append(
                text_element(
                    words["withheld"],
                    class_="withheld",
                    x=x0 + 6,
                    y=mid + BASELINE,
                    font_size=SMALL_SIZE,
                    font_style="italic",
                    fill=PALETTE["grey"],
                )
            )
            summary.append(f"{name}: {words['withheld']}")
            y += row_h
            continue
        ci = interval(row.ci)
        if ci:
            marks.append(
                whisker(axis(ci[0]), axis(ci[1]), mid, GROUPS_WHISKER_CAP, PALETTE["grey"])
            )
        cx = axis(float(mean))
        significant = bool(row.vs_rest and row.vs_rest.significant)
        diff = row.vs_rest.diff if row.vs_rest else None
        if row.agreement_ok is False:
            marks.append(diamond(cx, mid, GROUPS_DIAMOND, PALETTE["vermillion"]))
            any_no_agreement = True
        else:
            marks.append(_dot(class_="mean", cx=cx, cy=mid))
        notes = [format_number(mean, 2, lang)]
        note_x = x1 + 10
        if significant and not missing(diff):
            up = diff > 0
            any_above, any_below = any_above or up, any_below or not up
            marks.append(triangle(note_x + 5, mid, up, GROUPS_TRIANGLE, INK))
            note_x += 14
        if row.agreement_ok is False and no_agreement_note:
            notes.append(no_agreement_note)
        extra = (
            element("tspan", esc(" " + notes[1]), fill=PALETTE["vermillion"], font_style="italic")
            if len(notes) > 1
            else ""
        )
        marks.append(
            element(
                "text",
                esc(notes[0]) + extra,
                class_="value",
                x=note_x,
                y=mid + BASELINE,
                font_size=SMALL_SIZE,
            )
        )
        summary.append(f"{name}: {' '.join(notes)}")
        y += row_h
    bottom = y
    body = axis_lines(axis, top, bottom, lang)
    if not missing(org_mean):
        ox = axis(float(org_mean))
        body.append(
            element(
                "line",
                class_="org-mean",
                x1=ox,
                x2=ox,
                y1=top - 2,
                y2=bottom,
                stroke=INK,
                stroke_dasharray=ORG_DASH,
                stroke_width=1.2,
            )
        )
    body += marks
    entries = [
        (_dot(), words["score"]),
        (whisker(-6, 6, 0, GROUPS_WHISKER_CAP, PALETTE["grey"]), words["interval"]),
    ]
    if not missing(org_mean):
        entries.append(
            (
                element(
                    "path", d="M-7 0H7", stroke=INK, stroke_dasharray=ORG_DASH, stroke_width=1.2
                ),
                words["organisation"],
            )
        )
    if any_no_agreement:
        entries.append((diamond(0, 0, 5, PALETTE["vermillion"]), words["no_agreement"]))
    if any_above:
        entries.append((triangle(0, 0, True, 5), words["above"]))
    if any_below:
        entries.append((triangle(0, 0, False, 5), words["below"]))
    key, key_h = legend(8, bottom + AXIS_TOP + 4, entries, width)
    body.append(key)
    return document(
        "groups", ident, width, bottom + AXIS_TOP + key_h, title, "; ".join(summary), body
    )
