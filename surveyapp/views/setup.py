"""Client set-up for consultants in the browser: organisations, department trees and
campaigns from draft to closed, so that running a campaign needs no terminal.

Each page loads, authorises, validates a form, calls one service and commits; the rules
themselves live in ``services/organisations.py`` and ``services/campaigns.py``, shared
with the ``surveyapp`` command.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..extensions import db
from ..i18n import localised, long_date
from ..models import SIZE_BANDS, Campaign, Department, Organisation, QuestionnaireVersion
from ..services import ServiceError, audit
from ..services.aggregates import (
    MIN_NORM_ORGANISATIONS,
    NORM_GROUPS,
    NormGroupOption,
    campaign_norm_options,
    norm_group_options,
)
from ..services.campaigns import (
    MailingAfterClosing,
    choose_norm_group,
    close_campaign,
    create_campaign,
    extend_campaign,
    open_campaign,
    update_campaign,
)
from ..services.csvfiles import CSVFileError
from ..services.designs import design_for
from ..services.organisations import (
    HEADCOUNT_MAX,
    NAME_MAX,
    SECTORS,
    create_organisation,
    department_tree,
    import_departments,
    open_campaign_of,
    organisation_name_taken,
    preview_departments,
    sector_label,
    update_department,
    update_organisation,
)
from ..services.questionnaires import available_questionnaires, get_questionnaire
from .auth import consultant_required

bp = Blueprint("setup", __name__, url_prefix="/consultant/setup")

# A department file is a few hundred lines; it travels back in the confirmation form.
DEPARTMENT_FILE_MAX = 1024 * 1024
# How long a preview can be confirmed: after that, upload the file again.
PREVIEW_SECONDS = 3600
DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD, for example 2027-03-01.")
NUMBER_MESSAGE = _l("Enter a whole number, for example 5.")


@bp.app_template_filter("sector")
def sector_filter(sector: str) -> str:
    return sector_label(sector)


# Forms ---------------------------------------------------------------------------------


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Name of the organisation"),
        validators=[
            DataRequired(_l("Enter the name of the organisation.")),
            Length(
                max=NAME_MAX,
                message=_l("Use at most %(max)d characters for the name."),
            ),
        ],
    )
    sector = RadioField(
        _l("Sector"),
        validators=[InputRequired(_l("Choose the sector the organisation works in."))],
    )
    size_band = RadioField(
        _l("Number of employees"),
        validators=[InputRequired(_l("Choose how many people work at the organisation."))],
    )

    def __init__(self, *args, organisation: Organisation | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.sector.choices = [(key, str(label)) for key, label in SECTORS.items()]
        self.size_band.choices = [(band, band) for band in SIZE_BANDS]

    def validate_name(self, field: StringField) -> None:
        if organisation_name_taken(field.data, other_than=self.organisation):
            raise ValidationError(_("Another organisation already has this name."))


class UploadForm(FlaskForm):
    file = FileField(
        _l("Department file (CSV)"),
        validators=[FileRequired(_l("Choose the CSV file with the departments."))],
    )


class ConfirmDepartmentsForm(FlaskForm):
    token = HiddenField()


class DepartmentForm(FlaskForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter the name of the department.")),
            Length(max=NAME_MAX, message=_l("Use at most %(max)d characters for the name.")),
        ],
    )
    headcount = IntegerField(
        _l("Headcount (optional)"),
        validators=[
            Optional(),
            NumberRange(
                0,
                HEADCOUNT_MAX,
                _l("Enter the number of people in the department: 0 or more."),
            ),
        ],
        invalid_value_message=NUMBER_MESSAGE,
    )


def NormGroupField() -> RadioField:  # noqa: N802 (a field factory, used like a class)
    """The norm group of a campaign's report; its choices come from ``offer_norm_groups``."""
    return RadioField(
        _l("Norm group for the report"),
        default="all",
        # Left out of the form (an older client): all organisations, or the current choice.
        validators=[Optional()],
        validate_choice=False,  # check_offered explains a group that is not offered
    )


def _norm_title(option: NormGroupOption) -> str:
    """A norm group as the consultant chooses it: "Same sector: Healthcare"."""
    if option.key == "sector":
        return _("Same sector: %(sector)s", sector=sector_label(option.sector or ""))
    if option.key == "size":
        return _("Same size: %(size)s employees", size=option.size_band)
    if option.key == "sector_size":
        return _(
            "Same sector and size: %(sector)s, %(size)s employees",
            sector=sector_label(option.sector or ""),
            size=option.size_band,
        )
    return _("All organisations")


def _norm_count(option: NormGroupOption) -> str:
    return ngettext(
        "%(num)d other organisation with results",
        "%(num)d other organisations with results",
        option.organisations,
    )


def norm_group_problem(option: NormGroupOption) -> str | None:
    """Why a norm group is not offered (or, for all organisations, gives no benchmark)."""
    if option.problem == "too_close":
        return ngettext(
            "%(group)s: it leaves out only %(num)d organisation of a larger group, whose "
            "scores could then be worked out by comparing the two.",
            "%(group)s: it leaves out only %(num)d organisations of a larger group, whose "
            "scores could then be worked out by comparing the two.",
            option.left_out,
            group=_norm_title(option),
        )
    if option.problem == "too_few" and option.key == "all":
        return ngettext(
            "All organisations: %(num)d other organisation has results on this questionnaire, "
            "so the report shows no benchmark until there are at least %(min)d.",
            "All organisations: %(num)d other organisations have results on this "
            "questionnaire, so the report shows no benchmark until there are at least "
            "%(min)d.",
            option.organisations,
            min=MIN_NORM_ORGANISATIONS,
        )
    if option.problem == "too_few":
        return ngettext(
            "%(group)s: %(num)d other organisation has results on this questionnaire; at "
            "least %(min)d are needed.",
            "%(group)s: %(num)d other organisations have results on this questionnaire; at "
            "least %(min)d are needed.",
            option.organisations,
            group=_norm_title(option),
            min=MIN_NORM_ORGANISATIONS,
        )
    return None


def offer_norm_groups(
    field: RadioField, options: dict[str, NormGroupOption], current: str | None
) -> None:
    """Offer the norm groups that may be chosen now, and the current choice (kept even
    if it is no longer offered: the report then falls back to all organisations)."""
    current = current or "all"
    field.options = options
    field.current = current
    field.min_organisations = MIN_NORM_ORGANISATIONS
    field.choices = [
        (key, _("%(group)s (%(count)s)", group=_norm_title(option), count=_norm_count(option)))
        for key, option in options.items()
        if option.usable or key in ("all", current)
    ]
    field.not_offered = [
        norm_group_problem(option)
        for key, option in options.items()
        if option.problem and key != "all"
    ]
    # All organisations is always offered; with too few there is just no benchmark yet.
    field.all_note = norm_group_problem(options["all"]) if options["all"].problem else None


def check_offered(field: RadioField) -> None:
    """A field error for a norm group that is unknown or not offered now."""
    key = field.data or "all"
    if key not in NORM_GROUPS:
        raise ValidationError(_("Choose one of the norm groups in the list."))
    option = field.options[key]
    if key not in ("all", field.current) and not option.usable:
        raise ValidationError(
            _(
                "This norm group cannot be chosen now. %(reason)s Choose another one.",
                reason=norm_group_problem(option),
            )
        )


def _new_campaign_norm_options(
    organisation: Organisation, form: CampaignForm
) -> dict[str, NormGroupOption]:
    """The norm groups on offer for the questionnaire and threshold chosen in the form."""
    threshold = form.min_group_size.data
    if not isinstance(threshold, int) or threshold < 3:
        threshold = 5
    key, _sep, number = (form.questionnaire.data or "").rpartition(":")
    try:
        questionnaire = get_questionnaire(key, int(number))
    except (ServiceError, ValueError):
        questionnaire = None
    if questionnaire is None:
        return norm_group_options(organisation, None, (), threshold)
    version_id = db.session.scalar(
        sa.select(QuestionnaireVersion.id).filter_by(
            key=questionnaire.id, version=questionnaire.version
        )
    )
    return norm_group_options(
        organisation, version_id, design_for(questionnaire).dimension_ids, threshold
    )


class NormGroupForm(FlaskForm):
    norm_group = NormGroupField()

    def validate_norm_group(self, field: RadioField) -> None:
        check_offered(field)


class CampaignForm(FlaskForm):
    name = StringField(
        _l("Name of the campaign"),
        validators=[
            DataRequired(_l("Enter a name for the campaign, for example “Spring 2027”.")),
            Length(max=NAME_MAX, message=_l("Use at most %(max)d characters for the name.")),
        ],
    )
    questionnaire = RadioField(
        _l("Questionnaire"),
        validators=[InputRequired(_l("Choose the questionnaire staff will answer."))],
    )
    opens_on = DateField(
        _l("Opening date"),
        validators=[InputRequired(DATE_MESSAGE)],
        invalid_value_message=DATE_MESSAGE,
    )
    closes_on = DateField(
        _l("Closing date"),
        validators=[InputRequired(DATE_MESSAGE)],
        invalid_value_message=DATE_MESSAGE,
    )
    min_group_size = IntegerField(
        _l("Anonymity threshold for scores"),
        default=5,
        validators=[
            InputRequired(NUMBER_MESSAGE),
            NumberRange(3, 1000, _l("The threshold must be at least 3 respondents.")),
        ],
        invalid_value_message=NUMBER_MESSAGE,
    )
    min_comment_group_size = IntegerField(
        _l("Anonymity threshold for comments"),
        default=10,
        validators=[InputRequired(NUMBER_MESSAGE), NumberRange(3, 1000)],
        invalid_value_message=NUMBER_MESSAGE,
    )
    controller = StringField(
        _l("Responsible for the data (controller)"),
        validators=[
            Optional(),
            Length(max=200, message=_l("Use at most %(max)d characters.")),
        ],
    )
    controller_contact = StringField(
        _l("How to reach them about privacy"),
        validators=[
            Optional(),
            Length(max=254, message=_l("Use at most %(max)d characters.")),
        ],
    )
    retention_months = IntegerField(
        _l("Months the answers are kept (optional)"),
        validators=[
            Optional(),
            NumberRange(1, 120, _l("Enter a number of months from 1 to 120.")),
        ],
        invalid_value_message=NUMBER_MESSAGE,
    )
    results_on = DateField(
        _l("When staff will hear the results (optional)"),
        validators=[Optional()],
        invalid_value_message=DATE_MESSAGE,
    )
    max_reminders = IntegerField(
        _l("Most reminders to send"),
        default=2,
        validators=[
            InputRequired(NUMBER_MESSAGE),
            NumberRange(0, 5, _l("Enter a number of reminders from 0 to 5.")),
        ],
        invalid_value_message=NUMBER_MESSAGE,
    )
    norm_group = NormGroupField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questionnaire.choices = [
            (
                f"{key}:{version}",
                _("%(title)s, version %(version)d", title=localised(q.title), version=version),
            )
            for (key, version), q in sorted(available_questionnaires().items())
        ]

    def validate_closes_on(self, field: DateField) -> None:
        if self.opens_on.data and field.data and field.data <= self.opens_on.data:
            raise ValidationError(_("The closing date must be after the opening date."))

    def validate_results_on(self, field: DateField) -> None:
        if field.data and self.closes_on.data and field.data < self.closes_on.data:
            raise ValidationError(
                _("Choose a date on or after the closing date: results come after it.")
            )

    def validate_norm_group(self, field: RadioField) -> None:
        check_offered(field)

    def validate_min_comment_group_size(self, field: IntegerField) -> None:
        threshold = self.min_group_size.data
        if threshold is not None and field.data is not None and field.data < threshold:
            raise ValidationError(
                _(
                    "The threshold for comments must be at least the threshold for scores (%(n)d).",
                    n=threshold,
                )
            )


class ExtendForm(FlaskForm):
    closes_on = DateField(
        _l("New closing date"),
        validators=[InputRequired(DATE_MESSAGE)],
        invalid_value_message=DATE_MESSAGE,
    )

    def __init__(self, *args, current: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.current = current

    def validate_closes_on(self, field: DateField) -> None:
        if field.data is not None and field.data <= self.current:
            raise ValidationError(
                _(
                    "Choose a date after the current closing date, %(date)s.",
                    date=long_date(self.current),
                )
            )


class ConfirmForm(FlaskForm):
    """A button and its CSRF token: the page above it says what will happen."""


# Helpers -------------------------------------------------------------------------------


def _organisation(organisation_id: int) -> Organisation:
    return db.get_or_404(Organisation, organisation_id)


def _campaign(campaign_id: int) -> Campaign:
    return db.get_or_404(Campaign, campaign_id)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="setup.departments")


# Organisations ---------------------------------------------------------------------------


@bp.route("/")
@consultant_required
def index():
    organisations = db.session.scalars(sa.select(Organisation).order_by(Organisation.name)).all()
    return render_template("setup/index.html", organisations=organisations)


@bp.route("/organisations/new", methods=["GET", "POST"])
@consultant_required
def new_organisation():
    form = OrganisationForm()
    error = None
    if form.validate_on_submit():
        try:
            organisation = create_organisation(
                form.name.data, form.sector.data, form.size_band.data
            )
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            audit.record(
                "organisation_created",
                user=g.user,
                organisation=organisation,
                detail=f"{organisation.name} ({organisation.sector}, {organisation.size_band})",
            )
            db.session.commit()
            flash(_("%(name)s was added. Now upload its departments.", name=organisation.name))
            return redirect(url_for("setup.organisation", organisation_id=organisation.id))
    return render_template(
        "setup/organisation_form.html", form=form, error=error, organisation=None
    )


@bp.route("/organisations/<int:organisation_id>")
@consultant_required
def organisation(organisation_id: int):
    org = _organisation(organisation_id)
    return render_template(
        "setup/organisation.html",
        organisation=org,
        tree=department_tree(org),
        running=open_campaign_of(org),
        campaigns=sorted(org.campaigns, key=lambda c: (c.opens_on, c.id), reverse=True),
    )


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@consultant_required
def edit_organisation(organisation_id: int):
    org = _organisation(organisation_id)
    form = OrganisationForm(obj=org, organisation=org)
    error = None
    if form.validate_on_submit():
        before = {"name": org.name, "sector": org.sector, "size_band": org.size_band}
        try:
            changed = update_organisation(
                org, form.name.data, form.sector.data, form.size_band.data
            )
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            if changed:
                audit.record(
                    "organisation_changed",
                    user=g.user,
                    organisation=org,
                    detail="; ".join(
                        f"{field}: {before[field]} → {getattr(org, field)}" for field in changed
                    ),
                )
                db.session.commit()
                flash(_("The changes to %(name)s are saved.", name=org.name))
            return redirect(url_for("setup.organisation", organisation_id=org.id))
    return render_template("setup/organisation_form.html", form=form, error=error, organisation=org)


# Departments -----------------------------------------------------------------------------


def _problems(exc: ServiceError) -> tuple[list, str | None]:
    """The rows in error of a rejected file, or the one sentence of another refusal."""
    if isinstance(exc, CSVFileError):
        return exc.errors, None
    return [], str(exc)


@bp.route("/organisations/<int:organisation_id>/departments/upload", methods=["GET", "POST"])
@consultant_required
def upload_departments(organisation_id: int):
    org = _organisation(organisation_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template(
            "setup/departments_upload.html",
            organisation=org,
            form=form,
            running=open_campaign_of(org),
        )
    upload = form.file.data
    name = (upload.filename or "departments.csv")[:100]
    data = upload.read(DEPARTMENT_FILE_MAX + 1)
    if len(data) > DEPARTMENT_FILE_MAX:
        form.file.errors.append(
            _("The file is larger than 1 MB; a department file is far smaller.")
        )
        return render_template(
            "setup/departments_upload.html", organisation=org, form=form, running=None
        )
    try:
        preview = preview_departments(org, data, name)
    except ServiceError as exc:
        rows, message = _problems(exc)
        return render_template(
            "setup/departments_preview.html",
            organisation=org,
            filename=name,
            problems=rows,
            message=message,
            preview=None,
            form=None,
        )
    token = _serializer().dumps(
        {"organisation": org.id, "name": name, "data": data.decode("utf-8-sig")}
    )
    return render_template(
        "setup/departments_preview.html",
        organisation=org,
        filename=name,
        problems=[],
        message=None,
        preview=preview,
        form=ConfirmDepartmentsForm(token=token),
    )


@bp.route("/organisations/<int:organisation_id>/departments/confirm", methods=["POST"])
@consultant_required
def confirm_departments(organisation_id: int):
    org = _organisation(organisation_id)
    form = ConfirmDepartmentsForm()
    try:
        payload = _serializer().loads(form.token.data or "", max_age=PREVIEW_SECONDS)
    except BadSignature:
        payload = None
    if not form.validate_on_submit() or not payload or payload.get("organisation") != org.id:
        flash(_("That preview has expired or does not belong here. Upload the file again."))
        return redirect(url_for("setup.upload_departments", organisation_id=org.id))
    try:
        count = import_departments(org, payload["data"], payload["name"])
    except ServiceError as exc:
        # Something changed since the preview (a campaign opened, for example).
        db.session.rollback()
        rows, message = _problems(exc)
        return render_template(
            "setup/departments_preview.html",
            organisation=org,
            filename=payload["name"],
            problems=rows,
            message=message,
            preview=None,
            form=None,
        )
    audit.record(
        "departments_imported",
        user=g.user,
        organisation=org,
        detail=f"{count} departments from {payload['name']}",
    )
    db.session.commit()
    flash(_("The departments are stored: %(n)d rows from the file.", n=count))
    return redirect(url_for("setup.organisation", organisation_id=org.id))


@bp.route(
    "/organisations/<int:organisation_id>/departments/<code>",
    methods=["GET", "POST"],
)
@consultant_required
def edit_department(organisation_id: int, code: str):
    org = _organisation(organisation_id)
    department = db.session.scalar(
        sa.select(Department).filter_by(organisation_id=org.id, code=code)
    )
    if department is None:
        abort(404)
    running = open_campaign_of(org)
    form = DepartmentForm(obj=department)
    error = None
    if running is None and form.validate_on_submit():
        try:
            changed = update_department(department, form.name.data, form.headcount.data)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            if changed:
                audit.record(
                    "department_changed",
                    user=g.user,
                    organisation=org,
                    detail=f"{department.code}: {', '.join(changed)}",
                )
                db.session.commit()
                flash(_("The department %(code)s is saved.", code=department.code))
            return redirect(url_for("setup.organisation", organisation_id=org.id))
    status = 409 if running is not None and request.method == "POST" else 200
    return (
        render_template(
            "setup/department_form.html",
            organisation=org,
            department=department,
            form=form,
            error=error,
            running=running,
        ),
        status,
    )


# Campaigns -------------------------------------------------------------------------------


@bp.route("/organisations/<int:organisation_id>/campaigns/new", methods=["GET", "POST"])
@consultant_required
def new_campaign(organisation_id: int):
    org = _organisation(organisation_id)
    form = CampaignForm()
    if request.method == "GET" and form.questionnaire.choices:
        form.questionnaire.data = form.questionnaire.choices[-1][0]
    offer_norm_groups(form.norm_group, _new_campaign_norm_options(org, form), None)
    error = None
    if form.validate_on_submit():
        key, _sep, version = form.questionnaire.data.rpartition(":")
        try:
            questionnaire = get_questionnaire(key, int(version))
            campaign = create_campaign(
                org,
                questionnaire,
                form.name.data,
                form.opens_on.data,
                form.closes_on.data,
                form.min_group_size.data,
                form.min_comment_group_size.data,
                controller=form.controller.data,
                controller_contact=form.controller_contact.data,
                retention_months=form.retention_months.data,
                results_on=form.results_on.data,
                max_reminders=form.max_reminders.data,
            )
            choose_norm_group(campaign, form.norm_group.data)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            audit.record(
                "campaign_created",
                user=g.user,
                organisation=org,
                detail=(
                    f"campaign {campaign.id} ({questionnaire.id} v{questionnaire.version}, "
                    f"{campaign.opens_on} to {campaign.closes_on}, "
                    f"norm group {campaign.norm_group or 'all'})"
                ),
            )
            db.session.commit()
            flash(_("The campaign is saved as a draft. Check it, then open it."))
            return redirect(url_for("setup.campaign", campaign_id=campaign.id))
    return render_template("setup/campaign_form.html", organisation=org, form=form, error=error)


# A changed setting in the audit log: dates and numbers with their old and new value; for
# the texts only that they changed (the log is not a copy of the privacy statement).
_TEXT_SETTINGS = ("name", "controller", "controller_contact")


def _describe_changes(settings: dict[str, tuple[object, object]]) -> str:
    return "; ".join(
        name if name in _TEXT_SETTINGS else f"{name}: {old} → {new}"
        for name, (old, new) in settings.items()
    )


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@consultant_required
def edit_campaign(campaign_id: int):
    """Change a draft campaign's settings; an open one offers extending, a closed one none."""
    c = _campaign(campaign_id)
    if c.status == "closed":
        flash(_("This campaign is closed: its settings can no longer change."))
        return redirect(url_for("setup.campaign", campaign_id=c.id))
    if c.status == "open":
        return (
            render_template("setup/campaign_edit.html", campaign=c, organisation=c.organisation),
            409 if request.method == "POST" else 200,
        )
    version = c.questionnaire_version
    form = CampaignForm(obj=c, questionnaire=f"{version.key}:{version.version}")
    if request.method == "GET":
        form.norm_group.data = c.norm_group or "all"
    offer_norm_groups(
        form.norm_group, _new_campaign_norm_options(c.organisation, form), c.norm_group
    )
    error = None
    if form.validate_on_submit():
        key, _sep, number = form.questionnaire.data.rpartition(":")
        try:
            changes = update_campaign(
                c,
                get_questionnaire(key, int(number)),
                form.name.data,
                form.opens_on.data,
                form.closes_on.data,
                form.min_group_size.data,
                form.min_comment_group_size.data,
                controller=form.controller.data,
                controller_contact=form.controller_contact.data,
                retention_months=form.retention_months.data,
                results_on=form.results_on.data,
                max_reminders=form.max_reminders.data,
            )
            norm_change = choose_norm_group(c, form.norm_group.data)
            if norm_change:
                changes.settings["norm_group"] = norm_change
        except MailingAfterClosing as exc:
            db.session.rollback()
            form.closes_on.errors.append(
                _(
                    "E-mail to staff is scheduled for %(date)s. Choose a closing date on or "
                    "after that day, so that they can still use their link.",
                    date=long_date(exc.send_on),
                )
            )
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            if not changes.settings:
                flash(_("Nothing was changed: these were already the settings."))
                return redirect(url_for("setup.campaign", campaign_id=c.id))
            detail = f"campaign {c.id}: {_describe_changes(changes.settings)}"
            if changes.moved_mailings:
                detail += f"; {changes.moved_mailings} scheduled mailing(s) moved to {c.opens_on}"
            audit.record(
                "campaign_changed", user=g.user, organisation=c.organisation_id, detail=detail
            )
            db.session.commit()
            flash(_("The changes to the campaign are saved. It is still a draft."))
            if changes.moved_mailings:
                flash(
                    _(
                        "The e-mail to staff now goes out on the new opening day, %(date)s.",
                        date=long_date(c.opens_on),
                    )
                )
            return redirect(url_for("setup.campaign", campaign_id=c.id))
    return (
        render_template(
            "setup/campaign_form.html",
            organisation=c.organisation,
            campaign=c,
            form=form,
            error=error,
        ),
        400 if request.method == "POST" else 200,
    )


@bp.route("/campaigns/<int:campaign_id>")
@consultant_required
def campaign(campaign_id: int):
    c = _campaign(campaign_id)
    return render_template(
        "setup/campaign.html",
        campaign=c,
        organisation=c.organisation,
        departments=len(c.units) if c.status != "draft" else len(c.organisation.departments),
    )


@bp.route("/campaigns/<int:campaign_id>/norm-group", methods=["GET", "POST"])
@consultant_required
def norm_group(campaign_id: int):
    """Choose who the campaign's report compares the organisation with: a report setting,
    so it may change in any state, also after the campaign has closed."""
    c = _campaign(campaign_id)
    form = NormGroupForm()
    if request.method == "GET":
        form.norm_group.data = c.norm_group or "all"
    offer_norm_groups(form.norm_group, campaign_norm_options(c), c.norm_group)
    error = None
    if form.validate_on_submit():
        try:
            change = choose_norm_group(c, form.norm_group.data)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            if change is None:
                flash(_("Nothing was changed: this was already the norm group."))
            else:
                audit.record(
                    "campaign_changed",
                    user=g.user,
                    organisation=c.organisation_id,
                    detail=f"campaign {c.id}: {_describe_changes({'norm_group': change})}",
                )
                db.session.commit()
                flash(_("The norm group is saved. Every report of this campaign now uses it."))
            return redirect(url_for("setup.campaign", campaign_id=c.id))
    return (
        render_template(
            "setup/norm_group.html",
            campaign=c,
            organisation=c.organisation,
            form=form,
            error=error,
            min_organisations=MIN_NORM_ORGANISATIONS,
        ),
        400 if request.method == "POST" else 200,
    )


@bp.route("/campaigns/<int:campaign_id>/open", methods=["GET", "POST"])
@consultant_required
def open_campaign_page(campaign_id: int):
    c = _campaign(campaign_id)
    if c.status != "draft":
        flash(_("This campaign has already been opened."))
        return redirect(url_for("setup.campaign", campaign_id=c.id))
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            open_campaign(c)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            audit.record(
                "campaign_opened",
                user=g.user,
                organisation=c.organisation_id,
                detail=f"campaign {c.id}: {len(c.units)} departments",
            )
            db.session.commit()
            flash(_("The campaign is open. Its departments and thresholds are now fixed."))
            return redirect(url_for("setup.campaign", campaign_id=c.id))
    org = c.organisation
    return render_template(
        "setup/campaign_open.html",
        campaign=c,
        organisation=org,
        tree=department_tree(org),
        departments=len(org.departments),
        form=form,
        error=error,
    )


@bp.route("/campaigns/<int:campaign_id>/extend", methods=["GET", "POST"])
@consultant_required
def extend(campaign_id: int):
    c = _campaign(campaign_id)
    if c.status != "open":
        flash(_("Only an open campaign can be extended."))
        return redirect(url_for("setup.campaign", campaign_id=c.id))
    form = ExtendForm(current=c.closes_on)
    error = None
    if form.validate_on_submit():
        try:
            previous = extend_campaign(c, form.closes_on.data)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            audit.record(
                "campaign_extended",
                user=g.user,
                organisation=c.organisation_id,
                detail=f"campaign {c.id}: closes on {c.closes_on} instead of {previous}",
            )
            db.session.commit()
            flash(_("The campaign now closes on %(date)s.", date=long_date(c.closes_on)))
            return redirect(url_for("setup.campaign", campaign_id=c.id))
    return render_template(
        "setup/campaign_extend.html",
        campaign=c,
        organisation=c.organisation,
        form=form,
        error=error,
    )


@bp.route("/campaigns/<int:campaign_id>/close", methods=["GET", "POST"])
@consultant_required
def close(campaign_id: int):
    c = _campaign(campaign_id)
    if c.status != "open":
        flash(_("Only an open campaign can be closed."))
        return redirect(url_for("setup.campaign", campaign_id=c.id))
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            close_campaign(c)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            audit.record(
                "campaign_closed",
                user=g.user,
                organisation=c.organisation_id,
                detail=f"campaign {c.id}",
            )
            db.session.commit()
            flash(_("The campaign is closed and its results are released."))
            return redirect(url_for("setup.campaign", campaign_id=c.id))
    return render_template(
        "setup/campaign_close.html",
        campaign=c,
        organisation=c.organisation,
        form=form,
        error=error,
    )


# People ----------------------------------------------------------------------------------


class InviteForm(FlaskForm):
    email = StringField(
        _l("E-mail address of the manager"),
        validators=[DataRequired(_l("Enter the manager's e-mail address.")), Length(max=254)],
    )
    # "" is the whole organisation; a code limits the manager to that department's subtree.
    department = SelectField(
        _l("What may this manager see?"),
        description=_l(
            "A department head sees their own department and the departments under it, "
            "beside the organisation's overall figures; never another department's."
        ),
        validate_choice=False,
    )


def _department_choices(org: Organisation) -> list[tuple[str, str]]:
    return [("", _("The whole organisation"))] + [
        (d.code, _("%(name)s and the departments under it", name=d.name))
        for d in sorted(org.departments, key=lambda d: d.code)
    ]


@bp.route("/organisations/<int:organisation_id>/people", methods=["GET", "POST"])
@consultant_required
def people(organisation_id: int):
    """The organisation's managers; invite one by e-mail with a link to set a password."""
    from ..services.account_mail import invitation_message
    from ..services.mail import mail_available, send
    from ..services.users import find_department, invite_manager, managers_of

    org = _organisation(organisation_id)
    form = InviteForm()
    form.department.choices = _department_choices(org)
    error, link = None, None
    if form.validate_on_submit():
        base = current_app.config.get("BASE_URL") or request.host_url
        try:
            department = (
                find_department(org, form.department.data) if form.department.data else None
            )
            user, secret = invite_manager(
                form.email.data, org, current_app.config["ACCOUNT_INVITATION_DAYS"], department
            )
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            scope = f" (department {department.code} and below)" if department else ""
            audit.record("user_created", user=g.user, organisation=org, detail=user.email + scope)
            db.session.commit()
            link = base.rstrip("/") + url_for("auth.reset", token=secret)
            if mail_available(current_app.config):
                message = invitation_message(
                    user.email, org.name, link, base.rstrip("/") + url_for("auth.login")
                )
                try:
                    send(current_app.config, message)
                except Exception:  # noqa: BLE001 - the consultant gets the link instead
                    current_app.logger.exception("account invitation could not be sent")
                else:
                    flash(
                        _(
                            "%(email)s is invited: an e-mail with a link to set a password "
                            "is on its way.",
                            email=user.email,
                        )
                    )
                    return redirect(url_for("setup.people", organisation_id=org.id))
            # Without e-mail the consultant passes the link on; it is shown only now.
    status = 400 if error or form.errors else 200
    return (
        render_template(
            "setup/people.html",
            organisation=org,
            managers=managers_of(org),
            form=form,
            error=error,
            link=link,
            days=current_app.config["ACCOUNT_INVITATION_DAYS"],
        ),
        status,
    )


class ScopeForm(FlaskForm):
    department = SelectField(_l("What may this manager see?"), validate_choice=False)


@bp.route(
    "/organisations/<int:organisation_id>/people/<int:user_id>/scope", methods=["GET", "POST"]
)
@consultant_required
def manager_scope(organisation_id: int, user_id: int):
    """Limit a manager to one department's subtree, or let them see the whole organisation."""
    from ..models import User
    from ..services.users import find_department, set_department

    org = _organisation(organisation_id)
    user = db.session.get(User, user_id)
    if user is None or user.organisation_id != org.id:
        abort(404)
    form = ScopeForm()
    form.department.choices = _department_choices(org)
    error = None
    if request.method == "GET":
        form.department.data = user.department.code if user.department else ""
    elif form.validate_on_submit():
        try:
            department = (
                find_department(org, form.department.data) if form.department.data else None
            )
            set_department(user, department)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            scope = (
                f"department {department.code} and below" if department else "whole organisation"
            )
            audit.record(
                "user_scope", user=g.user, organisation=org, detail=f"{user.email}: {scope}"
            )
            db.session.commit()
            flash(
                _(
                    "%(email)s now sees %(scope)s.",
                    email=user.email,
                    scope=_("%(name)s and the departments under it", name=department.name)
                    if department
                    else _("the whole organisation"),
                )
            )
            return redirect(url_for("setup.people", organisation_id=org.id))
    return (
        render_template(
            "setup/manager_scope.html", organisation=org, manager=user, form=form, error=error
        ),
        400 if error or form.errors else 200,
    )


@bp.route("/organisations/<int:organisation_id>/people/<int:user_id>/disable", methods=["POST"])
@consultant_required
def disable_manager(organisation_id: int, user_id: int):
    from ..models import User
    from ..services.users import disable_user

    org = _organisation(organisation_id)
    user = db.session.get(User, user_id)
    if user is None or user.organisation_id != org.id:
        abort(404)
    disable_user(user)
    audit.record("user_disabled", user=g.user, organisation=org, detail=user.email)
    db.session.commit()
    flash(
        _("%(email)s can no longer sign in; every session of theirs has ended.", email=user.email)
    )
    return redirect(url_for("setup.people", organisation_id=org.id))
