"""Which dimensions are the priorities: the documented rule of the package docstring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..certainty import Certainty
from ..view import (
    DimensionView,
    Interval,
    Level,
    ReportView,
)
from .base import (
    _VERSUS_REST_ORDER,
    MAX_PRIORITIES,
    NORM_MIDDLE,
    Priority,
    _department_rows,
    _shown,
    _verdict,
    _WriterBase,
)

# --------------------------------------------------------------------------- the rule


@dataclass(frozen=True, slots=True)
class _Candidate:
    dimension: DimensionView
    level: Level
    position: float  # the level, halfway between levels when the interval spans several
    second: float  # step 2: percentile, or the order of the difference with the rest
    mean: float
    ahead: bool  # step 4: ahead of the norm group, or clearly above the rest


def _position(level: Level, span: tuple[int, int] | None) -> float:
    if span is None or span[0] == span[1]:
        return float(level.number)
    return (span[0] + span[1]) / 2


def priority_order(candidates: Sequence[_Candidate]) -> list[_Candidate]:
    """The candidates that may be priorities, in the order of the rule (module docstring)."""
    if not candidates:
        return []
    lowest = min(c.level.number for c in candidates)
    allowed = [c for c in candidates if not c.ahead or c.level.number == lowest]
    return sorted(allowed, key=lambda c: (c.position, c.second, c.mean))


def _level_span(levels: Sequence[Level], ci: Interval | None) -> tuple[int, int] | None:
    """The lowest and highest level numbers an interval reaches, from the levels' thresholds."""
    if not ci or ci[0] is None or ci[1] is None:
        return None

    def level_of(score: float) -> int:
        number = levels[0].number
        for level in levels:
            if score >= level.min_score - 1e-9:
                number = level.number
        return number

    return (level_of(ci[0]), level_of(ci[1]))


def _organisation_candidates(view: ReportView) -> list[_Candidate]:
    out = []
    for d in _shown(view):
        maturity = d.maturity
        level = maturity.level
        if level is None:
            continue
        span = None
        if maturity.uncertain and maturity.range:
            low, high = maturity.range
            span = (low.number, high.number)
        percentile = d.benchmark.percentile if d.benchmark else None
        out.append(
            _Candidate(
                dimension=d,
                level=level,
                position=_position(level, span),
                second=NORM_MIDDLE if percentile is None else float(percentile),
                mean=d.mean,
                ahead=percentile is not None and percentile > NORM_MIDDLE,
            )
        )
    return out


def _department_candidates(view: ReportView) -> list[_Candidate]:
    out = []
    for row in _department_rows(view):
        group, level = row.group, row.level
        if level is None:
            continue
        verdict, sign = _verdict(group.vs_rest)
        out.append(
            _Candidate(
                dimension=row.dimension,
                level=level,
                position=_position(level, _level_span(view.levels, group.ci)),
                second=float(_VERSUS_REST_ORDER[(verdict.value, sign)]),
                mean=group.mean,
                ahead=verdict is Certainty.CLEAR and sign > 0,
            )
        )
    return out


class PriorityChoice(_WriterBase):
    """The priorities, their introduction and the rule in the reader's language."""

    def priorities(self) -> tuple[Priority, ...]:
        _ = self.gettext
        department = self.view.department
        if department:
            chosen = priority_order(_department_candidates(self.view))[:MAX_PRIORITIES]
            recommendations = {
                r.dimension.id: r.recommendation for r in _department_rows(self.view)
            }
        else:
            chosen = priority_order(_organisation_candidates(self.view))[:MAX_PRIORITIES]
            recommendations = {d.id: d.recommendation for d in _shown(self.view)}
        out = []
        for c in chosen:
            d, level = c.dimension, c.level
            values = {"number": level.number, "name": level.name}
            if department:
                verdict, sign = _verdict(
                    next(
                        r.group for r in _department_rows(self.view) if r.dimension.id == d.id
                    ).vs_rest
                )
                if verdict is Certainty.UNCLEAR:
                    reason = _(
                        "Level %(number)d (%(name)s); %(verdict)s from the rest of the "
                        "organisation."
                    )
                else:
                    reason = _(
                        "Level %(number)d (%(name)s); %(verdict)s than the rest of the "
                        "organisation."
                    )
                reason %= {**values, "verdict": self.claim(verdict, sign)}
                percentile = None
            else:
                percentile = d.benchmark.percentile if d.benchmark else None
                span = d.maturity.range if d.maturity.uncertain else None
                if span:
                    values.update(low=span[0].number, high=span[1].number)
                if percentile is not None:
                    values["share"] = self.pct(percentile / 100)
                if span and percentile is not None:
                    reason = _(
                        "Level %(number)d (%(name)s), with an interval reaching from level "
                        "%(low)d to %(high)d; higher than %(share)s of the norm group."
                    )
                elif span:
                    reason = _(
                        "Level %(number)d (%(name)s), with an interval reaching from level "
                        "%(low)d to %(high)d."
                    )
                elif percentile is not None:
                    reason = _(
                        "Level %(number)d (%(name)s); higher than %(share)s of the norm group."
                    )
                else:
                    reason = _("Level %(number)d (%(name)s).")
                reason %= values
            out.append(
                Priority(
                    dimension_id=d.id,
                    name=d.name,
                    level=level.number,
                    level_name=level.name,
                    percentile=percentile,
                    reason=reason,
                    recommendation=recommendations.get(d.id),
                )
            )
        return tuple(out)

    def priorities_intro(self, count: int) -> str:
        if not count:
            return ""
        return self.ngettext(
            "The dimension to work on first, with its next step:",
            "The %(num)d dimensions to work on first, each with its next step:",
            count,
        ) % {"num": count}

    def rule(self) -> str:
        _ = self.gettext
        if self.view.department:
            return _(
                "How the priorities are chosen: every dimension on which the department has "
                "a level is considered. A dimension whose interval reaches into more than one "
                "level counts as lying halfway between them. A lower level comes first; among "
                "equal levels, the dimension on which the department compares worst with the "
                "rest of the organisation comes first (clearly lower, probably lower, no clear "
                "difference, probably higher, clearly higher), then the lower score. A "
                "dimension on which the department scores clearly higher than the rest is a "
                "priority only if it is at the department's lowest level. The first three are "
                "the priorities."
            )
        return _(
            "How the priorities are chosen: every dimension with a level is considered. A "
            "dimension whose interval reaches into more than one level counts as lying "
            "halfway between them. A lower level comes first; among equal levels, the "
            "dimension that scores higher than fewer organisations of the norm group (the "
            "lower benchmark percentile) comes first, then the lower score. A dimension that "
            "scores higher than half of its norm group is a priority only if no dimension "
            "shown is at a lower level. The first three are the priorities."
        )
