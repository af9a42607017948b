"""Action plan pages: after a campaign closes, what the organisation will do about it.

Everyone who may see the campaign's results reads its plan. Consultants and the
organisation's managers who see the whole organisation change it: they choose up to
three focus dimensions (dropping one that has actions asks first, since its actions go
with it) and add, change or remove actions, one form per page. Every change is one
transaction with its audit event (``services/action_plans.py``).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from ..extensions import db
from ..i18n import long_date
from ..models import ACTION_STATUSES, MAX_FOCUS_DIMENSIONS, Campaign
from ..services import ServiceError
from ..services import action_plans as plans
from ..services.release import ResultsNotReleased, ensure_results_released
from .auth import login_required
from .dashboard import authorised_campaign, current_lang, results_not_released

bp = Blueprint("action_plans", __name__, url_prefix="/results/campaigns/<int:campaign_id>")
# An open campaign has no results to plan from: 409, like every results address.
bp.register_error_handler(ResultsNotReleased, results_not_released)

DATE_MESSAGE = _l("Enter the due date as YYYY-MM-DD, for example 2027-06-30.")
STATUS_LABELS = {
    "planned": _l("Planned"),
    "under_way": _l("Under way"),
    "done": _l("Done"),
    "dropped": _l("Dropped"),
}


class FocusForm(FlaskForm):
    # Choices are checked by the service, which says in words what was wrong.
    dimensions = SelectMultipleField(
        _l("Which dimensions will you focus on?"), choices=[], validate_choice=False
    )

    def validate_dimensions(self, field: SelectMultipleField) -> None:
        if len(field.data or []) > MAX_FOCUS_DIMENSIONS:
            raise ValidationError(
                _(
                    "Choose at most %(max)d dimensions: you chose %(n)d. A plan works best "
                    "with a few things done well.",
                    max=MAX_FOCUS_DIMENSIONS,
                    n=len(field.data),
                )
            )


class ActionForm(FlaskForm):
    text = TextAreaField(
        _l("What will be done"),
        validators=[
            DataRequired(_l("Describe the action, for example who meets whom and what for.")),
            Length(
                max=plans.TEXT_MAX,
                message=_l("Use at most %(max)d characters to describe the action."),
            ),
        ],
    )
    owner = StringField(
        _l("Who is responsible"),
        validators=[
            DataRequired(_l("Enter the name of the person or team responsible.")),
            Length(max=plans.OWNER_MAX, message=_l("Use at most %(max)d characters.")),
        ],
    )
    due_on = DateField(
        _l("Due date"),
        validators=[InputRequired(DATE_MESSAGE)],
        invalid_value_message=DATE_MESSAGE,
    )
    status = RadioField(
        _l("Status"),
        choices=[SelectChoice(s, STATUS_LABELS[s]) for s in ACTION_STATUSES],
        default="planned",
        validators=[InputRequired(_l("Choose how far the action has got."))],
    )

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def validate_due_on(self, field: DateField) -> None:
        closed = self.campaign.closed_on or self.campaign.closes_on
        latest = plans.latest_due(self.campaign)
        if field.data is not None and not closed <= field.data <= latest:
            raise ValidationError(
                _(
                    "Choose a due date from %(first)s, the day the campaign closed, to %(last)s.",
                    first=long_date(closed),
                    last=long_date(latest),
                )
            )


class ConfirmForm(FlaskForm):
    """A button and its CSRF token: the page above it says what will happen."""


# ---------------------------------------------------------------------------------
# Helpers


def _readable(campaign_id: int) -> Campaign:
    """The campaign, if the user may read its plan and its results are out."""
    campaign = authorised_campaign(campaign_id)
    ensure_results_released(campaign)
    return campaign


def _editable(campaign_id: int) -> Campaign:
    """As ``_readable``, and 403 for a department head: the plan is the organisation's."""
    campaign = _readable(campaign_id)
    if not plans.may_edit(g.user, campaign):
        abort(403)
    return campaign


def _plan_page(campaign: Campaign):
    return redirect(url_for("action_plans.plan", campaign_id=campaign.id))


def _choice(campaign: Campaign, dimension_id: str) -> plans.DimensionChoice | None:
    return next(
        (c for c in plans.dimension_choices(campaign, current_lang()) if c.id == dimension_id),
        None,
    )


def _focus_entry(campaign: Campaign, dimension_id: str) -> plans.FocusEntry | None:
    summary = plans.plan_summary(campaign, current_lang())
    if summary is None:
        return None
    return next((f for f in summary.focus if f.dimension_id == dimension_id), None)


def _form_page(template: str, status: int = 200, **context):
    return render_template(template, status_labels=STATUS_LABELS, **context), status


# ---------------------------------------------------------------------------------
# Pages


@bp.route("/action-plan")
@login_required
def plan(campaign_id: int):
    campaign = _readable(campaign_id)
    lang = current_lang()
    return render_template(
        "action_plans/plan.html",
        campaign=campaign,
        plan=plans.plan_summary(campaign, lang),
        choices=plans.dimension_choices(campaign, lang),
        may_edit=plans.may_edit(g.user, campaign),
        max_actions=plans.MAX_ACTIONS,
        max_focus=MAX_FOCUS_DIMENSIONS,
        status_labels=STATUS_LABELS,
        today=dt.date.today(),
    )


@bp.route("/action-plan/focus", methods=["GET", "POST"])
@login_required
def focus(campaign_id: int):
    """Choose the focus dimensions; dropping one with actions asks first."""
    campaign = _editable(campaign_id)
    choices = plans.dimension_choices(campaign, current_lang())
    if not choices:
        flash(_("This campaign has no results to plan from: too few people responded."))
        return _plan_page(campaign)
    current = plans.plan_summary(campaign, current_lang())
    chosen = [f.dimension_id for f in current.focus] if current else []
    form = FocusForm(dimensions=chosen)
    form.dimensions.choices = [SelectChoice(c.id, c.name) for c in choices]
    error = None
    if form.validate_on_submit():
        wanted = list(form.dimensions.data or [])
        if not wanted and not chosen:
            form.dimensions.errors.append(
                _(
                    "Choose at least one dimension to focus on, and at most %(max)d.",
                    max=MAX_FOCUS_DIMENSIONS,
                )
            )
        else:
            lost = plans.actions_lost(campaign, wanted)
            if any(lost.values()) and request.form.get("confirmed") != "yes":
                names = {c.id: c.name for c in choices}
                return _form_page(
                    "action_plans/focus_confirm.html",
                    campaign=campaign,
                    form=ConfirmForm(),
                    wanted=wanted,
                    lost=[
                        (current_entry, names.get(current_entry.dimension_id))
                        for current_entry in current.focus
                        if lost.get(current_entry.dimension_id)
                    ],
                )
            try:
                change = plans.set_focus(campaign, wanted, g.user)
            except ServiceError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                db.session.commit()
                if not (change.added or change.removed):
                    flash(_("Nothing was changed: these were already the focus dimensions."))
                elif wanted:
                    flash(_("The focus dimensions are saved. Add actions to each of them."))
                else:
                    flash(_("The plan no longer has any focus dimension."))
                return _plan_page(campaign)
    return _form_page(
        "action_plans/focus.html",
        400 if request.method == "POST" else 200,
        campaign=campaign,
        form=form,
        choices=choices,
        error=error,
        max_focus=MAX_FOCUS_DIMENSIONS,
    )


@bp.route("/action-plan/<dimension_id>/actions/new", methods=["GET", "POST"])
@login_required
def new_action(campaign_id: int, dimension_id: str):
    """Add an action; the first one of a dimension starts from its recommendation."""
    campaign = _editable(campaign_id)
    entry = _focus_entry(campaign, dimension_id)
    if entry is None:
        flash(_("Choose this dimension as a focus first; then add its actions."))
        return _plan_page(campaign)
    if len(entry.actions) >= plans.MAX_ACTIONS:
        flash(
            _(
                "%(dimension)s already has %(n)d actions, the most a focus dimension can have. "
                "Remove or merge one first.",
                dimension=entry.name,
                n=plans.MAX_ACTIONS,
            )
        )
        return _plan_page(campaign)
    form = ActionForm(campaign=campaign)
    if request.method == "GET" and not entry.actions and entry.recommendation:
        form.text.data = entry.recommendation
    error = None
    if form.validate_on_submit():
        try:
            plans.add_action(
                campaign,
                dimension_id,
                form.text.data,
                form.owner.data,
                form.due_on.data,
                form.status.data,
                g.user,
            )
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            flash(_("The action is added to %(dimension)s.", dimension=entry.name))
            return _plan_page(campaign)
    return _form_page(
        "action_plans/action_form.html",
        400 if request.method == "POST" else 200,
        campaign=campaign,
        entry=entry,
        form=form,
        error=error,
        action_id=None,
        prefilled=not entry.actions and bool(entry.recommendation),
    )


@bp.route("/action-plan/actions/<int:action_id>", methods=["GET", "POST"])
@login_required
def edit_action(campaign_id: int, action_id: int):
    campaign = _editable(campaign_id)
    try:
        action = plans.find_action(campaign, action_id)
    except ServiceError as exc:
        flash(str(exc))
        return _plan_page(campaign)
    entry = _focus_entry(campaign, action.focus.dimension_id)
    form = ActionForm(obj=action, campaign=campaign)
    error = None
    if form.validate_on_submit():
        try:
            changed = plans.update_action(
                campaign,
                action_id,
                form.text.data,
                form.owner.data,
                form.due_on.data,
                form.status.data,
                g.user,
            )
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            flash(
                _("The action is saved.")
                if changed
                else _("Nothing was changed: the action already read like this.")
            )
            return _plan_page(campaign)
    return _form_page(
        "action_plans/action_form.html",
        400 if request.method == "POST" else 200,
        campaign=campaign,
        entry=entry,
        form=form,
        error=error,
        action_id=action_id,
        prefilled=False,
    )


@bp.route("/action-plan/actions/<int:action_id>/remove", methods=["GET", "POST"])
@login_required
def remove_action(campaign_id: int, action_id: int):
    """Check page before an action is deleted: it cannot be brought back."""
    campaign = _editable(campaign_id)
    try:
        action = plans.find_action(campaign, action_id)
    except ServiceError as exc:
        flash(str(exc))
        return _plan_page(campaign)
    entry = _focus_entry(campaign, action.focus.dimension_id)
    form = ConfirmForm()
    error = None
    if form.validate_on_submit():
        try:
            plans.remove_action(campaign, action_id, g.user)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            flash(_("The action is removed from the plan."))
            return _plan_page(campaign)
    shown = next(a for a in entry.actions if a.id == action_id) if entry else None
    return _form_page(
        "action_plans/remove.html",
        campaign=campaign,
        entry=entry,
        action=shown,
        form=form,
        error=error,
    )
