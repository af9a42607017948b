"""The reporting service: one campaign's answers → the plain-data analysis every output uses.

The dashboard, the PDF, the CSV and the JSON API all read the object built here, so a
number has one origin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Campaign, Organisation, Response
from ..scoring import Analysis, Grouping, analyse
from .aggregates import (
    MIN_NORM_ORGANISATIONS,
    NORM_GROUPS,
    NormGroupOption,
    design_for,
    dimension_scores,
    norm_filters,
    norm_group,
    norm_group_options,
)
from .campaigns import campaign_departments, previous_campaign
from .designs import role_grouping, top_management_of
from .matrix import load_matrix
from .organisations import sector_label
from .questionnaires import questionnaire_for
from .release import ensure_results_released, visible_response_count
from .stored_results import stored_report


@dataclass(frozen=True)
class CampaignReport:
    """A campaign's analysis with the context a reader needs; plain data only."""

    campaign: dict[str, Any]
    organisation: dict[str, Any]
    departments: list[dict[str, Any]]
    analysis: Analysis
    norm_group: dict[str, Any]
    previous_campaign: dict[str, Any] | None
    # The norm group in words per language ({"nl": {"description", "name", "note"}}): the
    # report is cached for every reader, so each language is worded once, here.
    norm_labels: dict[str, dict[str, str | None]] = field(default_factory=dict, compare=False)
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


def _group_words(key: str, sector: str | None, size_band: str | None) -> str:
    """The norm group without its size, in the current language: "sector Healthcare"."""
    if key == "sector":
        return _("sector %(sector)s", sector=sector_label(sector or ""))
    if key == "size":
        return _("%(size)s employees", size=size_band)
    if key == "sector_size":
        return _(
            "sector %(sector)s, %(size)s employees",
            sector=sector_label(sector or ""),
            size=size_band,
        )
    return _("all organisations")


def _group_name(key: str, sector: str | None, size_band: str | None, n: int) -> str:
    """The norm group with its size, in the current language: "12 organisations in sector
    Healthcare"."""
    if key == "sector":
        return ngettext(
            "%(num)d organisation in sector %(sector)s",
            "%(num)d organisations in sector %(sector)s",
            n,
            sector=sector_label(sector or ""),
        )
    if key == "size":
        return ngettext(
            "%(num)d organisation with %(size)s employees",
            "%(num)d organisations with %(size)s employees",
            n,
            size=size_band,
        )
    if key == "sector_size":
        return ngettext(
            "%(num)d organisation in sector %(sector)s with %(size)s employees",
            "%(num)d organisations in sector %(sector)s with %(size)s employees",
            n,
            sector=sector_label(sector or ""),
            size=size_band,
        )
    return ngettext(
        "%(num)d organisation: all others that used this questionnaire",
        "%(num)d organisations: all others that used this questionnaire",
        n,
    )


def _fallback_note(chosen: NormGroupOption) -> str:
    """Why the report compares with all organisations instead of the chosen group."""
    group = _group_words(chosen.key, chosen.sector, chosen.size_band)
    if chosen.problem == "too_close":
        return ngettext(
            "The norm group chosen for this report, %(group)s, now leaves out only "
            "%(num)d organisation of a larger group, whose scores could be worked out by "
            "comparing the two. So this report compares with all organisations instead.",
            "The norm group chosen for this report, %(group)s, now leaves out only "
            "%(num)d organisations of a larger group, whose scores could be worked out by "
            "comparing the two. So this report compares with all organisations instead.",
            chosen.left_out,
            group=group,
        )
    return _(
        "The norm group chosen for this report, %(group)s, now has fewer than %(min)d other "
        "organisations with results. So this report compares with all organisations "
        "instead.",
        group=group,
        min=MIN_NORM_ORGANISATIONS,
    )


def norm_labels(norm: dict[str, Any], chosen: NormGroupOption | None) -> dict[str, dict]:
    """The norm group of a report in words, for each language the app offers."""
    labels = {}
    for lang in current_app.config["LANGUAGES"]:
        with force_locale(lang):
            labels[lang] = {
                "description": _group_words(norm["key"], norm["sector"], norm["size_band"]),
                "name": _group_name(
                    norm["key"], norm["sector"], norm["size_band"], norm["organisations"]
                ),
                "note": _fallback_note(chosen) if chosen is not None else None,
            }
    return labels


def analyse_campaign(campaign: Campaign) -> CampaignReport:
    """Load a campaign, analyse it, and return the report object.

    The benchmark uses the norm group chosen for the campaign (``Campaign.norm_group``)
    when it may still be used now; otherwise all organisations, and the report says why.
    """
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    design = design_for(questionnaire)
    data = load_matrix(campaign)
    units = campaign_departments(campaign)
    index = {u.department_id: k for k, u in enumerate(units)}
    # Looked up once per distinct department, not once per response.
    distinct, per_response = np.unique(data.department_ids, return_inverse=True)
    department_codes = np.array([index.get(int(d), -1) for d in distinct], dtype=np.int64)[
        per_response.reshape(-1)
    ]
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
    chosen_key = campaign.norm_group or "all"
    fallback = None
    if chosen_key != "all":
        options = norm_group_options(
            campaign.organisation,
            campaign.questionnaire_version_id,
            design.dimension_ids,
            campaign.min_group_size,
        )
        chosen = options.get(chosen_key)
        if chosen is None or not chosen.usable:
            fallback = chosen
    used_key = "all" if fallback is not None or chosen_key not in NORM_GROUPS else chosen_key
    sector, size_band = norm_filters(
        used_key, campaign.organisation.sector, campaign.organisation.size_band
    )
    norms = norm_group(campaign, design.dimension_ids, sector=sector, size_band=size_band)
    norm = {
        "key": used_key,
        "chosen": chosen_key,
        "fallback": None if fallback is None else fallback.problem,
        "description": norms.description,
        "sector": sector,
        "size_band": size_band,
        "organisations": len(norms.organisation_ids),
    }
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
        norm_group=norm,
        norm_labels=norm_labels(norm, fallback),
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


def _norm_fingerprint(campaign: Campaign) -> str:
    """What a chosen norm group depends on beyond closed campaigns: which organisations
    share the campaign's sector or size band now (a consultant may move one)."""
    if not campaign.norm_group:
        return ""  # all organisations: sectors and size bands play no part
    organisation = campaign.organisation
    members = db.session.execute(
        select(Organisation.id, Organisation.sector, Organisation.size_band)
        .where(
            or_(
                Organisation.sector == organisation.sector,
                Organisation.size_band == organisation.size_band,
            )
        )
        .order_by(Organisation.id)
    ).all()
    text = ";".join(f"{i},{s},{b}" for i, s, b in members)
    return f"{campaign.norm_group}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def campaign_version(campaign: Campaign) -> tuple:
    """What the report depends on: responses (count, newest id), status, thresholds, the
    chosen norm group and who is in it, and the other closed campaigns on the same
    questionnaire version (norm group and previous campaign)."""
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
    organisation = campaign.organisation
    previous = previous_campaign(campaign)
    units = ";".join(
        f"{u.department_id},{u.parent_department_id},{u.code},{u.name},{u.headcount}"
        for u in campaign_departments(campaign)
    )
    return (
        campaign.id,
        count,
        newest,
        campaign.status,
        campaign.min_group_size,
        campaign.min_comment_group_size,
        tuple(closed),
        _norm_fingerprint(campaign),
        # The words and dates the report carries: a renamed organisation, department or
        # campaign makes a new version, so no stored report keeps an old name.
        hashlib.sha256(
            "|".join(
                map(
                    str,
                    (
                        campaign.name,
                        campaign.opens_on,
                        campaign.closes_on,
                        campaign.closed_on,
                        campaign.questionnaire_version_id,
                        organisation.name,
                        organisation.sector,
                        organisation.size_band,
                        units,
                        # Named in the change section, and so in the report.
                        None if previous is None else (previous.id, previous.name),
                    ),
                )
            ).encode()
        ).hexdigest()[:16],
    )


def released_report(campaign: Campaign) -> CampaignReport:
    """The report every output is rendered from, if the release policy allows it.

    Raises :class:`~.release.ResultsNotReleased` for a campaign that has not closed: no
    page, PDF, CSV or API response may show an open campaign's results.
    """
    ensure_results_released(campaign)
    return cached_campaign_report(campaign)


def cached_campaign_report(campaign: Campaign) -> CampaignReport:
    """``analyse_campaign`` once per campaign version: from this process's small cache, else
    from the results stored for every process (``stored_results``), else computed."""
    key = campaign_version(campaign)
    report = _CACHE.get(key)
    if report is None:
        report = stored_report(campaign, key, lambda: analyse_campaign(campaign))
        for stale in [k for k in _CACHE if k[0] == campaign.id]:
            del _CACHE[stale]
        while len(_CACHE) >= _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]
        _CACHE[key] = report
    return report
