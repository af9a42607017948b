"""Organisations side by side, for consultants: overview, comparison and norm groups.

* :func:`organisation_overview` lists every organisation with its campaigns and the
  maturity level of each dimension in its latest closed campaign, read from the stored
  per-campaign scores (``campaign_score``), so the list costs a few queries however many
  organisations there are.
* :func:`compare_campaigns` puts several campaigns side by side. Means, intervals and
  levels come from each campaign's own report (the numbers its dashboard shows); the
  differences are Welch t-tests on respondent-level dimension scores, Holm-adjusted
  over the pairs of organisations within each dimension.
* :func:`norm_groups` gives the quartiles of the organisations' dimension means by
  sector and by size band, from the stored scores; like the benchmark's
  :func:`~.aggregates.norm_group` it reads :func:`~.aggregates.norm_table`, which packs the
  stored scores into one text that NumPy parses and keeps the result until another
  campaign closes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from ..extensions import db
from ..models import SIZE_BANDS, Campaign, CampaignScore, Organisation
from ..questionnaires import Questionnaire, pick_text
from ..scoring.benchmark import benchmark
from ..scoring.gap import holm, welch_difference
from . import ServiceError
from .aggregates import dimension_scores, norm_table
from .matrix import load_matrix
from .questionnaires import questionnaire_for
from .release import response_counts, visible_response_count
from .report_model import REASONS, SIGNIFICANCE, build_view
from .reporting import released_report

MAX_COMPARED = 8
# Quartiles of fewer organisations come close to publishing their means (as in benchmarks).
MIN_NORM_ORGANISATIONS = 5
ADJUSTMENT = "holm"


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


def comparable_campaign(organisation: Organisation) -> Campaign | None:
    """The campaign an organisation is compared by: its latest closed one, if any.

    Never an open one: its results are not released (``services/release.py``), and a
    comparison read before and after one submission would give that person's scores.
    """
    closed = [c for c in organisation.campaigns if c.status == "closed"]
    return closed[-1] if closed else None  # campaigns are ordered by opening date


# ---------------------------------------------------------------------------------
# Comparison


@dataclass(frozen=True, slots=True)
class _Loaded:
    campaign: Campaign
    view: dict[str, Any]
    scores: np.ndarray  # respondents × dimensions


def _pair_text(value: float | None) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def compare_campaigns(
    campaigns: Sequence[Campaign], lang: str, confidence: float = 0.95
) -> dict[str, Any]:
    """Several organisations' campaigns side by side, per dimension, as plain data.

    Raises ServiceError for fewer than two or more than ``MAX_COMPARED`` campaigns, or
    campaigns of different questionnaire versions.
    """
    if len(campaigns) < 2:
        raise ServiceError("Choose at least two organisations to compare.")
    if len(campaigns) > MAX_COMPARED:
        raise ServiceError(
            f"Choose at most {MAX_COMPARED} organisations; more do not fit side by side."
        )
    versions = {c.questionnaire_version_id for c in campaigns}
    if len(versions) != 1:
        raise ServiceError(
            "These campaigns used different questionnaire versions, whose scores cannot be "
            "compared. Choose organisations surveyed with the same version."
        )
    questionnaire = questionnaire_for(campaigns[0].questionnaire_version)
    loaded = []
    for campaign in campaigns:
        view = build_view(released_report(campaign), questionnaire, lang)
        scores = dimension_scores(questionnaire, load_matrix(campaign))
        loaded.append(_Loaded(campaign, view, scores))
    columns = [
        {
            "organisation": item.view["organisation"],
            "campaign": item.view["campaign"],
            "published": item.view["published"],
            "reason": None
            if item.view["published"]
            else REASONS.get(lang, REASONS["en"])["organisation_below_threshold"],
            "overall": item.view["overall"],
        }
        for item in loaded
    ]
    dimensions = []
    for k, dimension in enumerate(questionnaire.dimensions):
        cells = []
        for item in loaded:
            entry = item.view["dimensions"][k] if item.view["published"] else None
            if entry is None or entry["suppressed"]:
                cells.append(
                    {
                        "suppressed": True,
                        "reason": entry["reason"]
                        if entry
                        else REASONS.get(lang, REASONS["en"])["organisation_below_threshold"],
                    }
                )
            else:
                cells.append(
                    {
                        "suppressed": False,
                        "n": entry["n"],
                        "mean": entry["mean"],
                        "ci": entry["ci"],
                        "maturity": entry["maturity"],
                    }
                )
        shown = [i for i, cell in enumerate(cells) if not cell["suppressed"]]
        pairs = []
        for i, j in itertools.combinations(shown, 2):
            a = loaded[i].scores[:, k]
            b = loaded[j].scores[:, k]
            result = welch_difference(a, b, confidence=confidence)
            pairs.append(
                {
                    "a": i,
                    "b": j,
                    "diff": _pair_text(result.diff[0]),
                    "ci": None
                    if not np.isfinite(result.ci_low[0])
                    else (float(result.ci_low[0]), float(result.ci_high[0])),
                    "t": _pair_text(result.t[0]),
                    "df": _pair_text(result.df[0]),
                    "p": _pair_text(result.p[0]),
                    "hedges_g": _pair_text(result.hedges_g[0]),
                }
            )
        for pair in pairs:
            # The same difference read from the higher side, as the page words it.
            flip = pair["diff"] is not None and pair["diff"] < 0
            pair["higher"], pair["lower"] = (
                (pair["b"], pair["a"]) if flip else (pair["a"], pair["b"])
            )
            pair["lead"] = None if pair["diff"] is None else abs(pair["diff"])
            ci = pair["ci"]
            pair["lead_ci"] = None if ci is None else ((-ci[1], -ci[0]) if flip else ci)
        if pairs:
            raw = np.array([np.nan if p["p"] is None else p["p"] for p in pairs])
            adjusted = holm(raw)
            for pair, p_adjusted in zip(pairs, adjusted, strict=True):
                pair["p_adjusted"] = _pair_text(p_adjusted)
                pair["significant"] = (
                    pair["p_adjusted"] is not None and pair["p_adjusted"] < SIGNIFICANCE
                )
        dimensions.append(
            {
                "id": dimension.id,
                "name": pick_text(dimension.name, lang),
                "description": pick_text(dimension.description, lang),
                "cells": cells,
                "pairs": pairs,
                "significant_pairs": sorted(
                    (p for p in pairs if p["significant"]), key=lambda p: -abs(p["diff"])
                ),
            }
        )
    return {
        "lang": lang,
        "title": pick_text(questionnaire.title, lang),
        "questionnaire": {"id": questionnaire.id, "version": questionnaire.version},
        "columns": columns,
        "dimensions": dimensions,
        "levels": [
            {
                "number": level.number,
                "name": pick_text(level.name, lang),
                "min_score": level.min_score,
            }
            for level in questionnaire.levels
        ],
        "scale": {"min": questionnaire.scale.min, "max": questionnaire.scale.max},
        "adjustment": ADJUSTMENT,
        "significance": SIGNIFICANCE,
        "confidence": confidence,
    }


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
