"""Pages for consultants: every organisation, organisations side by side, norm groups,
the audit log."""

from __future__ import annotations

import datetime as dt
import math

import sqlalchemy as sa
from flask import Blueprint, Response, abort, g, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from .. import charts
from ..extensions import db
from ..models import SIZE_BANDS, Campaign, Organisation, QuestionnaireVersion
from ..services import ServiceError, audit
from ..services.comparison import (
    MAX_COMPARED,
    comparable_campaign,
    compare_campaigns,
    norm_groups,
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


def _selected_campaigns() -> tuple[list[Campaign], list[str]]:
    """The campaigns of the organisations ticked in the form, and why any was left out."""
    ids = []
    for raw in request.args.getlist("organisation"):
        try:
            ids.append(int(raw))
        except ValueError:
            abort(400)
    ids = list(dict.fromkeys(ids))
    if not ids:
        return [], []
    found = {
        o.id: o for o in db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)))
    }
    campaigns, skipped = [], []
    for organisation_id in ids:
        organisation = found.get(organisation_id)
        if organisation is None:
            abort(404)
        campaign = comparable_campaign(organisation)
        if campaign is None:
            skipped.append(organisation.name)
        else:
            campaigns.append(campaign)
    return campaigns, skipped


def _chart_rows(comparison: dict, dimension: dict) -> list[dict]:
    """One row per organisation in the shape ``charts.group_intervals`` reads."""
    rows = []
    for column, cell in zip(comparison["columns"], dimension["cells"], strict=True):
        row = {"code": str(column["organisation"]["id"]), "name": column["organisation"]["name"]}
        if cell["suppressed"]:
            rows.append({**row, "suppressed": True})
        else:
            rows.append(
                {**row, "suppressed": False, "n": cell["n"], "mean": cell["mean"], "ci": cell["ci"]}
            )
    return rows


def comparison_charts(comparison: dict) -> dict[str, Markup]:
    """One interval chart per dimension: each organisation's mean with its 95% interval,
    drawn at desktop and at phone width."""
    lang = current_lang()
    words = charts.chart_text(_)
    scale = comparison["scale"]
    out = {}
    for dimension in comparison["dimensions"]:
        rows = _chart_rows(comparison, dimension)
        title = _("%(dimension)s: average score per organisation", dimension=dimension["name"])

        def draw(width: int, rows=rows, title=title) -> Markup:
            return charts.group_intervals(
                rows,
                None,
                scale["min"],
                scale["max"],
                title=title,
                text=words,
                lang=lang,
                width=width,
            )

        out[dimension["id"]] = Markup(
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
    campaigns, skipped = _selected_campaigns()
    try:
        comparison = compare_campaigns(campaigns, current_lang())
    except ServiceError:
        message = (
            _("Choose at least two organisations to compare.")
            if len(campaigns) < 2
            else _("Choose at most %(n)d organisations to compare.", n=MAX_COMPARED)
            if len(campaigns) > MAX_COMPARED
            else _(
                "These organisations were surveyed with different questionnaire versions, "
                "whose scores cannot be compared. Choose organisations that used the same one."
            )
        )
        return (
            render_template(
                "consultant/organisations.html",
                organisations=organisation_overview(current_lang()),
                max_compared=MAX_COMPARED,
                error=message,
                skipped=skipped,
                selected={c.organisation_id for c in campaigns},
            ),
            400,
        )
    return render_template(
        "consultant/compare.html",
        comparison=comparison,
        charts=comparison_charts(comparison),
        skipped=skipped,
        query=request.query_string.decode(),
    )


@bp.route("/compare.pdf")
@consultant_required
def compare_pdf():
    from ..pdf import create_pdf

    campaigns, _skipped = _selected_campaigns()
    try:
        comparison = compare_campaigns(campaigns, current_lang())
    except ServiceError:
        abort(400)
    data = create_pdf(comparison, template=COMPARISON_TEMPLATE)
    name = _filename(
        "comparison", *(c["organisation"]["name"] for c in comparison["columns"]), suffix="pdf"
    )
    # One event per organisation compared, so filtering the log by any of them finds it.
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
