"""Text in charts: estimated widths, wrapped labels, multi-line labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .layout import BASELINE, CHAR_WIDTH, ELLIPSIS, FONT_SIZE, LINE_HEIGHT
from .svg import element, esc


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Estimated width in px of ``text`` at ``size`` (a generous average, so it never overruns)."""
    return len(text) * size * CHAR_WIDTH


def chars_in(width: float, size: float = FONT_SIZE) -> int:
    """How many characters at ``size`` fit in ``width`` px (by the same estimate)."""
    return int(width / (size * CHAR_WIDTH))


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


def row_lines(name: str, label_width: float, size: float = FONT_SIZE) -> list[str]:
    """A row's name wrapped to at most three lines of the label column (a phone's narrow
    drawing needs the third line for the longer names; a row grows to hold it)."""
    return wrap_label(name, chars_in(label_width, size), 3)


def row_height(lines: Sequence[str], base: float) -> float:
    """A row of ``base`` height holds two lines of label; each further line adds one."""
    return base + max(0, len(lines) - 2) * LINE_HEIGHT


def label(x: float, y: float, lines: Sequence[str], anchor: str = "end", **values: Any) -> str:
    """A one- or two-line label vertically centred on ``y``."""
    first = y - (len(lines) - 1) * LINE_HEIGHT / 2 + BASELINE
    spans = "".join(
        element("tspan", esc(line), x=x, y=first + k * LINE_HEIGHT) for k, line in enumerate(lines)
    )
    return element("text", spans, class_="chart-label", text_anchor=anchor, **values)
