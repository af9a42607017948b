"""The report's view model: :class:`.view.ReportView` built once from the analysis.

The dashboard pages, the PDF, the summary in words and the CSV of aggregate results all
render this one object, which is read from ``CampaignReport.to_dict()`` (the JSON of
``docs/analysis-json.md``), so the outputs cannot disagree. Reader-facing words (level
names, reasons for withholding) are chosen here, in the reader's language.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any, TypeVar

from ..questionnaires import Questionnaire, pick_text
from .certainty import certainty
from .view import (
    Benchmark,
    CampaignInfo,
    Comparison,
    DepartmentInfo,
    DepartmentItem,
    DepartmentRow,
    DepartmentView,
    Difference,
    DimensionView,
    DistributionPoint,
    GroupRow,
    HeatColumn,
    HeatMap,
    HeatRow,
    Interval,
    ItemReliability,
    ItemView,
    Kruskal,
    Level,
    Maturity,
    NormGroup,
    OrganisationInfo,
    Overall,
    PairDifference,
    ParticipationRow,
    Policy,
    PreviousCampaign,
    QuestionnaireInfo,
    Reliability,
    ReportView,
    RolledUp,
    Scale,
    VersusRest,
    WelchAnova,
    WithheldGroup,
)

if TYPE_CHECKING:
    from ..services.reporting import CampaignReport

__all__ = [
    "REASONS",
    "SIGNIFICANCE",
    "build_view",
    "department_participation",
    "norm_description",
]

#: A difference counts as significant below this (adjusted) p-value.
SIGNIFICANCE = 0.05
#: Cronbach's alpha from which a dimension score can be trusted, and from which it is good.
RELIABILITY_ACCEPTABLE = 0.70
RELIABILITY_GOOD = 0.80
#: ICC(2) from which departments' averages can be told apart reliably.
ICC2_RELIABLE = 0.70

# Reader-facing words for the anonymity reasons of the analysis JSON.
REASONS = {
    "nl": {
        "below_threshold": "minder dan {n} respondenten",
        "complementary": "verborgen zodat een kleine groep niet af te leiden is",
        "too_few_answers": "minder dan {n} antwoorden",
        "hidden": "niet apart getoond",
        "organisation_below_threshold": "te weinig respondenten in de organisatie",
        "no_responses": "niemand heeft gereageerd",
        "previous_too_few_answers": "minder dan {n} antwoorden in de vorige meting",
    },
    "en": {
        "below_threshold": "fewer than {n} respondents",
        "complementary": "withheld so that a small group cannot be worked out",
        "too_few_answers": "fewer than {n} answers",
        "hidden": "not shown separately",
        "organisation_below_threshold": "too few respondents in the organisation",
        "no_responses": "nobody responded",
        "previous_too_few_answers": "fewer than {n} answers in the previous campaign",
    },
}


NORM_WORDS = {
    "nl": {"all": "alle organisaties", "sector": "sector {}", "size": "{} medewerkers"},
    "en": {"all": "all organisations", "sector": "sector {}", "size": "{} employees"},
}


def norm_description(norm_group: dict[str, Any], lang: str) -> str:
    """Who the benchmark compares with, in the reader's language."""
    words = NORM_WORDS.get(lang, NORM_WORDS["en"])
    parts = []
    if norm_group.get("sector"):
        parts.append(words["sector"].format(norm_group["sector"]))
    if norm_group.get("size_band"):
        parts.append(words["size"].format(norm_group["size_band"]))
    return ", ".join(parts) or words["all"]


T = TypeVar("T")


def _pick(cls: type[T], values: dict[str, Any], **extra: Any) -> T:
    """``cls`` from the entries of ``values`` that are its fields (context blocks may carry
    more than the view shows)."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in values.items() if k in names}, **extra)


def _significant(p: float | None) -> bool:
    return p is not None and p < SIGNIFICANCE


def _interval(values: Any) -> Interval | None:
    if not values or values[0] is None or values[1] is None:
        return None
    return (values[0], values[1])


class _Builder:
    def __init__(self, report: CampaignReport, questionnaire: Questionnaire, lang: str):
        self.report = report
        self.q = questionnaire
        self.lang = lang
        self.data = report.to_dict()
        self.threshold = report.campaign["min_group_size"]
        self.department_names = {d["code"]: d["name"] for d in report.departments}
        role = questionnaire.background_question("role_level")
        self.role_names = {o.id: pick_text(o.label, lang) for o in role.options}
        self.levels = {level.number: level for level in questionnaire.levels}
        self.level_views = {number: self._level(number) for number in self.levels}

    def reason(self, code: str | None) -> str:
        words = REASONS.get(self.lang, REASONS["en"])
        return words.get(code or "", code or "").format(n=self.threshold)

    def group_name(self, grouping: str, label: str) -> str:
        if grouping == "department":
            return self.department_names.get(label, label)
        if grouping == "role_level":
            return self.role_names.get(label, label)
        return label

    def _level(self, number: int) -> Level:
        level = self.levels[number]
        return Level(
            number=number,
            id=level.id,
            name=pick_text(level.name, self.lang),
            description=pick_text(level.description, self.lang),
            min_score=level.min_score,
        )

    def level(self, number: int | None) -> Level | None:
        return None if number is None else self.level_views.get(number)

    def maturity(self, entry: dict[str, Any] | None) -> Maturity:
        if not entry or entry.get("level") is None:
            return Maturity()
        low, high = entry.get("level_ci95") or [None, None]
        uncertain = bool(entry.get("uncertain"))
        span = (self.level(low), self.level(high)) if uncertain else None
        return Maturity(
            level=self.level(entry["level"]),
            uncertain=uncertain,
            range=span if span and span[0] and span[1] else None,  # type: ignore[arg-type]
        )

    def distribution(self, counts: list[int]) -> tuple[DistributionPoint, ...]:
        """Answers per scale point as counts and shares, labelled in the reader's language."""
        total = sum(counts) or 1
        return tuple(
            DistributionPoint(
                label=pick_text(p.label, self.lang), value=p.value, count=c, share=c / total
            )
            for p, c in zip(self.q.scale.points, counts, strict=False)
        )

    def versus_rest(self, versus: dict[str, Any] | None) -> VersusRest | None:
        if not versus:
            return None
        return VersusRest(
            diff=versus.get("diff"),
            ci=_interval(versus.get("ci95")),
            p_bh=versus.get("p_bh"),
            significant=_significant(versus.get("p_bh")),
            certainty=certainty(versus.get("ci95"), versus.get("p_bh")).value,
        )

    def groups(self, grouping: str, entry: dict[str, Any] | None) -> tuple[GroupRow, ...]:
        if not entry:
            return ()
        rows = []
        for group in entry.get("groups", []):
            name = self.group_name(grouping, group["label"])
            if group.get("suppressed"):
                rows.append(
                    GroupRow(
                        code=group["label"],
                        name=name,
                        parent=group.get("parent"),
                        suppressed=True,
                        reason=self.reason(group.get("reason")),
                    )
                )
                continue
            if group.get("n", 0) == 0 and group.get("mean") is None:
                continue  # nobody in this group: nothing to show or hide
            rows.append(
                GroupRow(
                    code=group["label"],
                    name=name,
                    parent=group.get("parent"),
                    suppressed=False,
                    n=group.get("n"),
                    mean=group.get("mean"),
                    sd=group.get("sd"),
                    ci=_interval(group.get("ci95")),
                    agreement_ok=group.get("agreement_ok"),
                    rwg_j=group.get("rwg_j"),
                    shrunken_mean=group.get("shrunken_mean"),
                    rank=group.get("rank"),
                    vs_rest=self.versus_rest(group.get("vs_rest")),
                    rolled_up=self.rolled_up(group.get("rolled_up")),
                    # A statement's answers in this group (items only; the analysis has
                    # already withheld them where the group or its answers are too few).
                    distribution=self.distribution(group["distribution"])
                    if group.get("distribution")
                    else None,
                    favourable=group.get("favourable"),
                )
            )
        return tuple(rows)

    def rolled_up(self, entry: dict[str, Any] | None) -> RolledUp | None:
        if not entry:
            return None
        if entry.get("suppressed"):
            return RolledUp(suppressed=True, reason=self.reason(entry.get("reason")))
        return RolledUp(
            n=entry.get("n"),
            mean=entry.get("mean"),
            sd=entry.get("sd"),
            ci=_interval(entry.get("ci95")),
            median=entry.get("median"),
        )

    def comparison(self, grouping: str, entry: dict[str, Any] | None) -> Comparison | None:
        if not entry or not entry.get("groups_compared"):
            return None
        labels = {g["code"]: g["label"] for g in entry.get("groups", [])}
        pairs = [
            PairDifference(
                a=self.group_name(grouping, labels.get(pair["a"], str(pair["a"]))),
                b=self.group_name(grouping, labels.get(pair["b"], str(pair["b"]))),
                diff=pair["diff"],
                ci=_interval(pair.get("ci95")),
                p=pair["p"],
                # Games–Howell's interval and p are both adjusted for the pairs.
                certainty=certainty(pair.get("ci95"), pair.get("p")).value,
            )
            for pair in entry.get("games_howell", [])
            if _significant(pair.get("p"))
        ]
        welch = entry.get("welch_anova")
        kruskal = entry.get("kruskal")
        return Comparison(
            groups_compared=entry["groups_compared"],
            # (the JSON may add `reasons` beside a null statistic; the view keeps the numbers)
            welch=_pick(WelchAnova, welch) if welch else None,
            kruskal=_pick(Kruskal, kruskal) if kruskal else None,
            icc1=entry.get("icc1"),
            icc2=entry.get("icc2"),
            significant_pairs=tuple(sorted(pairs, key=lambda p: -abs(p.diff))),
        )

    def difference(self, entry: dict[str, Any] | None) -> Difference | None:
        if not entry or entry.get("diff") is None:
            return None
        return Difference(
            diff=entry["diff"],
            ci=_interval(entry.get("ci95")),
            p=entry.get("p"),
            p_holm=entry.get("p_holm"),
            hedges_g=entry.get("hedges_g"),
            n_a=entry.get("n_a"),
            n_b=entry.get("n_b"),
            significant=_significant(entry.get("p_holm")),
            certainty=certainty(entry.get("ci95"), entry.get("p_holm")).value,
        )

    def item(self, entry: dict[str, Any]) -> ItemView:
        item = self.q.item(entry["id"])
        base = {"id": item.id, "text": pick_text(item.text, self.lang), "reverse": item.reverse}
        if entry.get("suppressed"):
            return ItemView(**base, suppressed=True, reason=self.reason(entry.get("reason")))
        return ItemView(
            **base,
            suppressed=False,
            n=entry.get("n"),
            mean=entry.get("mean"),
            ci=_interval(entry.get("ci95")),
            favourable=entry.get("favourable"),
            distribution=self.distribution(entry.get("distribution") or []),
            departments=self.groups("department", entry.get("groupings", {}).get("department")),
        )

    def reliability(self, entry: dict[str, Any]) -> Reliability:
        per_item = {r["id"]: r for r in entry.get("item_reliability", [])}
        return Reliability(
            alpha=entry.get("alpha"),
            ci=_interval(entry.get("alpha_ci95")),
            n=entry.get("alpha_n"),
            items=tuple(
                ItemReliability(
                    text=pick_text(self.q.item(item_id).text, self.lang),
                    item_rest_r=per_item.get(item_id, {}).get("item_rest_r"),
                    alpha_if_deleted=per_item.get(item_id, {}).get("alpha_if_deleted"),
                )
                for item_id in entry.get("items", [])
            ),
        )

    def dimension(self, entry: dict[str, Any], items: tuple[ItemView, ...]) -> DimensionView:
        dimension = self.q.dimension(entry["id"])
        base = {
            "id": dimension.id,
            "name": pick_text(dimension.name, self.lang),
            "description": pick_text(dimension.description, self.lang),
        }
        if entry.get("suppressed"):
            return DimensionView(**base, suppressed=True, reason=self.reason(entry.get("reason")))
        maturity = self.maturity(entry.get("maturity"))
        level = maturity.level
        groupings = entry.get("groupings", {})
        benchmark = entry.get("benchmark")
        return DimensionView(
            **base,
            suppressed=False,
            n=entry.get("n"),
            mean=entry.get("mean"),
            sd=entry.get("sd"),
            ci=_interval(entry.get("ci95")),
            maturity=maturity,
            recommendation=self.q.recommendation(dimension.id, level.number, self.lang)
            if level
            else None,
            next_level=self.level(level.number + 1) if level else None,
            benchmark=Benchmark(
                percentile=benchmark.get("percentile_rank"),
                q1=benchmark.get("q1"),
                median=benchmark.get("median"),
                q3=benchmark.get("q3"),
                organisations=benchmark.get("n_organisations"),
            )
            if benchmark
            else None,
            change=self.difference(entry.get("change")),
            gap=self.difference(entry.get("perception_gap")),
            reliability=self.reliability(entry),
            departments=self.groups("department", groupings.get("department")),
            roles=self.groups("role_level", groupings.get("role_level")),
            department_comparison=self.comparison("department", groupings.get("department")),
            role_comparison=self.comparison("role_level", groupings.get("role_level")),
            items=items,
        )

    def context(self) -> dict[str, Any]:
        """The campaign, organisation, departments, norm group and previous campaign."""
        report = self.report
        campaign = {k: v for k, v in report.campaign.items() if k != "questionnaire"}
        questionnaire = report.campaign.get("questionnaire")
        norm = report.norm_group
        # Worded by services.reporting per language: description, name (with the size), note.
        labels = getattr(report, "norm_labels", {}).get(self.lang, {})
        previous = report.previous_campaign
        return {
            "organisation": _pick(OrganisationInfo, report.organisation),
            "campaign": _pick(
                CampaignInfo,
                campaign,
                questionnaire=_pick(QuestionnaireInfo, questionnaire) if questionnaire else None,
            ),
            "departments": tuple(_pick(DepartmentInfo, d) for d in report.departments),
            "norm_group": NormGroup(
                description=labels.get("description") or norm_description(norm, self.lang),
                sector=norm.get("sector"),
                size_band=norm.get("size_band"),
                organisations=norm.get("organisations", 0),
                key=norm.get("key", "all"),
                chosen=norm.get("chosen", "all"),
                fallback=norm.get("fallback"),
                name=labels.get("name") or "",
                note=labels.get("note"),
            ),
            "previous_campaign": _pick(PreviousCampaign, previous) if previous else None,
        }

    def policy(self) -> Policy:
        settings = self.data.get("settings", {})
        return Policy(
            min_group_size=self.threshold,
            min_comment_group_size=self.report.campaign.get("min_comment_group_size", 10),
            significance=SIGNIFICANCE,
            agreement=settings.get("agreement_cutoff", 0.70),
            confidence=settings.get("confidence", 0.95),
            reliability_acceptable=RELIABILITY_ACCEPTABLE,
            reliability_good=RELIABILITY_GOOD,
            icc2_reliable=ICC2_RELIABLE,
        )

    def heatmap(self, dimensions: tuple[DimensionView, ...]) -> HeatMap:
        rows: dict[str, list[GroupRow | None]] = {}
        names: dict[str, tuple[str, Any]] = {}
        for k, dimension in enumerate(dimensions):
            for group in dimension.departments:
                if group.code not in rows:
                    rows[group.code] = [None] * len(dimensions)
                    # A sub-department's row is indented: its parent is its first cell's.
                    names[group.code] = (group.name, group.parent)
                rows[group.code][k] = group
        return HeatMap(
            columns=tuple(HeatColumn(id=d.id, name=d.name) for d in dimensions),
            rows=tuple(
                HeatRow(code=code, name=names[code][0], cells=tuple(cells), parent=names[code][1])
                for code, cells in rows.items()
            ),
        )

    def build(self, department: str | None) -> ReportView:
        data = self.data
        items_by_dimension: dict[str, list[ItemView]] = {}
        for entry in data.get("items", []):
            dimension_id = self.q.item(entry["id"]).dimension
            items_by_dimension.setdefault(dimension_id, []).append(self.item(entry))
        dimensions = tuple(
            self.dimension(entry, tuple(items_by_dimension.get(entry["id"], [])))
            for entry in data.get("dimensions", [])
        )
        shown = [d for d in dimensions if not d.suppressed and d.mean is not None]
        ranked = sorted(shown, key=lambda d: d.mean or 0.0, reverse=True)
        organisation = data.get("organisation", {})
        overall = organisation.get("overall") or {}
        overall_maturity = self.maturity(overall.get("maturity"))
        # A closed campaign nobody answered is "published" by the analysis (there is nothing
        # to protect) but has no figure to show: it gets its own wording everywhere.
        no_responses = not organisation.get("suppressed", False) and not organisation.get(
            "respondents"
        )
        suppressed = tuple(
            WithheldGroup(
                grouping=grouping["name"],
                name=self.group_name(grouping["name"], g["label"]),
                reason=self.reason(g.get("reason")),
            )
            for grouping in data.get("groupings", [])
            for g in grouping.get("groups", [])
            if g.get("suppressed")
        )
        return ReportView(
            lang=self.lang,
            generated_on=dt.date.today().isoformat(),
            title=pick_text(self.q.title, self.lang),
            **self.context(),
            threshold=self.threshold,
            policy=self.policy(),
            published=not organisation.get("suppressed", False) and not no_responses,
            no_responses=no_responses,
            overall=Overall(
                n=overall.get("n"),
                mean=overall.get("mean"),
                ci=_interval(overall.get("ci95")),
                level=overall_maturity.level,
                uncertain=overall_maturity.uncertain,
                range=overall_maturity.range,
            ),
            scale=Scale(
                min=self.q.scale.min,
                max=self.q.scale.max,
                labels=tuple(pick_text(p.label, self.lang) for p in self.q.scale.points),
            ),
            levels=tuple(self.level_views[level.number] for level in self.q.levels),
            dimensions=dimensions,
            strengths=tuple(ranked[:3]),
            heatmap=self.heatmap(dimensions),
            has_gap=any(d.gap for d in dimensions),
            has_change=any(d.change for d in dimensions),
            has_benchmark=any(d.benchmark for d in dimensions),
            # False when every department is withheld (or there are none): no sentence
            # may then speak of "every department shown".
            departments_shown=any(not g.suppressed for d in dimensions for g in d.departments),
            suppressed_groups=suppressed,
            department=self.department_view(department, dimensions)
            if department is not None
            else None,
        )

    def department_view(self, code: str, dimensions: tuple[DimensionView, ...]) -> DepartmentView:
        """One department's figures beside the organisation's, for its head."""
        rows = []
        for dimension in dimensions:
            if dimension.suppressed:
                continue
            group = next((g for g in dimension.departments if g.code == code), None)
            if group is None or group.suppressed:
                rows.append(DepartmentRow(dimension=dimension, group=group))
                continue
            maturity_level = None
            for level in reversed(self.q.levels):
                if group.mean is not None and group.mean >= level.min_score - 1e-9:
                    maturity_level = self.level(level.number)
                    break
            rows.append(
                DepartmentRow(
                    dimension=dimension,
                    group=group,
                    level=maturity_level,
                    recommendation=self.q.recommendation(
                        dimension.id, maturity_level.number, self.lang
                    )
                    if maturity_level
                    else None,
                    benchmark_position=_benchmark_position(group.mean, dimension.benchmark),
                )
            )
        items = []
        for dimension in dimensions:
            if dimension.suppressed:
                continue
            for item in dimension.items:
                if item.suppressed:
                    continue
                own = next((g for g in item.departments if g.code == code), None)
                if own is not None and not own.suppressed:
                    items.append(DepartmentItem(item_id=item.id, group=own))
        return DepartmentView(
            code=code,
            name=self.department_names.get(code, code),
            rows=tuple(rows),
            # The department's own answers per statement (only where it has them to show).
            items=tuple(items),
            n=max((r.group.n for r in rows if r.shown and r.group), default=None),
        )


def _benchmark_position(mean: float | None, benchmark: Benchmark | None) -> str | None:
    """Where a score falls against the norm group's middle half: below, within or above."""
    if mean is None or benchmark is None or benchmark.q1 is None or benchmark.q3 is None:
        return None
    if mean < benchmark.q1:
        return "below"
    if mean > benchmark.q3:
        return "above"
    return "within"


def build_view(
    report: CampaignReport,
    questionnaire: Questionnaire,
    lang: str,
    department: str | None = None,
) -> ReportView:
    """The report's typed, localised view; ``department`` narrows it to one department."""
    return _Builder(report, questionnaire, lang).build(department)


def department_participation(report: CampaignReport, lang: str) -> tuple[ParticipationRow, ...]:
    """Responses and response rate per department; a withheld department shows only why.

    The counts come from ``report.departments``, where the reporting service has already
    removed them for every department the analysis withholds.
    """
    words = REASONS.get(lang, REASONS["en"])
    threshold = report.campaign["min_group_size"]
    organisation_shown = report.analysis.organisation_published
    nobody = organisation_shown and not report.campaign.get("responses")
    rows = []
    for department in report.departments:
        base = {
            "code": department["code"],
            "name": department["name"],
            "parent": department.get("parent"),
            "headcount": department.get("headcount"),
        }
        if organisation_shown and (nobody or department.get("responses") == 0):
            # Nobody responded here: nothing to report, and no report to offer.
            rows.append(ParticipationRow(**base, suppressed=True, reason=words["no_responses"]))
            continue
        if department["suppressed"] or not organisation_shown:
            reason = department["reason"] if organisation_shown else "organisation_below_threshold"
            rows.append(
                ParticipationRow(
                    **base, suppressed=True, reason=words.get(reason, reason).format(n=threshold)
                )
            )
        else:
            rows.append(
                ParticipationRow(
                    **base,
                    suppressed=False,
                    responses=department["responses"],
                    rate=department["response_rate"],
                )
            )
    return tuple(rows)
