"""Colours computed from the palettes: the heatmap's ramp, answer colours, legible ink."""

from __future__ import annotations

import functools
import math

from .layout import BLUES, DIVERGING, INK, INK_THRESHOLD, PAPER


def _mix(ramp: tuple[str, ...], t: float) -> str:
    """The colour at ``t`` (0 to len(ramp) − 1) between the ramp's neighbouring colours."""
    a = int(math.floor(t))
    b = min(a + 1, len(ramp) - 1)
    f = t - a
    ca, cb = ramp[a], ramp[b]
    mixed = [
        round(int(ca[i : i + 2], 16) * (1 - f) + int(cb[i : i + 2], 16) * f) for i in (1, 3, 5)
    ]
    return "#" + "".join(f"{c:02X}" for c in mixed)


@functools.lru_cache(maxsize=512)
def ramp(t: float) -> str:
    """Colour of the blue ramp at ``t`` in [0, 1] (callers round ``t`` to 0.005)."""
    return _mix(BLUES, min(max(t, 0.0), 1.0) * (len(BLUES) - 1))


def answer_colours(count: int) -> list[str]:
    """The fill of each answer option in ``distribution_bar``, disagree to agree."""
    if count == len(DIVERGING):
        return list(DIVERGING)
    out = []
    for k in range(count):
        t = k / (count - 1) * (len(DIVERGING) - 1) if count > 1 else 2
        out.append(_mix(DIVERGING, t))
    return out


@functools.lru_cache(maxsize=512)
def ink(fill: str) -> str:
    """Black or white text, whichever reads better on ``fill``."""
    r, g, b = (int(fill[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return INK if 0.2126 * r + 0.7152 * g + 0.0722 * b > INK_THRESHOLD else PAPER
