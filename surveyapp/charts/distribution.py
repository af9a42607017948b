"""Answer shares: one stacked 100% bar per statement, and its colour key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup

from ..reporting.formatting import format_percent
from .colours import answer_colours, ink
from .layout import BASELINE, INK, PAPER, SHARES_MIN_GAP, TINY_SIZE
from .marks import legend, missing, swatch
from .svg import document, element, text_element, uid
from .text import text_width


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
    answer options. Segments wide enough for their percentage print it; every segment's
    share is also in the chart's description. Use :func:`distribution_legend` once per table.
    """
    ident = uid("dist", width, title, tuple(shares))
    total = sum(s for s in shares if not missing(s)) or 1.0
    colours = answer_colours(len(shares))
    body, x = [], 0.0
    summary = []
    for k, share in enumerate(shares):
        share = 0.0 if missing(share) else share / total
        w = share * width
        name = labels[k] if k < len(labels) else str(k + 1)
        percent = format_percent(share, lang)
        summary.append(f"{name}: {percent}")
        if w <= 0:
            continue
        body.append(
            element(
                "rect",
                class_="segment",
                x=x,
                y=0,
                width=w,
                height=height,
                fill=colours[k],
                stroke=PAPER,
                stroke_width=1,
            )
        )
        if text_width(percent, TINY_SIZE) + SHARES_MIN_GAP <= w:
            body.append(_label(percent, x + w / 2, height / 2 + BASELINE, ink(colours[k])))
        x += w
    return document("distribution", ident, width, height, title, "; ".join(summary), body)


def _label(words: str, x: float, y: float, fill: str) -> str:
    return text_element(words, x=x, y=y, text_anchor="middle", font_size=TINY_SIZE, fill=fill)


def distribution_legend(
    labels: Sequence[str], *, title: str = "Answer options", width: float = 640
) -> Markup:
    """The colour key of :func:`distribution_bar` for ``labels``, flowed over one or more lines."""
    ident = uid("distlegend", width, tuple(labels))
    colours = answer_colours(len(labels))
    entries = [
        (
            swatch(colours[k], 12, 12, stroke=INK, stroke_width=0.4),
            f"{k + 1} {name}" if len(labels) > 5 else name,
        )
        for k, name in enumerate(labels)
    ]
    key, h = legend(2, 10, entries, width)
    return document("distribution-legend", ident, width, h + 4, title, ", ".join(labels), [key])
