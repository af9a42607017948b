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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from babel.lists import format_list

from .certainty import Certainty, words
from .formatting import format_number, format_percent
from .view import (
    DepartmentRow,
    Difference,
    DimensionView,
    Interval,
    Level,
    ReportView,
    VersusRest,
)

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


# --------------------------------------------------------------------------- the writer


class _Writer:
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

    # Paragraphs ---------------------------------------------------------------

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

    def overall(self, subject_is_organisation: bool = True) -> Paragraph:
        _ = self.gettext
        view, overall = self.view, self.view.overall
        level = overall.level
        sentences: list[str] = []
        if level is None:
            sentences.append(
                _(
                    "No overall level can be given: too few people answered enough "
                    "statements to score the dimensions."
                )
            )
        else:
            values = {
                "number": level.number,
                "total": len(view.levels),
                "name": level.name,
            }
            if subject_is_organisation:
                sentences.append(
                    _("Overall, the organisation is at level %(number)d of %(total)d: %(name)s.")
                    % values
                )
                sentences.append(level.description)
            else:
                sentences.append(
                    _("The organisation as a whole is at level %(number)d of %(total)d: %(name)s.")
                    % values
                )
            figures = {
                "mean": self.num(overall.mean),
                "min": view.scale.min,
                "max": view.scale.max,
            }
            if overall.ci:
                sentences.append(
                    _(
                        "Its average score is %(mean)s on a scale from %(min)d to %(max)d "
                        "(95%% interval %(low)s to %(high)s)."
                    )
                    % {
                        **figures,
                        "low": self.num(overall.ci[0]),
                        "high": self.num(overall.ci[1]),
                    }
                )
            else:
                sentences.append(
                    _("Its average score is %(mean)s on a scale from %(min)d to %(max)d.") % figures
                )
            if overall.uncertain and overall.range:
                low, high = overall.range
                sentences.append(
                    _(
                        "The interval reaches from %(low)s to %(high)s, so with these answers "
                        "either level is possible: treat the level as provisional."
                    )
                    % {"low": self.level_name(low), "high": self.level_name(high)}
                )
            elif overall.ci:
                sentences.append(
                    _("The whole interval lies within this level, so the level is certain.")
                )
        withheld = sum(1 for d in view.dimensions if d.suppressed)
        if withheld and subject_is_organisation:
            sentences.append(
                self.ngettext(
                    "The results of %(num)d dimension are withheld: too few people answered "
                    "its statements.",
                    "The results of %(num)d dimensions are withheld: too few people answered "
                    "their statements.",
                    withheld,
                )
                % {"num": withheld}
            )
        return Paragraph("overall", _("Overall level"), tuple(sentences))

    def response(self) -> Paragraph:
        _ = self.gettext
        campaign = self.view.campaign
        sentences: list[str] = []
        rate = campaign.response_rate
        if campaign.responses is not None:
            if campaign.headcount and rate is not None:
                sentences.append(
                    _("%(n)d of %(staff)d staff responded: a response rate of %(rate)s.")
                    % {
                        "n": campaign.responses,
                        "staff": campaign.headcount,
                        "rate": self.pct(rate),
                    }
                )
            else:
                sentences.append(
                    _(
                        "%(n)d people responded. The number of staff was not entered, so "
                        "there is no response rate."
                    )
                    % {"n": campaign.responses}
                )
        department = self.department_response()
        if department is not None:
            sentences.append(department[0])
            rate = department[1] if department[1] is not None else rate
        sentences.extend(self.caveats(rate))
        return Paragraph("response", _("Who responded"), tuple(sentences))

    def department_response(self) -> tuple[str, float | None] | None:
        """The department's own count and rate, in a department report."""
        _ = self.gettext
        department = self.view.department
        if not department:
            return None
        entry = next((d for d in self.view.departments if d.code == department.code), None)
        if entry is None or entry.suppressed or entry.responses is None:
            return None
        if entry.headcount and entry.response_rate is not None:
            return (
                _("In %(name)s, %(n)d of %(staff)d staff responded (%(rate)s).")
                % {
                    "name": department.name,
                    "n": entry.responses,
                    "staff": entry.headcount,
                    "rate": self.pct(entry.response_rate),
                },
                entry.response_rate,
            )
        return (
            _("In %(name)s, %(n)d people responded.")
            % {"name": department.name, "n": entry.responses},
            None,
        )

    def caveats(self, rate: float | None) -> list[str]:
        _ = self.gettext
        out = []
        if self.view.campaign.status == "open":
            out.append(
                _(
                    "The survey is still open, so these figures are interim: they will "
                    "change as more people respond."
                )
            )
        if rate is not None and rate < LOW_RESPONSE_RATE:
            out.append(
                _(
                    "With fewer than %(limit)s of staff responding, the figures may not "
                    "represent everyone: read them as the views of those who answered."
                )
                % {"limit": self.pct(LOW_RESPONSE_RATE)}
            )
        return out

    def change(self) -> Paragraph:
        _ = self.gettext
        title = _("Change since the previous survey")
        previous = self.view.previous_campaign
        if not previous:
            return Paragraph(
                "change",
                title,
                (
                    _(
                        "This is the organisation's first survey with this questionnaire, "
                        "so there is no change to report yet."
                    ),
                ),
            )
        rows = [(d, d.change) for d in _shown(self.view) if d.change]
        if not rows:
            return Paragraph(
                "change",
                title,
                (
                    _(
                        "The change since %(previous)s cannot be shown: too few people "
                        "answered to compare the two surveys without revealing individual "
                        "answers."
                    )
                    % {"previous": previous.name},
                ),
            )
        sentences = self.differences(
            rows,
            higher=_("went up"),
            lower=_("went down"),
            first=_(
                "Since %(previous)s, %(num)d of the %(total)d dimensions %(verdict)s: "
                "%(dimensions)s."
            ),
            more=_("%(num)d of the %(total)d dimensions %(verdict)s: %(dimensions)s."),
            none=lambda total: self.ngettext(
                "On %(dimensions)s there is %(verdict)s with %(previous)s.",
                "On all %(total)d dimensions there is %(verdict)s with %(previous)s.",
                total,
            ),
            every=lambda total: self.ngettext(
                "Since %(previous)s, %(dimensions)s %(verdict)s.",
                "Since %(previous)s, all %(total)d dimensions %(verdict)s.",
                total,
            ),
            extra={"previous": previous.name},
        )
        return Paragraph("change", title, tuple(sentences))

    def differences(
        self,
        rows: Sequence[tuple[DimensionView, Difference | VersusRest]],
        *,
        higher: str,
        lower: str,
        first: str,
        more: str,
        none: Callable[[int], str],
        every: Callable[[int], str],
        extra: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Sentences counting and naming the dimensions per verdict and direction.

        ``first`` and ``more`` are translated templates with ``num``, ``total``,
        ``verdict`` and ``dimensions``; ``every`` (one verdict holds for all dimensions)
        and ``none`` (no clear difference on any) give the template for ``total``
        dimensions (``ngettext``: with one dimension the sentence names it instead of
        counting). When most dimensions share a verdict, the few others are named instead
        ("all except …").
        """
        _ = self.gettext
        total = len(rows)
        values = dict(extra or {})
        sentences = []
        named = 0
        for verdict, sign in _CLAIMS:
            hits = [d.name for d, e in rows if _verdict(e) == (verdict, sign)]
            if not hits:
                continue
            claim = self.claim(verdict, sign, higher, lower)
            if len(hits) == total:
                return [
                    every(total)
                    % {**values, "total": total, "verdict": claim, "dimensions": self.names(hits)}
                ]
            if len(hits) > 3 and total - len(hits) < len(hits):
                others = [d.name for d, e in rows if _verdict(e) != (verdict, sign)]
                listed = _("all except %(dimensions)s") % {"dimensions": self.names(others)}
            else:
                listed = self.names(hits)
            template = first if not sentences else more
            sentences.append(
                template
                % {
                    **values,
                    "num": len(hits),
                    "total": total,
                    "verdict": claim,
                    "dimensions": listed,
                }
            )
            named += len(hits)
        unclear = self.claim(Certainty.UNCLEAR, 0)
        if not sentences:
            everything = self.names(d.name for d, _e in rows)
            return [
                none(total)
                % {**values, "total": total, "verdict": unclear, "dimensions": everything}
            ]
        if named < total:
            rest = total - named
            sentences.append(
                self.ngettext(
                    "On the other dimension there is %(verdict)s.",
                    "On the other %(num)d dimensions there is %(verdict)s.",
                    rest,
                )
                % {"num": rest, "verdict": unclear}
            )
        return sentences

    def benchmark(self, subject: str | None = None) -> Paragraph:
        """Where the organisation (or the department ``subject``) stands in its norm group."""
        _ = self.gettext
        title = _("Against the norm group")
        norm = self.view.norm_group
        if not self.view.has_benchmark:
            return Paragraph(
                "benchmark",
                title,
                (
                    _(
                        "There is no benchmark yet: too few other organisations have used "
                        "this questionnaire to compare with."
                    ),
                ),
            )
        if subject is None:
            entries = [(d.name, d.mean, d.benchmark) for d in _shown(self.view) if d.benchmark]
        else:
            entries = [
                (r.dimension.name, r.group.mean, r.dimension.benchmark)
                for r in _department_rows(self.view)
                if r.dimension.benchmark
            ]
        entries = [e for e in entries if e[2].q1 is not None and e[2].q3 is not None]
        if not entries:
            return Paragraph(
                "benchmark",
                title,
                (_("None of the dimensions shown has a benchmark yet."),),
            )
        sentences = [
            _("The norm group is %(num)d organisations (%(group)s).")
            % {
                "num": norm.organisations or entries[0][2].organisations,
                "group": norm.description,
            }
        ]
        above = [e for e in entries if e[1] > e[2].q3]
        below = [e for e in entries if e[1] < e[2].q1]
        name = subject or _("the organisation")

        def listed(group):
            if subject is not None:
                return self.names(n for n, _mean, _bench in group)
            return self.names(
                _("%(name)s (percentile %(percentile)s)")
                % {"name": n, "percentile": self.num(bench.percentile, 0)}
                for n, _mean, bench in group
                if bench.percentile is not None
            ) or self.names(n for n, _mean, _bench in group)

        if above:
            sentences.append(
                _("%(subject)s scores above the middle half of the norm group on %(dimensions)s.")
                % {"subject": _capital(name), "dimensions": listed(above)}
            )
        if below:
            sentences.append(
                _("%(subject)s scores below the middle half of the norm group on %(dimensions)s.")
                % {"subject": _capital(name), "dimensions": listed(below)}
            )
        within = len(entries) - len(above) - len(below)
        if not above and not below:
            sentences.append(
                _("On every dimension %(subject)s scores within the middle half of the norm group.")
                % {"subject": name}
            )
        elif within:
            sentences.append(
                self.ngettext(
                    "On the other dimension it scores within the middle half.",
                    "On the other %(num)d dimensions it scores within the middle half.",
                    within,
                )
                % {"num": within}
            )
        if subject is not None:
            sentences.append(
                _(
                    "The norm group consists of whole organisations; the department is "
                    "set against them as if it were one."
                )
            )
        return Paragraph("benchmark", title, tuple(sentences))

    def groups(self) -> Paragraph:
        _ = self.gettext
        sentences = self.departments_differ() + self.top_management()
        return Paragraph("groups", _("Departments and roles"), tuple(sentences))

    def departments_differ(self) -> list[str]:
        _ = self.gettext
        shown = _shown(self.view)
        counts: dict[str, dict[int, int]] = {}
        names: dict[str, str] = {}
        for d in shown:
            for group in d.departments:
                if group.suppressed:
                    continue
                names[group.code] = group.name
                verdict, sign = _verdict(group.vs_rest)
                per = counts.setdefault(group.code, {1: 0, -1: 0})
                if verdict is Certainty.CLEAR:
                    per[sign] += 1
        if len(names) < 2:
            return [
                _(
                    "Departments are not compared: fewer than two departments have enough "
                    "respondents to be shown."
                )
            ]
        several = max(1, min(SEVERAL_DIMENSIONS, len(shown)))
        sentences = []
        for sign in (1, -1):
            hits = sorted(
                ((code, per[sign]) for code, per in counts.items() if per[sign] >= several),
                key=lambda hit: -hit[1],
            )
            if not hits:
                continue
            listed = [
                self.ngettext("%(name)s (%(num)d dimension)", "%(name)s (%(num)d dimensions)", n)
                % {"name": names[code], "num": n}
                for code, n in hits[:MAX_NAMED]
            ]
            if len(hits) > MAX_NAMED:
                rest = len(hits) - MAX_NAMED
                listed.append(
                    self.ngettext("%(num)d other department", "%(num)d other departments", rest)
                    % {"num": rest}
                )
            sentences.append(
                self.ngettext(
                    "Departments that score %(verdict)s than the rest of the organisation on "
                    "the one dimension shown: %(departments)s.",
                    "Departments that score %(verdict)s than the rest of the organisation on "
                    "%(min)d or more dimensions: %(departments)s.",
                    several,
                )
                % {
                    "verdict": self.claim(Certainty.CLEAR, sign),
                    "min": several,
                    "departments": self.names(listed),
                }
            )
        if not sentences:
            sentences.append(
                self.ngettext(
                    "No department scores clearly higher or clearly lower than the rest of "
                    "the organisation on the one dimension shown.",
                    "No department scores clearly higher or clearly lower than the rest of "
                    "the organisation on %(min)d or more dimensions.",
                    several,
                )
                % {"min": several}
            )
        return sentences

    def top_management(self) -> list[str]:
        _ = self.gettext
        rows = [(d, d.gap) for d in _shown(self.view) if d.gap]
        if not rows:
            return [
                _(
                    "Top management and the rest of the staff are not compared: too few "
                    "people in top management, or too few others, answered to compare them "
                    "without revealing individual answers."
                )
            ]
        return self.differences(
            rows,
            higher=_("more positively"),
            lower=_("less positively"),
            first=_(
                "Top management sees %(num)d of the %(total)d dimensions %(verdict)s than "
                "the rest of the staff: %(dimensions)s."
            ),
            more=_("It sees %(num)d of the %(total)d dimensions %(verdict)s: %(dimensions)s."),
            none=lambda total: self.ngettext(
                "On %(dimensions)s there is %(verdict)s between top management and the rest "
                "of the staff.",
                "On all %(total)d dimensions there is %(verdict)s between top management "
                "and the rest of the staff.",
                total,
            ),
            every=lambda total: self.ngettext(
                "Top management sees %(dimensions)s %(verdict)s than the rest of the staff.",
                "Top management sees all %(total)d dimensions %(verdict)s than the rest of "
                "the staff.",
                total,
            ),
        )

    def agreement(self) -> Paragraph | None:
        _ = self.gettext
        title = _("Agreement within departments")
        disagree: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        known = 0
        for d in _shown(self.view):
            for group in d.departments:
                if group.suppressed or group.agreement_ok is None:
                    continue
                known += 1
                names[group.code] = group.name
                if group.agreement_ok is False:
                    disagree.setdefault(group.code, []).append(d.name)
        if not known:
            return None
        if not disagree:
            return Paragraph(
                "agreement",
                title,
                (
                    _(
                        "Within every department shown, staff largely agree with each other, "
                        "so each department's average is a fair summary of its answers."
                    ),
                ),
            )
        listed = [
            _("%(name)s (on %(dimensions)s)")
            % {"name": names[code], "dimensions": self.names(dims)}
            if len(dims) <= 3
            else self.ngettext(
                "%(name)s (on %(num)d dimension)", "%(name)s (on %(num)d dimensions)", len(dims)
            )
            % {"name": names[code], "num": len(dims)}
            for code, dims in sorted(disagree.items(), key=lambda item: -len(item[1]))
        ]
        return Paragraph(
            "agreement",
            title,
            (
                _(
                    "Staff do not agree with each other in %(departments)s: some answer "
                    "positively, others negatively, so the average hides opposing views."
                )
                % {"departments": self.names(listed)},
                _("Talk with these teams before acting on their figures."),
            ),
        )

    # Department report ---------------------------------------------------------

    def department(self) -> list[Paragraph]:
        _ = self.gettext
        department = self.view.department
        name = department.name
        rows = _department_rows(self.view)
        if not rows:
            return [
                Paragraph(
                    "department",
                    name,
                    (
                        _(
                            "The results of %(name)s are withheld to protect anonymity; its "
                            "answers do count in the organisation's figures."
                        )
                        % {"name": name},
                    ),
                )
            ]
        respondents = max(r.group.n or 0 for r in rows)
        sentences = [
            _(
                "This summary is about %(name)s, whose %(n)d respondents are set beside the "
                "organisation as a whole."
            )
            % {"name": name, "n": respondents}
        ]
        per_level: dict[int, tuple[Level, int]] = {}
        for row in rows:
            level = row.level
            if level is not None:
                seen = per_level.get(level.number, (level, 0))
                per_level[level.number] = (level, seen[1] + 1)
        if len(rows) == 1 and per_level:
            (only, _count), *_rest = per_level.values()
            sentences.append(
                _("On the one dimension shown, %(name)s reaches %(level)s.")
                % {"name": name, "level": self.level_name(only)}
            )
        elif per_level:
            levels = [
                _("%(level)s on %(num)d") % {"level": self.level_name(level), "num": count}
                for _number, (level, count) in sorted(per_level.items(), reverse=True)
            ]
            sentences.append(
                _("Of the %(num)d dimensions shown, %(name)s reaches %(levels)s.")
                % {"num": len(rows), "name": name, "levels": self.names(levels)}
            )
        withheld = sum(1 for r in department.rows if not r.dimension.suppressed and r not in rows)
        if withheld:
            sentences.append(
                self.ngettext(
                    "Its results on %(num)d dimension are withheld: too few of its "
                    "respondents answered those statements.",
                    "Its results on %(num)d dimensions are withheld: too few of its "
                    "respondents answered those statements.",
                    withheld,
                )
                % {"num": withheld}
            )
        paragraphs = [Paragraph("department", _("This department"), tuple(sentences))]

        compared = [(r.dimension, r.group.vs_rest) for r in rows if r.group.vs_rest]
        if compared:
            rest = self.differences(
                compared,
                higher=_("higher"),
                lower=_("lower"),
                first=_(
                    "Compared with the rest of the organisation, %(name)s scores "
                    "%(verdict)s on %(num)d of the %(total)d dimensions: %(dimensions)s."
                ),
                more=_("It scores %(verdict)s on %(num)d of the %(total)d: %(dimensions)s."),
                none=lambda total: self.ngettext(
                    "On %(dimensions)s there is %(verdict)s between %(name)s and the rest of "
                    "the organisation.",
                    "On all %(total)d dimensions there is %(verdict)s between %(name)s and "
                    "the rest of the organisation.",
                    total,
                ),
                every=lambda total: self.ngettext(
                    "Compared with the rest of the organisation, %(name)s scores %(verdict)s "
                    "on %(dimensions)s.",
                    "Compared with the rest of the organisation, %(name)s scores %(verdict)s "
                    "on all %(total)d dimensions.",
                    total,
                ),
                extra={"name": name},
            )
        else:
            rest = [
                _(
                    "%(name)s is not compared with the rest of the organisation: too few "
                    "others answered."
                )
                % {"name": name}
            ]
        paragraphs.append(Paragraph("rest", _("Against the rest of the organisation"), tuple(rest)))
        paragraphs.append(self.benchmark(subject=name))

        known = [r for r in rows if r.group.agreement_ok is not None]
        disagree = [r.dimension.name for r in known if r.group.agreement_ok is False]
        if disagree:
            agreement = (
                _(
                    "On %(dimensions)s the staff of %(name)s do not agree with each other: "
                    "some answer positively, others negatively, so the average hides "
                    "opposing views."
                )
                % {"dimensions": self.names(disagree), "name": name},
                _("Talk with the team before acting on these figures."),
            )
            paragraphs.append(
                Paragraph("agreement", _("Agreement within the department"), agreement)
            )
        elif known:
            paragraphs.append(
                Paragraph(
                    "agreement",
                    _("Agreement within the department"),
                    (
                        _(
                            "On every dimension shown, the staff of %(name)s largely agree "
                            "with each other, so its averages are a fair summary."
                        )
                        % {"name": name},
                    ),
                )
            )
        return paragraphs

    # Priorities --------------------------------------------------------------------

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


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def summarise(view: ReportView, translations: Translations) -> Summary:
    """The summary in words of ``view`` (``build_view``), in ``view.lang``.

    ``translations`` is a plain gettext object in that language (Flask-Babel's
    ``get_translations()``, or the print translations of ``pdf.py``).
    """
    return _Writer(view, translations).summary()
