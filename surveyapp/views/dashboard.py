"""Results pages for managers (their own organisation) and consultants (every organisation).

Every page renders ``reporting.model.build_view`` of the released campaign report (a
frozen ``ReportView``), the same data the PDF and the aggregate CSV are made from, so the
numbers agree everywhere.
An open campaign shows only its rounded participation (``services/release.py``).
"""

from __future__ import annotations

import re
import unicodedata

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from markupsafe import Markup

from .. import charts
from ..extensions import db
from ..models import Campaign, Organisation
from ..reporting.model import build_view, department_participation
from ..reporting.summary import summarise
from ..reporting.view import DimensionView, ParticipationRow, ReportView
from ..services import ServiceError, action_plans, audit
from ..services.answer_files import (
    ChoiceError,
    answer_file,
    answers_csv,
    answers_xlsx,
    codebook_csv,
    read_choice,
)
from ..services.exports import results_csv
from ..services.participation import live_participation
from ..services.questionnaires import questionnaire_for
from ..services.release import (
    ResultsNotReleased,
    ensure_results_released,
    participation,
    results_released,
)
from ..services.reporting import memoised, released_report
from ..services.scope import (
    department_scope,
    own_department_code,
    scoped_participation,
    scoped_report,
)
from ..services.tokens import issue_token, revoke_token, tokens_of
from .auth import consultant_required, login_required

bp = Blueprint("dashboard", __name__, url_prefix="/results")

# Charts are drawn twice: at desktop width, and at phone width so their text stays
# readable on a 360 px screen; CSS shows one of the two.
WIDE = 720
NARROW = 340


# ---------------------------------------------------------------------------------
# Access


def may_see(organisation_id: int) -> bool:
    """Consultants see every organisation, a manager only their own."""
    user = g.user
    return user is not None and (
        user.role == "consultant" or user.organisation_id == organisation_id
    )


def _conflict(title: str, message: str):
    """A 409 page: the request is fine, the campaign's state does not allow it yet."""
    return render_template("error.html", title=title, message=message), 409


@bp.errorhandler(ResultsNotReleased)
def results_not_released(error: ResultsNotReleased):
    """Any results URL of a campaign that has not closed: say when results come."""
    return _conflict(
        _("Results are not released yet"),
        _(
            "Results are published once, when the campaign closes, so that nobody's "
            "answers can be worked out by comparing results before and after they "
            "respond. Until then the campaign page shows how many people have responded."
        ),
    )


def authorised_campaign(campaign_id: int) -> Campaign:
    """The campaign, or 404 if there is none and 403 if the user may not see it."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if not may_see(campaign.organisation_id):
        abort(403)
    return campaign


def current_lang() -> str:
    return str(get_locale())


# ---------------------------------------------------------------------------------
# Template helpers


def responsive(draw, *args, scroll: bool = False, **kwargs) -> Markup:
    """A chart drawn at desktop and at phone width; CSS shows the one that fits.

    ``scroll`` keeps one desktop-width drawing that scrolls sideways inside its box on a
    phone instead (for the heatmap, whose cells need the room).
    """
    wide = draw(*args, width=WIDE, **kwargs)
    if scroll:
        return Markup(f'<div class="chart-scroll" tabindex="0">{wide}</div>')
    narrow = draw(*args, width=NARROW, **kwargs)
    return Markup(f'<div class="chart-wide">{wide}</div><div class="chart-narrow">{narrow}</div>')


def campaign_charts(view: ReportView) -> dict[str, Markup]:
    """The charts of the campaign page."""
    lang = current_lang()
    words = charts.chart_text(_)
    scale = view.scale
    shown = view.shown_dimensions
    out: dict[str, Markup] = {}
    if not view.published:
        return out
    out["dimensions"] = responsive(
        charts.dimension_bars,
        view.dimensions,
        scale.min,
        scale.max,
        benchmark=view.has_benchmark,
        levels=view.levels,
        title=_("Average score per dimension, with 95% intervals"),
        text=words,
        lang=lang,
    )
    if view.heatmap.rows:
        out["heatmap"] = responsive(
            charts.heatmap,
            view.heatmap.columns,
            view.heatmap.rows,
            scale.min,
            scale.max,
            title=_("Average score per department and dimension"),
            text=words,
            lang=lang,
            scroll=True,
        )
    if view.has_gap:
        out["gap"] = responsive(
            charts.gap_bars,
            shown,
            title=_("Top management's score minus the rest of the staff's, per dimension"),
            text=words,
            lang=lang,
        )
    if view.has_change:
        out["change"] = responsive(
            charts.change_bars,
            shown,
            title=_("Change in score since the previous campaign, per dimension"),
            text=words,
            lang=lang,
        )
    return out


def _count_differences(dimensions: tuple[DimensionView, ...], key: str) -> dict[str, int]:
    entries = [e for e in (getattr(d, key) for d in dimensions) if e is not None]
    return {
        "total": len(entries),
        "higher": sum(1 for e in entries if e.significant and e.diff > 0),
        "lower": sum(1 for e in entries if e.significant and e.diff < 0),
    }


def campaign_findings(view: ReportView) -> dict:
    """What the campaign page says in words: ranking, flagged departments, counts."""
    shown = view.shown_dimensions
    ranked = sorted(
        (d for d in shown if d.mean is not None), key=lambda d: d.mean or 0.0, reverse=True
    )
    flagged = []
    columns = view.heatmap.columns
    for row in view.heatmap.rows:
        for column, cell in zip(columns, row.cells, strict=True):
            if cell and not cell.suppressed and cell.vs_rest and cell.vs_rest.significant:
                flagged.append(
                    {
                        "department": row.name,
                        "dimension": column.name,
                        "diff": cell.vs_rest.diff,
                    }
                )
    flagged.sort(key=lambda f: -f["diff"])
    return {
        "shown": shown,
        "ranked": ranked,
        "flagged": flagged,
        "gap": _count_differences(shown, "gap"),
        "change": _count_differences(shown, "change"),
    }


def dimension_charts(view: ReportView, dimension: DimensionView) -> dict[str, Markup]:
    """The charts of a dimension page."""
    lang = current_lang()
    words = charts.chart_text(_)
    scale = view.scale
    out: dict[str, Markup] = {}
    if dimension.departments:
        out["departments"] = responsive(
            charts.group_intervals,
            dimension.departments,
            dimension.mean,
            scale.min,
            scale.max,
            title=_("%(dimension)s: average score per department", dimension=dimension.name),
            text=words,
            lang=lang,
        )
    if dimension.roles:
        out["roles"] = responsive(
            charts.group_intervals,
            dimension.roles,
            dimension.mean,
            scale.min,
            scale.max,
            title=_("%(dimension)s: average score per role", dimension=dimension.name),
            text=words,
            lang=lang,
        )
    labels = view.scale.labels
    out["legend"] = charts.distribution_legend(labels, title=_("Answer options"), width=WIDE)
    out["legend_narrow"] = charts.distribution_legend(
        labels, title=_("Answer options"), width=NARROW
    )
    for item in dimension.items:
        if item.suppressed:
            continue
        out["item-" + item.id] = charts.distribution_bar(
            [point.share for point in item.distribution],
            [point.label for point in item.distribution],
            title=_("How people answered: %(statement)s", statement=item.text),
            text=words,
            lang=lang,
            width=300,
        )
    return out


def _filename(*parts: object, suffix: str) -> str:
    """An ASCII file name such as ``demohaven-city-council-2.pdf``."""
    text = "-".join(str(p) for p in parts if p not in (None, ""))
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "results"
    return f"{text}.{suffix}"


def _download(body, mimetype: str, filename: str) -> Response:
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Downloads hold personal-data-adjacent figures: never keep them in shared caches.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _report(campaign: Campaign):
    """The released report as the signed-in user may read it: a manager limited to a
    department gets their subtree only (``services/scope.py``)."""
    return scoped_report(released_report(campaign), department_scope(g.user, campaign))


def _load(campaign: Campaign, department: str | None = None):
    report = _report(campaign)
    lang = current_lang()
    view = memoised(
        report,
        ("view", lang, department),
        lambda: build_view(
            report, questionnaire_for(campaign.questionnaire_version), lang, department=department
        ),
    )
    return report, view


def _participation(report) -> tuple[ParticipationRow, ...]:
    lang = current_lang()
    return memoised(report, ("participation", lang), lambda: department_participation(report, lang))


def _published_departments(report) -> set[str]:
    return {row.code for row in _participation(report) if not row.suppressed}


# ---------------------------------------------------------------------------------
# Pages


@bp.route("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id: int):
    org = db.get_or_404(Organisation, organisation_id)
    if not may_see(org.id):
        abort(403)
    return render_template("dashboard/organisation.html", organisation=org)


@bp.route("/campaigns/<int:campaign_id>")
@login_required
def campaign(campaign_id: int):
    campaign = authorised_campaign(campaign_id)
    if not results_released(campaign):
        return render_template(
            "dashboard/campaign_open.html",
            campaign=campaign,
            participation=scoped_participation(
                participation(campaign), department_scope(g.user, campaign)
            )
            if campaign.status == "open"
            else None,
            # Per day and per department against invitations and headcount; its total is
            # the one shown (services/participation.py: safe against subtraction).
            live=live_participation(campaign, department_scope(g.user, campaign))
            if campaign.status == "open"
            else None,
        )
    report, view = _load(campaign)
    return render_template(
        "dashboard/campaign.html",
        view=view,
        participation=_participation(report),
        findings=campaign_findings(view),
        summary=summarise(view, get_translations()),
        charts=campaign_charts(view),
        # Apart from the view: what the organisation decided (services/action_plans.py).
        plan=action_plans.plan_summary(campaign, current_lang()),
        previous_plan=action_plans.follow_up(campaign, current_lang()),
    )


@bp.route("/campaigns/<int:campaign_id>/dimensions/<dimension_id>")
@login_required
def dimension(campaign_id: int, dimension_id: str):
    campaign = authorised_campaign(campaign_id)
    _report, view = _load(campaign)
    found = view.dimension(dimension_id)
    if found is None or not view.published:
        abort(404)
    position = view.dimensions.index(found)
    return render_template(
        "dashboard/dimension.html",
        view=view,
        dimension=found,
        previous=view.dimensions[position - 1] if position > 0 else None,
        following=view.dimensions[position + 1] if position + 1 < len(view.dimensions) else None,
        charts={} if found.suppressed else dimension_charts(view, found),
    )


@bp.route("/campaigns/<int:campaign_id>/departments/<code>")
@login_required
def department(campaign_id: int, code: str):
    campaign = authorised_campaign(campaign_id)
    report, view = _load(campaign, department=code)
    if code not in _published_departments(report):
        abort(404)
    return render_template(
        "dashboard/department.html", view=view, summary=summarise(view, get_translations())
    )


# ---------------------------------------------------------------------------------
# Downloads


@bp.route("/campaigns/<int:campaign_id>/report.pdf")
@login_required
def report_pdf(campaign_id: int):
    from ..pdf import render_campaign_pdf

    campaign = authorised_campaign(campaign_id)
    scope = department_scope(g.user, campaign)
    published = _published_departments(_report(campaign))
    department = request.args.get("department") or None
    if department is None and scope is not None:
        # A department head's report is their own department's, if it is published.
        department = own_department_code(g.user, campaign)
        if department not in published:
            department = None
    if department is not None and department not in published:
        abort(404)
    data = render_campaign_pdf(campaign, current_lang(), department=department, scope=scope)
    # The language is in the name: the Dutch and English reports are different files.
    name = _filename(
        campaign.organisation.name, campaign.name, department, current_lang(), suffix="pdf"
    )
    scope = f"campaign {campaign.id}" + (f", department {department}" if department else "")
    audit.record(
        "report_download",
        user=g.user,
        organisation=campaign.organisation_id,
        detail=f"{scope}: PDF report ({current_lang()})",
    )
    db.session.commit()  # a download writes nothing else: the audit row is its own commit
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _too_few_responses(campaign: Campaign):
    return _conflict(
        _("Nothing to download yet"),
        _(
            "This campaign has fewer responses than its anonymity threshold of "
            "%(n)d, so no answers can be downloaded without risking that someone is "
            "recognised. Try again when more people have responded.",
            n=campaign.min_group_size,
        ),
    )


ANSWER_FILE_TYPES = {
    "csv": ("text/csv", "csv"),
    "codebook": ("text/csv", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "sav": ("application/x-spss-sav", "sav"),
}
ANSWER_FILE_ENDPOINTS = {
    "csv": "dashboard.responses_csv_download",
    "codebook": "dashboard.codebook_csv_download",
    "xlsx": "dashboard.responses_xlsx_download",
    "sav": "dashboard.responses_sav_download",
}


def _choice_errors(error: ChoiceError) -> dict[str, str]:
    """The reader's words for each wrong parameter of an answer-file request."""
    words = {
        "format": _("Choose the kind of file: CSV, Excel, SPSS or the codebook on its own."),
        "lang": _("Choose the language of the question texts and labels: Dutch or English."),
        "dialect": _(
            "Choose how the CSV file separates its columns: commas, or semicolons for Dutch Excel."
        ),
    }
    return {field: words[field] for field in error.errors}


def _bad_choice(campaign: Campaign, error: ChoiceError):
    """A 400 page for a download URL with a wrong parameter; nothing is recorded."""
    return (
        render_template(
            "dashboard/answer_files.html",
            campaign=campaign,
            errors=_choice_errors(error),
            values=request.args,
            languages=_answer_languages(campaign),
        ),
        400,
    )


def _answer_languages(campaign: Campaign) -> tuple[str, ...]:
    return questionnaire_for(campaign.questionnaire_version).languages


@bp.route("/campaigns/<int:campaign_id>/answer-files")
@consultant_required  # managers never see individual answers (the survey promises it)
def answer_files(campaign_id: int):
    """Choose an answer file: format, language and, for CSV, how columns are separated."""
    campaign = authorised_campaign(campaign_id)
    ensure_results_released(campaign)
    if "format" in request.args:
        try:
            choice = read_choice(
                request.args, _answer_languages(campaign), default_lang=current_lang()
            )
        except ChoiceError as error:
            return _bad_choice(campaign, error)
        params = {"lang": choice.lang}
        if choice.format in ("csv", "codebook"):
            params["dialect"] = choice.dialect.key
        return redirect(
            url_for(ANSWER_FILE_ENDPOINTS[choice.format], campaign_id=campaign.id, **params), 303
        )
    return render_template(
        "dashboard/answer_files.html",
        campaign=campaign,
        errors={},
        values={"format": "csv", "lang": current_lang(), "dialect": "comma"},
        languages=_answer_languages(campaign),
    )


def _answer_file_download(campaign_id: int, file_format: str):
    """Check the request, record the download, then stream the chosen answer file."""
    campaign = authorised_campaign(campaign_id)
    ensure_results_released(campaign)  # answer files follow the results' release policy
    try:
        choice = read_choice(
            request.args,
            _answer_languages(campaign),
            default_lang=current_lang(),
            file_format=file_format,
        )
    except ChoiceError as error:
        return _bad_choice(campaign, error)
    try:
        file = answer_file(campaign, choice.lang)
    except ResultsNotReleased:
        raise
    except ServiceError:
        return _too_few_responses(campaign)
    if file_format == "csv":
        body = answers_csv(file, choice.dialect)
    elif file_format == "codebook":
        body = codebook_csv(file.codebook, choice.dialect)
    elif file_format == "xlsx":
        body = answers_xlsx(file)
    else:
        from ..services.spss import answers_sav  # loaded only for this download

        body = answers_sav(file)
    mimetype, suffix = ANSWER_FILE_TYPES[file_format]
    what = "codebook" if file_format == "codebook" else "answers"
    name = _filename(campaign.organisation.name, campaign.name, what, choice.lang, suffix=suffix)
    described = {
        "csv": f"answers as CSV ({choice.lang}, {choice.dialect.key})",
        "codebook": f"codebook as CSV ({choice.lang}, {choice.dialect.key})",
        "xlsx": f"answers as Excel ({choice.lang})",
        "sav": f"answers as SPSS ({choice.lang})",
    }[file_format]
    audit.record(
        "export",
        user=g.user,
        organisation=campaign.organisation_id,
        detail=f"campaign {campaign.id}: {described}",
    )
    db.session.commit()
    return _download(body, mimetype, name)


@bp.route("/campaigns/<int:campaign_id>/responses.csv")
@consultant_required  # managers never see individual answers (the survey promises it)
def responses_csv_download(campaign_id: int):
    return _answer_file_download(campaign_id, "csv")


@bp.route("/campaigns/<int:campaign_id>/responses.xlsx")
@consultant_required  # managers never see individual answers (the survey promises it)
def responses_xlsx_download(campaign_id: int):
    return _answer_file_download(campaign_id, "xlsx")


@bp.route("/campaigns/<int:campaign_id>/responses.sav")
@consultant_required  # managers never see individual answers (the survey promises it)
def responses_sav_download(campaign_id: int):
    return _answer_file_download(campaign_id, "sav")


@bp.route("/campaigns/<int:campaign_id>/codebook.csv")
@consultant_required
def codebook_csv_download(campaign_id: int):
    return _answer_file_download(campaign_id, "codebook")


@bp.route("/campaigns/<int:campaign_id>/results.csv")
@login_required
def results_csv_download(campaign_id: int):
    campaign = authorised_campaign(campaign_id)
    report, view = _load(campaign)
    body = results_csv(view, _participation(report))
    name = _filename(
        campaign.organisation.name, campaign.name, "results", current_lang(), suffix="csv"
    )
    audit.record(
        "results_download",
        user=g.user,
        organisation=campaign.organisation_id,
        detail=f"campaign {campaign.id}: results as CSV ({current_lang()})",
    )
    db.session.commit()
    return _download(body, "text/csv; charset=utf-8", name)


# ---------------------------------------------------------------------------------
# API tokens of the signed-in user


@bp.route("/api-tokens", methods=["GET", "POST"])
@login_required
def api_tokens():
    """The user's API tokens: create one with a name and a lifetime, list them, revoke one."""
    from ..services.tokens import (
        MAX_DAYS,
        MAX_NAME_LENGTH,
        MAX_TOKENS_PER_USER,
        MIN_DAYS,
        default_days,
        is_expired,
    )

    secret = None
    errors: dict[str, str] = {}
    values = {"name": "", "days": str(default_days())}
    if request.method == "POST" and request.form.get("action") == "revoke":
        try:
            name = revoke_token(g.user, int(request.form.get("token_id", "")))
        except (ServiceError, ValueError):
            db.session.rollback()
            flash(_("That token was already revoked, or is not yours. Nothing was changed."))
        else:
            db.session.commit()
            flash(
                _(
                    "The token “%(name)s” was revoked. Scripts that used it no longer have access.",
                    name=name,
                )
            )
        return redirect(url_for("dashboard.api_tokens"))
    if request.method == "POST":
        values = {
            "name": request.form.get("name", "").strip(),
            # A form without the field (an older page still open) gets the default.
            "days": request.form.get("days", str(default_days())).strip(),
        }
        if not values["name"] or len(values["name"]) > MAX_NAME_LENGTH:
            errors["token-name"] = _(
                "Give the token a name of at most %(n)d characters, for example the script "
                "that will use it.",
                n=MAX_NAME_LENGTH,
            )
        digits = values["days"]
        days = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 3 else 0
        if not MIN_DAYS <= days <= MAX_DAYS:
            errors["token-days"] = _(
                "Enter the number of days the token works, from %(low)d to %(high)d.",
                low=MIN_DAYS,
                high=MAX_DAYS,
            )
        if not errors:
            try:
                _token, secret = issue_token(g.user, values["name"], days)
            except ServiceError:
                db.session.rollback()
                errors["token-name"] = _(
                    "You already have %(n)d tokens. Revoke one you no longer use first.",
                    n=MAX_TOKENS_PER_USER,
                )
            else:
                db.session.commit()
                values = {"name": "", "days": str(default_days())}
    tokens = [
        {
            "id": t.id,
            "name": t.name,
            "created": t.created_on.isoformat(),
            "expires": t.expires_on.isoformat(),
            "expired": is_expired(t),
            "last_used": t.last_used_on.isoformat() if t.last_used_on else None,
        }
        for t in tokens_of(g.user)
    ]
    return (
        render_template(
            "dashboard/api_tokens.html",
            tokens=tokens,
            secret=secret,
            errors=errors,
            values=values,
            limits={"low": MIN_DAYS, "high": MAX_DAYS, "name": MAX_NAME_LENGTH},
        ),
        400 if errors else 200,
    )
