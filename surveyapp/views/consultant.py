"""Pages for consultants: every organisation, organisations side by side, norm groups,
the audit log."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from .. import charts
from ..extensions import db
from ..models import SIZE_BANDS, Campaign, Organisation, QuestionnaireVersion
from ..services import audit
from ..services.comparison import (
    MAX_COMPARED,
    MIN_NORM_ORGANISATIONS,
    CampaignChoice,
    CampaignComparison,
    ComparisonError,
    NormOption,
    campaign_choices,
    compare_campaigns,
    default_choice,
    norm_groups,
    norm_label,
    norm_options,
    organisation_overview,
)
from ..services.organisations import (
    ORGANISATION_SORTS,
    SEARCH_MAX,
    SECTORS,
    OrganisationCriteria,
    select_organisations,
)
from ..services.questionnaires import questionnaire_for
from .auth import consultant_required
from .dashboard import NARROW, WIDE, _filename, current_lang

bp = Blueprint("consultant", __name__, url_prefix="/consultant")

COMPARISON_TEMPLATE = "comparison.html"


def _ids(name: str) -> list[int]:
    """The whole numbers of a repeated query argument, in order, without repeats."""
    ids = []
    for raw in request.args.getlist(name):
        try:
            ids.append(int(raw))
        except ValueError:
            abort(400)
    return list(dict.fromkeys(ids))


def _chosen_organisations() -> list[Organisation]:
    """The organisations ticked on the list, and those of any campaign chosen."""
    organisation_ids = _ids("organisation")
    campaign_ids = _ids("campaign")
    if campaign_ids:
        owners = db.session.execute(
            sa.select(Campaign.id, Campaign.organisation_id).where(Campaign.id.in_(campaign_ids))
        ).all()
        if len(owners) != len(campaign_ids):
            abort(404)
        organisation_ids = list(dict.fromkeys([*organisation_ids, *(o for _c, o in owners)]))
    found = {
        o.id: o
        for o in db.session.scalars(
            sa.select(Organisation).where(Organisation.id.in_(organisation_ids))
        )
    }
    if len(found) != len(organisation_ids):
        abort(404)
    return [found[i] for i in organisation_ids]


def _problem_words(choice: CampaignChoice) -> str:
    if choice.problem == "no_responses":
        return _("Nobody answered, so its report has no figures to compare.")
    return _(
        "Fewer than %(n)d people answered, so its report withholds every figure to keep "
        "them anonymous.",
        n=choice.threshold,
    )


def _norm_words(option: NormOption) -> str:
    """Why a norm group is not offered, in a sentence."""
    if option.problem == "too_close":
        # The report's norm group page says the same (views/setup.py): one rule, one wording.
        return ngettext(
            "%(group)s: it leaves out only %(num)d organisation of a larger group, whose "
            "scores could then be worked out by comparing the two.",
            "%(group)s: it leaves out only %(num)d organisations of a larger group, whose "
            "scores could then be worked out by comparing the two.",
            option.left_out,
            group=norm_label(option, current_lang()),
        )
    return _(
        "%(group)s: a norm group needs at least %(min)d organisations.",
        group=norm_label(option, current_lang()),
        min=MIN_NORM_ORGANISATIONS,
    )


COMPARISON_ERRORS = {
    "too_few_chosen": lambda e: _("Choose at least two campaigns to compare."),
    "too_many_chosen": lambda e: _(
        "Choose at most %(n)d campaigns: more do not fit side by side.", n=MAX_COMPARED
    ),
    "not_closed": lambda e: _(
        "Only closed campaigns can be compared: %(names)s is still open.",
        names=", ".join(e.names),
    ),
    "mixed_versions": lambda e: _(
        "The chosen campaigns used different questionnaire versions, whose scores cannot be "
        "compared. Choose campaigns that used the same version."
    ),
    "withheld": lambda e: _(
        "%(names)s cannot be compared: too few people answered, so its report withholds "
        "every figure. Choose another campaign.",
        names=", ".join(e.names),
    ),
    "norm_not_offered": lambda e: _(
        "That norm group is not offered for these campaigns. Choose one from the list."
    ),
}


def _choose_page(asked: _Asked, errors: dict[str, str], status: int = 200):
    """The page where the consultant ticks campaigns and may pick a norm group."""
    chosen = asked.chosen
    comparable = [c for found in asked.choices.values() for c in found if c.comparable]
    version_id = next(
        (c.questionnaire_version_id for c in comparable if c.id in chosen),
        comparable[0].questionnaire_version_id if comparable else None,
    )
    options: list[NormOption] = []
    if version_id is not None:
        version = db.session.get(QuestionnaireVersion, version_id)
        options = norm_options(questionnaire_for(version), version_id)
    return (
        render_template(
            "consultant/compare_choose.html",
            organisations=asked.organisations,
            choices=asked.choices,
            chosen=set(chosen),
            norm=asked.norm,
            offered=[(o.key, norm_label(o, current_lang())) for o in options if o.offered],
            not_offered=[_norm_words(o) for o in options if not o.offered],
            problem_words=_problem_words,
            errors=errors,
            max_compared=MAX_COMPARED,
            min_norm=MIN_NORM_ORGANISATIONS,
        ),
        status,
    )


def _list_page_error(message: str, skipped: list[str]):
    """Back to the organisation list: the ticked organisations offer nothing to compare."""
    return (
        render_template(
            "consultant/organisations.html",
            organisations=organisation_overview(current_lang()),
            max_compared=MAX_COMPARED,
            error=message,
            skipped=skipped,
            selected=set(_ids("organisation")),
        ),
        400,
    )


@dataclass(frozen=True)
class _Asked:
    """What the query asks to compare."""

    organisations: list[Organisation]
    choices: dict[int, list[CampaignChoice]]
    chosen: list[int]
    norm: str


def _asked() -> _Asked | tuple[str, int]:
    """The organisations, campaigns and norm group of the query, or the organisation list
    saying why nothing can be compared."""
    organisations = _chosen_organisations()
    choices = campaign_choices(organisations)
    if sum(c.comparable for found in choices.values() for c in found) < 2:
        skipped = [o.name for o in organisations if not any(c.comparable for c in choices[o.id])]
        message = (
            _("Choose at least two organisations to compare, or one with two closed campaigns.")
            if len(organisations) < 2
            else _("These organisations have fewer than two campaigns with results between them.")
        )
        return _list_page_error(message, skipped)
    chosen = _ids("campaign") if "campaign" in request.args else default_choice(choices)
    return _Asked(organisations, choices, chosen, request.args.get("norm", "").strip()[:60])


def _chosen_campaigns(asked: _Asked) -> tuple[list[Campaign], dict[str, str]]:
    """The campaigns ticked, or what is wrong with them (by form field)."""
    offered = {c.id: c for found in asked.choices.values() for c in found}
    if any(i not in offered for i in asked.chosen):
        return [], {"campaigns": _("Choose closed campaigns of the organisations listed.")}
    unusable = [offered[i] for i in asked.chosen if not offered[i].comparable]
    if unusable:
        return [], {
            "campaigns": _(
                "%(names)s cannot be compared. %(reason)s",
                names=", ".join(f"{c.organisation}: {c.name}" for c in unusable),
                reason=_problem_words(unusable[0]),
            )
        }
    campaigns = list(db.session.scalars(sa.select(Campaign).where(Campaign.id.in_(asked.chosen))))
    campaigns.sort(key=lambda c: asked.chosen.index(c.id))
    return campaigns, {}


def _comparison_error(error: ComparisonError) -> dict[str, str]:
    field = "norm" if error.code == "norm_not_offered" else "campaigns"
    return {field: COMPARISON_ERRORS[error.code](error)}


def comparison_charts(comparison: CampaignComparison) -> dict[str, Markup]:
    """One interval chart per dimension: each campaign's mean with its 95% interval,
    drawn at desktop and at phone width, names wrapped in full."""
    lang = current_lang()
    words = charts.chart_text(_)
    scale = comparison.scale
    out = {}
    for dimension in comparison.dimensions:
        title = _("%(dimension)s: average score per campaign", dimension=dimension.name)

        def draw(width: int, rows=dimension.chart_rows, title=title) -> Markup:
            return charts.group_intervals(
                rows,
                None,
                scale.min,
                scale.max,
                title=title,
                text=words,
                lang=lang,
                width=width,
                label_lines=4,
            )

        out[dimension.id] = Markup(
            f'<div class="chart-wide">{draw(WIDE)}</div>'
            f'<div class="chart-narrow">{draw(NARROW)}</div>'
        )
    return out


def _organisation_criteria() -> tuple[OrganisationCriteria, dict[str, str], dict[str, str]]:
    """The list's search, filters and order from the query string; the accepted values
    (to refill the form and keep in links); and a message per parameter that was ignored."""
    raw = {key: request.args.get(key, "").strip() for key in ("q", "sector", "size", "sort")}
    problems: dict[str, str] = {}
    search = raw["q"]
    if len(search) > SEARCH_MAX:
        problems["q"] = _(
            "The search was longer than %(n)d characters, so only its start is used.",
            n=SEARCH_MAX,
        )
        search = search[:SEARCH_MAX]
    if raw["sector"] and raw["sector"] not in SECTORS:
        problems["sector"] = _(
            "There is no sector “%(value)s”, so every sector is shown. Choose a sector "
            "from the list.",
            value=raw["sector"][:40],
        )
        raw["sector"] = ""
    if raw["size"] and raw["size"] not in SIZE_BANDS:
        problems["size"] = _(
            "There is no size “%(value)s”, so every size is shown. Choose a size from the list.",
            value=raw["size"][:40],
        )
        raw["size"] = ""
    if raw["sort"] and raw["sort"] not in ORGANISATION_SORTS:
        problems["sort"] = _(
            "The list cannot be sorted by “%(value)s”, so it is sorted by name. Choose an "
            "order from the links above the list.",
            value=raw["sort"][:40],
        )
        raw["sort"] = ""
    raw["q"] = search
    criteria = OrganisationCriteria(
        search=search,
        sector=raw["sector"] or None,
        size_band=raw["size"] or None,
        sort=raw["sort"] or "name",
    )
    return criteria, {key: value for key, value in raw.items() if value}, problems


@bp.route("/")
@consultant_required
def organisations():
    """Every organisation, searched by name, filtered by sector and size, in an order."""
    criteria, kept, problems = _organisation_criteria()
    everyone = organisation_overview(current_lang())
    return render_template(
        "consultant/organisations.html",
        organisations=select_organisations(everyone, criteria),
        total=len(everyone),
        criteria=criteria,
        kept=kept,
        problems=problems,
        sectors=[(key, str(label)) for key, label in SECTORS.items()],
        size_bands=SIZE_BANDS,
        sorts=ORGANISATION_SORTS,
        max_compared=MAX_COMPARED,
    )


@bp.route("/compare")
@consultant_required
def compare():
    """Choose campaigns (and a norm group), then see them side by side."""
    asked = _asked()
    if not isinstance(asked, _Asked):
        return asked
    if request.args.get("step") != "compare":
        return _choose_page(asked, {})
    campaigns, errors = _chosen_campaigns(asked)
    if errors:
        return _choose_page(asked, errors, 400)
    try:
        comparison = compare_campaigns(campaigns, current_lang(), norm=asked.norm or None)
    except ComparisonError as error:
        return _choose_page(asked, _comparison_error(error), 400)
    change = [(k, v) for k, v in request.args.items(multi=True) if k != "step"]
    return render_template(
        "consultant/compare.html",
        comparison=comparison,
        charts=comparison_charts(comparison),
        query=urlencode(list(request.args.items(multi=True))),
        change_query=urlencode(change),
    )


@bp.route("/compare.pdf")
@consultant_required
def compare_pdf():
    from ..pdf import create_pdf

    asked = _asked()
    if not isinstance(asked, _Asked):
        abort(400)
    campaigns, errors = _chosen_campaigns(asked)
    if errors:
        abort(400)
    try:
        comparison = compare_campaigns(campaigns, current_lang(), norm=asked.norm or None)
    except ComparisonError:
        abort(400)
    data = create_pdf(comparison, template=COMPARISON_TEMPLATE)
    name = _filename(
        "comparison",
        *dict.fromkeys(c.organisation.name for c in comparison.columns),
        current_lang(),
        suffix="pdf",
    )
    # One event per campaign compared, so filtering the log by any organisation finds it.
    compared = ", ".join(str(c.id) for c in campaigns)
    for c in campaigns:
        audit.record(
            "comparison_download",
            user=g.user,
            organisation=c.organisation_id,
            detail=f"comparison PDF of campaigns {compared} ({current_lang()})",
        )
    db.session.commit()  # a download writes nothing else: the audit rows are its own commit
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/norms")
@consultant_required
def norms():
    versions = list(
        db.session.scalars(
            sa.select(QuestionnaireVersion)
            .where(
                QuestionnaireVersion.id.in_(
                    sa.select(Campaign.questionnaire_version_id).where(Campaign.status == "closed")
                )
            )
            .order_by(QuestionnaireVersion.key, QuestionnaireVersion.version)
        )
    )
    if not versions:
        return render_template("consultant/norms.html", norms=None, versions=[], version=None)
    raw = request.args.get("version", "").strip()
    version = next((v for v in versions if str(v.id) == raw), None)
    problem = None
    if version is None:
        version = versions[-1]
        if raw:
            problem = _(
                "There is no questionnaire version “%(value)s” with results, so the latest "
                "one is shown. Choose a version from the list.",
                value=raw[:40],
            )
    questionnaire = questionnaire_for(version)
    norms = norm_groups(questionnaire, version.id, current_lang())
    # Sectors in the order of the controlled list, named in the reader's language; an
    # unknown key (none should exist) keeps its place at the end.
    order = {key: k for k, key in enumerate(SECTORS)}
    norms["groups"]["sector"].sort(key=lambda g: (order.get(g["key"], len(order)), g["key"]))
    present = {g["key"] for g in norms["groups"]["sector"]}
    return render_template(
        "consultant/norms.html",
        norms=norms,
        versions=versions,
        version=version,
        problem=problem,
        empty_sectors=[str(label) for key, label in SECTORS.items() if key not in present],
    )


AUDIT_PAGE_SIZE = 100


def _audit_filter() -> tuple[audit.AuditFilter, dict[str, str], dict[str, str]]:
    """The log filter from the query string, the raw values (to refill the form), and a
    message per field that is wrong."""
    raw = {
        key: request.args.get(key, "").strip()
        for key in ("event", "organisation", "actor", "since", "until")
    }
    errors: dict[str, str] = {}
    event = raw["event"] or None
    if event is not None and event not in audit.EVENTS:
        errors["event"] = _("Choose an event type from the list.")
    organisation_id = None
    if raw["organisation"]:
        try:
            organisation_id = int(raw["organisation"])
        except ValueError:
            errors["organisation"] = _("Choose an organisation from the list.")
    dates: dict[str, dt.date | None] = {}
    for key in ("since", "until"):
        try:
            dates[key] = dt.date.fromisoformat(raw[key]) if raw[key] else None
        except ValueError:
            dates[key] = None
            errors[key] = _("Enter a date as YYYY-MM-DD, for example 2027-03-01.")
    if dates["since"] and dates["until"] and dates["since"] > dates["until"]:
        errors["until"] = _("The end date must be the same as or after the start date.")
    criteria = audit.AuditFilter(
        event=event,
        organisation_id=organisation_id,
        actor=raw["actor"][:254] or None,
        since=dates["since"],
        until=dates["until"],
    )
    return criteria, raw, errors


@bp.route("/audit")
@consultant_required
def audit_log():
    """Who did what, newest first, filtered and a hundred to a page."""
    criteria, raw, errors = _audit_filter()
    organisations = db.session.execute(
        sa.select(Organisation.id, Organisation.name).order_by(Organisation.name)
    ).all()
    names = {row.id: row.name for row in organisations}
    page = request.args.get("page", 1, type=int)
    entries, total, pages = [], 0, 1
    if not errors:
        total = audit.count_events(criteria)
        pages = max(1, math.ceil(total / AUDIT_PAGE_SIZE))
        if page < 1 or page > pages:
            abort(404)
        entries = audit.events(criteria, limit=AUDIT_PAGE_SIZE, offset=(page - 1) * AUDIT_PAGE_SIZE)
    filtered = {key: value for key, value in raw.items() if value}

    def page_url(number: int) -> str:
        return url_for("consultant.audit_log", **filtered, page=number)

    return (
        render_template(
            "consultant/audit.html",
            entries=[
                {
                    "occurred_at": entry.occurred_at,
                    "event": entry.event,
                    "description": audit.describe(entry.event),
                    "actor": entry.actor,
                    "organisation": names.get(entry.organisation_id)
                    if entry.organisation_id is not None
                    else None,
                    "detail": entry.detail,
                }
                for entry in entries
            ],
            event_choices=sorted(
                ((name, audit.describe(name)) for name in audit.EVENTS), key=lambda e: e[1]
            ),
            organisations=organisations,
            raw=raw,
            errors=errors,
            filtered=bool(filtered),
            total=total,
            page=page,
            pages=pages,
            previous_url=page_url(page - 1) if page > 1 else None,
            next_url=page_url(page + 1) if page < pages else None,
            first_shown=(page - 1) * AUDIT_PAGE_SIZE + 1,
            last_shown=(page - 1) * AUDIT_PAGE_SIZE + len(entries),
            retention_days=audit.retention_days(),
        ),
        400 if errors else 200,
    )
