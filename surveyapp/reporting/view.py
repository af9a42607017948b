"""The report as a reader sees it: typed, frozen, localised data built once from the analysis.

:func:`.model.build_view` turns a campaign's analysis into a :class:`ReportView`; the
pages, the PDF, the summary in words, the charts and the results CSV all read this one
object, so they cannot disagree. Every part is a frozen dataclass with slots: a misspelt
field raises ``AttributeError`` (in a template, an undefined error) instead of reading as
``None``, and nothing that reads the view can change it for the next reader. Sequences
are tuples. :meth:`ReportView.to_dict` is the one way to plain JSON-ready data.

A withheld part (a group, an item or a dimension whose figures are suppressed) is the
same type with ``suppressed`` set, its ``reason`` in words and no figures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..services.comments import CampaignComments
    from .summary import Summary

__all__ = [
    "Benchmark",
    "CampaignInfo",
    "Comparison",
    "DepartmentInfo",
    "DepartmentItem",
    "DepartmentRow",
    "DepartmentView",
    "Difference",
    "DimensionView",
    "DistributionPoint",
    "GroupRow",
    "HeatColumn",
    "HeatMap",
    "HeatRow",
    "Interval",
    "ItemReliability",
    "ItemView",
    "Kruskal",
    "Level",
    "Maturity",
    "NormGroup",
    "OrganisationInfo",
    "Overall",
    "PairDifference",
    "ParticipationRow",
    "Policy",
    "PreviousCampaign",
    "Reliability",
    "ReportView",
    "RolledUp",
    "Scale",
    "VersusRest",
    "WelchAnova",
    "WithheldGroup",
]

#: A 95 % interval: (low, high).
Interval = tuple[float, float]

frozen = dataclass(frozen=True, slots=True)


# --------------------------------------------------------------------------- levels


@frozen
class Level:
    """A maturity level of the questionnaire, named in the reader's language."""

    number: int
    id: str
    name: str
    description: str = ""
    min_score: float = 0.0


@frozen
class Maturity:
    """A score's level; ``range`` (lowest, highest) when its interval spans levels."""

    level: Level | None = None
    uncertain: bool = False
    range: tuple[Level, Level] | None = None


# --------------------------------------------------------------------------- groups


@frozen
class DistributionPoint:
    """Answers to one scale point: how many, and their share of all answers."""

    label: str
    value: int
    count: int
    share: float


@frozen
class VersusRest:
    """A group against the rest of the organisation (Benjamini–Hochberg adjusted)."""

    diff: float | None
    ci: Interval | None = None
    p_bh: float | None = None
    significant: bool = False
    certainty: str = "unclear"


@frozen
class RolledUp:
    """A parent department together with the departments under it (its own figures are
    for its direct members only), or why that larger group is withheld."""

    suppressed: bool = False
    reason: str | None = None
    n: int | None = None
    mean: float | None = None
    sd: float | None = None
    ci: Interval | None = None
    median: float | None = None


@frozen
class GroupRow:
    """One department's or role's figures on a dimension or statement, or why they are
    withheld (``suppressed`` with a ``reason`` and no figures).

    ``parent`` is the parent group's number within the grouping (sub-departments).
    """

    code: str
    name: str
    parent: int | str | None = None
    suppressed: bool = False
    reason: str | None = None
    n: int | None = None
    mean: float | None = None
    sd: float | None = None
    ci: Interval | None = None
    agreement_ok: bool | None = None
    rwg_j: float | None = None
    shrunken_mean: float | None = None
    rank: int | None = None
    vs_rest: VersusRest | None = None
    rolled_up: RolledUp | None = None
    #: A statement's answers in this group (statements only, where they may be shown).
    distribution: tuple[DistributionPoint, ...] | None = None
    favourable: float | None = None


@frozen
class PairDifference:
    """Two groups that differ (Games–Howell: interval and p adjusted for the pairs)."""

    a: str
    b: str
    diff: float
    ci: Interval | None
    p: float
    certainty: str


@frozen
class WelchAnova:
    """Welch's ANOVA over the groups of a grouping."""

    F: float | None = None
    df1: float | None = None
    df2: float | None = None
    p: float | None = None
    omega2: float | None = None


@frozen
class Kruskal:
    """The Kruskal–Wallis test over the groups of a grouping."""

    H: float | None = None
    df: float | None = None
    p: float | None = None
    epsilon2: float | None = None


@frozen
class Comparison:
    """How the groups of one grouping differ on a dimension."""

    groups_compared: int
    welch: WelchAnova | None = None
    kruskal: Kruskal | None = None
    icc1: float | None = None
    icc2: float | None = None
    significant_pairs: tuple[PairDifference, ...] = ()


# --------------------------------------------------------------------------- dimensions


@frozen
class Difference:
    """A difference between two sets of respondents (perception gap, change), Holm
    adjusted over the dimensions; ``certainty`` words it (``reporting.certainty``)."""

    diff: float
    ci: Interval | None = None
    p: float | None = None
    p_holm: float | None = None
    hedges_g: float | None = None
    n_a: int | None = None
    n_b: int | None = None
    significant: bool = False
    certainty: str = "unclear"


@frozen
class Benchmark:
    """Where a dimension stands in its norm group."""

    percentile: float | None = None
    q1: float | None = None
    median: float | None = None
    q3: float | None = None
    organisations: int | None = None


@frozen
class ItemReliability:
    """How one statement hangs together with the rest of its dimension."""

    text: str
    item_rest_r: float | None = None
    alpha_if_deleted: float | None = None


@frozen
class Reliability:
    """Cronbach's alpha of a dimension, from the people who answered every statement."""

    alpha: float | None = None
    ci: Interval | None = None
    n: int | None = None
    items: tuple[ItemReliability, ...] = ()


@frozen
class ItemView:
    """One statement: its figures and answers, or why they are withheld."""

    id: str
    text: str
    reverse: bool = False
    suppressed: bool = False
    reason: str | None = None
    n: int | None = None
    mean: float | None = None
    ci: Interval | None = None
    favourable: float | None = None
    distribution: tuple[DistributionPoint, ...] = ()
    departments: tuple[GroupRow, ...] = ()


@frozen
class DimensionView:
    """One dimension: the organisation's figures, its groups and statements, or why it
    is withheld."""

    id: str
    name: str
    description: str = ""
    suppressed: bool = False
    reason: str | None = None
    n: int | None = None
    mean: float | None = None
    sd: float | None = None
    ci: Interval | None = None
    maturity: Maturity = Maturity()
    recommendation: str | None = None
    next_level: Level | None = None
    benchmark: Benchmark | None = None
    change: Difference | None = None
    gap: Difference | None = None
    reliability: Reliability | None = None
    departments: tuple[GroupRow, ...] = ()
    roles: tuple[GroupRow, ...] = ()
    department_comparison: Comparison | None = None
    role_comparison: Comparison | None = None
    items: tuple[ItemView, ...] = ()


# --------------------------------------------------------------------------- overviews


@frozen
class HeatColumn:
    """A dimension as a column of the heat map."""

    id: str
    name: str


@frozen
class HeatRow:
    """A department as a row of the heat map: one group per dimension (None where the
    department has no entry). ``parent`` is set for a sub-department."""

    code: str
    name: str
    cells: tuple[GroupRow | None, ...]
    parent: int | str | None = None


@frozen
class HeatMap:
    """Departments × dimensions."""

    columns: tuple[HeatColumn, ...] = ()
    rows: tuple[HeatRow, ...] = ()


@frozen
class WithheldGroup:
    """A group of a grouping whose results are withheld, and why."""

    grouping: str
    name: str
    reason: str


@frozen
class Overall:
    """The organisation's score over all dimensions and its maturity level."""

    n: int | None = None
    mean: float | None = None
    ci: Interval | None = None
    level: Level | None = None
    uncertain: bool = False
    range: tuple[Level, Level] | None = None


@frozen
class Scale:
    """The answer scale: its ends and the words of each point."""

    min: int
    max: int
    labels: tuple[str, ...] = ()


# --------------------------------------------------------------------------- context


@frozen
class OrganisationInfo:
    id: int
    name: str
    sector: str | None = None
    size_band: str | None = None


@frozen
class QuestionnaireInfo:
    id: str
    version: str | int


@frozen
class CampaignInfo:
    """The campaign as reported: dates as ISO text; counts only where they may be shown."""

    id: int
    name: str
    status: str
    opens_on: str
    closes_on: str
    closed_on: str | None = None
    questionnaire: QuestionnaireInfo | None = None
    min_group_size: int = 5
    min_comment_group_size: int = 10
    responses: int | None = None
    headcount: int | None = None
    response_rate: float | None = None

    @property
    def ended_on(self) -> str:
        """The day the campaign actually closed, else its planned closing day."""
        return self.closed_on or self.closes_on


@frozen
class DepartmentInfo:
    """A department of the campaign; counts only where its results are shown."""

    code: str
    name: str
    parent: str | None = None
    headcount: int | None = None
    suppressed: bool = False
    reason: str | None = None
    responses: int | None = None
    response_rate: float | None = None


@frozen
class NormGroup:
    """The organisations the benchmark compares with, described in the reader's language."""

    description: str  # the group in words: "sector Healthcare"
    sector: str | None = None
    size_band: str | None = None
    organisations: int = 0
    # The group used ("all", "sector", "size", "sector_size"), the one the consultant chose
    # (they differ after a fallback), and why it fell back ("too_few", "too_close").
    key: str = "all"
    chosen: str = "all"
    fallback: str | None = None
    name: str = ""  # the group with its size: "12 organisations in sector Healthcare"
    note: str | None = None  # the fallback in a sentence, to print beside the name


@frozen
class PreviousCampaign:
    """The organisation's previous campaign with the same questionnaire."""

    id: int
    name: str
    opens_on: str
    responses: int | None = None


@frozen
class Policy:
    """The thresholds the report applies, from the campaign's settings and the analysis.

    Templates and sentences take every threshold from here, never from a literal.
    """

    #: No group smaller than this is shown (the campaign's anonymity threshold).
    min_group_size: int
    #: Comments are shown for groups with at least this many comments.
    min_comment_group_size: int
    #: A difference counts as significant below this (adjusted) p-value.
    significance: float = 0.05
    #: Staff of a group agree with each other from this rwg(j) on.
    agreement: float = 0.70
    #: Intervals are at this confidence level.
    confidence: float = 0.95
    #: Cronbach's alpha from which a dimension score can be trusted, and is good.
    reliability_acceptable: float = 0.70
    reliability_good: float = 0.80
    #: ICC(2) from which departments' averages can be told apart reliably.
    icc2_reliable: float = 0.70


@frozen
class ParticipationRow:
    """Responses and response rate of one department; a withheld one shows only why."""

    code: str
    name: str
    parent: str | None = None
    headcount: int | None = None
    suppressed: bool = False
    reason: str | None = None
    responses: int | None = None
    rate: float | None = None


# --------------------------------------------------------------------------- department


@frozen
class DepartmentRow:
    """One dimension of a department report: the department's group beside the
    organisation's dimension, its own level, next step and place against the norm group.

    ``name``, ``mean``, ``ci``, ``suppressed`` and ``benchmark`` read like a dimension's,
    so the rows can be drawn with ``charts.dimension_bars``.
    """

    dimension: DimensionView
    group: GroupRow | None = None
    level: Level | None = None
    recommendation: str | None = None
    #: "below", "within" or "above" the norm group's middle half, or None.
    benchmark_position: str | None = None

    @property
    def shown(self) -> bool:
        """True when the department's own figures on this dimension may be shown."""
        return self.group is not None and not self.group.suppressed

    @property
    def name(self) -> str:
        return self.dimension.name

    @property
    def mean(self) -> float | None:
        return self.group.mean if self.shown and self.group else None

    @property
    def ci(self) -> Interval | None:
        return self.group.ci if self.shown and self.group else None

    @property
    def suppressed(self) -> bool:
        return not self.shown

    @property
    def benchmark(self) -> Benchmark | None:
        return self.dimension.benchmark


@frozen
class DepartmentItem:
    """A department's own answers to one statement."""

    item_id: str
    group: GroupRow


@frozen
class DepartmentView:
    """One department's figures beside the organisation's, for its head."""

    code: str
    name: str
    rows: tuple[DepartmentRow, ...] = ()
    #: The department's own answers per statement, where it has them to show.
    items: tuple[DepartmentItem, ...] = ()
    #: Respondents of the department (the most on any dimension shown).
    n: int | None = None

    def item(self, item_id: str) -> GroupRow | None:
        """The department's own figures on statement ``item_id``, or None."""
        return next((i.group for i in self.items if i.item_id == item_id), None)

    def row(self, dimension_id: str) -> DepartmentRow | None:
        """The row of dimension ``dimension_id``, or None."""
        return next((r for r in self.rows if r.dimension.id == dimension_id), None)


# --------------------------------------------------------------------------- the report


@frozen
class ReportView:
    """The whole report of one campaign (or one department of it), in ``lang``.

    ``participation``, ``summary`` and ``comments`` are added by the PDF
    (``dataclasses.replace``); the pages pass them to their templates separately.
    """

    lang: str
    generated_on: str
    title: str
    organisation: OrganisationInfo
    campaign: CampaignInfo
    departments: tuple[DepartmentInfo, ...]
    norm_group: NormGroup
    previous_campaign: PreviousCampaign | None
    threshold: int
    policy: Policy
    published: bool
    no_responses: bool
    overall: Overall
    scale: Scale
    levels: tuple[Level, ...]
    dimensions: tuple[DimensionView, ...]
    strengths: tuple[DimensionView, ...]
    heatmap: HeatMap
    has_gap: bool
    has_change: bool
    has_benchmark: bool
    #: False when every department is withheld (or there are none).
    departments_shown: bool
    suppressed_groups: tuple[WithheldGroup, ...]
    department: DepartmentView | None = None
    participation: tuple[ParticipationRow, ...] = ()
    summary: Summary | None = None
    comments: CampaignComments | None = None

    @property
    def shown_dimensions(self) -> tuple[DimensionView, ...]:
        """The dimensions whose results are shown."""
        return tuple(d for d in self.dimensions if not d.suppressed)

    def dimension(self, dimension_id: str) -> DimensionView | None:
        """The dimension ``dimension_id``, or None."""
        return next((d for d in self.dimensions if d.id == dimension_id), None)

    def to_dict(self) -> dict[str, Any]:
        """The view as plain JSON-ready data (tuples become lists when dumped)."""
        return dataclasses.asdict(self)
