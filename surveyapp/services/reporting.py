"""The reporting service: one campaign's answers → the plain-data analysis every output uses.

The dashboard, the PDF, the CSV and the JSON API all read the object built here, so a
number has one origin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select

from ..extensions import db
from ..models import Campaign, Response
from ..scoring import Analysis, Grouping, analyse
from .aggregates import design_for, dimension_scores, norm_group
from .campaigns import campaign_departments, previous_campaign
from .designs import role_grouping, top_management_of
from .matrix import load_matrix
from .questionnaires import questionnaire_for
from .release import ensure_results_released, visible_response_count


@dataclass(frozen=True)
class CampaignReport:
    """A campaign's analysis with the context a reader needs; plain data only."""

    campaign: dict[str, Any]
    organisation: dict[str, Any]
    departments: list[dict[str, Any]]
    analysis: Analysis
    norm_group: dict[str, Any]
    previous_campaign: dict[str, Any] | None
    # Values derived from this report (view models, JSON text), kept while it is cached.
    memo: dict[tuple, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``docs/analysis-json.md`` with a ``campaign`` context block."""
        data = self.analysis.to_dict()
        data["context"] = {
            "campaign": self.campaign,
            "organisation": self.organisation,
            "departments": self.departments,
            "norm_group": self.norm_group,
            "previous_campaign": self.previous_campaign,
        }
        return data


def memoised(report: CampaignReport, key: tuple, build: Callable[[], Any]) -> Any:
    """``build()`` once per cached report and ``key`` (a view model, the JSON text): the
    value lives and dies with the report in the cache. Shared between requests: never
    change it. Two requests may both build it; the first stored value wins."""
    if key not in report.memo:
        report.memo.setdefault(key, build())
    return report.memo[key]


def analyse_campaign(
    campaign: Campaign, *, sector_norm: bool = False, size_norm: bool = False
) -> CampaignReport:
    """Load a campaign, analyse it, and return the report object."""
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    design = design_for(questionnaire)
    data = load_matrix(campaign)
    units = campaign_departments(campaign)
    index = {u.department_id: k for k, u in enumerate(units)}
    department_codes = np.fromiter(
        (index.get(int(d), -1) for d in data.department_ids),
        dtype=np.int64,
        count=len(data.department_ids),
    )
    departments = Grouping(
        "department",
        department_codes,
        tuple(u.code for u in units),
        parents=tuple(
            index.get(u.parent_department_id, -1) if u.parent_department_id else -1 for u in units
        ),
        headcounts=tuple(
            float("nan") if u.headcount is None else float(u.headcount) for u in units
        ),
    )
    roles = role_grouping(questionnaire, data.role_levels)
    headcounts = [u.headcount for u in units]
    headcount = (
        float(sum(headcounts)) if headcounts and all(h is not None for h in headcounts) else None
    )
    if headcount is not None and headcount < len(data.response_ids):
        headcount = None  # stale headcounts: do not apply a correction that cannot be right

    previous = previous_campaign(campaign)
    previous_scores = None
    previous_responses = None
    if previous is not None:
        previous_scores = dimension_scores(questionnaire, load_matrix(previous))
        previous_responses = visible_response_count(previous, previous_scores.shape[0])
        if previous_responses is None:
            # Its own report withholds everything; a comparison would give its scores away.
            previous_scores = None
    norms = norm_group(
        campaign,
        design.dimension_ids,
        sector=campaign.organisation.sector if sector_norm else None,
        size_band=campaign.organisation.size_band if size_norm else None,
    )
    analysis = analyse(
        data.matrix,
        design,
        (departments, roles),
        min_group_size=campaign.min_group_size,
        headcount=headcount,
        top_management=top_management_of(roles),
        previous_scores=previous_scores,
        norm_means=norms.means if len(norms.organisation_ids) else None,
    )
    # Response counts only where the analysis publishes the department: a withheld
    # department's size is withheld too (and complementary suppression already makes sure
    # it cannot be worked out from the total minus the shown departments).
    counts = np.bincount(department_codes[department_codes >= 0], minlength=len(units))
    department_analysis = analysis.groupings[0]
    published = department_analysis.published & analysis.organisation_published
    return CampaignReport(
        campaign={
            "id": campaign.id,
            "name": campaign.name,
            "status": campaign.status,
            "opens_on": campaign.opens_on.isoformat(),
            "closes_on": campaign.closes_on.isoformat(),
            "closed_on": campaign.closed_on.isoformat() if campaign.closed_on else None,
            "questionnaire": {"id": questionnaire.id, "version": questionnaire.version},
            "min_group_size": campaign.min_group_size,
            "min_comment_group_size": campaign.min_comment_group_size,
            # A count under the threshold is itself a disclosure: shown only when the
            # organisation's results are.
            "responses": int(len(data.response_ids)) if analysis.organisation_published else None,
            "headcount": None if headcount is None else int(headcount),
            "response_rate": None
            if not (headcount and analysis.organisation_published)
            else round(len(data.response_ids) / headcount, 4),
        },
        organisation={
            "id": campaign.organisation.id,
            "name": campaign.organisation.name,
            "sector": campaign.organisation.sector,
            "size_band": campaign.organisation.size_band,
        },
        departments=[
            {
                "code": u.code,
                "name": u.name,
                "parent": units[index[u.parent_department_id]].code
                if u.parent_department_id in index
                else None,
                "headcount": u.headcount,
                "suppressed": not bool(published[k]),
                "reason": None if published[k] else (department_analysis.reasons[k] or "hidden"),
                "responses": int(counts[k]) if published[k] else None,
                "response_rate": None
                if not (u.headcount and published[k])
                else round(min(1.0, float(counts[k]) / u.headcount), 4),
            }
            for k, u in enumerate(units)
        ],
        analysis=analysis,
        norm_group={
            "description": norms.description,
            "sector": campaign.organisation.sector if sector_norm else None,
            "size_band": campaign.organisation.size_band if size_norm else None,
            "organisations": len(norms.organisation_ids),
        },
        previous_campaign=None
        if previous is None
        else {
            "id": previous.id,
            "name": previous.name,
            "opens_on": previous.opens_on.isoformat(),
            "responses": previous_responses,
        },
    )


# ---------------------------------------------------------------------------------
# Cache: a campaign's report is reused until a response arrives or the campaign changes.

_CACHE: dict[tuple, CampaignReport] = {}
_CACHE_SIZE = 32


def campaign_version(campaign: Campaign) -> tuple:
    """What the report depends on: responses (count, newest id), status, thresholds, and
    the organisation's other closed campaigns (norm group and previous campaign)."""
    count, newest = db.session.execute(
        select(func.count(Response.id), func.max(Response.id)).where(
            Response.campaign_id == campaign.id
        )
    ).one()
    closed = db.session.execute(
        select(func.count(Campaign.id), func.max(Campaign.id)).where(
            Campaign.status == "closed",
            Campaign.questionnaire_version_id == campaign.questionnaire_version_id,
        )
    ).one()
    return (
        campaign.id,
        count,
        newest,
        campaign.status,
        campaign.min_group_size,
        campaign.min_comment_group_size,
        tuple(closed),
    )


def released_report(campaign: Campaign, **options: bool) -> CampaignReport:
    """The report every output is rendered from, if the release policy allows it.

    Raises :class:`~.release.ResultsNotReleased` for a campaign that has not closed: no
    page, PDF, CSV or API response may show an open campaign's results.
    """
    ensure_results_released(campaign)
    return cached_campaign_report(campaign, **options)


def cached_campaign_report(campaign: Campaign, **options: bool) -> CampaignReport:
    """``analyse_campaign`` with a small in-process cache keyed by the campaign's version."""
    key = (campaign_version(campaign), tuple(sorted(options.items())))
    report = _CACHE.get(key)
    if report is None:
        report = analyse_campaign(campaign, **options)
        for stale in [k for k in _CACHE if k[0][0] == campaign.id and k[1] == key[1]]:
            del _CACHE[stale]
        while len(_CACHE) >= _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
        _CACHE[key] = report
    return report
