"""The report's summary in words: the sentences a board member reads first.

``summarise(view, translations)`` turns the view model of ``reporting.model.build_view``
(a ``ReportView``) into short paragraphs (the overall level and how sure it is, who
responded, what changed, the norm group, departments and roles, agreement) and up to
three priorities with their next step. Every sentence states a figure of the
view model; every claim of a difference is worded by :func:`.certainty.words`, so the
summary says "clearly higher", "probably higher" or "no clear difference" exactly where
the pages and the PDF do. The result is plain frozen data (no HTML), in the reader's
language: ``translations`` is a plain gettext object (``gettext``/``ngettext`` that
translate and do not format), Flask-Babel's ``get_translations()`` on a page and the
print translations in the PDF.

Which priorities
----------------
Every dimension whose results are shown and that has a maturity level is a candidate.

1. **Level first.** A dimension at a lower level comes first. A dimension whose 95 %
   interval reaches into more than one level counts as lying halfway between the lowest
   and the highest level its interval reaches (level 2 with an interval reaching level 3
   counts as 2.5): the answers do not settle its level.
2. **Then the norm group.** Among dimensions that count as the same level, the one with
   the lower benchmark percentile (it scores higher than fewer organisations of the norm
   group) comes first; a dimension without a benchmark counts as the norm group's middle
   (percentile 50).
3. **Then the score**: the lower average comes first.
4. **Already ahead of the norm group.** A dimension that scores higher than half of its
   norm group (percentile above 50) is a priority only if it is at the lowest level of
   the dimensions shown: where the organisation is already ahead of most comparable
   organisations, its effort pays off more elsewhere.

The first three in this order are the priorities, each with the questionnaire's next step
for its level (``dimension.recommendation``); with fewer candidates there are fewer
priorities. A department report applies the same rule to the department's own scores,
with one change: a department has no percentile of its own, so step 2 orders by how the
department compares with the rest of the organisation (clearly lower first, then probably
lower, no clear difference, probably higher, clearly higher), and step 4 leaves out a
dimension on which the department scores clearly higher than the rest unless it is at
the department's lowest level.
"""

from __future__ import annotations

from ..view import ReportView
from .base import (
    LOW_RESPONSE_RATE,
    MAX_PRIORITIES,
    SEVERAL_DIMENSIONS,
    Paragraph,
    Priority,
    Summary,
    Translations,
    _department_rows,
)
from .department import DepartmentParagraphs
from .groups import GroupParagraphs
from .organisation import OrganisationParagraphs
from .rule import PriorityChoice, priority_order

__all__ = [
    "LOW_RESPONSE_RATE",
    "MAX_PRIORITIES",
    "SEVERAL_DIMENSIONS",
    "Paragraph",
    "Priority",
    "Summary",
    "priority_order",
    "summarise",
]


class _Writer(OrganisationParagraphs, GroupParagraphs, DepartmentParagraphs, PriorityChoice):
    """The whole summary: each part of the package contributes its paragraphs."""

    def withheld(self) -> Summary:
        _ = self.gettext
        sentence = _(
            "Fewer than %(threshold)d people answered, so no results are shown: any figure "
            "could reveal how individuals answered."
        ) % {"threshold": self.view.threshold}
        return Summary(
            published=False,
            department=None,
            paragraphs=(Paragraph("withheld", _("No results to show"), (sentence,)),),
            priorities=(),
            priorities_intro="",
            rule=self.rule(),
        )

    def summary(self) -> Summary:
        if not self.view.published:
            return self.withheld()
        department = self.view.department
        if department:
            paragraphs = self.department()
            if _department_rows(self.view):
                paragraphs.append(self.overall(subject_is_organisation=False))
            paragraphs.append(self.response())
        else:
            paragraphs = [
                self.overall(),
                self.response(),
                self.change(),
                self.benchmark(),
                self.groups(),
            ]
            agreement = self.agreement()
            if agreement is not None:
                paragraphs.append(agreement)
        priorities = self.priorities()
        return Summary(
            published=True,
            department=department.name if department else None,
            paragraphs=tuple(p for p in paragraphs if p.sentences),
            priorities=priorities,
            priorities_intro=self.priorities_intro(len(priorities)),
            rule=self.rule(),
        )


def summarise(view: ReportView, translations: Translations) -> Summary:
    """The summary in words of ``view`` (``build_view``), in ``view.lang``.

    ``translations`` is a plain gettext object in that language (Flask-Babel's
    ``get_translations()``, or the print translations of ``pdf.py``).
    """
    return _Writer(view, translations).summary()
