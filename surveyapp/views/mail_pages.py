"""E-mail invitations and reminders from the browser, and live participation, for
consultants (``/consultant/setup/campaigns/<id>/mail`` and ``.../participation``).

The same services as ``surveyapp invitations add|send|remind|status``
(``services/mailings.py``) and the job queue (``services/jobs.py``); every figure that
depends on who has answered is rounded down to a multiple of the campaign's threshold,
and no address is ever shown back.
"""

from __future__ import annotations

import datetime as dt
import re

from flask import (
    Blueprint,
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
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Optional, ValidationError

from ..extensions import db
from ..i18n import long_date
from ..models import Campaign, today
from ..services import ServiceError, audit
from ..services.campaigns import campaign_departments
from ..services.mailings import (
    AddressListError,
    AddressProblem,
    add_recipients,
    failure_reasons,
    mail_status,
    recipient_counts,
    schedule_invitations,
    schedule_reminder,
    uninvited_count,
    uninvited_counts,
)
from ..services.participation import live_participation
from .auth import consultant_required

bp = Blueprint("mail_pages", __name__, url_prefix="/consultant/setup/campaigns")

# An address list of 100,000 people is a few megabytes; more is not an address list.
ADDRESS_FILE_MAX = 8 * 1024 * 1024
# Problems listed one by one in the error summary; the rest are counted.
PROBLEMS_SHOWN = 50
DATE_MESSAGE = _l("Enter a date as YYYY-MM-DD, for example 2027-03-01.")
SEPARATORS = re.compile(r"[,;]")


# Forms -----------------------------------------------------------------------------------


class AddressesForm(FlaskForm):
    department = SelectField(
        _l("Department"),
        validators=[InputRequired(_l("Choose the department these people work in."))],
    )
    addresses = TextAreaField(_l("E-mail addresses"), validators=[Optional()])
    file = FileField(_l("Or upload a file (.txt or .csv)"), validators=[Optional()])

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.department.choices = [("", _("Choose a department"))] + [
            (unit.code, f"{unit.name} ({unit.code})") for unit in campaign_departments(campaign)
        ]


class WhenForm(FlaskForm):
    """When the invitation goes: now (or on the opening day), or on a chosen day."""

    when = RadioField(
        _l("When should the invitation go?"),
        validators=[InputRequired(_l("Choose when the invitation should go."))],
    )
    on = DateField(_l("Date"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)

    def __init__(self, *args, campaign: Campaign, **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        first = _first_day(campaign)
        self.when.choices = [
            (
                "first",
                _("Now")
                if first == today()
                else _("On the opening day, %(date)s", date=long_date(first)),
            ),
            ("date", _("On another day")),
        ]

    def validate_when(self, field: RadioField) -> None:
        if field.data == "first":
            _check_day(self.campaign, _first_day(self.campaign))

    def validate_on(self, field: DateField) -> None:
        if self.when.data == "date" and field.data is not None:
            _check_day(self.campaign, field.data)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # An empty date stops the field's own checks (Optional), so its absence is
        # caught here, where the choice of "another day" is known.
        if self.when.data == "date" and self.on.data is None and not self.on.errors:
            self.on.errors = [_("Enter the day the invitation should go.")]
            return False
        return valid

    def sending_day(self) -> dt.date:
        return self.on.data if self.when.data == "date" else _first_day(self.campaign)


class ConfirmInvitationsForm(FlaskForm):
    on = HiddenField()


class ReminderForm(FlaskForm):
    on = DateField(
        _l("Date of the reminder"), validators=[Optional()], invalid_value_message=DATE_MESSAGE
    )


# Helpers ---------------------------------------------------------------------------------


def _campaign(campaign_id: int) -> Campaign:
    return db.get_or_404(Campaign, campaign_id)


def _first_day(campaign: Campaign) -> dt.date:
    """The first day an invitation can go: today, or the opening day if that is later."""
    return max(today(), campaign.opens_on)


def _check_day(campaign: Campaign, day: dt.date) -> None:
    """A sending day must be today or later and fall while the campaign runs."""
    if day < today():
        raise ValidationError(_("That day has passed. Choose today or a later day."))
    if not campaign.opens_on <= day <= campaign.closes_on:
        raise ValidationError(
            _(
                "Choose a day from %(opens)s to %(closes)s: links work only while the "
                "campaign runs.",
                opens=long_date(campaign.opens_on),
                closes=long_date(campaign.closes_on),
            )
        )


def _enqueue(mailing_id: int) -> None:
    """Ask the worker to look now; if the queue cannot be reached, its periodic check
    sends the mailing on its day anyway, so the committed mailing stands."""
    from ..services.jobs import enqueue_mailing

    try:
        enqueue_mailing(mailing_id)
    except Exception:  # noqa: BLE001 - the mailing is stored; the dispatcher finds it
        current_app.logger.exception("mailing %s could not be put on the job queue", mailing_id)


def _pasted(text: str) -> tuple[str, bool]:
    """Addresses separated by commas or semicolons, one per line, and whether rows now
    count addresses rather than lines; a CSV with an 'email' column, or a list that is
    already one per line, is left as it is."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    header = [cell.strip().lower() for cell in SEPARATORS.split(first)]
    if "email" in header or not SEPARATORS.search(text):
        return text, False
    parts = (part.strip() for part in SEPARATORS.split(text.replace("\n", ",")))
    return "\n".join(part for part in parts if part), True


def describe_problem(problem: AddressProblem) -> str:
    """One reason a list was refused, in the reader's language."""
    if problem.kind == "empty":
        return _("Row %(row)d: the e-mail address is empty.", row=problem.row)
    if problem.kind == "invalid":
        return _("Row %(row)d: “%(value)s” is not an e-mail address.", **_fields(problem))
    if problem.kind == "duplicate":
        return _(
            "Row %(row)d: %(value)s is also on row %(first)d.",
            first=problem.first_row,
            **_fields(problem),
        )
    if problem.kind == "already":
        return _("%(value)s is already on this campaign's list.", value=problem.value)
    if problem.kind == "no_email_column":
        return _(
            "The first row has commas or semicolons but no column called email. Give one "
            "address per line, or a CSV file whose first row names the email column."
        )
    if problem.kind == "too_many":
        return _(
            "The list has %(n)d addresses; split it into lists of at most 100,000.",
            n=problem.row,
        )
    return _("The list has no e-mail addresses.")


def _fields(problem: AddressProblem) -> dict[str, object]:
    return {"row": problem.row, "value": problem.value}


def _reminders_used(status) -> int:
    return sum(1 for m in status.mailings if m.kind == "reminder" and m.status != "cancelled")


def _invitation_scheduled(status):
    """An invitation mailing that has not started: addresses added now go with it."""
    return next(
        (m for m in status.mailings if m.kind == "invitation" and m.status == "scheduled"), None
    )


# Pages -----------------------------------------------------------------------------------


@bp.route("/<int:campaign_id>/mail")
@consultant_required
def overview(campaign_id: int):
    """The campaign's address lists (counts only), mailings and failed deliveries."""
    c = _campaign(campaign_id)
    status = mail_status(c)
    counts = recipient_counts(c)
    departments = [
        (unit.name, unit.code, counts.get(unit.department_id, 0))
        for unit in campaign_departments(c)
    ]
    return render_template(
        "mail_pages/overview.html",
        campaign=c,
        organisation=c.organisation,
        status=status,
        departments=departments,
        uninvited=uninvited_count(c),
        scheduled=_invitation_scheduled(status),
        reasons=failure_reasons(c),
        reminders_used=_reminders_used(status),
    )


@bp.route("/<int:campaign_id>/mail/addresses", methods=["GET", "POST"])
@consultant_required
def add_addresses(campaign_id: int):
    """Add one department's addresses, pasted or uploaded; refused whole on any error."""
    c = _campaign(campaign_id)
    if c.status != "open":
        flash(_("Addresses can be added only while the campaign is open."))
        return redirect(url_for("mail_pages.overview", campaign_id=c.id))
    form = AddressesForm(campaign=c)
    error, problems, more, by_position = None, [], 0, False
    if form.validate_on_submit():
        text, label, by_position = _address_text(form)
        if text is not None:
            try:
                added = add_recipients(
                    c, form.department.data, text, current_app.config["SECRET_KEY"], label
                )
            except AddressListError as exc:
                db.session.rollback()
                error = _("Nothing was stored. Correct the list and add it again.")
                problems = [describe_problem(p) for p in exc.problems[:PROBLEMS_SHOWN]]
                more = len(exc.problems) - PROBLEMS_SHOWN
            except ServiceError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                # The count only: the log never holds the addresses.
                audit.record(
                    "invitations_issued",
                    user=g.user,
                    organisation=c.organisation_id,
                    detail=f"campaign {c.id}: {added} links for e-mail to {form.department.data}",
                )
                db.session.commit()
                flash(
                    _(
                        "%(n)d addresses were added to %(department)s. Each has its own "
                        "survey link, which the invitation brings.",
                        n=added,
                        department=dict(form.department.choices)[form.department.data],
                    )
                )
                return redirect(url_for("mail_pages.overview", campaign_id=c.id))
    failed = bool(error or form.errors)
    return (
        render_template(
            "mail_pages/addresses.html",
            campaign=c,
            organisation=c.organisation,
            form=form,
            error=error,
            problems=problems,
            more=max(more, 0),
            by_position=by_position,
            problem_field="file" if form.file.data and form.file.data.filename else "addresses",
        ),
        400 if failed else 200,
    )


def _address_text(form: AddressesForm) -> tuple[str | None, str, bool]:
    """The list's text, its name, and whether rows count addresses rather than lines; or
    None with a field error."""
    pasted = (form.addresses.data or "").strip()
    upload = form.file.data
    has_file = upload is not None and bool(getattr(upload, "filename", ""))
    if pasted and has_file:
        form.addresses.errors.append(_("Paste the addresses or upload a file, not both."))
        return None, "", False
    if not pasted and not has_file:
        form.addresses.errors.append(_("Paste the addresses, or upload a file with them."))
        return None, "", False
    if pasted:
        text, by_position = _pasted(pasted)
        return text, "the pasted list", by_position
    name = (upload.filename or "addresses.txt")[:100]
    if not name.lower().endswith((".txt", ".csv")):
        form.file.errors.append(_("Upload a .txt or .csv file."))
        return None, "", False
    data = upload.read(ADDRESS_FILE_MAX + 1)
    if len(data) > ADDRESS_FILE_MAX:
        form.file.errors.append(_("The file is larger than 8 MB; split it into smaller files."))
        return None, "", False
    try:
        return data.decode("utf-8-sig"), name, False
    except UnicodeDecodeError:
        form.file.errors.append(
            _("The file is not UTF-8 text. Save it as UTF-8 (CSV UTF-8 in Excel) and try again.")
        )
        return None, "", False


@bp.route("/<int:campaign_id>/mail/invitations", methods=["GET", "POST"])
@consultant_required
def invitations(campaign_id: int):
    """Choose when the invitation goes; the next page checks before anything is sent."""
    c = _campaign(campaign_id)
    refusal = _invitation_refusal(c)
    if refusal:
        flash(refusal)
        return redirect(url_for("mail_pages.overview", campaign_id=c.id))
    form = WhenForm(campaign=c)
    if request.method == "GET":
        form.when.data = "first"
    if form.validate_on_submit():
        return redirect(
            url_for(
                "mail_pages.check_invitations",
                campaign_id=c.id,
                on=form.sending_day().isoformat(),
            )
        )
    return (
        render_template(
            "mail_pages/invitations.html",
            campaign=c,
            organisation=c.organisation,
            form=form,
            uninvited=uninvited_count(c),
        ),
        400 if form.errors else 200,
    )


def _invitation_refusal(c: Campaign) -> str | None:
    """Why no invitation mailing can be planned now, in a sentence; None if it can."""
    if c.status != "open":
        return _("Invitations go only while the campaign is open.")
    status = mail_status(c)
    scheduled = _invitation_scheduled(status)
    if scheduled is not None:
        return _(
            "An invitation is already planned for %(date)s; addresses added before then go "
            "with it.",
            date=long_date(scheduled.send_on),
        )
    if not uninvited_count(c):
        return _("Everyone on the list has been invited. Add addresses first.")
    return None


@bp.route("/<int:campaign_id>/mail/invitations/check", methods=["GET", "POST"])
@consultant_required
def check_invitations(campaign_id: int):
    """Check your answers, then send: the one irreversible step."""
    c = _campaign(campaign_id)
    refusal = _invitation_refusal(c)
    if refusal:
        flash(refusal)
        return redirect(url_for("mail_pages.overview", campaign_id=c.id))
    form = ConfirmInvitationsForm()
    raw = form.on.data if request.method == "POST" else request.args.get("on", "")
    try:
        day = dt.date.fromisoformat(raw or "")
        _check_day(c, day)
    except (ValueError, ValidationError):
        flash(_("Choose the day again: the one given cannot be used."))
        return redirect(url_for("mail_pages.invitations", campaign_id=c.id))
    error = None
    if form.validate_on_submit():
        try:
            mailing = schedule_invitations(c, day)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            _enqueue(mailing.id)
            flash(
                _("The invitations are being sent.")
                if day == today()
                else _("The invitations will be sent on %(date)s.", date=long_date(day))
            )
            return redirect(url_for("mail_pages.overview", campaign_id=c.id))
    form.on.data = day.isoformat()
    waiting = uninvited_counts(c)
    return render_template(
        "mail_pages/check_invitations.html",
        campaign=c,
        organisation=c.organisation,
        form=form,
        error=error,
        day=day,
        today=today(),
        uninvited=sum(waiting.values()),
        departments=sum(1 for n in waiting.values() if n),
    )


@bp.route("/<int:campaign_id>/mail/reminders", methods=["GET", "POST"])
@consultant_required
def reminders(campaign_id: int):
    """Send a reminder now, or plan one, to those who have not answered."""
    c = _campaign(campaign_id)
    status = mail_status(c)
    used = _reminders_used(status)
    form = ReminderForm()
    error = None
    if form.validate_on_submit():
        now = "now" in request.form
        day = today() if now else form.on.data
        error = _reminder_refusal(c, status, used)
        if error is None and day is None:
            form.on.errors.append(_("Enter the day the reminder should go."))
        elif error is None:
            problem = _day_problem(c, status, day)
            if problem and now:
                error = problem
            elif problem:
                form.on.errors.append(problem)
        if error is None and not form.on.errors:
            try:
                mailing = schedule_reminder(c, day)
            except ServiceError as exc:
                db.session.rollback()
                error = str(exc)
            else:
                db.session.commit()
                _enqueue(mailing.id)
                flash(
                    _("The reminder is being sent to those who have not answered yet.")
                    if day == today()
                    else _("The reminder will be sent on %(date)s.", date=long_date(day))
                )
                return redirect(url_for("mail_pages.overview", campaign_id=c.id))
    failed = bool(error or form.errors)
    return (
        render_template(
            "mail_pages/reminders.html",
            campaign=c,
            organisation=c.organisation,
            form=form,
            error=error,
            status=status,
            used=used,
            invited=any(
                m.kind == "invitation" and m.status != "cancelled" for m in status.mailings
            ),
        ),
        (409 if error else 400) if failed else 200,
    )


def _reminder_refusal(c: Campaign, status, used: int) -> str | None:
    """Why no reminder can go at all, in a sentence; None if one can."""
    if c.status != "open":
        return _("Reminders go only while the campaign is open.")
    if not any(m.kind == "invitation" and m.status != "cancelled" for m in status.mailings):
        return _("Send the invitations first: a reminder goes only to people who were invited.")
    if not c.max_reminders:
        return _("This campaign allows no reminders.")
    if used >= c.max_reminders:
        return ngettext(
            "This campaign allows %(num)d reminder and it is sent or planned, so no more "
            "can go: staff are not reminded more often than that.",
            "This campaign allows %(num)d reminders and all of them are sent or planned, so "
            "no more can go: staff are not reminded more often than that.",
            c.max_reminders,
        )
    return None


def _day_problem(c: Campaign, status, day: dt.date) -> str | None:
    """Why a reminder cannot go on ``day``; None if it can."""
    try:
        _check_day(c, day)
    except ValidationError as exc:
        return str(exc)
    if any(
        m.kind == "reminder" and m.send_on == day and m.status != "cancelled"
        for m in status.mailings
    ):
        return _("A reminder is already planned for %(date)s.", date=long_date(day))
    return None


@bp.route("/<int:campaign_id>/participation")
@consultant_required
def participation(campaign_id: int):
    """Responses per day and per department while the campaign is open, rounded."""
    c = _campaign(campaign_id)
    return render_template(
        "mail_pages/participation.html",
        campaign=c,
        organisation=c.organisation,
        live=live_participation(c) if c.status == "open" else None,
    )
