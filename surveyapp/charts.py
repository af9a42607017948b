"""Charts as hand-written SVG, built from plain numbers, shared by the web pages and the PDF.

Every function is pure: it takes numbers and strings (usually the dicts of
``services.report_model.build_view``) and returns a :class:`markupsafe.Markup` string
holding one ``<svg>`` element, so a Jinja template can write ``{{ chart }}`` as is.

Conventions shared by all charts

* ``viewBox`` sizing: the ``width``/``height`` attributes give the natural size in CSS
  pixels; give the element ``width: 100%; height: auto`` to scale it (360 px phones, print).
* Accessible: ``role="img"``, an ``aria-label`` and a ``<title>`` stating what the chart
  shows, and a ``<desc>`` with the figures in words.
* Colour-blind safe and legible in black and white: the Okabe–Ito palette, one sequential
  blue ramp for the heatmap, blue/orange for answer shares, and every colour distinction
  repeated by a shape, a pattern or text (triangles for significant differences, a hollow
  diamond for "no agreement", hatching and a dash for withheld groups).
* Every label is escaped (department names come from CSV files) and long labels are
  wrapped to at most two lines and shortened with an ellipsis, never drawn over each other.
* Words drawn in a chart come from ``TEXT`` (English); pass ``text=chart_text(gettext)``
  for the reader's language and ``lang="nl"`` for decimal commas.
* A withheld (suppressed) group is drawn without any number.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

# Numbers in charts print exactly as in the text around them (re-exported for callers).
from .reporting.formatting import format_number, format_percent

__all__ = [
    "PALETTE",
    "TEXT",
    "answer_colours",
    "change_bars",
    "chart_text",
    "difference_bars",
    "dimension_bars",
    "distribution_bar",
    "distribution_legend",
    "format_number",
    "format_percent",
    "gap_bars",
    "group_intervals",
    "heatmap",
    "text_width",
    "wrap_label",
]


def N_(message: str) -> str:
    """Mark a string for translation without translating it (read by ``pybabel extract``)."""
    return message


#: Okabe & Ito (2008) colours, distinguishable with every common colour-vision deficiency.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#595959",
    "light": "#D9D9D9",
}

#: Sequential single-hue ramp (ColorBrewer "Blues") for heatmap cells, light to dark.
BLUES = ("#F7FBFF", "#DEEBF7", "#C6DBEF", "#9ECAE1", "#6BAED6", "#4292C6", "#2171B5", "#08519C")

#: Diverging orange → grey → blue ramp for answer shares (disagree → agree).
DIVERGING = ("#B35806", "#F1A340", "#E0E0E0", "#74A9CF", "#0B4F8A")

FONT = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif"
FONT_SIZE = 12
#: Average advance of a character as a share of the font size (DejaVu Sans is wide).
CHAR_WIDTH = 0.6
LINE_HEIGHT = 14
ELLIPSIS = "…"

#: Words drawn inside charts. Keys are stable; values are the English msgids.
TEXT: dict[str, str] = {
    "withheld": N_("withheld"),
    "no_agreement": N_("no agreement"),
    "not_available": N_("not available"),
    "organisation": N_("organisation"),
    "interval": N_("95% interval"),
    "benchmark_median": N_("benchmark median"),
    "benchmark_band": N_("middle half of the benchmark"),
    "score": N_("score"),
    "above": N_("above the rest of the organisation"),
    "below": N_("below the rest of the organisation"),
    "significant": N_("difference holds after adjustment"),
    "not_significant": N_("difference may be chance"),
    "gap_left": N_("staff see more"),
    "gap_right": N_("top management sees more"),
    "change_left": N_("lower than last time"),
    "change_right": N_("higher than last time"),
    "level": N_("level"),
}


def chart_text(gettext: Callable[[str], str]) -> dict[str, str]:
    """The chart words of ``TEXT`` translated with ``gettext`` (Flask-Babel's or Babel's)."""
    return {key: gettext(message) for key, message in TEXT.items()}


# --------------------------------------------------------------------------- formatting


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


# --------------------------------------------------------------------------- text layout


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Estimated width in px of ``text`` at ``size`` (a generous average, so it never overruns)."""
    return len(text) * size * CHAR_WIDTH


def wrap_label(text: str, max_chars: int, max_lines: int = 2) -> list[str]:
    """Split ``text`` into at most ``max_lines`` lines of at most ``max_chars`` characters.

    Words longer than a line are cut; what does not fit ends in an ellipsis.
    """
    max_chars = max(2, max_chars)
    words = str(text).split()
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > max_chars:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[: max_chars - 1] + "-")
            word = word[max_chars - 1 :]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= max_chars:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        lines = lines[: max_lines - 1]
        lines.append(last[: max_chars - 1].rstrip(" -") + ELLIPSIS)
    return lines


def _e(value: Any) -> str:
    return str(escape(str(value)))


def _n(x: float) -> str:
    """A coordinate, short: 2 decimals at most."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _uid(kind: str, *parts: Any) -> str:
    """Element ids of one chart: the same chart drawn at two widths gets two sets."""
    digest = hashlib.blake2s(repr((kind, parts)).encode(), digest_size=5).hexdigest()
    return f"{kind}-{digest}"


def _svg(kind: str, uid: str, width: float, height: float, title: str, desc: str, body) -> Markup:
    width, height = math.ceil(width), math.ceil(height)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_e(title)}" aria-describedby="{uid}-d" '
        f'font-family="{FONT}" font-size="{FONT_SIZE}" fill="#000">'
        f'<title id="{uid}-t">{_e(title)}</title><desc id="{uid}-d">{_e(desc)}</desc>'
        f"{''.join(body)}</svg>"
    )


def _label(x: float, y: float, lines: Sequence[str], anchor: str = "end", **attrs: Any) -> str:
    """A one- or two-line label vertically centred on ``y``."""
    extra = "".join(f' {k.replace("_", "-")}="{_e(v)}"' for k, v in attrs.items())
    first = y - (len(lines) - 1) * LINE_HEIGHT / 2 + 4
    spans = "".join(
        f'<tspan x="{_n(x)}" y="{_n(first + k * LINE_HEIGHT)}">{_e(line)}</tspan>'
        for k, line in enumerate(lines)
    )
    return f'<text class="chart-label" text-anchor="{anchor}"{extra}>{spans}</text>'


def _get(row: Any, key: str, default: Any = None) -> Any:
    if isinstance(row, Mapping):
        return row.get(key, default)
    return getattr(row, key, default)


def _interval(row: Any) -> tuple[float, float] | None:
    ci = _get(row, "ci")
    if not ci or _missing(ci[0]) or _missing(ci[1]):
        return None
    return float(ci[0]), float(ci[1])


def _text(text: Mapping[str, str] | None) -> dict[str, str]:
    return {**TEXT, **(text or {})}


class _Axis:
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


def _tick_step(span: float, pixels: float, smallest: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k (at least ``smallest``) keeping ticks 40 px apart."""
    for exponent in range(-2, 4):
        for mantissa in (1, 2, 2.5, 5):
            step = mantissa * 10**exponent
            if step >= smallest - 1e-12 and pixels * step / span >= 40:
                return step
    return span


def _axis_lines(axis: _Axis, top: float, bottom: float, lang: str, digits: int = 0) -> list[str]:
    out = [
        f'<line class="axis" x1="{_n(axis.x0)}" x2="{_n(axis.x1)}" y1="{_n(bottom)}" '
        f'y2="{_n(bottom)}" stroke="{PALETTE["grey"]}"/>'
    ]
    step = _tick_step(axis.high - axis.low, axis.x1 - axis.x0, 1.0)
    for tick in axis.ticks(step):
        x = axis(tick)
        out.append(
            f'<line class="grid" x1="{_n(x)}" x2="{_n(x)}" y1="{_n(top)}" y2="{_n(bottom)}" '
            f'stroke="#E6E6E6"/>'
            f'<text x="{_n(x)}" y="{_n(bottom + 14)}" text-anchor="middle" font-size="11" '
            f'fill="{PALETTE["grey"]}">{format_number(tick, digits, lang)}</text>'
        )
    return out


def _whisker(x_low: float, x_high: float, y: float, cap: float = 5, colour: str = "#000") -> str:
    return (
        f'<path class="whisker" d="M{_n(x_low)} {_n(y)}H{_n(x_high)}'
        f'M{_n(x_low)} {_n(y - cap)}V{_n(y + cap)}M{_n(x_high)} {_n(y - cap)}V{_n(y + cap)}" '
        f'stroke="{colour}" stroke-width="1.4" fill="none"/>'
    )


def _triangle(x: float, y: float, up: bool, size: float = 5.5, fill: str = "#000") -> str:
    h = size * 0.9
    if up:
        points = f"{_n(x - size)},{_n(y + h)} {_n(x + size)},{_n(y + h)} {_n(x)},{_n(y - h)}"
    else:
        points = f"{_n(x - size)},{_n(y - h)} {_n(x + size)},{_n(y - h)} {_n(x)},{_n(y + h)}"
    cls = "above" if up else "below"
    return f'<polygon class="{cls}" points="{points}" fill="{fill}"/>'


def _diamond(x: float, y: float, size: float = 5.5, stroke: str = "#000") -> str:
    return (
        f'<path class="no-agreement" d="M{_n(x)} {_n(y - size)}L{_n(x + size)} {_n(y)}'
        f'L{_n(x)} {_n(y + size)}L{_n(x - size)} {_n(y)}Z" fill="#fff" stroke="{stroke}" '
        'stroke-width="1.6"/>'
    )


def _reference(x: float, y: float, half: float = 12) -> str:
    """A reference value: a thick line with a pointer on top, unlike any whisker cap."""
    return (
        f'<path class="reference" d="M{_n(x)} {_n(y - half + 4)}V{_n(y + half)}" stroke="#000" '
        f'stroke-width="2.5"/><path d="M{_n(x - 5)} {_n(y - half - 2)}h10l-5 6z" fill="#000"/>'
    )


def _hatch(uid: str) -> str:
    return (
        f'<defs><pattern id="{uid}-hatch" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#A6A6A6" stroke-width="2.5"/></pattern></defs>'
    )


def _legend(
    x: float, y: float, entries: Iterable[tuple[str, str]], width: float
) -> tuple[str, float]:
    """Legend entries (symbol SVG at (0, 0), label) flowed left to right; returns (svg, height)."""
    out, cx, cy = [], x, y
    for symbol, label in entries:
        needed = 22 + text_width(label, 11) + 16
        if cx > x and cx + needed > width:
            cx, cy = x, cy + 18
        out.append(
            f'<g transform="translate({_n(cx + 7)},{_n(cy)})">{symbol}</g>'
            f'<text x="{_n(cx + 20)}" y="{_n(cy + 4)}" font-size="11">{_e(label)}</text>'
        )
        cx += needed
    return "".join(out), cy - y + 18


def _row_lines(name: str, label_width: float, size: float = FONT_SIZE) -> list[str]:
    return wrap_label(name, int(label_width / (size * CHAR_WIDTH)), 2)


# --------------------------------------------------------------------------- dimension bars


def dimension_bars(
    rows: Sequence[Mapping[str, Any]],
    scale_min: float,
    scale_max: float,
    *,
    benchmark: bool = True,
    levels: Sequence[Mapping[str, Any]] | None = None,
    reference_label: str | None = None,
    title: str = "Score per dimension",
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
) -> Markup:
    """Horizontal bars of dimension means with 95% interval whiskers.

    ``rows``: mappings with ``name``, ``mean``, ``ci`` ((low, high) or None), optional
    ``suppressed`` and ``benchmark`` ({q1, median, q3} or None), e.g. the ``dimensions`` of
    ``build_view``. With ``benchmark`` the norm group's interquartile band is drawn as a
    hatched band behind each bar and its median as an orange diamond. ``levels``
    (mappings with ``min_score`` and ``name``) draws the maturity thresholds as dashed
    lines. A row's optional ``reference`` (a number, e.g. the organisation's mean beside a
    department's) is a thick black line with a pointer, named ``reference_label`` in the
    legend. Bars start at ``scale_min``, so a mean of 3 on 1–5 ends mid-axis.
    """
    words = _text(text)
    uid = _uid("dimbars", width, title, [(_get(r, "name"), _get(r, "mean")) for r in rows])
    label_width = min(210.0, width * 0.34)
    x0, x1 = label_width + 14, width - 52
    axis = _Axis(scale_min, scale_max, x0, x1)
    show_benchmark = benchmark and any(_get(r, "benchmark") for r in rows)
    top = 8 + (18 if levels else 0)
    row_h = 34
    show_reference = False
    body: list[str] = [_hatch(uid)]
    y = top
    summary: list[str] = []
    marks: list[str] = []
    for row in rows:
        name = str(_get(row, "name", ""))
        lines = _row_lines(name, label_width)
        mid = y + row_h / 2
        marks.append(_label(label_width, mid, lines, "end"))
        mean = _get(row, "mean")
        if _get(row, "suppressed") or _missing(mean):
            missing = words["withheld"] if _get(row, "suppressed") else words["not_available"]
            marks.append(
                f'<text class="withheld" x="{_n(x0 + 6)}" y="{_n(mid + 4)}" font-style="italic" '
                f'fill="{PALETTE["grey"]}">{_e(missing)}</text>'
            )
            summary.append(f"{name}: {words['withheld']}")
            y += row_h
            continue
        bench = _get(row, "benchmark") if show_benchmark else None
        if bench and not _missing(_get(bench, "q1")) and not _missing(_get(bench, "q3")):
            bx0, bx1 = axis(_get(bench, "q1")), axis(_get(bench, "q3"))
            marks.append(
                f'<rect class="benchmark-band" x="{_n(bx0)}" y="{_n(y + 3)}" '
                f'width="{_n(max(bx1 - bx0, 1))}" height="{_n(row_h - 6)}" '
                f'fill="url(#{uid}-hatch)" stroke="#A6A6A6" stroke-width="0.8"/>'
            )
        bar_end = axis(float(mean))
        marks.append(
            f'<rect class="bar" x="{_n(x0)}" y="{_n(mid - 8)}" width="{_n(bar_end - x0)}" '
            f'height="16" fill="{PALETTE["blue"]}" fill-opacity="0.85"/>'
        )
        ci = _interval(row)
        right = bar_end
        if ci:
            marks.append(_whisker(axis(ci[0]), axis(ci[1]), mid))
            right = max(right, axis(ci[1]))
        if bench and not _missing(_get(bench, "median")):
            bm = axis(_get(bench, "median"))
            marks.append(
                f'<path class="benchmark-median" d="M{_n(bm)} {_n(mid - 12)}l6 6l-6 6l-6 -6z" '
                f'fill="{PALETTE["orange"]}" stroke="#000" stroke-width="0.8"/>'
            )
            right = max(right, bm + 6)
        if bench and not _missing(_get(bench, "q3")):
            right = max(right, axis(_get(bench, "q3")))
        reference = _get(row, "reference")
        if not _missing(reference):
            rx = axis(float(reference))
            marks.append(_reference(rx, mid))
            right = max(right, rx + 2)
            show_reference = True
        value = format_number(mean, 2, lang)
        # A white backing keeps the number readable where it crosses a threshold line.
        marks.append(
            f'<rect x="{_n(right + 5)}" y="{_n(mid - 8)}" width="{_n(text_width(value) + 6)}" '
            f'height="16" fill="#fff" fill-opacity="0.9"/>'
            f'<text class="value" x="{_n(right + 8)}" '
            f'y="{_n(mid + 4)}" font-weight="bold">{value}</text>'
        )
        summary.append(
            f"{name}: {format_number(mean, 2, lang)}"
            + (f" ({format_number(ci[0], 2, lang)}–{format_number(ci[1], 2, lang)})" if ci else "")
        )
        y += row_h
    bottom = y
    grid = _axis_lines(axis, top, bottom, lang)
    if levels:
        for level in levels:
            score = _get(level, "min_score")
            if _missing(score) or score <= scale_min:
                continue
            lx = axis(score)
            grid.append(
                f'<line class="level" x1="{_n(lx)}" x2="{_n(lx)}" y1="{_n(top - 4)}" '
                f'y2="{_n(bottom)}" stroke="{PALETTE["grey"]}" stroke-dasharray="3 3"/>'
            )
        # Level names centred in their bands, above the plot; shortened to fit the band.
        scores = [float(_get(lv, "min_score")) for lv in levels] + [float(scale_max)]
        for k, level in enumerate(levels):
            a, b = axis(scores[k]), axis(scores[k + 1])
            name = wrap_label(str(_get(level, "name", "")), int((b - a - 6) / (9 * CHAR_WIDTH)), 1)
            grid.append(
                f'<text class="level-name" x="{_n((a + b) / 2)}" y="{_n(top - 8)}" '
                f'text-anchor="middle" font-size="9" fill="{PALETTE["grey"]}">{_e(name[0])}</text>'
            )
    entries = [
        (
            f'<rect x="-6" y="-5" width="12" height="10" fill="{PALETTE["blue"]}" '
            'fill-opacity="0.85"/>',
            words["score"],
        ),
        (_whisker(-6, 6, 0, 4), words["interval"]),
    ]
    if show_reference:
        entries.append((_reference(0, 2, 8), reference_label or words["organisation"]))
    if show_benchmark:
        entries += [
            (
                f'<path d="M0 -6l6 6l-6 6l-6 -6z" fill="{PALETTE["orange"]}" stroke="#000" '
                'stroke-width="0.8"/>',
                words["benchmark_median"],
            ),
            (
                f'<rect x="-6" y="-5" width="12" height="10" fill="url(#{uid}-hatch)" '
                'stroke="#A6A6A6"/>',
                words["benchmark_band"],
            ),
        ]
    legend, legend_h = _legend(label_width * 0.2, bottom + 34, entries, width)
    body += grid + marks + [legend]
    return _svg("dimensions", uid, width, bottom + 30 + legend_h, title, "; ".join(summary), body)


# --------------------------------------------------------------------------- group intervals


def group_intervals(
    rows: Sequence[Mapping[str, Any]],
    org_mean: float | None,
    scale_min: float,
    scale_max: float,
    *,
    title: str = "Departments",
    highlight: str | None = None,
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
) -> Markup:
    """Dot-and-whisker chart of group means with 95% intervals against the organisation mean.

    ``rows``: group mappings of ``build_view`` (``name``, ``mean``, ``ci``, ``n``,
    ``suppressed``, ``agreement_ok``, ``vs_rest.significant``/``diff``, ``parent``).
    Withheld groups are named with "withheld" and no number; groups without agreement get a
    hollow diamond and the words "no agreement"; a group significantly above or below the
    rest of the organisation gets a filled triangle pointing up or down. Sub-departments
    (``parent`` set) are indented. ``highlight`` (a group ``code``) is drawn in bold.
    """
    words = _text(text)
    uid = _uid("groups", width, title, [(_get(r, "code"), _get(r, "mean")) for r in rows])
    label_width = min(190.0, width * 0.3)
    # Room right of the plot for "▲ 3.25 no agreement": as wide as the longest note needs.
    note_width = 14 + text_width("0.00 ", 11) + 8
    if any(_get(r, "agreement_ok") is False and not _get(r, "suppressed") for r in rows):
        note_width += text_width(words["no_agreement"], 11)
    note_width = min(note_width, width * 0.3)
    note_chars = int((note_width - 22 - text_width("0.00 ", 11)) / (11 * CHAR_WIDTH))
    no_agreement_note = wrap_label(words["no_agreement"], note_chars, 1)[0]
    x0, x1 = label_width + 14, width - note_width - 8
    axis = _Axis(scale_min, scale_max, x0, x1)
    top, row_h = 6, 24
    y = top
    marks: list[str] = []
    summary: list[str] = []
    any_no_agreement = any_above = any_below = False
    for row in rows:
        name = str(_get(row, "name", ""))
        indent = 10 if _get(row, "parent") not in (None, "") else 0
        lines = wrap_label(name, int((label_width - indent - 4) / (11 * CHAR_WIDTH)), 1)
        mid = y + row_h / 2
        bold = highlight is not None and _get(row, "code") == highlight
        marks.append(
            _label(
                2 + indent,
                mid,
                lines,
                "start",
                font_size=11,
                font_weight="bold" if bold else "normal",
            )
        )
        if bold:
            marks.insert(
                0,
                f'<rect class="highlight" x="0" y="{_n(y)}" width="{_n(width)}" '
                f'height="{row_h}" fill="#FFF3D6"/>',
            )
        mean = _get(row, "mean")
        if _get(row, "suppressed") or _missing(mean):
            marks.append(
                f'<text class="withheld" x="{_n(x0 + 6)}" y="{_n(mid + 4)}" font-size="11" '
                f'font-style="italic" fill="{PALETTE["grey"]}">{_e(words["withheld"])}</text>'
            )
            summary.append(f"{name}: {words['withheld']}")
            y += row_h
            continue
        ci = _interval(row)
        if ci:
            marks.append(_whisker(axis(ci[0]), axis(ci[1]), mid, 4, PALETTE["grey"]))
        cx = axis(float(mean))
        vs_rest = _get(row, "vs_rest") or {}
        significant = bool(_get(vs_rest, "significant"))
        diff = _get(vs_rest, "diff")
        if _get(row, "agreement_ok") is False:
            marks.append(_diamond(cx, mid, 6, PALETTE["vermillion"]))
            any_no_agreement = True
        else:
            marks.append(
                f'<circle class="mean" cx="{_n(cx)}" cy="{_n(mid)}" r="4.5" '
                f'fill="{PALETTE["blue"]}" stroke="#000" stroke-width="0.8"/>'
            )
        notes = [format_number(mean, 2, lang)]
        note_x = x1 + 10
        if significant and not _missing(diff):
            up = diff > 0
            any_above, any_below = any_above or up, any_below or not up
            marks.append(_triangle(note_x + 5, mid, up, 5, "#000"))
            note_x += 14
        if _get(row, "agreement_ok") is False:
            notes.append(no_agreement_note)
        marks.append(
            f'<text class="value" x="{_n(note_x)}" y="{_n(mid + 4)}" font-size="11">'
            f"{_e(notes[0])}"
            + (
                f'<tspan fill="{PALETTE["vermillion"]}" font-style="italic"> {_e(notes[1])}</tspan>'
                if len(notes) > 1
                else ""
            )
            + "</text>"
        )
        summary.append(f"{name}: {' '.join(notes)}")
        y += row_h
    bottom = y
    body = _axis_lines(axis, top, bottom, lang)
    if not _missing(org_mean):
        ox = axis(float(org_mean))
        body.append(
            f'<line class="org-mean" x1="{_n(ox)}" x2="{_n(ox)}" y1="{_n(top - 2)}" '
            f'y2="{_n(bottom)}" stroke="#000" stroke-dasharray="5 3" stroke-width="1.2"/>'
        )
    body += marks
    entries = [
        (
            f'<circle r="4.5" fill="{PALETTE["blue"]}" stroke="#000" stroke-width="0.8"/>',
            words["score"],
        ),
        (_whisker(-6, 6, 0, 4, PALETTE["grey"]), words["interval"]),
    ]
    if not _missing(org_mean):
        entries.append(
            (
                '<path d="M-7 0H7" stroke="#000" stroke-dasharray="5 3" stroke-width="1.2"/>',
                words["organisation"],
            )
        )
    if any_no_agreement:
        entries.append((_diamond(0, 0, 5, PALETTE["vermillion"]), words["no_agreement"]))
    if any_above:
        entries.append((_triangle(0, 0, True, 5), words["above"]))
    if any_below:
        entries.append((_triangle(0, 0, False, 5), words["below"]))
    legend, legend_h = _legend(8, bottom + 34, entries, width)
    body.append(legend)
    return _svg("groups", uid, width, bottom + 30 + legend_h, title, "; ".join(summary), body)


# --------------------------------------------------------------------------- answer shares


def answer_colours(count: int) -> list[str]:
    """The fill of each answer option in :func:`distribution_bar`, disagree to agree."""
    if count == len(DIVERGING):
        return list(DIVERGING)
    out = []
    for k in range(count):
        t = k / (count - 1) * (len(DIVERGING) - 1) if count > 1 else 2
        a = int(math.floor(t))
        b = min(a + 1, len(DIVERGING) - 1)
        f = t - a
        ca, cb = DIVERGING[a], DIVERGING[b]
        mixed = [
            round(int(ca[i : i + 2], 16) * (1 - f) + int(cb[i : i + 2], 16) * f) for i in (1, 3, 5)
        ]
        out.append("#" + "".join(f"{c:02X}" for c in mixed))
    return out


@functools.lru_cache(maxsize=512)
def _ink(fill: str) -> str:
    """Black or white text, whichever reads better on ``fill``."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "#000" if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#fff"


def distribution_bar(
    shares: Sequence[float],
    labels: Sequence[str],
    *,
    title: str = "Answers",
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 300,
    height: float = 18,
) -> Markup:
    """One stacked 100% bar of answer shares, in answer order (disagree left, agree right).

    ``shares`` are fractions (they are rescaled if they do not sum to 1); ``labels`` name the
    answer options. Segments of at least 9% carry their percentage; every segment's share
    is also in the chart's description. Use :func:`distribution_legend` once per table.
    Segments wide enough for their percentage print it; every share is in the description.
    """
    uid = _uid("dist", width, title, tuple(shares))
    total = sum(s for s in shares if not _missing(s)) or 1.0
    colours = answer_colours(len(shares))
    body, x = [], 0.0
    summary = []
    for k, share in enumerate(shares):
        share = 0.0 if _missing(share) else share / total
        w = share * width
        label = labels[k] if k < len(labels) else str(k + 1)
        summary.append(f"{label}: {format_percent(share, lang)}")
        if w <= 0:
            continue
        body.append(
            f'<rect class="segment" x="{_n(x)}" y="0" width="{_n(w)}" height="{_n(height)}" '
            f'fill="{colours[k]}" stroke="#fff" stroke-width="1"/>'
        )
        if text_width(format_percent(share, lang), 10) + 4 <= w:
            body.append(
                f'<text x="{_n(x + w / 2)}" y="{_n(height / 2 + 4)}" text-anchor="middle" '
                f'font-size="10" fill="{_ink(colours[k])}">{format_percent(share, lang)}</text>'
            )
        x += w
    return _svg("distribution", uid, width, height, title, "; ".join(summary), body)


def distribution_legend(
    labels: Sequence[str], *, title: str = "Answer options", width: float = 640
) -> Markup:
    """The colour key of :func:`distribution_bar` for ``labels``, flowed over one or more lines."""
    uid = _uid("distlegend", width, tuple(labels))
    colours = answer_colours(len(labels))
    entries = [
        (
            f'<rect x="-6" y="-6" width="12" height="12" fill="{colours[k]}" stroke="#000" '
            'stroke-width="0.4"/>',
            f"{k + 1} {label}" if len(labels) > 5 else label,
        )
        for k, label in enumerate(labels)
    ]
    legend, h = _legend(2, 10, entries, width)
    return _svg("distribution-legend", uid, width, h + 4, title, ", ".join(labels), [legend])


# --------------------------------------------------------------------------- heatmap


@functools.lru_cache(maxsize=512)
def _ramp(t: float) -> str:
    """Colour of the blue ramp at ``t`` in [0, 1] (callers round ``t`` to 0.005)."""
    t = min(max(t, 0.0), 1.0) * (len(BLUES) - 1)
    a = int(math.floor(t))
    b = min(a + 1, len(BLUES) - 1)
    f = t - a
    ca, cb = BLUES[a], BLUES[b]
    mixed = [
        round(int(ca[i : i + 2], 16) * (1 - f) + int(cb[i : i + 2], 16) * f) for i in (1, 3, 5)
    ]
    return "#" + "".join(f"{c:02X}" for c in mixed)


def heatmap(
    columns: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
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

    ``columns``: mappings with ``name``; ``rows``: mappings with ``name``, optional
    ``parent``, and ``cells`` (one group mapping of ``build_view`` per column, or None), as
    ``build_view(...)["heatmap"]``; rows of sub-departments (``parent`` set on the row or
    its cells) are indented. A filled triangle up/down after the value marks a group
    significantly above/below the rest of the organisation (BH-adjusted); a hollow diamond
    in the corner and a dashed border mark a group without agreement; a withheld cell is
    hatched, shows a dash and no number. ``domain`` (default the scale) sets the colour ramp.
    """
    words = _text(text)
    uid = _uid(
        "heat", width, title, [_get(c, "name") for c in columns], [_get(r, "name") for r in rows]
    )
    low, high = domain or (scale_min, scale_max)
    label_width = min(170.0, width * 0.27)
    ncol = max(len(columns), 1)
    cell_w = (width - label_width - 10) / ncol
    cell_h = 22
    # Column names run upwards; up to two lines side by side within a column.
    header_chars = 22
    header_h = header_chars * 10 * CHAR_WIDTH + 8
    x_start = label_width + 10
    body: list[str] = [_hatch(uid)]
    for k, column in enumerate(columns):
        lines = wrap_label(str(_get(column, "name", "")), header_chars, 2 if cell_w >= 30 else 1)
        cx = x_start + (k + 0.5) * cell_w
        spans = "".join(
            f'<tspan x="0" y="{_n((j - (len(lines) - 1) / 2) * 12 + 3.5)}">{_e(line)}</tspan>'
            for j, line in enumerate(lines)
        )
        body.append(
            f'<text class="column" transform="translate({_n(cx)},{_n(header_h - 4)}) rotate(-90)" '
            f'font-size="10">{spans}</text>'
        )
    y = header_h + 2
    summary = []
    any_above = any_below = any_no_agreement = any_withheld = False
    for row in rows:
        name = str(_get(row, "name", ""))
        first_cell = next((c for c in (_get(row, "cells") or []) if c is not None), None)
        parent = _get(row, "parent", _get(first_cell, "parent") if first_cell else None)
        indent = 10 if parent not in (None, "") else 0
        lines = wrap_label(name, int((label_width - indent - 4) / (11 * CHAR_WIDTH)), 1)
        mid = y + cell_h / 2
        body.append(_label(2 + indent, mid, lines, "start", font_size=11))
        cells = list(_get(row, "cells") or [])
        cells += [None] * (len(columns) - len(cells))
        for k, cell in enumerate(cells[: len(columns)]):
            x = x_start + k * cell_w
            rect = (
                f'x="{_n(x + 1)}" y="{_n(y + 1)}" width="{_n(cell_w - 2)}" '
                f'height="{_n(cell_h - 2)}"'
            )
            cx = x + cell_w / 2
            if cell is None:
                body.append(f'<rect class="empty" {rect} fill="#fff" stroke="#E6E6E6"/>')
                continue
            mean = _get(cell, "mean")
            if _get(cell, "suppressed") or _missing(mean):
                any_withheld = True
                body.append(
                    f'<rect class="withheld" {rect} fill="url(#{uid}-hatch)"/>'
                    f'<text x="{_n(cx)}" y="{_n(mid + 4)}" text-anchor="middle" font-size="11" '
                    f'font-weight="bold" fill="#404040">–</text>'
                )
                continue
            fill = _ramp(round((float(mean) - low) / (high - low) * 200) / 200)
            ink = _ink(fill)
            vs_rest = _get(cell, "vs_rest") or {}
            diff = _get(vs_rest, "diff")
            flag = bool(_get(vs_rest, "significant")) and not _missing(diff)
            no_agreement = _get(cell, "agreement_ok") is False
            body.append(
                f'<rect class="cell" {rect} fill="{fill}"'
                + (
                    f' stroke="{PALETTE["vermillion"]}" stroke-width="1.5" stroke-dasharray="3 2"'
                    if no_agreement
                    else ""
                )
                + "/>"
            )
            value = format_number(mean, 1 if cell_w < 44 else 2, lang)
            size = 11 if cell_w >= 44 else (10 if cell_w >= 30 else 9)
            # The triangle follows the number when both fit, else it sits in the corner.
            inline = text_width(value, size) + 14 <= cell_w - 2
            shift = -5 if flag and inline else 0
            body.append(
                f'<text class="value" x="{_n(cx + shift)}" y="{_n(mid + 4)}" text-anchor="middle" '
                f'font-size="{size}" fill="{ink}">{value}</text>'
            )
            if flag:
                up = diff > 0
                any_above, any_below = any_above or up, any_below or not up
                if inline:
                    tx = cx + shift + text_width(value, size) / 2 + 6
                    body.append(_triangle(tx, mid, up, 4, ink))
                else:
                    body.append(_triangle(x + cell_w - 5, y + 5.5, up, 3, ink))
            if no_agreement:
                any_no_agreement = True
                body.append(_diamond(x + 6, y + 6, 3.5, PALETTE["vermillion"]))
            summary.append(f"{name}, {_get(columns[k], 'name')}: {value}")
        y += cell_h
    bottom = y
    # Colour key: five swatches over the domain.
    entries = []
    for k in range(5):
        v = low + (high - low) * k / 4
        swatch = (
            f'<rect x="-7" y="-6" width="14" height="12" fill="{_ramp(k / 4)}" stroke="#999" '
            'stroke-width="0.5"/>'
        )
        entries.append((swatch, format_number(v, 0 if float(v).is_integer() else 1, lang)))
    if any_above:
        entries.append((_triangle(0, 0, True, 4.5), words["above"]))
    if any_below:
        entries.append((_triangle(0, 0, False, 4.5), words["below"]))
    if any_no_agreement:
        entries.append((_diamond(0, 0, 4.5, PALETTE["vermillion"]), words["no_agreement"]))
    if any_withheld:
        entries.append(
            (
                f'<rect x="-7" y="-6" width="14" height="12" fill="url(#{uid}-hatch)"/>',
                "– " + words["withheld"],
            )
        )
    legend, legend_h = _legend(8, bottom + 16, entries, width)
    body.append(legend)
    return _svg("heatmap", uid, width, bottom + 8 + legend_h, title, "; ".join(summary), body)


# --------------------------------------------------------------------------- differences


def difference_bars(
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str,
    title: str,
    left: str = "",
    right: str = "",
    limit: float | None = None,
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
) -> Markup:
    """Diverging bars of differences (with 95% intervals) around zero, one row per dimension.

    ``rows``: mappings with ``name`` and, under ``key``, a mapping with ``diff``, ``ci`` and
    ``significant`` (or None: drawn as "not available"). A significant difference is a
    solid bar; one that may be chance is a white bar with a dark outline, so the two differ
    in black and white too. ``left``/``right`` caption the two directions. The axis is
    symmetric, ``±limit`` (default: the widest interval end, rounded up to 0.25).
    """
    words = _text(text)
    uid = _uid(
        "diff",
        width,
        key,
        title,
        [(_get(r, "name"), _get(_get(r, key) or {}, "diff")) for r in rows],
    )
    label_width = min(210.0, width * 0.34)
    x0, x1 = label_width + 14, width - 60
    if limit is None:
        ends = [0.25]
        for row in rows:
            entry = _get(row, key)
            if not entry or _missing(_get(entry, "diff")):
                continue
            ends.append(abs(float(_get(entry, "diff"))))
            ci = _interval(entry)
            if ci:
                ends += [abs(ci[0]), abs(ci[1])]
        limit = math.ceil(max(ends) * 4 - 1e-9) / 4
    axis = _Axis(-limit, limit, x0, x1)
    side_by_side = (
        axis(0) - 6 - text_width("← " + left, 11) >= 0
        and axis(0) + 6 + text_width(right + " →", 11) <= width
    )
    top = 6 if not (left or right) else (22 if side_by_side or not (left and right) else 36)
    row_h = 30
    y = top
    marks: list[str] = []
    summary: list[str] = []
    for row in rows:
        name = str(_get(row, "name", ""))
        mid = y + row_h / 2
        marks.append(_label(label_width, mid, _row_lines(name, label_width), "end"))
        entry = _get(row, key)
        if not entry or _missing(_get(entry, "diff")):
            marks.append(
                f'<text class="missing" x="{_n(axis(0) + 6)}" y="{_n(mid + 4)}" '
                f'font-style="italic" fill="{PALETTE["grey"]}">{_e(words["not_available"])}</text>'
            )
            y += row_h
            continue
        diff = float(_get(entry, "diff"))
        zero, end = axis(0), axis(diff)
        significant = bool(_get(entry, "significant"))
        colour = PALETTE["blue"] if diff >= 0 else PALETTE["vermillion"]
        style = (
            f'fill="{colour}" stroke="#000" stroke-width="0.6"'
            if significant
            else f'fill="#fff" stroke="{colour}" stroke-width="1.6"'
        )
        marks.append(
            f'<rect class="bar {"significant" if significant else "not-significant"}" '
            f'x="{_n(min(zero, end))}" y="{_n(mid - 7)}" width="{_n(abs(end - zero))}" '
            f'height="14" {style}/>'
        )
        ci = _interval(entry)
        extent = end
        if ci:
            marks.append(_whisker(axis(ci[0]), axis(ci[1]), mid, 4))
            extent = axis(ci[1])
        label = format_number(diff, 2, lang, signed=True)
        marks.append(
            f'<text class="value" x="{_n(max(extent, end, zero) + 6)}" y="{_n(mid + 4)}" '
            f'font-weight="{"bold" if significant else "normal"}">{label}</text>'
        )
        summary.append(
            f"{name}: {label} ({words['significant'] if significant else words['not_significant']})"
        )
        y += row_h
    bottom = y
    step = _tick_step(2 * limit, x1 - x0, 0.25)
    body: list[str] = [
        f'<line class="axis" x1="{_n(x0)}" x2="{_n(x1)}" y1="{_n(bottom)}" y2="{_n(bottom)}" '
        f'stroke="{PALETTE["grey"]}"/>'
    ]
    for tick in axis.ticks(step):
        x = axis(tick)
        body.append(
            f'<line class="grid" x1="{_n(x)}" x2="{_n(x)}" y1="{_n(top)}" y2="{_n(bottom)}" '
            f'stroke="{"#000" if tick == 0 else "#E6E6E6"}"/>'
            f'<text x="{_n(x)}" y="{_n(bottom + 14)}" text-anchor="middle" font-size="11" '
            f'fill="{PALETTE["grey"]}">{format_number(tick, 2, lang, signed=True)}</text>'
        )
    # Captions either side of zero; on a narrow chart, one under the other at the plot's
    # edges so that neither runs off the chart.
    zero = axis(0)
    if left:
        x, anchor = (zero - 6, "end") if side_by_side else (x0, "start")
        body.append(
            f'<text class="caption" x="{_n(x)}" y="12" text-anchor="{anchor}" font-size="11" '
            f'fill="{PALETTE["grey"]}">← {_e(left)}</text>'
        )
    if right:
        x, y_caption = (zero + 6, 12) if side_by_side else (width - 2, 26 if left else 12)
        anchor = "start" if side_by_side else "end"
        body.append(
            f'<text class="caption" x="{_n(x)}" y="{y_caption}" text-anchor="{anchor}" '
            f'font-size="11" fill="{PALETTE["grey"]}">{_e(right)} →</text>'
        )
    body += marks
    entries = [
        (
            f'<rect x="-7" y="-5" width="14" height="10" fill="{PALETTE["blue"]}" stroke="#000" '
            'stroke-width="0.6"/>',
            words["significant"],
        ),
        (
            f'<rect x="-7" y="-5" width="14" height="10" fill="#fff" stroke="{PALETTE["blue"]}" '
            'stroke-width="1.6"/>',
            words["not_significant"],
        ),
        (_whisker(-6, 6, 0, 4), words["interval"]),
    ]
    legend, legend_h = _legend(8, bottom + 34, entries, width)
    body.append(legend)
    return _svg(key, uid, width, bottom + 30 + legend_h, title, "; ".join(summary), body)


def gap_bars(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str = "Top management minus staff",
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
    limit: float | None = None,
) -> Markup:
    """Perception gap per dimension: top management − everyone else (``row["gap"]``).

    Solid bars hold after Holm's adjustment over the dimensions (``significant``).
    """
    words = _text(text)
    return difference_bars(
        rows,
        key="gap",
        title=title,
        left=words["gap_left"],
        right=words["gap_right"],
        limit=limit,
        text=words,
        lang=lang,
        width=width,
    )


def change_bars(
    rows: Sequence[Mapping[str, Any]],
    *,
    title: str = "Change since the previous campaign",
    text: Mapping[str, str] | None = None,
    lang: str = "en",
    width: float = 640,
    limit: float | None = None,
) -> Markup:
    """Change per dimension: this campaign − the previous one (``row["change"]``).

    Solid bars hold after Holm's adjustment over the dimensions (``significant``).
    """
    words = _text(text)
    return difference_bars(
        rows,
        key="change",
        title=title,
        left=words["change_left"],
        right=words["change_right"],
        limit=limit,
        text=words,
        lang=lang,
        width=width,
    )
