"""The summary's data, limits and the small pieces every part of its writer uses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from babel.lists import format_list

from ..certainty import Certainty, words
from ..formatting import format_number, format_percent
from ..view import (
    DepartmentRow,
    Difference,
    DimensionView,
    Level,
    ReportView,
    VersusRest,
)

#: Below this response rate the summary warns that the figures may not represent everyone.
LOW_RESPONSE_RATE = 0.30
#: A department is named as differing from the rest when it clearly does on this many
#: dimensions or more (or on every dimension shown, if fewer are shown).
SEVERAL_DIMENSIONS = 3
#: How many priorities the summary names.
MAX_PRIORITIES = 3
#: A benchmark percentile above this is "higher than half of the norm group".
NORM_MIDDLE = 50.0
#: Departments named in one sentence before the rest are counted ("and 3 more").
MAX_NAMED = 5

# Order of a department's difference with the rest in the department rule (step 2).
_VERSUS_REST_ORDER = {
    ("clear", -1): 0,
    ("probable", -1): 1,
    ("unclear", 0): 2,
    ("probable", 1): 3,
    ("clear", 1): 4,
}


class Translations(Protocol):
    """A plain gettext object: translates, does not format (``babel.support.Translations``)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One topic of the summary: a short title and its sentences."""

    topic: str
    title: str
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Priority:
    """A dimension to work on first, why it was chosen, and the recommended next step."""

    dimension_id: str
    name: str
    level: int
    level_name: str
    percentile: float | None
    reason: str
    recommendation: str | None


@dataclass(frozen=True, slots=True)
class Summary:
    """The summary of one report; ``department`` names the department of a department report.

    ``rule`` is the priority rule in the reader's language (also for the methods appendix).
    A report whose results are withheld has one paragraph and no priorities.
    """

    published: bool
    department: str | None
    paragraphs: tuple[Paragraph, ...]
    priorities: tuple[Priority, ...]
    priorities_intro: str
    rule: str


# --------------------------------------------------------------------------- view helpers


def _shown(view: ReportView) -> list[DimensionView]:
    return [d for d in view.dimensions if not d.suppressed and d.mean is not None]


def _department_rows(view: ReportView) -> list[DepartmentRow]:
    """A department report's rows whose department figures are shown."""
    rows = view.department.rows if view.department else []
    return [
        r
        for r in rows
        if r.group is not None and not r.group.suppressed and r.group.mean is not None
    ]


def _verdict(difference: Difference | VersusRest | None) -> tuple[Certainty, int]:
    """The certainty of a difference and its direction (0 when there is no clear one)."""
    if not difference or difference.diff is None:
        return Certainty.UNCLEAR, 0
    verdict = Certainty(difference.certainty)
    if verdict is Certainty.UNCLEAR:
        return verdict, 0
    return verdict, 1 if difference.diff > 0 else -1


# Claims of a difference, strongest first: (verdict, direction).
_CLAIMS = (
    (Certainty.CLEAR, 1),
    (Certainty.CLEAR, -1),
    (Certainty.PROBABLE, 1),
    (Certainty.PROBABLE, -1),
)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------- the writer


class _WriterBase:
    """The view, its language and the small wording helpers the paragraphs share."""

    def __init__(self, view: ReportView, translations: Translations):
        self.view = view
        self.lang = view.lang
        self.gettext = translations.gettext
        self.ngettext = translations.ngettext

    # Small pieces -------------------------------------------------------------

    def num(self, value: float, digits: int = 2) -> str:
        return format_number(value, digits, self.lang)

    def pct(self, share: float) -> str:
        return format_percent(share, self.lang)

    def names(self, items: Iterable[str]) -> str:
        return format_list(list(items), locale=self.lang)

    def claim(self, verdict: Certainty, sign: int, higher: str | None = None, lower=None) -> str:
        """The one wording of certainty (``certainty.words``) for a verdict and direction."""
        if higher is None:
            return words(verdict, float(sign), self.gettext)
        return words(verdict, float(sign), self.gettext, higher=higher, lower=lower)

    def level_name(self, level: Level) -> str:
        _ = self.gettext
        return _("level %(number)d (%(name)s)") % {"number": level.number, "name": level.name}
