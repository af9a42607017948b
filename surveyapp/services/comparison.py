"""Organisations side by side, for consultants: overview, comparison and norm groups.

* :func:`organisation_overview` lists every organisation with its campaigns and the
  maturity level of each dimension in its latest closed campaign, read from the stored
  per-campaign scores (``campaign_score``), so the list costs a few queries however many
  organisations there are.
* :func:`campaign_choices` and :func:`norm_options` say which closed campaigns of the
  chosen organisations, and which norm groups, a consultant may compare, and why any other
  is not offered.
* :func:`compare_campaigns` puts several closed campaigns side by side (of different
  organisations, or waves of one). Means, intervals and levels come from each campaign's
  own report (the numbers its dashboard shows); the differences are Welch t-tests on
  respondent-level dimension scores, Holm-adjusted over the pairs within each dimension,
  and shown as a compact letter display. A norm group may be added as a column.
* :func:`norm_groups` gives the quartiles of the organisations' dimension means by
  sector and by size band, from the stored scores; like the benchmark's
  :func:`~.aggregates.norm_group` it reads :func:`~.aggregates.norm_table`, which packs the
  stored scores into one text that NumPy parses and keeps the result until another
  campaign closes.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sqlalchemy as sa
from flask_babel import force_locale, ngettext

from ..extensions import db
from ..models import SIZE_BANDS, Campaign, CampaignScore, Organisation
from ..questionnaires import Questionnaire, pick_text
from ..reporting.letters import compact_letters
from ..reporting.model import REASONS, SIGNIFICANCE, build_view
from ..reporting.view import (
    CampaignInfo,
    DimensionView,
    GroupRow,
    Interval,
    Level,
    Maturity,
    OrganisationInfo,
    Overall,
    QuestionnaireInfo,
    ReportView,
    Scale,
)
from ..scoring.benchmark import benchmark
from ..scoring.gap import holm, welch_difference
from . import ServiceError
from .aggregates import (
    MIN_NORM_ORGANISATIONS,
    NORM_GROUPS,
    current_groups,
    dimension_scores,
    norm_table,
    options_from_members,
)
from .matrix import load_matrix
from .organisations import SECTORS, sector_label
from .questionnaires import questionnaire_for
from .release import response_counts, visible_response_count
from .reporting import released_report

MAX_COMPARED = 8
ADJUSTMENT = "holm"

frozen = dataclass(frozen=True, slots=True)


# ---------------------------------------------------------------------------------
# Overview


def _latest_closed_campaigns() -> dict[int, Campaign]:
    """Each organisation's latest closed campaign."""
    latest: dict[int, Campaign] = {}
    for campaign in db.session.scalars(
        sa.select(Campaign).where(Campaign.status == "closed").order_by(Campaign.closes_on)
    ):
        latest[campaign.organisation_id] = campaign
    return latest


def organisation_overview(lang: str) -> list[dict[str, Any]]:
    """Every organisation with its campaigns and its latest closed campaign's levels."""
    organisations = list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name)))
    campaigns: dict[int, list[Campaign]] = {}
    for campaign in db.session.scalars(sa.select(Campaign).order_by(Campaign.opens_on)):
        campaigns.setdefault(campaign.organisation_id, []).append(campaign)
    responses = response_counts([c.id for group in campaigns.values() for c in group])
    latest = _latest_closed_campaigns()
    scores: dict[int, dict[str, CampaignScore]] = {}
    if latest:
        for score in db.session.scalars(
            sa.select(CampaignScore).where(
                CampaignScore.campaign_id.in_([c.id for c in latest.values()])
            )
        ):
            scores.setdefault(score.campaign_id, {})[score.dimension_id] = score
    rows = []
    for organisation in organisations:
        closed = latest.get(organisation.id)
        levels = None
        if closed is not None:
            questionnaire = questionnaire_for(closed.questionnaire_version)
            stored = scores.get(closed.id, {})
            levels = []
            for dimension in questionnaire.dimensions:
                score = stored.get(dimension.id)
                shown = (
                    score is not None
                    and score.mean is not None
                    and score.n >= closed.min_group_size
                )
                level = questionnaire.level_for(score.mean) if shown else None
                levels.append(
                    {
                        "dimension_id": dimension.id,
                        "dimension": pick_text(dimension.name, lang),
                        "level": level.number if level else None,
                        "level_name": pick_text(level.name, lang) if level else None,
                    }
                )
        rows.append(
            {
                "id": organisation.id,
                "name": organisation.name,
                "sector": organisation.sector,
                "size_band": organisation.size_band,
                "campaigns": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "status": c.status,
                        "opens_on": c.opens_on.isoformat(),
                        "closes_on": c.closes_on.isoformat(),
                        "responses": visible_response_count(c, int(responses.get(c.id, 0))),
                        "threshold": c.min_group_size,
                    }
                    for c in campaigns.get(organisation.id, [])
                ],
                "latest_closed": None
                if closed is None
                else {"id": closed.id, "name": closed.name, "closes_on": closed.closes_on},
                "levels": levels,
            }
        )
    return rows


# ---------------------------------------------------------------------------------
# Choosing what to compare


class ComparisonError(ServiceError):
    """A comparison that cannot be made; ``code`` names the problem for the page's wording
    and ``names`` the campaigns or group concerned."""

    def __init__(self, message: str, code: str, names: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.code = code
        self.names = tuple(names)


@dataclass(frozen=True, slots=True)
class CampaignChoice:
    """A closed campaign a consultant may compare, or why it cannot be compared.

    ``problem`` is None, ``"no_responses"`` (nobody answered) or ``"too_few"`` (fewer
    answered than its anonymity threshold, so its report withholds every figure).
    """

    id: int
    organisation_id: int
    organisation: str
    name: str
    opens_on: dt.date
    closed_on: dt.date
    questionnaire_version_id: int
    responses: int | None  # as a reader may see it: None below the threshold
    threshold: int
    problem: str | None

    @property
    def comparable(self) -> bool:
        return self.problem is None


def campaign_choices(organisations: Sequence[Organisation]) -> dict[int, list[CampaignChoice]]:
    """Each organisation's closed campaigns, latest first, each with whether it can be
    compared (organisations without a closed campaign map to an empty list)."""
    closed = [c for o in organisations for c in o.campaigns if c.status == "closed"]
    counts = response_counts([c.id for c in closed])
    choices: dict[int, list[CampaignChoice]] = {o.id: [] for o in organisations}
    for campaign in sorted(closed, key=lambda c: (c.closed_on or c.closes_on, c.id), reverse=True):
        n = int(counts.get(campaign.id, 0))
        problem = "no_responses" if n == 0 else "too_few" if n < campaign.min_group_size else None
        choices[campaign.organisation_id].append(
            CampaignChoice(
                id=campaign.id,
                organisation_id=campaign.organisation_id,
                organisation=campaign.organisation.name,
                name=campaign.name,
                opens_on=campaign.opens_on,
                closed_on=campaign.closed_on or campaign.closes_on,
                questionnaire_version_id=campaign.questionnaire_version_id,
                responses=visible_response_count(campaign, n),
                threshold=campaign.min_group_size,
                problem=problem,
            )
        )
    return choices


def default_choice(choices: dict[int, list[CampaignChoice]]) -> list[int]:
    """The campaigns ticked before the consultant chooses: each organisation's latest
    comparable one, or the two latest of a single organisation (two waves side by side)."""
    comparable = {org: [c.id for c in found if c.comparable] for org, found in choices.items()}
    if len(comparable) == 1:
        return next(iter(comparable.values()))[:2]
    return [ids[0] for ids in comparable.values() if ids]


# ---------------------------------------------------------------------------------
# Norm group column


@dataclass(frozen=True, slots=True)
class NormOption:
    """A norm group that may be added as a column, or why it is not offered.

    ``key`` is what the form sends: ``"all"``, ``"sector:<sector>"``, ``"size:<band>"``
    or ``"sector_size:<sector>:<band>"``; ``kind`` is the group's key among
    :data:`~.aggregates.NORM_GROUPS`. ``problem`` is None, ``"too_few"`` (fewer than
    ``MIN_NORM_ORGANISATIONS`` organisations) or ``"too_close"`` (it leaves out one to four
    organisations of a larger group it is part of, whose scores could then be narrowed
    down by setting the two sets of quartiles side by side; ``left_out`` says how many):
    the rule of a report's norm group, :func:`~.aggregates.options_from_members`.
    """

    key: str
    kind: str  # "all", "sector", "size" or "sector_size"
    sector: str | None
    size_band: str | None
    organisations: int
    problem: str | None
    left_out: int = 0

    @property
    def offered(self) -> bool:
        return self.problem is None


def _norm_members(
    questionnaire: Questionnaire, questionnaire_version_id: int
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """The organisations' usable dimension means (NaN where their own report withholds
    the dimension), and each organisation's sector and size band as they are now."""
    dimension_ids = tuple(d.id for d in questionnaire.dimensions)
    table = norm_table(questionnaire_version_id, dimension_ids)
    usable = table.counts >= table.min_group_sizes[:, np.newaxis]
    present = usable.any(axis=1)
    # Read now, not from the cached table: a corrected sector moves an organisation at once.
    current = current_groups()
    ids = table.organisation_ids[present]
    groups = [current.get(int(i), ("", "")) for i in ids]
    return ids, np.where(usable, table.means, np.nan)[present], groups


def _option_key(kind: str, sector: str | None, size_band: str | None) -> str:
    return {
        "all": "all",
        "sector": f"sector:{sector}",
        "size": f"size:{size_band}",
        "sector_size": f"sector_size:{sector}:{size_band}",
    }[kind]


def options_for_members(groups: Sequence[tuple[str, str]]) -> list[NormOption]:
    """The norm groups a comparison may add, from each member organisation's (sector,
    size band): all organisations, then each sector, size band and sector × size of the
    controlled lists that has members, each with whether it is offered.

    A group is offered by the rule of a report's norm group
    (:func:`~.aggregates.options_from_members`), asked once for every sector × size that
    has members: it sees each group with all the larger groups it is part of. Apart from
    the database so that it can be tested on any membership.
    """
    everyone = frozenset(range(len(groups)))
    found: dict[str, NormOption] = {}

    def add(options: dict) -> None:
        for option in options.values():
            key = _option_key(option.key, option.sector, option.size_band)
            found.setdefault(
                key,
                NormOption(
                    key,
                    option.key,
                    option.sector,
                    option.size_band,
                    option.organisations,
                    option.problem,
                    option.left_out,
                ),
            )

    add({"all": options_from_members(dict.fromkeys(NORM_GROUPS, everyone))["all"]})
    present = set(groups)
    for sector, size_band in itertools.product(SECTORS, SIZE_BANDS):
        if (sector, size_band) not in present:
            continue
        members = {
            "all": everyone,
            "sector": frozenset(i for i in everyone if groups[i][0] == sector),
            "size": frozenset(i for i in everyone if groups[i][1] == size_band),
            "sector_size": frozenset(i for i in everyone if groups[i] == (sector, size_band)),
        }
        add(options_from_members(members, sector, size_band))
    order = {kind: rank for rank, kind in enumerate(NORM_GROUPS)}
    sectors = {sector: rank for rank, sector in enumerate(SECTORS)}
    bands = {band: rank for rank, band in enumerate(SIZE_BANDS)}
    return sorted(
        found.values(),
        key=lambda o: (
            order[o.kind],
            sectors.get(o.sector, -1) if o.kind != "size" else -1,
            bands.get(o.size_band, -1) if o.kind != "sector" else -1,
        ),
    )


def norm_options(questionnaire: Questionnaire, questionnaire_version_id: int) -> list[NormOption]:
    """All organisations, and each sector of the controlled list, size band and sector ×
    size that has organisations on this questionnaire version, with whether each may be a
    column (:func:`options_for_members`)."""
    _ids, _means, groups = _norm_members(questionnaire, questionnaire_version_id)
    return options_for_members(groups)


def norm_label(option: NormOption, lang: str) -> str:
    """The norm group's name in ``lang``, with its number of organisations."""
    n = option.organisations
    with force_locale(lang):
        if option.kind == "sector":
            return ngettext(
                "Sector %(sector)s (%(num)d organisation)",
                "Sector %(sector)s (%(num)d organisations)",
                n,
                sector=sector_label(option.sector or ""),
            )
        if option.kind == "size":
            return ngettext(
                "%(band)s employees (%(num)d organisation)",
                "%(band)s employees (%(num)d organisations)",
                n,
                band=option.size_band,
            )
        if option.kind == "sector_size":
            return ngettext(
                "Sector %(sector)s, %(band)s employees (%(num)d organisation)",
                "Sector %(sector)s, %(band)s employees (%(num)d organisations)",
                n,
                sector=sector_label(option.sector or ""),
                band=option.size_band,
            )
        return ngettext("All organisations (%(num)d)", "All organisations (%(num)d)", n)


# ---------------------------------------------------------------------------------
# The comparison as its page and PDF read it: frozen, typed, built once. Like the report
# view (reporting/view.py), a misspelt field is an error, not an empty cell; the figures
# of each campaign are those of its own ReportView, the very objects its pages read.


@frozen
class NormCell:
    """The norm group on one dimension: the quartiles of its organisations' means and the
    median's level, or only how many means there are when fewer than
    ``MIN_NORM_ORGANISATIONS`` (``shown`` False)."""

    shown: bool
    n: int
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    level: Level | None = None


@frozen
class NormColumn:
    """The norm group added as a column: which group, its name and size, a cell per
    dimension (in the questionnaire's order)."""

    key: str
    kind: str
    sector: str | None
    size_band: str | None
    label: str
    organisations: int
    cells: tuple[NormCell, ...]


@frozen
class ComparedCampaign:
    """A campaign as a column of the comparison, with its report's overall figures."""

    organisation: OrganisationInfo
    campaign: CampaignInfo
    label: str  # "Organisation · Campaign"
    repeated: bool  # another wave of the same organisation is compared too
    overall: Overall


@frozen
class ComparedCell:
    """A campaign on a dimension: its report's figures and its letters, or why they are
    withheld (``suppressed`` with a ``reason`` and no figures)."""

    suppressed: bool
    reason: str | None = None
    n: int | None = None
    mean: float | None = None
    ci: Interval | None = None
    maturity: Maturity = Maturity()
    letters: str | None = None  # None when the dimension is not tested


@frozen
class PairTest:
    """Welch's t-test of two campaigns (columns ``a`` and ``b``) on one dimension, with
    its Holm-adjusted p-value. A figure that cannot be computed is None."""

    a: int
    b: int
    diff: float | None
    ci: Interval | None
    t: float | None
    df: float | None
    p: float | None
    hedges_g: float | None
    p_adjusted: float | None
    significant: bool


@frozen
class ComparedDimension:
    """One dimension: a cell per campaign, the pairs tested, the norm group's cell and the
    rows of its interval chart."""

    id: str
    name: str
    description: str
    cells: tuple[ComparedCell, ...]
    pairs: tuple[PairTest, ...]
    tested: bool  # at least two campaigns show this dimension
    any_difference: bool
    norm: NormCell | None
    chart_rows: tuple[GroupRow, ...]


@frozen
class CampaignComparison:
    """Several closed campaigns side by side, in ``lang``: what the comparison page and
    its PDF show (:func:`compare_campaigns`)."""

    lang: str
    generated_on: str
    title: str
    questionnaire: QuestionnaireInfo
    columns: tuple[ComparedCampaign, ...]
    dimensions: tuple[ComparedDimension, ...]
    norm: NormColumn | None
    levels: tuple[Level, ...]
    scale: Scale
    adjustment: str
    significance: float
    confidence: float
    min_norm_organisations: int


def norm_column(
    questionnaire: Questionnaire,
    questionnaire_version_id: int,
    key: str,
    lang: str,
    levels: Mapping[int, Level],
) -> NormColumn:
    """The quartiles of the organisation means in the norm group ``key``, per dimension;
    ``levels`` are the questionnaire's levels in ``lang`` by number (a report view's).

    Every organisation counts once, with its latest closed campaign on this questionnaire
    version (those compared included); a dimension mean its own report withholds is left
    out, and a dimension with fewer than ``MIN_NORM_ORGANISATIONS`` means shows none.
    Raises ComparisonError for a group that is not offered (see :func:`norm_options`).
    """
    option = next(
        (o for o in norm_options(questionnaire, questionnaire_version_id) if o.key == key), None
    )
    if option is None or not option.offered:
        raise ComparisonError(
            f"The norm group {key[:40]!r} cannot be added: it is not among the groups with at "
            f"least {MIN_NORM_ORGANISATIONS} organisations on this questionnaire version.",
            "norm_not_offered",
        )
    _ids, means, groups = _norm_members(questionnaire, questionnaire_version_id)
    inside = [
        (option.sector is None or sector == option.sector)
        and (option.size_band is None or size_band == option.size_band)
        for sector, size_band in groups
    ]
    means = means[np.array(inside, dtype=bool)]
    result = benchmark(np.full(means.shape[1], np.nan), means, MIN_NORM_ORGANISATIONS)
    cells = []
    for k in range(means.shape[1]):
        n = int(np.count_nonzero(~np.isnan(means[:, k])))
        if result is None or n < MIN_NORM_ORGANISATIONS or not np.isfinite(result.median[k]):
            cells.append(NormCell(shown=False, n=n))
            continue
        median = float(result.median[k])
        level = questionnaire.level_for(median)
        cells.append(
            NormCell(
                shown=True,
                n=n,
                median=median,
                q1=float(result.q1[k]),
                q3=float(result.q3[k]),
                level=None if level is None else levels[level.number],
            )
        )
    return NormColumn(
        key=option.key,
        kind=option.kind,
        sector=option.sector,
        size_band=option.size_band,
        label=norm_label(option, lang),
        organisations=option.organisations,
        cells=tuple(cells),
    )


# ---------------------------------------------------------------------------------
# Comparison


@dataclass(frozen=True, slots=True)
class _Loaded:
    campaign: Campaign
    view: ReportView  # the campaign's own report: the figures its pages show
    scores: np.ndarray  # respondents × dimensions


def _pair_text(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _cell(entry: DimensionView | None, withheld: str) -> ComparedCell:
    """A campaign's figures on a dimension as its report shows them."""
    if entry is None or entry.suppressed:
        return ComparedCell(suppressed=True, reason=entry.reason if entry else withheld)
    return ComparedCell(
        suppressed=False, n=entry.n, mean=entry.mean, ci=entry.ci, maturity=entry.maturity
    )


def _pairs(loaded: list[_Loaded], shown: list[int], k: int, confidence: float) -> list[PairTest]:
    """Welch tests of every pair of shown campaigns on dimension ``k``, Holm-adjusted."""
    pairs = list(itertools.combinations(shown, 2))
    results = [
        welch_difference(loaded[i].scores[:, k], loaded[j].scores[:, k], confidence)
        for i, j in pairs
    ]
    p_values = [_pair_text(result.p[0]) for result in results]
    adjusted = (
        holm(np.array([np.nan if p is None else p for p in p_values])) if pairs else np.array([])
    )
    tests = []
    for (i, j), result, p, p_adjusted in zip(pairs, results, p_values, adjusted, strict=True):
        p_adjusted = _pair_text(p_adjusted)
        tests.append(
            PairTest(
                a=i,
                b=j,
                diff=_pair_text(result.diff[0]),
                ci=None
                if not np.isfinite(result.ci_low[0])
                else (float(result.ci_low[0]), float(result.ci_high[0])),
                t=_pair_text(result.t[0]),
                df=_pair_text(result.df[0]),
                p=p,
                hedges_g=_pair_text(result.hedges_g[0]),
                p_adjusted=p_adjusted,
                significant=p_adjusted is not None and p_adjusted < SIGNIFICANCE,
            )
        )
    return tests


def _letters(cells: list[ComparedCell], shown: list[int], pairs: list[PairTest]) -> dict[int, str]:
    """Each shown campaign's letters: campaigns sharing a letter do not differ clearly.

    The campaigns are lettered from the highest score down, so "a" marks the top group.
    """
    order = sorted(shown, key=lambda i: -cells[i].mean)
    position = {column: rank for rank, column in enumerate(order)}
    differing = [(position[p.a], position[p.b]) for p in pairs if p.significant]
    display = compact_letters(len(order), differing)
    return {column: display.letters[position[column]] for column in order}


def _check_chosen(campaigns: Sequence[Campaign]) -> None:
    if len(campaigns) < 2:
        raise ComparisonError("Choose at least two campaigns to compare.", "too_few_chosen")
    if len(campaigns) > MAX_COMPARED:
        raise ComparisonError(
            f"Choose at most {MAX_COMPARED} campaigns; more do not fit side by side.",
            "too_many_chosen",
        )
    not_closed = [c for c in campaigns if c.status != "closed"]
    if not_closed:
        raise ComparisonError(
            "Only closed campaigns can be compared: their results are released.",
            "not_closed",
            [f"{c.organisation.name}: {c.name}" for c in not_closed],
        )
    if len({c.questionnaire_version_id for c in campaigns}) != 1:
        raise ComparisonError(
            "These campaigns used different questionnaire versions, whose scores cannot be "
            "compared. Choose campaigns surveyed with the same version.",
            "mixed_versions",
        )


def compare_campaigns(
    campaigns: Sequence[Campaign],
    lang: str,
    confidence: float = 0.95,
    *,
    norm: str | None = None,
) -> CampaignComparison:
    """Several closed campaigns side by side, per dimension.

    The campaigns may be of different organisations or waves of one. Means, intervals
    and levels are those of each campaign's own report; pairs are Welch t-tests on the
    respondents' dimension scores, Holm-adjusted within each dimension, and summed up
    as letters (:mod:`~surveyapp.reporting.letters`). ``norm`` (a :class:`NormOption`
    key) adds the quartiles of a norm group as a column of reference.

    Raises ComparisonError for fewer than two or more than ``MAX_COMPARED`` campaigns,
    an open one, different questionnaire versions, a campaign whose report withholds
    every figure, or a norm group that is not offered.
    """
    campaigns = list(dict.fromkeys(campaigns))
    _check_chosen(campaigns)
    questionnaire = questionnaire_for(campaigns[0].questionnaire_version)
    withheld = REASONS.get(lang, REASONS["en"])["organisation_below_threshold"]
    loaded = [
        _Loaded(
            campaign,
            build_view(released_report(campaign), questionnaire, lang),
            dimension_scores(questionnaire, load_matrix(campaign)),
        )
        for campaign in campaigns
    ]
    silent = [
        item
        for item in loaded
        if not item.view.published or all(d.suppressed for d in item.view.dimensions)
    ]
    if silent:
        raise ComparisonError(
            "A campaign whose report withholds every figure cannot be compared: too few "
            "people answered. Choose another campaign.",
            "withheld",
            [f"{item.campaign.organisation.name}: {item.campaign.name}" for item in silent],
        )
    first = loaded[0].view
    norm_data = (
        norm_column(
            questionnaire,
            campaigns[0].questionnaire_version_id,
            norm,
            lang,
            {level.number: level for level in first.levels},
        )
        if norm
        else None
    )
    organisations = [item.view.organisation.id for item in loaded]
    columns = tuple(
        ComparedCampaign(
            organisation=item.view.organisation,
            campaign=item.view.campaign,
            label=f"{item.view.organisation.name} · {item.view.campaign.name}",
            # Two waves of one organisation: the campaign's name tells them apart.
            repeated=organisations.count(item.view.organisation.id) > 1,
            overall=item.view.overall,
        )
        for item in loaded
    )
    dimensions = []
    for k, dimension in enumerate(questionnaire.dimensions):
        cells = [_cell(item.view.dimension(dimension.id), withheld) for item in loaded]
        shown = [i for i, cell in enumerate(cells) if not cell.suppressed]
        pairs = _pairs(loaded, shown, k, confidence)
        letters = _letters(cells, shown, pairs) if len(shown) >= 2 else {}
        cells = [replace(cell, letters=letters.get(i)) for i, cell in enumerate(cells)]
        dimensions.append(
            ComparedDimension(
                id=dimension.id,
                name=pick_text(dimension.name, lang),
                description=pick_text(dimension.description, lang),
                cells=tuple(cells),
                pairs=tuple(pairs),
                tested=len(shown) >= 2,
                any_difference=any(p.significant for p in pairs),
                norm=norm_data.cells[k] if norm_data else None,
                chart_rows=tuple(
                    _chart_row(i, column.label, cell)
                    for i, (column, cell) in enumerate(zip(columns, cells, strict=True))
                ),
            )
        )
    return CampaignComparison(
        lang=lang,
        generated_on=dt.date.today().isoformat(),
        title=pick_text(questionnaire.title, lang),
        questionnaire=QuestionnaireInfo(id=questionnaire.id, version=questionnaire.version),
        columns=columns,
        dimensions=tuple(dimensions),
        norm=norm_data,
        levels=first.levels,
        scale=Scale(min=questionnaire.scale.min, max=questionnaire.scale.max),
        adjustment=ADJUSTMENT,
        significance=SIGNIFICANCE,
        confidence=confidence,
        min_norm_organisations=MIN_NORM_ORGANISATIONS,
    )


def _chart_row(index: int, name: str, cell: ComparedCell) -> GroupRow:
    """One campaign as a row of ``charts.group_intervals``."""
    if cell.suppressed:
        return GroupRow(code=str(index), name=name, suppressed=True, reason=cell.reason)
    return GroupRow(code=str(index), name=name, n=cell.n, mean=cell.mean, ci=cell.ci)


# ---------------------------------------------------------------------------------
# Norm groups


def _norm_row(label: str, key: str, means: np.ndarray) -> dict[str, Any]:
    result = benchmark(
        np.full(means.shape[1], np.nan), means, min_organisations=MIN_NORM_ORGANISATIONS
    )
    organisations = int(means.shape[0])
    if result is None:
        return {"label": label, "key": key, "organisations": organisations, "shown": False}
    cells = []
    for k in range(means.shape[1]):
        n = int(result.n_per_dimension[k])
        if n < MIN_NORM_ORGANISATIONS or not np.isfinite(result.median[k]):
            cells.append({"n": n, "shown": False})
        else:
            cells.append(
                {
                    "n": n,
                    "shown": True,
                    "q1": float(result.q1[k]),
                    "median": float(result.median[k]),
                    "q3": float(result.q3[k]),
                }
            )
    return {
        "label": label,
        "key": key,
        "organisations": organisations,
        "shown": True,
        "cells": cells,
    }


def norm_groups(questionnaire: Questionnaire, questionnaire_version_id: int, lang: str) -> dict:
    """Counts and quartiles of organisation means per dimension, overall, by sector and by
    size band. Groups of fewer than ``MIN_NORM_ORGANISATIONS`` show only their count.

    Each organisation counts once, with its latest closed campaign; a dimension mean from
    fewer respondents than that campaign's anonymity threshold is left out.
    """
    dimension_ids = tuple(d.id for d in questionnaire.dimensions)
    table = norm_table(questionnaire_version_id, dimension_ids)
    shown = table.counts >= table.min_group_sizes[:, np.newaxis]
    present = shown.any(axis=1)
    means = np.where(shown, table.means, np.nan)[present]
    sectors = table.sectors[present]
    size_bands = table.size_bands[present]
    groups = {"all": [_norm_row("all", "all", means)], "sector": [], "size_band": []}
    for sector in sorted(set(sectors.tolist())):
        groups["sector"].append(_norm_row(sector, sector, means[sectors == sector]))
    bands = set(size_bands.tolist())
    for band in (b for b in SIZE_BANDS if b in bands):
        groups["size_band"].append(_norm_row(band, band, means[size_bands == band]))
    return {
        "dimensions": [
            {"id": d.id, "name": pick_text(d.name, lang)} for d in questionnaire.dimensions
        ],
        "groups": groups,
        "organisations": int(means.shape[0]),
        "min_organisations": MIN_NORM_ORGANISATIONS,
    }
