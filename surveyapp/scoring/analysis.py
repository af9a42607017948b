"""One organisation's complete analysis: every dimension, item, group and statistic.

:func:`analyse` turns the respondents x items matrix into an :class:`Analysis`;
:meth:`Analysis.to_dict` gives the JSON documented in ``docs/analysis-json.md``.

How the work is organised (it is what makes 100,000 respondents take well under a second):
respondents are sorted once into *cells*, the finest combination of all groupings' codes
(department x role level x ...). Two value tables, items x scale points and scores x
distinct score values, are counted per cell in one pass each. Every group that is
reported, the organisation, each department (own respondents), each department's subtree,
each role level, and every "rest of the organisation", is a union of cells, so its
statistics come from summing table rows. Tests and effect sizes then work on the group
summaries (see :mod:`surveyapp.scoring.comparison`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surveyapp.scoring import agreement, comparison, reliability
from surveyapp.scoring.benchmark import Benchmark, benchmark
from surveyapp.scoring.descriptives import (
    Descriptives,
    ValueTable,
    _distinct_column,
    _padded_grid,
    _tabulate_indexed,
    describe_table,
    favourable_threshold,
    tabulate,
)
from surveyapp.scoring.gap import Gap, campaign_change, perception_gap, restrict
from surveyapp.scoring.maturity import Maturity, classify_maturity
from surveyapp.scoring.reasons import NO_NORM_GROUP, TOO_FEW_ORGANISATIONS
from surveyapp.scoring.scales import ScaleScores, check_scale, score_scales
from surveyapp.scoring.suppression import (
    REASON_BELOW_THRESHOLD,
    REASON_COMPLEMENTARY,
    SuppressionSystem,
    suppress,
)

__all__ = ["Analysis", "Design", "Grouping", "GroupingAnalysis", "analyse"]

SCHEMA_VERSION = 1
SIGNIFICANT_DIGITS = 6
REASON_TOO_FEW_ANSWERS = "too_few_answers"
REASON_ORGANISATION_SUPPRESSED = "organisation_below_threshold"
REASON_PREVIOUS_TOO_FEW_ANSWERS = "previous_too_few_answers"
# Largest (sum, answered) key space counted when indexing dimension scores; beyond it
# (very long dimensions on a 0-100 scale) the scores are sorted instead.
_MAX_KEYS = 1 << 22


@dataclass(frozen=True, slots=True)
class Design:
    """What the questionnaire measures and how it is scored.

    Attributes
    ----------
    item_ids : tuple of str
        One id per column of the answer matrix.
    dimension_ids : tuple of str
        One id per dimension.
    item_dimension : tuple of int
        Dimension index (into ``dimension_ids``) of each item.
    reverse : tuple of bool
        Reverse-keyed items (recoded as ``min + max - x``).
    scale_min, scale_max : int
        Response scale: 2 to 101 points starting at 0 or 1.
    level_min_scores : tuple of float
        Lowest score of maturity levels 1..L, strictly increasing.
    min_answered_share : float, default 0.5
        Share of a dimension's items a respondent must answer to get a score (also used
        for the overall score across dimensions).
    agreement_cutoff : float, default 0.70
        rwg / rwg(j) below this flags a group as not agreeing (``agreement_ok: false``).
    favourable_from : float, optional
        Lowest favourable answer (scored direction); default the top two points (top one
        on 2- and 3-point scales).
    """

    item_ids: tuple[str, ...]
    dimension_ids: tuple[str, ...]
    item_dimension: tuple[int, ...]
    reverse: tuple[bool, ...]
    scale_min: int
    scale_max: int
    level_min_scores: tuple[float, ...]
    min_answered_share: float = 0.5
    agreement_cutoff: float = 0.70
    favourable_from: float | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise the sequences to tuples once
        set_(self, "item_ids", tuple(str(i) for i in self.item_ids))
        set_(self, "dimension_ids", tuple(str(d) for d in self.dimension_ids))
        set_(self, "item_dimension", tuple(int(d) for d in self.item_dimension))
        set_(self, "reverse", tuple(bool(r) for r in self.reverse))
        set_(self, "level_min_scores", tuple(float(x) for x in self.level_min_scores))
        check_scale(self.scale_min, self.scale_max)
        n_items = len(self.item_ids)
        if len(set(self.item_ids)) != n_items or len(set(self.dimension_ids)) != len(
            self.dimension_ids
        ):
            raise ValueError("Item ids and dimension ids must each be unique.")
        if len(self.item_dimension) != n_items or len(self.reverse) != n_items:
            raise ValueError(
                f"Design lists {n_items} items but {len(self.item_dimension)} dimension "
                f"indices and {len(self.reverse)} reverse flags; give one of each per item."
            )
        n_dims = len(self.dimension_ids)
        bad = [d for d in self.item_dimension if not 0 <= d < n_dims]
        if bad:
            raise ValueError(f"item_dimension refers to dimension {bad[0]}; there are {n_dims}.")
        empty = sorted(set(range(n_dims)) - set(self.item_dimension))
        if empty:
            raise ValueError(f"Dimension {self.dimension_ids[empty[0]]!r} has no items.")
        if not 0.0 <= self.min_answered_share <= 1.0:
            raise ValueError("min_answered_share must lie between 0 and 1.")
        if not 0.0 <= self.agreement_cutoff <= 1.0:
            raise ValueError("agreement_cutoff must lie between 0 and 1.")

    @property
    def n_points(self) -> int:
        """Number of scale points."""
        return int(self.scale_max) - int(self.scale_min) + 1


@dataclass(frozen=True, slots=True, eq=False)
class Grouping:
    """A way of splitting respondents into groups (departments, role levels, ...).

    Attributes
    ----------
    name : str
        Key in the JSON (for example ``"department"``).
    codes : ndarray of int, shape (n_respondents,)
        Group of each respondent, ``-1`` for none. For departments: the department the
        respondent answered for (groups are disjoint).
    labels : tuple of str
        Label of each group code.
    parents : tuple of int, optional
        Parent code of each group (``-1`` for a root): the department tree. Each node is
        reported for its own respondents and, when it has children, also rolled up over
        its subtree (descriptive statistics only).
    headcounts : tuple of float, optional
        Staff headcount of each group (NaN for unknown), for the finite-population
        correction.
    """

    name: str
    codes: NDArray[np.int64]
    labels: tuple[str, ...]
    parents: tuple[int, ...] | None = None
    headcounts: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        codes = np.array(self.codes, dtype=np.int64)  # a private, read-only copy
        codes.setflags(write=False)
        set_(self, "codes", codes)
        set_(self, "labels", tuple(str(label) for label in self.labels))
        n = len(self.labels)
        if codes.ndim != 1:
            raise ValueError(f"Grouping {self.name!r}: codes must be 1-D.")
        if codes.size and (codes.min() < -1 or codes.max() >= n):
            raise ValueError(
                f"Grouping {self.name!r}: codes must lie in -1..{n - 1} "
                f"({n} labels); found {codes.min()}..{codes.max()}."
            )
        if self.parents is not None:
            parents = tuple(int(p) for p in self.parents)
            if len(parents) != n or any(not -1 <= p < n for p in parents):
                raise ValueError(
                    f"Grouping {self.name!r}: give one parent per group, -1 for a root."
                )
            for start in range(n):  # reject cycles: every chain must reach a root
                node, steps = start, 0
                while node != -1:
                    node, steps = parents[node], steps + 1
                    if steps > n:
                        raise ValueError(f"Grouping {self.name!r}: the parents form a cycle.")
            set_(self, "parents", parents)
        if self.headcounts is not None:
            heads = tuple(float("nan") if h is None else float(h) for h in self.headcounts)
            if len(heads) != n:
                raise ValueError(f"Grouping {self.name!r}: give one headcount per group.")
            set_(self, "headcounts", heads)

    @property
    def n_groups(self) -> int:
        """Number of groups (labels)."""
        return len(self.labels)

    def has_children(self) -> NDArray[np.bool_]:
        """True for groups that are a parent of another group."""
        flags = np.zeros(self.n_groups, dtype=bool)
        if self.parents is not None:
            for p in self.parents:
                if p >= 0:
                    flags[p] = True
        return flags

    def subtree(self) -> NDArray[np.int64]:
        """``m[a, g] = 1`` when group g is a or lies below a in the tree."""
        n = self.n_groups
        m = np.eye(n, dtype=np.int64)
        if self.parents is not None:
            for g in range(n):
                node = self.parents[g]
                while node != -1:
                    m[node, g] = 1
                    node = self.parents[node]
        return m


@dataclass(frozen=True, slots=True, eq=False)
class GroupingAnalysis:
    """Everything computed for one grouping; arrays are (groups, columns).

    Dimension columns are the design's dimensions followed by the overall score.
    ``published`` is False for groups withheld by the anonymity rules (``reasons`` says
    why); ``dims_withheld`` / ``items_withheld`` mark single cells of published groups
    with fewer answers than the threshold. Agreement, ICC and comparisons use the
    published groups only.
    """

    grouping: Grouping
    respondents: NDArray[np.int64]
    published: NDArray[np.bool_]
    reasons: tuple[str | None, ...]
    dimensions: Descriptives
    items: Descriptives
    dims_withheld: NDArray[np.bool_]
    items_withheld: NDArray[np.bool_]
    dims_why: NDArray[np.object_]
    items_why: NDArray[np.object_]
    rolled_up: NDArray[np.bool_]
    rolled_published: NDArray[np.bool_]
    rolled_reasons: tuple[str | None, ...]
    rolled_dimensions: Descriptives | None
    rolled_items: Descriptives | None
    rolled_dims_withheld: NDArray[np.bool_] | None
    rolled_items_withheld: NDArray[np.bool_] | None
    rolled_dims_why: NDArray[np.object_] | None
    rolled_items_why: NDArray[np.object_] | None
    rwg: NDArray[np.float64]
    rwg_j: NDArray[np.float64]
    icc: agreement.Icc
    mean_reliability: NDArray[np.float64]
    shrunken_mean: NDArray[np.float64]
    rank: NDArray[np.float64]
    compared: NDArray[np.int64]
    welch: comparison.WelchAnova
    kruskal: comparison.Kruskal
    games_howell: comparison.GamesHowell
    versus_rest: comparison.VersusRest


@dataclass(frozen=True, slots=True, eq=False)
class Analysis:
    """The analysis of one organisation; :meth:`to_dict` gives the documented JSON.

    ``gap`` and ``change`` hold only what may be shown: ``gap_why`` and ``change_why``
    give per dimension the reason its comparison is withheld (None where shown), and
    the withheld dimensions' numbers are blanked in the results themselves.
    ``gap_reason`` is set when the perception gap is withheld as a whole.
    """

    design: Design
    min_group_size: int
    confidence: float
    n_respondents: int
    organisation_published: bool
    organisation_reason: str | None
    dimensions: Descriptives
    items: Descriptives
    dims_withheld: NDArray[np.bool_]
    items_withheld: NDArray[np.bool_]
    dims_why: NDArray[np.object_]
    items_why: NDArray[np.object_]
    reliability: tuple[reliability.Reliability, ...]
    maturity: tuple[Maturity, ...]
    groupings: tuple[GroupingAnalysis, ...]
    gap: Gap | None
    gap_reason: str | None
    gap_why: tuple[str | None, ...]
    change: Gap | None
    change_why: tuple[str | None, ...]
    benchmark: Benchmark | None
    settings: dict[str, Any] = field(default_factory=dict)
    benchmark_reason: str | None = None  # why ``benchmark`` is None

    def to_dict(self) -> dict[str, Any]:
        """The analysis as JSON-ready plain data (see ``docs/analysis-json.md``)."""
        from surveyapp.scoring.serialise import analysis_to_dict

        return analysis_to_dict(self)


# --------------------------------------------------------------------------- analyse


def analyse(
    matrix: ArrayLike,
    design: Design,
    groupings: Sequence[Grouping] = (),
    *,
    min_group_size: int = 5,
    headcount: float | None = None,
    top_management: tuple[str, int] | None = None,
    previous_scores: ArrayLike | None = None,
    norm_means: ArrayLike | None = None,
    min_norm_organisations: int = 5,
    confidence: float = 0.95,
) -> Analysis:
    """Analyse one organisation's survey.

    Parameters
    ----------
    matrix : array_like, shape (n_respondents, n_items)
        Raw answers (float64, NaN for missing), columns in ``design.item_ids`` order.
    design : Design
    groupings : sequence of Grouping
        For example departments (with ``parents``) and role levels.
    min_group_size : int, default 5
        Anonymity threshold: no group of fewer respondents (or cell of fewer answers) is
        shown, with complementary suppression so none can be worked out.
    headcount : float, optional
        Staff headcount of the organisation (finite-population correction).
    top_management : (str, int), optional
        ``(grouping name, code)`` of the top-management level: the perception gap is
        that group minus every other respondent with a code in the same grouping.
    previous_scores : array_like, shape (n_previous, n_dimensions), optional
        Dimension scores of a previous campaign (campaign change).
    norm_means : array_like, shape (n_organisations, n_dimensions), optional
        Dimension means of other organisations (benchmark).
    min_norm_organisations : int, default 5
    confidence : float, default 0.95

    Returns
    -------
    Analysis

    Notes
    -----
    Formulas and references are in the functions used: :func:`~.scales.score_scales`,
    :func:`~.descriptives.describe_table`, :func:`~.reliability.cronbach_alpha`,
    :mod:`~.agreement`, :mod:`~.comparison`, :mod:`~.gap`, :mod:`~.benchmark`,
    :mod:`~.maturity` and :mod:`~.suppression`. ``docs/statistics.md`` states the
    policies (missing values, truncation, who takes part in which statistic).
    """
    if int(min_group_size) != min_group_size or min_group_size < 1:
        raise ValueError(f"min_group_size must be a positive whole number; got {min_group_size}.")
    threshold = int(min_group_size)
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(design.item_ids):
        raise ValueError(
            f"The answer matrix must have one column per item ({len(design.item_ids)}); "
            f"got shape {x.shape}."
        )
    n_resp = x.shape[0]
    names = [g.name for g in groupings]
    if len(set(names)) != len(names):
        raise ValueError("Grouping names must be unique.")
    for g in groupings:
        if g.codes.shape != (n_resp,):
            raise ValueError(
                f"Grouping {g.name!r} has {g.codes.size} codes for {n_resp} respondents."
            )

    n_dims = len(design.dimension_ids)
    scored = score_scales(
        x,
        item_dimension=design.item_dimension,
        reverse=design.reverse,
        scale_min=design.scale_min,
        scale_max=design.scale_max,
        min_answered_share=design.min_answered_share,
        n_dimensions=n_dims,
    )
    score_cols = np.column_stack([scored.scores, _overall(scored.scores, design)])

    cells, n_cells, cell_codes = _cells(groupings, n_resp)
    scale = (float(design.scale_min), float(design.scale_max))
    item_table = tabulate(scored.items, cells, n_cells, scale=scale)
    score_table = _score_table(scored, score_cols, cells, n_cells)
    cell_respondents = np.bincount(cells, minlength=n_cells)

    layout = _Layout(groupings, cell_codes, n_cells)
    respondents = layout.counts(cell_respondents)
    publish = _suppress(layout, respondents, threshold)

    def describe_union(table: ValueTable, members: NDArray, heads: NDArray | None, **kw: Any):
        return describe_table(table.merge(members), headcounts=heads, confidence=confidence, **kw)

    item_kw = {"scale": scale, "favourable_from": design.favourable_from}
    org_members = np.ones((1, n_cells), dtype=np.int64)
    org_heads = None if headcount is None else np.array([float(headcount)])
    org_dims = describe_union(score_table, org_members, org_heads)
    org_items = describe_union(item_table, org_members, org_heads, **item_kw)

    # Cells with fewer answers than the threshold, and the suppression they imply.
    # Scores per cell and column, summed once over the wide score table (its width is the
    # number of distinct overall scores) for the suppression and the perception gap.
    score_answers = score_table.counts.sum(axis=2)
    dims_withheld, dims_why = _answer_suppression(
        layout, publish, respondents, score_answers, threshold
    )
    items_withheld, items_why = _answer_suppression(
        layout, publish, respondents, item_table.counts.sum(axis=2), threshold
    )
    org_published = not publish.suppressed[0]
    org_reason = publish.reasons[0]

    # Items grouped by dimension in one pass (stable: each dimension's items keep their
    # order), then each dimension's alpha reads a slice of it instead of gathering its
    # columns from the whole matrix.
    by_dimension = np.argsort(np.asarray(design.item_dimension), kind="stable")
    in_order = np.array_equal(by_dimension, np.arange(by_dimension.size))
    grouped = scored.items if in_order else scored.items[:, by_dimension]
    bounds = np.searchsorted(np.asarray(design.item_dimension)[by_dimension], np.arange(n_dims + 1))
    rel = tuple(
        reliability.cronbach_alpha(grouped[:, bounds[d] : bounds[d + 1]], confidence=confidence)
        for d in range(n_dims)
    )
    maturity = classify_maturity(
        org_dims.mean[0], org_dims.ci_low[0], org_dims.ci_high[0], design.level_min_scores
    )

    analyses = []
    for gi, g in enumerate(groupings):
        analyses.append(
            _analyse_grouping(
                gi,
                g,
                layout,
                publish,
                score_table,
                item_table,
                org_dims,
                design,
                (dims_withheld, dims_why),
                (items_withheld, items_why),
                respondents,
                confidence,
                describe_union,
                item_kw,
            )
        )

    gap_result, gap_reason, gap_why = _perception_gap(
        top_management,
        groupings,
        layout,
        publish,
        scored.scores,
        score_answers,
        (dims_withheld, dims_why),
        threshold,
        confidence,
    )
    change, change_why = _campaign_change(
        previous_scores,
        scored.scores,
        org_published,
        (dims_withheld[0], dims_why[0]),
        threshold,
        confidence,
    )
    bench, bench_reason = None, NO_NORM_GROUP
    if norm_means is not None:
        bench = benchmark(org_dims.mean[0, :n_dims], np.asarray(norm_means), min_norm_organisations)
        bench_reason = None if bench is not None else TOO_FEW_ORGANISATIONS

    return Analysis(
        design=design,
        min_group_size=threshold,
        confidence=confidence,
        n_respondents=int(n_resp),
        organisation_published=bool(org_published),
        organisation_reason=org_reason,
        dimensions=org_dims,
        items=org_items,
        dims_withheld=dims_withheld[0:1],
        items_withheld=items_withheld[0:1],
        dims_why=dims_why[0:1],
        items_why=items_why[0:1],
        reliability=rel,
        maturity=tuple(maturity),
        groupings=tuple(analyses),
        gap=gap_result,
        gap_reason=gap_reason,
        gap_why=gap_why,
        change=change,
        change_why=change_why,
        benchmark=bench,
        benchmark_reason=bench_reason,
        settings={
            "scale_min": design.scale_min,
            "scale_max": design.scale_max,
            "min_group_size": threshold,
            "min_answered_share": design.min_answered_share,
            "agreement_cutoff": design.agreement_cutoff,
            "favourable_from": (
                favourable_threshold(design.scale_min, design.scale_max)
                if design.favourable_from is None
                else design.favourable_from
            ),
            "confidence": confidence,
            "significant_digits": SIGNIFICANT_DIGITS,
        },
    )


def _overall(scores: NDArray[np.float64], design: Design) -> NDArray[np.float64]:
    """Overall score: mean of the dimension scores, with the same completeness rule."""
    present = ~np.isnan(scores)
    k = scores.shape[1]
    need = max(math.ceil(design.min_answered_share * k - 1e-9), 1)
    count = present.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(present, scores, 0.0).sum(axis=1) / count
    return np.where(count >= need, mean, np.nan)


def _score_table(
    scored: ScaleScores, score_cols: NDArray[np.float64], cells: NDArray[np.int64], n_cells: int
) -> ValueTable:
    """``tabulate(score_cols, cells, n_cells)``, its dimension columns indexed without a sort.

    A dimension score is a sum of whole scale points over the items answered, so each
    distinct score is one of few (sum, answered) pairs: the pairs that occur, found by
    counting small integer keys, give the distinct scores and every respondent's place
    among them in one pass. The overall score (a mean of means) is sorted as before.
    """
    n, n_dims = scored.scores.shape
    uniques: list[NDArray[np.float64]] = []
    index = np.empty((score_cols.shape[1], n), dtype=np.int64)
    for col, column in enumerate(np.ascontiguousarray(score_cols.T)):
        found = None
        if col < n_dims:
            found = _quotient_index(column, scored.answered[:, col], int(scored.n_items[col]))
        u, index[col] = _distinct_column(column) if found is None else found
        uniques.append(u)
    return _tabulate_indexed(_padded_grid(uniques), index.T, cells, n_cells)


def _quotient_index(
    scores: NDArray[np.float64], answered: NDArray[np.int64], n_items: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]] | None:
    """Distinct values of ``scores = sums / answered`` and each score's index among them.

    The sums are recovered exactly (``rint(score * answered)``: whole numbers far below
    2**52), so the key ``sum * (n_items + 1) + answered`` names a score's pair. The
    distinct scores are those of the pairs that occur, computed by the same division;
    pairs with equal quotients (2/1 and 4/2) share one value. Returns None (the caller
    sorts instead) unless every score is found again at its index.
    """
    present = ~np.isnan(scores)
    with np.errstate(invalid="ignore"):
        sums = np.rint(scores * answered)
    sums_present = sums[present]
    if sums_present.size and (
        sums_present.min() < 0 or (sums_present.max() + 1) * (n_items + 1) > _MAX_KEYS
    ):
        return None
    key = np.where(present, np.nan_to_num(sums).astype(np.int64) * (n_items + 1) + answered, 0)
    pairs = np.flatnonzero(np.bincount(key[present], minlength=1))
    values = (pairs // (n_items + 1)).astype(np.float64) / (pairs % (n_items + 1))
    distinct = np.unique(values)
    where_key = np.full(int(pairs.max(initial=0)) + 1, -1, dtype=np.int64)
    where_key[pairs] = np.searchsorted(distinct, values)
    inverse = np.where(present, where_key[key], -1)
    # Bit for bit (a -0.0 is not 0.0 here): otherwise the caller's sort decides.
    found = distinct[inverse[present]].view(np.uint64)
    if not np.array_equal(found, scores[present].view(np.uint64)):
        return None
    return distinct, inverse


def _cells(
    groupings: Sequence[Grouping], n_resp: int
) -> tuple[NDArray[np.int64], int, NDArray[np.int64]]:
    """Cell of each respondent (finest combination of codes) and each cell's codes."""
    if not groupings:
        return np.zeros(n_resp, dtype=np.int64), 1, np.zeros((1, 0), dtype=np.int64)
    key = np.zeros(n_resp, dtype=np.int64)
    radix = 1
    for g in groupings:
        key += (g.codes + 1) * radix
        radix *= g.n_groups + 1
    unique, cells = np.unique(key, return_inverse=True)
    codes = np.empty((unique.size, len(groupings)), dtype=np.int64)
    rest = unique.copy()
    for j, g in enumerate(groupings):
        codes[:, j] = rest % (g.n_groups + 1) - 1
        rest //= g.n_groups + 1
    return cells.astype(np.int64), int(unique.size), codes


class _Layout:
    """Membership of cells in groups, and the suppression cells and sets built on it.

    Suppression cell 0 is the organisation. Each grouping then contributes, in order:
    its groups (own respondents), the rolled-up subtree of every group with children,
    and a hidden remainder of respondents without a group. With two or more groupings
    the *crossing* follows: one hidden cell per combination of codes that occurs (a
    department's own respondents at one role level, including the "no group" codes).

    Sets: each parent's roll-up = its own respondents + its children's roll-ups; the
    organisation = the roots' roll-ups (or the groups of a flat grouping) + the
    remainder; and, for the crossing, every group and every remainder = the crossing
    cells with its code. A reader who knows the organisation chart knows which
    combinations are empty; an empty combination is simply not a cell (count 0 is what
    :func:`~.suppression.suppress` treats as known), so the crossing sets carry exactly
    that knowledge. Without them, "role level total minus the department that holds all
    but one of its members" would give away the one person elsewhere.

    Using the finest crossing rather than each pair of groupings also covers three or
    more groupings: every pairwise table is a sum of these cells.
    """

    def __init__(self, groupings: Sequence[Grouping], cell_codes: NDArray, n_cells: int):
        self.groupings = list(groupings)
        self.own: list[NDArray[np.int64]] = []
        self.roll: list[NDArray[np.int64]] = []
        self.rest: list[NDArray[np.int64]] = []
        self.roll_index: list[NDArray[np.int64]] = []
        self.own_slot: list[NDArray[np.int64]] = []
        self.roll_slot: list[NDArray[np.int64]] = []
        self.rest_slot: list[int] = []
        self.sets: list[tuple[int, list[int]]] = []
        hidden = [False]
        slot = 1
        for j, g in enumerate(self.groupings):
            own = (cell_codes[:, j][None, :] == np.arange(g.n_groups)[:, None]).astype(np.int64)
            idx = np.flatnonzero(g.has_children())
            self.own.append(own)
            self.roll_index.append(idx)
            self.roll.append(g.subtree()[idx] @ own)  # only the parents' rows are needed
            self.rest.append((cell_codes[:, j] == -1).astype(np.int64)[None, :])
            own_slot = np.arange(slot, slot + g.n_groups)
            slot += g.n_groups
            roll_slot = np.arange(slot, slot + idx.size)
            slot += idx.size
            rest_slot = slot
            slot += 1
            hidden += [False] * (g.n_groups + idx.size) + [True]
            self.own_slot.append(own_slot)
            self.roll_slot.append(roll_slot)
            self.rest_slot.append(rest_slot)
            # Where a node is shown in tables: its roll-up if it has children, else itself.
            shown = own_slot.copy()
            shown[idx] = roll_slot
            children: dict[int, list[int]] = {}
            roots = []
            for c in range(g.n_groups):
                p = -1 if g.parents is None else g.parents[c]
                (roots if p == -1 else children.setdefault(p, [])).append(c)
            for p, kids in children.items():
                self.sets.append(
                    (int(shown[p]), [int(own_slot[p])] + [int(shown[c]) for c in kids])
                )
            self.sets.append((0, [int(shown[r]) for r in roots] + [rest_slot]))
        self.cross_slot = np.arange(slot, slot + n_cells) if len(self.groupings) > 1 else None
        if self.cross_slot is not None:
            slot += n_cells
            hidden += [True] * n_cells
            for j in range(len(self.groupings)):
                # Codes -1..n-1 map to the remainder and the groups' own slots.
                totals = np.concatenate([[self.rest_slot[j]], self.own_slot[j]])
                order = np.argsort(cell_codes[:, j], kind="stable")
                codes, starts = np.unique(cell_codes[order, j], return_index=True)
                if not len(codes):
                    continue  # no respondents at all: no cells to tie to the totals
                for code, members in zip(codes, np.split(order, starts[1:]), strict=True):
                    self.sets.append((int(totals[code + 1]), self.cross_slot[members].tolist()))
        self.n_slots = slot
        self.hidden = hidden
        # Checked once and reused by every suppression of this layout (respondents, then
        # each column's answer counts): the structure does not depend on the counts.
        self.system = SuppressionSystem(self.n_slots, self.sets)

    def counts(self, per_cell: NDArray) -> NDArray[np.int64]:
        """Counts of every suppression cell from per-cell counts."""
        out = np.zeros(self.n_slots, dtype=np.int64)
        out[0] = per_cell.sum()
        for j in range(len(self.groupings)):
            out[self.own_slot[j]] = self.own[j] @ per_cell
            out[self.roll_slot[j]] = self.roll[j] @ per_cell
            out[self.rest_slot[j]] = (self.rest[j] @ per_cell)[0]
        if self.cross_slot is not None:
            out[self.cross_slot] = per_cell
        return out


@dataclass(frozen=True, slots=True)
class _Publish:
    suppressed: tuple[bool, ...]
    reasons: tuple[str | None, ...]


def _suppress(layout: _Layout, counts: NDArray[np.int64], threshold: int) -> _Publish:
    result = suppress(counts, layout.system, threshold, hidden=layout.hidden)
    return _Publish(result.suppressed, result.reasons)


def _answer_suppression(
    layout: _Layout,
    publish: _Publish,
    respondents: NDArray[np.int64],
    per_cell_n: NDArray[np.int64],
    threshold: int,
) -> tuple[NDArray[np.bool_], NDArray[np.object_]]:
    """Per column, withhold published cells with fewer answers than the threshold.

    Groups are first suppressed on respondent counts. A published group can still have
    fewer answers than the threshold on one item or dimension (skipped questions), and a
    withheld or hidden cell (a crossing cell, say) can have fewer answers than
    respondents; such a column is re-run through the same suppression with answer
    counts, starting from the cells already withheld, so no small cell can be recovered
    by subtraction.

    A column is *not* re-run when the respondent-count solution provably protects it
    too: no published cell has ``0 < answers < threshold``; the unpublished cells that
    are empty are the same as with respondents (so the same cells are known and the
    same are determined by the set equations); and every unpublished cell with
    ``0 < answers < threshold`` has as many answers as respondents. Then a determined
    cell, which has at least ``threshold`` respondents, has at least ``threshold``
    answers (or it would have fewer respondents), and the unknown remainder of a set
    either keeps its respondent count (at least ``threshold``) or contains a cell of at
    least ``threshold`` answers. Most columns of a large survey pass this test.

    Returns a (slots x columns) boolean array of withheld cells (True also for groups
    withheld as a whole) and the reason for each withheld cell.
    """
    base = np.array(publish.suppressed)
    cols = per_cell_n.shape[1]  # per_cell_n: answers per cell and column
    withheld = np.repeat(base[:, None], cols, axis=1)
    reasons = np.empty(withheld.shape, dtype=object)
    for slot, reason in enumerate(publish.reasons):
        reasons[slot, :] = reason
    hidden = [bool(h or b) for h, b in zip(layout.hidden, base, strict=True)]
    for col in range(cols):
        counts = layout.counts(per_cell_n[:, col])
        small = (counts > 0) & (counts < threshold)
        safe = (
            not (small & ~base).any()
            and np.array_equal(counts[base] > 0, respondents[base] > 0)
            and np.array_equal(counts[small & base], respondents[small & base])
        )
        if safe:
            continue
        result = suppress(counts, layout.system, threshold, hidden=hidden)
        for slot in np.flatnonzero(np.array(result.suppressed) & ~base):
            withheld[slot, col] = True
            why = result.reasons[slot]
            reasons[slot, col] = REASON_TOO_FEW_ANSWERS if why == REASON_BELOW_THRESHOLD else why
    return withheld, reasons


def _analyse_grouping(
    gi: int,
    g: Grouping,
    layout: _Layout,
    publish: _Publish,
    score_table: ValueTable,
    item_table: ValueTable,
    org_dims: Descriptives,
    design: Design,
    dims_cells: tuple[NDArray[np.bool_], NDArray[np.object_]],
    items_cells: tuple[NDArray[np.bool_], NDArray[np.object_]],
    respondents: NDArray[np.int64],
    confidence: float,
    describe_union: Any,
    item_kw: dict[str, Any],
) -> GroupingAnalysis:
    """Descriptives, agreement and comparisons of one grouping's groups."""
    n_dims = len(design.dimension_ids)
    own = layout.own[gi]
    heads = None if g.headcounts is None else np.array(g.headcounts, dtype=np.float64)
    own_scores = score_table.merge(own)  # also the Kruskal-Wallis table below
    dims = describe_table(own_scores, headcounts=heads, confidence=confidence)
    items = describe_union(item_table, own, heads, **item_kw)
    own_slot = layout.own_slot[gi]
    published = ~np.array(publish.suppressed)[own_slot]
    reasons = tuple(publish.reasons[s] for s in own_slot)
    dims_withheld, dims_why = dims_cells[0][own_slot], dims_cells[1][own_slot]
    items_withheld, items_why = items_cells[0][own_slot], items_cells[1][own_slot]

    roll_idx = layout.roll_index[gi]
    rolled_up = np.zeros(g.n_groups, dtype=bool)
    rolled_up[roll_idx] = True
    roll_slot = layout.roll_slot[gi]
    rolled_published = np.zeros(g.n_groups, dtype=bool)
    rolled_published[roll_idx] = ~np.array(publish.suppressed, dtype=bool)[roll_slot]
    rolled_reasons_list: list[str | None] = [None] * g.n_groups
    for node, s in zip(roll_idx, roll_slot, strict=True):
        rolled_reasons_list[node] = publish.reasons[s]
    rolled_dims = rolled_items = None
    rolled_dims_withheld = rolled_items_withheld = None
    rolled_dims_why = rolled_items_why = None
    if roll_idx.size:
        roll_heads = None
        if heads is not None:
            sub = g.subtree()[roll_idx]
            roll_heads = np.where(sub > 0, heads[None, :], 0.0).sum(axis=1)  # NaN if unknown
        rolled_dims = describe_union(score_table, layout.roll[gi], roll_heads)
        rolled_items = describe_union(item_table, layout.roll[gi], roll_heads, **item_kw)
        rolled_dims_withheld = dims_cells[0][roll_slot]
        rolled_items_withheld = items_cells[0][roll_slot]
        rolled_dims_why = dims_cells[1][roll_slot]
        rolled_items_why = items_cells[1][roll_slot]

    # Published groups take part in agreement and comparisons (each statistic then
    # needs its own minimum, for example two scores for a variance).
    eligible = published
    item_var = np.where(eligible[:, None] & ~items_withheld, items.variance, np.nan)
    rwg = agreement.rwg(item_var, n_points=design.n_points)
    dim_of_item = np.asarray(design.item_dimension)
    rwg_j = np.full((g.n_groups, n_dims), np.nan)
    for d in range(n_dims):  # a handful of dimensions, each fully vectorised over groups
        rwg_j[:, d] = agreement.rwg_j(item_var[:, dim_of_item == d], n_points=design.n_points)
    rwg_j = np.where(dims_withheld[:, :n_dims], np.nan, rwg_j)

    use = eligible[:, None] & ~dims_withheld[:, :n_dims]
    n_use = np.where(use, dims.n[:, :n_dims], 0)
    mean_use = np.where(use, dims.mean[:, :n_dims], np.nan)
    var_use = np.where(use, dims.variance[:, :n_dims], np.nan)
    ss_use = np.where(n_use >= 2, (n_use - 1) * var_use, 0.0)
    icc = agreement.icc_oneway(n_use, mean_use, ss_use)
    lam = agreement.group_mean_reliability(n_use, icc.icc1[None, :])
    with np.errstate(invalid="ignore", divide="ignore"):
        grand = np.where(n_use > 0, n_use * np.nan_to_num(mean_use), 0).sum(axis=0) / n_use.sum(
            axis=0
        )
    shrunk = agreement.shrunken_means(mean_use, lam, grand[None, :])
    shrunk = np.where(n_use > 0, shrunk, np.nan)
    rank = np.full(shrunk.shape, np.nan)
    for d in range(n_dims):
        ok = np.isfinite(shrunk[:, d])
        if ok.any():
            rank[ok, d] = _min_rank(-shrunk[ok, d])

    compared = np.flatnonzero(eligible)
    n_c = n_use[compared]
    welch = comparison.welch_anova(n_c, mean_use[compared], var_use[compared])
    kw_table = ValueTable(
        grid=score_table.grid[:n_dims],
        counts=own_scores.counts[compared, :n_dims] * use[compared][:, :, None],
    )
    kw = comparison.kruskal(kw_table)
    gh = comparison.games_howell(n_c, mean_use[compared], var_use[compared], confidence=confidence)
    gh = comparison.GamesHowell(
        a=compared[gh.a],
        b=compared[gh.b],
        diff=gh.diff,
        se=gh.se,
        t=gh.t,
        df=gh.df,
        p=gh.p,
        ci_low=gh.ci_low,
        ci_high=gh.ci_high,
    )
    vr = comparison.versus_rest(
        np.where(use, dims.n[:, :n_dims], 0),
        mean_use,
        var_use,
        total_n=org_dims.n[0, :n_dims],
        total_mean=org_dims.mean[0, :n_dims],
        total_var=org_dims.variance[0, :n_dims],
        tested=use,
        confidence=confidence,
    )
    return GroupingAnalysis(
        grouping=g,
        respondents=respondents[own_slot],
        published=published,
        reasons=reasons,
        dimensions=dims,
        items=items,
        dims_withheld=dims_withheld,
        items_withheld=items_withheld,
        dims_why=dims_why,
        items_why=items_why,
        rolled_up=rolled_up,
        rolled_published=rolled_published,
        rolled_reasons=tuple(rolled_reasons_list),
        rolled_dimensions=rolled_dims,
        rolled_items=rolled_items,
        rolled_dims_withheld=rolled_dims_withheld,
        rolled_items_withheld=rolled_items_withheld,
        rolled_dims_why=rolled_dims_why,
        rolled_items_why=rolled_items_why,
        rwg=rwg,
        rwg_j=rwg_j,
        icc=icc,
        mean_reliability=lam,
        shrunken_mean=shrunk,
        rank=rank,
        compared=compared,
        welch=welch,
        kruskal=kw,
        games_howell=gh,
        versus_rest=vr,
    )


def _min_rank(values: NDArray[np.float64]) -> NDArray[np.intp]:
    """Ranks from 1, ties sharing the lowest: ``scipy.stats.rankdata(values, method="min")``.

    One plus the number of smaller values, which is what ``rankdata`` returns for finite
    values; computed here so that the engine does not import ``scipy.stats``.
    """
    return np.searchsorted(np.sort(values), values, side="left") + 1


def _perception_gap(
    top_management: tuple[str, int] | None,
    groupings: Sequence[Grouping],
    layout: _Layout,
    publish: _Publish,
    scores: NDArray[np.float64],
    score_answers: NDArray[np.int64],
    dims_cells: tuple[NDArray[np.bool_], NDArray[np.object_]],
    threshold: int,
    confidence: float,
) -> tuple[Gap | None, str | None, tuple[str | None, ...]]:
    """Top management minus all other respondents of the grouping, where it may be shown.

    A dimension's gap publishes both sides' n, mean and (through t and df) SD, so it is
    shown only where each side could be shown on its own:

    * top management's score on that dimension is shown in the dimension table (not
      withheld for too few answers or as a complement); otherwise the gap would give
      that small group's mean and SD away;
    * the staff side has at least ``threshold`` scores on that dimension;
    * the staff side, as one more published cell (the sum of the grouping's other
      groups), lets no withheld group be worked out: staff minus the shown groups
      would otherwise be a small withheld group (a conversation team of three), and
      the organisation minus top management minus staff the people without a code.
      When every other group is shown the staff side is their sum and adds nothing;
      otherwise the column's suppression is re-run with it and the gap is withheld
      if anything more would have to be withheld.

    Returns the gap (withheld dimensions blanked, see :func:`~.gap.restrict`), the
    reason the whole gap is withheld (or None), and per dimension the reason its gap
    is withheld (None where shown).
    """
    if top_management is None:
        return None, None, ()
    name, code = top_management
    index = next((j for j, g in enumerate(groupings) if g.name == name), None)
    if index is None:
        raise ValueError(f"top_management names grouping {name!r}, which was not given.")
    g = groupings[index]
    if not 0 <= code < g.n_groups:
        raise ValueError(f"top_management code {code} is not a group of {name!r}.")
    top = g.codes == code
    staff = (g.codes >= 0) & ~top
    top_slot = int(layout.own_slot[index][code])
    if publish.suppressed[top_slot]:
        return None, publish.reasons[top_slot] or REASON_BELOW_THRESHOLD, ()
    if staff.sum() < threshold:
        return None, REASON_BELOW_THRESHOLD, ()
    gap = perception_gap(scores[top], scores[staff], confidence=confidence)
    withheld, why = dims_cells
    staff_slots = np.delete(layout.own_slot[index], code)
    reasons: list[str | None] = []
    for k in range(gap.diff.size):
        if withheld[top_slot, k]:
            reasons.append(why[top_slot, k] or REASON_TOO_FEW_ANSWERS)
        elif gap.n_b[k] < threshold:
            reasons.append(REASON_TOO_FEW_ANSWERS)
        elif not _may_publish_union(
            layout, score_answers[:, k], withheld[:, k], staff_slots, threshold
        ):
            reasons.append(REASON_COMPLEMENTARY)
        else:
            reasons.append(None)
    shown = np.array([r is None for r in reasons], dtype=bool)
    return restrict(gap, shown), None, tuple(reasons)


def _may_publish_union(
    layout: _Layout,
    per_cell: NDArray[np.int64],
    withheld: NDArray[np.bool_],
    members: NDArray[np.int64],
    threshold: int,
) -> bool:
    """Whether publishing the union of ``members`` needs no further suppression.

    ``withheld`` are the cells already withheld for this column. The union enters the
    column's suppression as one more cell with the set ``union = members``; it may be
    published when :func:`~.suppression.suppress` then withholds nothing else.
    """
    counts = layout.counts(per_cell)
    present = members[counts[members] > 0]
    if not withheld[present].any():
        return True  # a sum of published groups: everything about it is known already
    union = counts.size
    hidden = [bool(h or w) for h, w in zip(layout.hidden, withheld, strict=True)] + [False]
    result = suppress(
        [*counts.tolist(), int(counts[members].sum())],
        [*layout.sets, (union, members.tolist())],
        threshold,
        hidden=hidden,
    )
    return not any(s and not h for s, h in zip(result.suppressed, hidden, strict=True))


def _campaign_change(
    previous_scores: ArrayLike | None,
    scores: NDArray[np.float64],
    organisation_published: bool,
    org_cells: tuple[NDArray[np.bool_], NDArray[np.object_]],
    threshold: int,
    confidence: float,
) -> tuple[Gap | None, tuple[str | None, ...]]:
    """This campaign minus the previous one, per dimension, where both may be shown.

    The change publishes the previous campaign's n, mean and (through t and df) SD on
    each dimension: with two previous respondents, that is both people's scores. A
    dimension's change is shown only when this campaign's organisation figure for it is
    shown (at least ``threshold`` scores, not withheld) and the previous campaign has at
    least ``threshold`` scores on it (``"previous_too_few_answers"`` otherwise).

    Returns the change (withheld dimensions blanked, see :func:`~.gap.restrict`) and per
    dimension the reason it is withheld (None where shown).
    """
    if previous_scores is None:
        return None, ()
    n_dims = scores.shape[1]
    before = np.asarray(previous_scores, dtype=np.float64)
    if before.ndim != 2 or before.shape[1] != n_dims:
        raise ValueError(
            f"previous_scores must have one column per dimension ({n_dims}); "
            f"got shape {before.shape}."
        )
    change = campaign_change(before, scores, confidence=confidence)
    withheld, why = org_cells
    reasons: list[str | None] = []
    for k in range(n_dims):
        if not organisation_published:
            reasons.append(REASON_ORGANISATION_SUPPRESSED)
        elif withheld[k] or change.n_a[k] < threshold:
            reasons.append(why[k] or REASON_TOO_FEW_ANSWERS)
        elif change.n_b[k] < threshold:
            reasons.append(REASON_PREVIOUS_TOO_FEW_ANSWERS)
        else:
            reasons.append(None)
    shown = np.array([r is None for r in reasons], dtype=bool)
    return restrict(change, shown), tuple(reasons)
