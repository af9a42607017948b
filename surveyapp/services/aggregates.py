"""Organisation-level scores kept per closed campaign, and norm groups built from them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from ..extensions import db
from ..models import Campaign, CampaignScore, Organisation
from ..questionnaires import Questionnaire
from ..scoring.scales import score_scales
from . import ServiceError
from .designs import design_for
from .matrix import CampaignMatrix, concatenated, load_matrix
from .questionnaires import questionnaire_for


def dimension_scores(questionnaire: Questionnaire, data: CampaignMatrix) -> np.ndarray:
    """Respondents × dimensions scale scores (NaN where too few items were answered)."""
    design = design_for(questionnaire)
    return score_scales(
        data.matrix,
        item_dimension=design.item_dimension,
        reverse=design.reverse,
        scale_min=design.scale_min,
        scale_max=design.scale_max,
        min_answered_share=design.min_answered_share,
        n_dimensions=len(design.dimension_ids),
    ).scores


def store_campaign_scores(campaign: Campaign) -> None:
    """Compute and keep the organisation's dimension means for a campaign."""
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    scores = dimension_scores(questionnaire, load_matrix(campaign))
    db.session.execute(sa.delete(CampaignScore).where(CampaignScore.campaign_id == campaign.id))
    rows = []
    for k, dimension in enumerate(questionnaire.dimensions):
        column = scores[:, k]
        column = column[~np.isnan(column)]
        rows.append(
            {
                "campaign_id": campaign.id,
                "dimension_id": dimension.id,
                "n": int(column.size),
                "mean": float(column.mean()) if column.size else None,
                "sd": float(column.std(ddof=1)) if column.size > 1 else None,
            }
        )
    db.session.execute(sa.insert(CampaignScore), rows)
    db.session.flush()


# A norm group, and so a benchmark, needs at least this many other organisations: their
# quartiles are order statistics, so with fewer the median nearly is one organisation's
# score. scoring.benchmark applies the same floor per dimension.
MIN_NORM_ORGANISATIONS = 5

# The norm groups a consultant can choose for a campaign's report, stored in
# ``Campaign.norm_group`` (None is "all"): the organisation's sector, its size band, or both.
NORM_GROUPS = ("all", "sector", "size", "sector_size")

# The larger groups each group is part of. One organisation's managers can see several
# of its reports, each with its own norm group: two groups that differ by one to four
# organisations would let those few organisations' scores be narrowed down by comparing
# the two sets of quartiles (docs/privacy.md, "Norm groups").
_CONTAINING = {
    "all": (),
    "sector": ("all",),
    "size": ("all",),
    "sector_size": ("all", "sector", "size"),
}


def norm_filters(key: str, sector: str, size_band: str) -> tuple[str | None, str | None]:
    """The sector and size band a norm group ``key`` restricts to (None: any)."""
    return (
        sector if key in ("sector", "sector_size") else None,
        size_band if key in ("size", "sector_size") else None,
    )


def _describe(sector: str | None, size_band: str | None) -> str:
    """The group in plain English codes, for the JSON: "sector retail and size 1-49"."""
    parts = [f"sector {sector}"] if sector else []
    if size_band:
        parts.append(f"size {size_band}")
    return " and ".join(parts) or "all organisations"


@dataclass(frozen=True, slots=True)
class NormGroup:
    """Dimension means of the organisations a campaign is compared with."""

    description: str
    dimension_ids: tuple[str, ...]
    means: np.ndarray  # organisations × dimensions, NaN where missing
    organisation_ids: tuple[int, ...]
    sector: str | None = None
    size_band: str | None = None


def norm_group_uncached(
    campaign: Campaign,
    dimension_ids: tuple[str, ...],
    *,
    sector: str | None = None,
    size_band: str | None = None,
    min_respondents: int | None = None,
) -> NormGroup:
    """The norm group read with one plain query and no cache: the reference that the
    cached :func:`norm_group` is tested against, and the benchmark's baseline."""
    threshold = min_respondents if min_respondents is not None else campaign.min_group_size
    latest = (
        sa.select(
            Campaign.organisation_id,
            sa.func.max(Campaign.closes_on).label("closes_on"),
        )
        .join(Organisation, Organisation.id == Campaign.organisation_id)
        .where(
            Campaign.status == "closed",
            Campaign.questionnaire_version_id == campaign.questionnaire_version_id,
            Campaign.organisation_id != campaign.organisation_id,
        )
        .group_by(Campaign.organisation_id)
    )
    if sector:
        latest = latest.where(Organisation.sector == sector)
    if size_band:
        latest = latest.where(Organisation.size_band == size_band)
    latest = latest.subquery()
    rows = db.session.execute(
        sa.select(Campaign.organisation_id, CampaignScore.dimension_id, CampaignScore.mean)
        .join(
            latest,
            sa.and_(
                latest.c.organisation_id == Campaign.organisation_id,
                latest.c.closes_on == Campaign.closes_on,
            ),
        )
        .join(CampaignScore, CampaignScore.campaign_id == Campaign.id)
        .where(
            Campaign.status == "closed",
            Campaign.questionnaire_version_id == campaign.questionnaire_version_id,
            CampaignScore.n >= threshold,
            CampaignScore.n >= Campaign.min_group_size,
        )
    ).all()
    organisations = sorted({row[0] for row in rows})
    row_of = {org: i for i, org in enumerate(organisations)}
    column_of = {dim: k for k, dim in enumerate(dimension_ids)}
    means = np.full((len(organisations), len(dimension_ids)), np.nan)
    for org, dim, mean in rows:
        if dim in column_of and mean is not None:
            means[row_of[org], column_of[dim]] = mean
    return NormGroup(
        _describe(sector, size_band),
        dimension_ids,
        means,
        tuple(organisations),
        sector or None,
        size_band or None,
    )


@dataclass(frozen=True, slots=True)
class NormTable:
    """Every organisation's latest closed campaign on one questionnaire version.

    Rows are organisations (ascending id); ``means`` and ``counts`` are organisations ×
    dimensions (NaN and 0 where a campaign has no score for a dimension).
    """

    organisation_ids: np.ndarray  # int64
    sectors: np.ndarray  # str
    size_bands: np.ndarray  # str
    min_group_sizes: np.ndarray  # int64, of each organisation's campaign
    means: np.ndarray
    counts: np.ndarray


_NORM_TABLES: dict[tuple, NormTable] = {}
_NORM_TABLES_SIZE = 8


def _closed_version(questionnaire_version_id: int) -> tuple:
    """What the stored scores of a questionnaire version depend on: scores are written
    when a campaign closes, and a closed campaign never changes."""
    return tuple(
        db.session.execute(
            sa.select(sa.func.count(Campaign.id), sa.func.max(Campaign.id)).where(
                Campaign.status == "closed",
                Campaign.questionnaire_version_id == questionnaire_version_id,
            )
        ).one()
    )


# A score row travels as two numbers: (campaign offset × 64 + dimension position + 1) ×
# 2^20 + respondents, and the mean. NumPy parses them as float64, exact for integers below
# 2^53, so the key must stay below it: the campaign id is sent as an offset from the first
# id of a window of at most 2^27 ids, and a norm table whose campaign ids span more is read
# window by window (one window in any real deployment; SQLite allows ids up to 2^63).
_POSITIONS = 64
_COUNT_SLOTS = 2**20
_ID_WINDOW = 2**53 // (_POSITIONS * _COUNT_SLOTS)  # 2^27


def _score_text(key, dialect: str):
    """``key,mean`` as text, the mean exact."""
    if dialect == "postgresql":
        # float8 → text is the shortest exact representation (PostgreSQL 12 and later).
        return sa.func.concat_ws(",", key, sa.cast(CampaignScore.mean, sa.Text))
    # SQLite prints REAL with 15 digits by default, and its plain %.17g is not exact
    # either; the "!" flag makes it compute every digit, so 17 round-trip exactly.
    return sa.func.printf("%d,%!.17g", key, CampaignScore.mean)


def id_windows(ids: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` id ranges, each spanning fewer than 2^27 ids, that cover ``ids``."""
    ordered = np.unique(ids)
    windows = []
    start = 0
    while start < ordered.size:
        first = int(ordered[start])
        stop = int(np.searchsorted(ordered, first + _ID_WINDOW, side="left"))
        windows.append((first, int(ordered[stop - 1])))
        start = stop
    return windows


def _load_norm_table(questionnaire_version_id: int, dimension_ids: tuple[str, ...]) -> NormTable:
    latest = (
        sa.select(
            Campaign.id,
            Campaign.organisation_id,
            Campaign.min_group_size,
            sa.func.row_number()
            .over(
                partition_by=Campaign.organisation_id,
                order_by=(Campaign.closes_on.desc(), Campaign.id.desc()),
            )
            .label("recency"),
        )
        .where(
            Campaign.status == "closed",
            Campaign.questionnaire_version_id == questionnaire_version_id,
        )
        .subquery()
    )
    # Core, not ORM, rows: ten thousand organisations come back in a few milliseconds.
    connection = db.session.connection()
    campaigns = connection.execute(
        sa.select(
            latest.c.id,
            latest.c.organisation_id,
            latest.c.min_group_size,
            Organisation.sector,
            Organisation.size_band,
        )
        .join(Organisation, Organisation.id == latest.c.organisation_id)
        .where(latest.c.recency == 1)
        .order_by(latest.c.organisation_id)
    ).all()
    k = len(dimension_ids)
    m = len(campaigns)
    means = np.full((m, k), np.nan)
    counts = np.zeros((m, k), dtype=np.int64)
    if m:
        campaign_ids = np.array([row[0] for row in campaigns], dtype=np.int64)
        if k >= _POSITIONS:
            raise ValueError(
                f"A questionnaire with {_POSITIONS} or more dimensions is not supported."
            )
        position = sa.case(
            {dimension: j for j, dimension in enumerate(dimension_ids)},
            value=CampaignScore.dimension_id,
            else_=-1,
        )
        dialect = connection.dialect.name
        smaller = sa.func.least if dialect == "postgresql" else sa.func.min
        # The scores come back as one long text that NumPy parses in C (as in matrix.py):
        # fetching 90,000 rows one by one would cost several times the whole budget. Rows
        # of campaigns other than the latest closed ones are dropped below, in NumPy: a
        # join or IN filter would cost SQLite more than parsing them.
        order = np.argsort(campaign_ids)
        for first, last in id_windows(campaign_ids):
            offset = sa.cast(CampaignScore.campaign_id, sa.BigInteger) - sa.cast(
                first, sa.BigInteger
            )
            key = (offset * _POSITIONS + position + 1) * _COUNT_SLOTS + smaller(
                CampaignScore.n, _COUNT_SLOTS - 1
            )
            # The range keeps every key between 0 and 2^53 (exact in float64). "+ 0" keeps
            # SQLite scanning the table, which is faster here than walking the key's index.
            packed = connection.execute(
                sa.select(concatenated(_score_text(key, dialect), dialect)).where(
                    CampaignScore.mean.is_not(None),
                    (CampaignScore.campaign_id + 0).between(first, last),
                )
            ).scalar()
            if not packed:
                continue
            values = np.fromstring(packed, sep=",").reshape(-1, 2)
            keys = values[:, 0].astype(np.int64)
            slots, n = np.divmod(keys, _COUNT_SLOTS)
            offsets, columns = np.divmod(slots, _POSITIONS)
            score_campaigns = offsets + first
            columns -= 1
            # Keep the scores of each organisation's latest campaign and known dimensions.
            at = np.searchsorted(campaign_ids, score_campaigns, sorter=order)
            at = np.minimum(at, len(order) - 1)
            rows = order[at]
            keep = (campaign_ids[rows] == score_campaigns) & (columns >= 0)
            means[rows[keep], columns[keep]] = values[keep, 1]
            counts[rows[keep], columns[keep]] = n[keep]
    return NormTable(
        organisation_ids=np.array([row[1] for row in campaigns], dtype=np.int64),
        sectors=np.array([row[3] for row in campaigns], dtype=object),
        size_bands=np.array([row[4] for row in campaigns], dtype=object),
        min_group_sizes=np.array([row[2] for row in campaigns], dtype=np.int64),
        means=means,
        counts=counts,
    )


def norm_table(questionnaire_version_id: int, dimension_ids: Sequence[str]) -> NormTable:
    """The stored scores of every organisation's latest closed campaign, cached until
    another campaign of this questionnaire version closes."""
    key = (
        questionnaire_version_id,
        tuple(dimension_ids),
        _closed_version(questionnaire_version_id),
    )
    table = _NORM_TABLES.get(key)
    if table is None:
        table = _load_norm_table(questionnaire_version_id, tuple(dimension_ids))
        for stale in [k for k in _NORM_TABLES if k[:2] == key[:2]]:
            del _NORM_TABLES[stale]
        while len(_NORM_TABLES) >= _NORM_TABLES_SIZE:
            del _NORM_TABLES[next(iter(_NORM_TABLES))]
        _NORM_TABLES[key] = table
    return table


def current_groups() -> dict[int, tuple[str, str]]:
    """Every organisation's sector and size band as they are now.

    Read now, not from the cached table: a consultant may correct an organisation's sector
    or size band after its campaign closed, and the norm groups follow at once.
    """
    return {
        org_id: (org_sector, org_size)
        for org_id, org_sector, org_size in db.session.execute(
            sa.select(Organisation.id, Organisation.sector, Organisation.size_band)
        )
    }


def _usable_scores(
    table: NormTable,
    organisation_id: int,
    threshold: int,
    current: dict[int, tuple[str, str]],
    sector: str | None,
    size_band: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``table`` in the group (other organisations only) that have at least one
    usable dimension mean, and their means (NaN where unusable).

    A mean is usable when it comes from at least ``threshold`` respondents (the reading
    campaign's threshold) and at least the threshold of its own campaign: a mean that its
    own organisation's report withholds is never part of anyone's benchmark.
    """
    rows = table.organisation_ids != organisation_id
    if sector:
        rows &= np.array(
            [current.get(int(o), (None, None))[0] == sector for o in table.organisation_ids],
            dtype=bool,
        )
    if size_band:
        rows &= np.array(
            [current.get(int(o), (None, None))[1] == size_band for o in table.organisation_ids],
            dtype=bool,
        )
    counts = table.counts[rows]
    enough = counts >= np.maximum(threshold, table.min_group_sizes[rows])[:, np.newaxis]
    present = enough.any(axis=1)
    selected = np.flatnonzero(rows)[present]
    return selected, np.where(enough, table.means[rows], np.nan)[present]


def norm_group(
    campaign: Campaign,
    dimension_ids: tuple[str, ...],
    *,
    sector: str | None = None,
    size_band: str | None = None,
    min_respondents: int | None = None,
) -> NormGroup:
    """The latest closed campaign of every *other* organisation on the same questionnaire
    version (optionally the same sector or size band), from the cached :func:`norm_table`.

    :func:`norm_group_uncached` computes the same with a plain query; the tests hold the
    two equal and ``benchmarks/bench_norms.py`` compares their speed.
    """
    table = norm_table(campaign.questionnaire_version_id, dimension_ids)
    threshold = min_respondents if min_respondents is not None else campaign.min_group_size
    current = current_groups() if sector or size_band else {}
    selected, means = _usable_scores(
        table, campaign.organisation_id, threshold, current, sector, size_band
    )
    return NormGroup(
        _describe(sector, size_band),
        tuple(dimension_ids),
        means,
        tuple(int(i) for i in table.organisation_ids[selected]),
        sector or None,
        size_band or None,
    )


@dataclass(frozen=True, slots=True)
class NormGroupOption:
    """One norm group a campaign's report could use, its size, and whether it may."""

    key: str  # one of NORM_GROUPS
    sector: str | None
    size_band: str | None
    organisations: int  # other organisations with a usable closed campaign
    # None when the group may be used; "too_few" (under MIN_NORM_ORGANISATIONS), or
    # "too_close" (it leaves out 1 to 4 organisations of a larger group it is part of).
    problem: str | None
    left_out: int = 0  # with "too_close": how many organisations it leaves out

    @property
    def usable(self) -> bool:
        return self.problem is None


def norm_group_options(
    organisation: Organisation,
    questionnaire_version_id: int | None,
    dimension_ids: Sequence[str],
    min_respondents: int,
) -> dict[str, NormGroupOption]:
    """Each of :data:`NORM_GROUPS` for a campaign of ``organisation`` on a questionnaire
    version (None: a version no campaign uses yet), with its size and whether it may be
    chosen: at least :data:`MIN_NORM_ORGANISATIONS` other organisations, and none or at
    least that many left out of each larger group it is part of.
    """
    members: dict[str, frozenset[int]] = {key: frozenset() for key in NORM_GROUPS}
    if questionnaire_version_id is not None:
        table = norm_table(questionnaire_version_id, dimension_ids)
        current = current_groups()
        for key in NORM_GROUPS:
            sector, size_band = norm_filters(key, organisation.sector, organisation.size_band)
            selected, _means = _usable_scores(
                table, organisation.id, min_respondents, current, sector, size_band
            )
            members[key] = frozenset(int(i) for i in table.organisation_ids[selected])
    return options_from_members(members, organisation.sector, organisation.size_band)


def options_from_members(
    members: Mapping[str, AbstractSet[int]],
    sector: str = "",
    size_band: str = "",
) -> dict[str, NormGroupOption]:
    """The offering rule on the organisations in each group (``members`` per key of
    :data:`NORM_GROUPS`), apart from the database so that it can be tested exhaustively."""
    options = {}
    for key in NORM_GROUPS:
        group_sector, group_size = norm_filters(key, sector, size_band)
        size = len(members[key])
        problem, left_out = None, 0
        if size < MIN_NORM_ORGANISATIONS:
            problem = "too_few"
        else:
            gaps = [len(members[larger] - members[key]) for larger in _CONTAINING[key]]
            close = [gap for gap in gaps if 0 < gap < MIN_NORM_ORGANISATIONS]
            if close:
                problem, left_out = "too_close", min(close)
        options[key] = NormGroupOption(key, group_sector, group_size, size, problem, left_out)
    return options


def campaign_norm_options(campaign: Campaign) -> dict[str, NormGroupOption]:
    """:func:`norm_group_options` for an existing campaign, with its own threshold."""
    dimension_ids = design_for(questionnaire_for(campaign.questionnaire_version)).dimension_ids
    return norm_group_options(
        campaign.organisation,
        campaign.questionnaire_version_id,
        dimension_ids,
        campaign.min_group_size,
    )


def check_norm_group(key: str | None, options: dict[str, NormGroupOption]) -> str | None:
    """The value to store for a chosen norm group (None for all organisations), or a
    ServiceError saying why it cannot be chosen now."""
    key = key or "all"
    if key not in NORM_GROUPS:
        raise ServiceError(
            f"Norm group {key[:20]!r} is not known; use one of: {', '.join(NORM_GROUPS)}."
        )
    if key == "all":
        return None  # always allowed: with too few organisations there is no benchmark
    option = options[key]
    if option.problem == "too_few":
        raise ServiceError(
            f"The norm group {key!r} has {option.organisations} other organisation(s) with "
            f"results on this questionnaire version; at least {MIN_NORM_ORGANISATIONS} are "
            "needed. Choose another group."
        )
    if option.problem == "too_close":
        raise ServiceError(
            f"The norm group {key!r} leaves out only {option.left_out} organisation(s) of a "
            "larger group, whose scores could then be worked out by comparing the two. "
            "Choose another group."
        )
    return None if key == "all" else key
