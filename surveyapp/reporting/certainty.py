"""One way to say how sure a difference is, used by every page, the PDF and the summary.

A difference (a department against the rest, top management against staff, this campaign
against the last, one department against another) comes with a 95 % interval and a
p-value adjusted for the many comparisons made at once (Holm over the dimensions,
Benjamini–Hochberg over departments and dimensions, Games–Howell over pairs). Saying
"may be chance" next to an interval that excludes zero reads as a contradiction, so there
are three verdicts, and each agrees with both numbers shown:

* **clear**: the adjusted p-value is below 0.05. The difference holds even after taking
  into account how many comparisons were made. (The unadjusted interval then excludes
  zero too: an adjusted p-value is never smaller than the unadjusted one, and the interval
  and the unadjusted test come from the same t statistic.)
* **probable**: the interval excludes zero but the adjusted p-value does not reach 0.05.
  On its own the difference would count; among this many comparisons one like it can
  arise by chance.
* **unclear**: the interval includes zero: no clear difference.

Words replace test names in the main text ("clearly higher", "probably higher", "no clear
difference"); the methods appendix keeps the names and the references.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence

ALPHA = 0.05


class Certainty(enum.Enum):
    CLEAR = "clear"
    PROBABLE = "probable"
    UNCLEAR = "unclear"


def _number(value: object) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def certainty(
    ci: Sequence[float | None] | None, p_adjusted: float | None, alpha: float = ALPHA
) -> Certainty:
    """The verdict for a difference with interval ``ci`` and adjusted p-value ``p_adjusted``.

    Examples
    --------
    >>> certainty((0.07, 0.92), 0.11).value
    'probable'
    >>> certainty((0.07, 0.92), 0.01).value
    'clear'
    >>> certainty((-0.2, 0.5), 0.6).value
    'unclear'
    """
    p = _number(p_adjusted)
    low, high = (None, None) if not ci else (_number(ci[0]), _number(ci[1]))
    excludes_zero = low is not None and high is not None and (low > 0 or high < 0)
    if p is not None and p < alpha:
        return Certainty.CLEAR
    if excludes_zero:
        return Certainty.PROBABLE
    return Certainty.UNCLEAR


def words(
    verdict: Certainty | str,
    diff: float | None,
    gettext: Callable[[str], str],
    *,
    higher: str | None = None,
    lower: str | None = None,
) -> str:
    """The verdict in words for a difference ``diff`` ("clearly higher", …).

    ``higher``/``lower`` replace the default direction words (for example "went up" and
    "went down" for a change since the last campaign); they are passed already
    translated. ``gettext`` is a plain gettext in the reader's language (Flask-Babel's
    ``gettext`` on pages, the print translations' ``gettext`` in the PDF; not Jinja's
    new-style ``_``, which formats at once), so both say the same words.
    """
    verdict = Certainty(verdict)
    if verdict is Certainty.UNCLEAR or diff is None:
        return gettext("no clear difference")
    up = (diff or 0) > 0
    if higher is not None and lower is not None:
        direction = higher if up else lower
        if verdict is Certainty.CLEAR:
            return gettext("clearly %(direction)s") % {"direction": direction}
        return gettext("probably %(direction)s") % {"direction": direction}
    if verdict is Certainty.CLEAR:
        return gettext("clearly higher") if up else gettext("clearly lower")
    return gettext("probably higher") if up else gettext("probably lower")
