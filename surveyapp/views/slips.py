"""Paper invitation slips, for staff who have no e-mail or do not work at a computer.

Two pages: ``/code``, where anyone types the code from a slip and is sent on to the
survey (``/s/<code>``, as the slip's QR code does), and the consultants' page that makes
a campaign's slips as a PDF, after a check of what will be printed. The rules live in
``services/slips.py``.
"""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask import Response as FlaskResponse
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from .. import pdf
from ..extensions import db
from ..models import Campaign, CampaignDepartment
from ..services import ServiceError, audit
from ..services.campaigns import campaign_departments
from ..services.slips import (
    CODE_ALPHABET,
    CODE_LENGTH,
    MAX_SLIPS,
    check_printable,
    code_entry_paused,
    find_code,
    issue_codes,
    normalise_code,
    plan_slips,
    record_wrong_code,
    slip_sheet,
)
from .auth import consultant_required
from .dashboard import _filename
from .setup import NUMBER_MESSAGE

bp = Blueprint("slips", __name__)

SLIPS_TEMPLATE = "slips.html"
# The check page's one-time ticket: confirming takes it, so a second click or a reload
# of the confirmation cannot make a second set of codes that nobody meant to print.
TICKET = "slips_ticket"
ALL_DEPARTMENTS = ""
# The keys of services.slips.SLIP_LANGUAGES.
LANGUAGE_CHOICES = [
    SelectChoice("nl", _l("Dutch")),
    SelectChoice("en", _l("English")),
    SelectChoice("both", _l("Dutch and English")),
]


# Start page ------------------------------------------------------------------------------


class CodeForm(FlaskForm):
    code = StringField(
        _l("Your code"),
        validators=[DataRequired(_l("Enter the code from your slip."))],
    )


def _code_problem(candidate: str) -> str | None:
    """What is wrong with the shape of a typed code (nothing about whether it exists)."""
    if any(symbol not in CODE_ALPHABET for symbol in candidate):
        return _(
            "A code has only letters and digits, and no U. Check the code on your slip and "
            "type it again."
        )
    if len(candidate) != CODE_LENGTH:
        return _(
            "A code has %(length)d letters and digits; you typed %(typed)d. Check the code on "
            "your slip and type it again.",
            length=CODE_LENGTH,
            typed=len(candidate),
        )
    return None


@bp.route("/code", methods=["GET", "POST"])
def enter_code():
    """Type the code from a paper slip; a known code leads to its survey."""
    form = CodeForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        client = request.remote_addr
        pause = code_entry_paused(client)
        if pause is None:
            candidate = normalise_code(form.code.data)
            problem = _code_problem(candidate)
            if problem is None and find_code(candidate) is not None:
                # The survey's own start says whether the code was used or the survey has
                # closed, exactly as it does for the slip's QR code and for any link.
                return redirect(url_for("survey.start", token=candidate))
            if problem is None:
                # Only a well-formed code that no slip has counts towards the pause.
                pause = record_wrong_code(client)
                db.session.commit()
                problem = _(
                    "No survey has this code. Check that you typed the code on your slip "
                    "exactly: 16 letters and digits. Each slip has its own code."
                )
            form.code.errors.append(problem)
            status = 400
        if pause is not None:
            form.code.errors[:] = [
                _(
                    "Too many wrong codes were typed from your connection. For safety, "
                    "typing codes is paused for %(minutes)d min.: try again after that. "
                    "Scanning the QR code on your slip still works.",
                    minutes=pause.minutes,
                )
            ]
            status, headers = 429, {"Retry-After": str(pause.seconds)}
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "slips/code.html",
            form=form,
            language_link=lambda other: url_for("slips.enter_code", lang=other),
        ),
        status,
        headers,
    )


# Printing slips ---------------------------------------------------------------------------


class SlipsForm(FlaskForm):
    department = SelectField(
        _l("Department"),
        invalid_choice_message=_l("Choose one of the campaign's departments, or all."),
    )
    per_department = IntegerField(
        _l("Number of slips per department (optional)"),
        validators=[
            Optional(),
            NumberRange(1, MAX_SLIPS, _l("Enter a number of slips from %(min)d to %(max)d.")),
        ],
        invalid_value_message=NUMBER_MESSAGE,
    )
    language = RadioField(
        _l("Language on the slips"),
        choices=LANGUAGE_CHOICES,
        default="both",
        validators=[InputRequired(_l("Choose the language of the slips."))],
        invalid_choice_message=_l("Choose the language of the slips."),
    )
    ticket = HiddenField()

    def __init__(self, *args, departments: list[CampaignDepartment], **kwargs):
        super().__init__(*args, **kwargs)
        people = sum(d.headcount or 0 for d in departments)
        self.department.choices = [
            SelectChoice(ALL_DEPARTMENTS, _("All departments (%(n)d people)", n=people)),
            *(SelectChoice(d.code, _department_label(d)) for d in departments),
        ]

    @property
    def department_codes(self) -> list[str] | None:
        return [self.department.data] if self.department.data else None


def _department_label(department: CampaignDepartment) -> str:
    if department.headcount is None:
        return _("%(name)s (number of people not known)", name=department.name)
    return _("%(name)s (%(n)d people)", name=department.name, n=department.headcount)


def _base_url() -> str | None:
    """The address printed on the slips: BASE_URL; outside production, the request's."""
    config = current_app.config
    if config.get("BASE_URL"):
        return config["BASE_URL"]
    if config.get("ENV_NAME") == "production":
        return None
    return request.host_url


@bp.route("/consultant/setup/campaigns/<int:campaign_id>/slips", methods=["GET", "POST"])
@consultant_required
def print_slips(campaign_id: int):
    """Choose the slips, check them, then make the codes and download the PDF."""
    campaign = db.get_or_404(Campaign, campaign_id)
    try:
        check_printable(campaign)
    except ServiceError as exc:
        flash(str(exc))
        return redirect(url_for("setup.campaign", campaign_id=campaign.id))
    departments = campaign_departments(campaign)
    form = SlipsForm(departments=departments)
    context = {"campaign": campaign, "organisation": campaign.organisation, "form": form}
    base_url = _base_url()
    if base_url is None:
        error = _(
            "The server's address is not set, so the slips could not say where to go. "
            "Ask the administrator to set SURVEYAPP_BASE_URL."
        )
        return render_template("slips/form.html", error=error, **context), 409
    action = request.form.get("action", "check")
    if request.method == "GET" or action == "change":
        return render_template("slips/form.html", error=None, **context)
    if not form.validate_on_submit():
        return render_template("slips/form.html", error=None, **context), 400
    try:
        batch = plan_slips(campaign, form.per_department.data, form.department_codes)
    except ServiceError as exc:
        return render_template("slips/form.html", error=str(exc), **context), 400
    if action != "confirm":
        form.ticket.data = session[TICKET] = secrets.token_urlsafe(16)
        language = next(c.label for c in LANGUAGE_CHOICES if c.value == form.language.data)
        return render_template("slips/check.html", batch=batch, language=language, **context)
    if not form.ticket.data or session.pop(TICKET, None) != form.ticket.data:
        error = _(
            "These slips have already been made, or the check page was out of date. Nothing "
            "new was made. To print more slips, choose them again."
        )
        return render_template("slips/form.html", error=error, **context), 409
    codes = issue_codes(campaign, form.per_department.data, form.department_codes)
    sheet = slip_sheet(campaign, codes, form.language.data, base_url)
    # Drawn before the commit: if the PDF cannot be made, no codes are stored.
    data = pdf.create_pdf(sheet, template=SLIPS_TEMPLATE)
    where = form.department.data or "all departments"
    audit.record(
        "slips_printed",
        user=g.user,
        organisation=campaign.organisation_id,
        detail=(
            f"campaign {campaign.id}: {len(codes)} paper slips for {where} "
            f"({form.language.data}, {batch.pages} pages)"
        ),
    )
    db.session.commit()
    response = FlaskResponse(data, mimetype="application/pdf")
    name = _filename(
        "slips", campaign.organisation.name, campaign.id, form.department.data, suffix="pdf"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
