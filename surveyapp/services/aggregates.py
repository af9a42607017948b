"""Organisation-level scores kept per closed campaign, and norm groups built from them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from ..extensions import db
from ..models import Campaign, CampaignScore, Organisation
from ..questionnaires import Questionnaire
from ..scoring.scales import score_scales
from .matrix import CampaignMatrix, load_matrix
from .questionnaires import questionnaire_for


def dimension_scores(questionnaire: Questionnaire, data: CampaignMatrix) -> np.ndarray:
    """Respondents × dimensions scale scores (NaN where too few items were answered)."""
    dimension_index = {d.id: k for k, d in enumerate(questionnaire.dimensions)}
    items = questionnaire.items
    return score_scales(
        data.matrix,
        item_dimension=[dimension_index[item.dimension] for item in items],
        reverse=[item.reverse for item in items],
        scale_min=questionnaire.scale.min,
        scale_max=questionnaire.scale.max,
        n_dimensions=len(questionnaire.dimensions),
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


@dataclass(frozen=True, slots=True)
class NormGroup:
    """Dimension means of the organisations a campaign is compared with."""

    description: str
    dimension_ids: tuple[str, ...]
    means: np.ndarray  # organisations × dimensions, NaN where missing
    organisation_ids: tuple[int, ...]


def norm_group(
    campaign: Campaign,
    dimension_ids: tuple[str, ...],
    *,
    sector: str | None = None,
    size_band: str | None = None,
    min_respondents: int | None = None,
) -> NormGroup:
    """The latest closed campaign of every *other* organisation on the same questionnaire
    version (optionally the same sector or size band)."""
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
        )
    ).all()
    organisations = sorted({row[0] for row in rows})
    row_of = {org: i for i, org in enumerate(organisations)}
    column_of = {dim: k for k, dim in enumerate(dimension_ids)}
    means = np.full((len(organisations), len(dimension_ids)), np.nan)
    for org, dim, mean in rows:
        if dim in column_of and mean is not None:
            means[row_of[org], column_of[dim]] = mean
    parts = ["all organisations"]
    if sector:
        parts = [f"sector {sector}"]
    if size_band:
        parts.append(f"size {size_band}")
    return NormGroup(" and ".join(parts), dimension_ids, means, tuple(organisations))
