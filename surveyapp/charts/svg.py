"""A tiny SVG builder: elements as strings, every attribute escaped, every number rounded once.

Charts are built as lists of strings and joined once (fast, and the output is the same
for the same input, byte for byte). ``element`` writes attributes in the order given;
``class_`` is written ``class`` and other underscores become hyphens (``font_size`` →
``font-size``); a value of None leaves the attribute out.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup

from .layout import FONT, FONT_SIZE, INK


def num(x: float) -> str:
    """A coordinate or size, short: at most two decimals, no trailing zeros."""
    if type(x) is int:
        return str(x)
    return f"{x:.2f}".rstrip("0").rstrip(".")


#: What markupsafe.escape replaces, done with str.translate: the same text, without a
#: Markup object per attribute (a heatmap writes tens of thousands of attributes).
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"})
_NEEDS_ESCAPE = re.compile("[&<>\"']")


def esc(value: Any) -> str:
    """``value`` as text that is safe inside an element or a double-quoted attribute."""
    text = value if type(value) is str else str(value)
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return text.translate(_ESCAPES)


_NAMES: dict[str, str] = {}


def _attribute_name(name: str) -> str:
    """``class_`` → ``class``, ``font_size`` → ``font-size`` (remembered: few names recur)."""
    written = _NAMES.get(name)
    if written is None:
        written = name.rstrip("_").replace("_", "-")
        if written == "style" or written.startswith("on"):
            # The Content-Security-Policy blocks inline styles and event handlers.
            raise ValueError(f"charts may not write a {written} attribute")
        _NAMES[name] = written
    return written


def attributes(values: dict[str, Any]) -> str:
    """`` name="value"`` pairs: numbers through :func:`num`, everything else escaped."""
    # The hot loop of every chart: types are tested with ``is`` and num/esc inlined.
    out = ""
    for name, value in values.items():
        kind = type(value)
        if kind is str:
            text = value if _NEEDS_ESCAPE.search(value) is None else value.translate(_ESCAPES)
        elif kind is float:
            text = f"{value:.2f}".rstrip("0").rstrip(".")
        elif kind is int:
            text = str(value)
        elif value is None:
            continue
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            text = num(float(value))
        else:
            text = esc(value)
        out += f' {_NAMES.get(name) or _attribute_name(name)}="{text}"'
    return out


def element(tag: str, *children: str, **values: Any) -> str:
    """``<tag …/>``, or ``<tag …>children</tag>`` (children are SVG already built)."""
    if not children:
        return f"<{tag}{attributes(values)}/>"
    return f"<{tag}{attributes(values)}>{''.join(children)}</{tag}>"


def text_element(words: Any, **values: Any) -> str:
    """A ``<text>`` element holding ``words``, escaped."""
    return element("text", esc(words), **values)


def group_at(x: float, y: float, *children: str) -> str:
    """``children`` drawn with their origin at (x, y)."""
    return f'<g transform="translate({num(x)},{num(y)})">{"".join(children)}</g>'


def uid(kind: str, *parts: Any) -> str:
    """Element ids of one chart: the same chart drawn at two widths gets two sets."""
    digest = hashlib.blake2s(repr((kind, parts)).encode(), digest_size=5).hexdigest()
    return f"{kind}-{digest}"


def document(
    kind: str, ident: str, width: float, height: float, title: str, desc: str, body: Iterable[str]
) -> Markup:
    """The ``<svg>`` element of a chart: sized, titled and described for screen readers."""
    width, height = math.ceil(width), math.ceil(height)
    return Markup(
        element(
            "svg",
            element("title", esc(title), id=f"{ident}-t"),
            element("desc", esc(desc), id=f"{ident}-d"),
            *body,
            xmlns="http://www.w3.org/2000/svg",
            class_=f"chart chart-{kind}",
            viewBox=f"0 0 {width} {height}",
            width=width,
            height=height,
            role="img",
            aria_label=title,
            aria_describedby=f"{ident}-d",
            font_family=FONT,
            font_size=FONT_SIZE,
            fill=INK,
        )
    )
