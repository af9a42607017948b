"""The ``surveyapp`` command: every CLI subcommand calls the same services as the web."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext

from .cli_mail import INVITATION_COMMANDS, worker
from .cli_serve import serve
from .services import ServiceError

# The database extension (and with it SQLAlchemy and Alembic) is imported inside the
# commands that use it, so that `surveyapp analyze` starts without it.


def _create_app():
    """The app for every command that needs one; a bad setting is one line and exit 1."""
    from . import create_app
    from .config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Social business maturity: survey, statistics and reports."""


def register(app) -> None:
    """Attach every command to ``app.cli`` (used by ``surveyapp`` and the test runner)."""
    for command in COMMANDS:
        app.cli.add_command(command)
    # Flask-Migrate's `db` group (already imported by the app's extensions) gets the check
    # of the packed answers beside `db upgrade`.
    from flask_migrate.cli import db as database_commands

    from .cli_db import check_answers

    database_commands.add_command(check_answers)


@contextlib.contextmanager
def transaction() -> Iterator[None]:
    """Commit if the block succeeds; roll back and exit 1 with the message if it does not."""
    from .extensions import db

    try:
        yield
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    except BaseException:
        db.session.rollback()
        raise


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{path}: cannot be read ({exc.strerror}).") from None


def _date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date written as YYYY-MM-DD.", param_hint=name
        ) from None


class _DateType(click.ParamType):
    """A calendar date written as YYYY-MM-DD; anything else is a usage error."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date written as YYYY-MM-DD.", param, ctx)


DATE = _DateType()

# The choices are checked by the service (aggregates.check_norm_group), so that a group
# that is unknown or not offered is refused with the same sentence as on the web.
NORM_GROUP_HELP = (
    "Who the report compares with: all, sector, size or sector_size (the organisation's "
    "own sector, size band, or both). A group needs at least 5 other organisations with "
    "results, and none or at least 5 left out of each larger group it is part of."
)


def _norm_group(value: str) -> str:
    """A norm group as typed: an empty one (an unset shell variable, say) is refused, not
    read as all organisations."""
    from .services.aggregates import NORM_GROUPS

    if not value.strip():
        raise click.ClickException(f"Give a norm group: one of {', '.join(NORM_GROUPS)}.")
    return value.strip()


def _audit(event: str, organisation, detail: str) -> None:
    """Add a command's event to the audit log, committed by the command's transaction."""
    from .services.audit import record

    record(event, actor="cli", organisation=organisation, detail=detail)


# --- questionnaires ---------------------------------------------------------------


@click.group()
def questionnaire() -> None:
    """Check and list questionnaire files."""


@questionnaire.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def questionnaire_check(files: tuple[str, ...]) -> None:
    """Validate questionnaire files; exit 1 naming the file and key of every problem."""
    from .questionnaires import check_file

    failed = False
    for path in files:
        problems = check_file(path)
        for problem in problems:
            click.echo(problem, err=True)
        if problems:
            failed = True
        else:
            click.echo(f"{path}: OK")
    if failed:
        sys.exit(1)


@questionnaire.command("list")
@with_appcontext
def questionnaire_list() -> None:
    """List the questionnaires the app can use."""
    from .services.questionnaires import available_questionnaires

    for (key, version), q in sorted(available_questionnaires().items()):
        click.echo(f"{key} v{version}: {len(q.dimensions)} dimensions, {len(q.items)} items")


# --- organisations and departments ------------------------------------------------


@click.group()
def org() -> None:
    """Organisations."""


@org.command("create")
@click.option("--name", required=True)
@click.option("--sector", required=True, help="For example: government, healthcare, retail.")
@click.option(
    "--size", "size_band", required=True, type=click.Choice(["1-49", "50-249", "250-999", "1000+"])
)
@with_appcontext
def org_create(name: str, sector: str, size_band: str) -> None:
    """Create an organisation."""
    from .services.organisations import create_organisation

    with transaction():
        organisation = create_organisation(name, sector, size_band)
    click.echo(f"Created organisation {organisation.id}: {organisation.name}")


@org.command("list")
@with_appcontext
def org_list() -> None:
    """List organisations: id, name, sector, size band, departments, campaigns."""
    import sqlalchemy as sa

    from .extensions import db
    from .models import Campaign, Department, Organisation

    def counts(model) -> dict[int, int]:
        query = sa.select(model.organisation_id, sa.func.count()).group_by(model.organisation_id)
        return dict(db.session.execute(query).all())

    departments, campaigns = counts(Department), counts(Campaign)
    click.echo("id\tname\tsector\tsize_band\tdepartments\tcampaigns")
    for o in db.session.scalars(sa.select(Organisation).order_by(Organisation.id)):
        click.echo(
            f"{o.id}\t{o.name}\t{o.sector}\t{o.size_band}"
            f"\t{departments.get(o.id, 0)}\t{campaigns.get(o.id, 0)}"
        )


@click.group()
def departments() -> None:
    """Departments of an organisation."""


@departments.command("import")
@click.option("--org", "org_ref", required=True, help="Organisation id or name.")
@click.argument("csv_file", type=click.Path(dir_okay=False))
@with_appcontext
def departments_import(org_ref: str, csv_file: str) -> None:
    """Import departments from CSV: code,name,parent_code,headcount."""
    from .services.organisations import find_organisation, import_departments

    with transaction():
        organisation = find_organisation(org_ref)
        count = import_departments(organisation, _read(csv_file), csv_file)
        _audit("departments_imported", organisation, f"{count} departments")
    click.echo(f"Imported {count} departments into {organisation.name}.")


# --- campaigns -------------------------------------------------------------------


@click.group()
def campaign() -> None:
    """Campaigns: create, open, close."""


@campaign.command("create")
@click.option("--org", "org_ref", required=True, help="Organisation id or name.")
@click.option("--name", required=True)
@click.option(
    "--questionnaire", "questionnaire_id", default="social-business-maturity", show_default=True
)
@click.option(
    "--version",
    "questionnaire_version",
    type=click.IntRange(min=1),
    help="Default: the latest version.",
)
@click.option("--opens", required=True, type=DATE, help="Opening date.")
@click.option("--closes", required=True, type=DATE, help="Closing date.")
@click.option(
    "--threshold",
    default=5,
    show_default=True,
    type=click.IntRange(min=3),
    help="Smallest group shown (at least 3).",
)
@click.option(
    "--comment-threshold",
    type=click.IntRange(min=3),
    help="Smallest group whose comments are shown, at least --threshold. "
    "[default: 10, or --threshold if higher]",
)
@click.option("--controller", help="Who is responsible for the data (told to respondents).")
@click.option("--contact", help="How respondents reach the controller: e-mail or web address.")
@click.option(
    "--retention-months",
    type=click.IntRange(1, 120),
    help="How long the answers are kept, in months (1 to 120).",
)
@click.option("--results-on", type=DATE, help="When staff will hear the results.")
@click.option(
    "--max-reminders",
    default=2,
    show_default=True,
    type=click.IntRange(0, 5),
    help="Reminders at most to those who have not answered.",
)
@click.option(
    "--norm-group",
    default="all",
    show_default=True,
    help=NORM_GROUP_HELP,
)
@with_appcontext
def campaign_create(
    org_ref,
    name,
    questionnaire_id,
    questionnaire_version,
    opens,
    closes,
    threshold,
    comment_threshold,
    controller,
    contact,
    retention_months,
    results_on,
    max_reminders,
    norm_group,
) -> None:
    """Create a draft campaign."""
    from .services.campaigns import choose_norm_group, create_campaign
    from .services.organisations import find_organisation
    from .services.questionnaires import get_questionnaire, latest_questionnaire

    if comment_threshold is None:
        comment_threshold = max(10, threshold)
    elif comment_threshold < threshold:
        raise click.BadParameter(
            f"{comment_threshold} is below --threshold ({threshold}); comments need at least "
            "as many respondents as scores.",
            param_hint="--comment-threshold",
        )
    with transaction():
        organisation = find_organisation(org_ref)
        q = (
            get_questionnaire(questionnaire_id, questionnaire_version)
            if questionnaire_version
            else latest_questionnaire(questionnaire_id)
        )
        c = create_campaign(
            organisation,
            q,
            name,
            opens,
            closes,
            threshold,
            comment_threshold,
            controller=controller,
            controller_contact=contact,
            retention_months=retention_months,
            results_on=results_on,
            max_reminders=max_reminders,
        )
        # Refused like the web form: the draft is rolled back with the message.
        choose_norm_group(c, _norm_group(norm_group))
        _audit(
            "campaign_created",
            organisation,
            f"campaign {c.id} ({q.id} v{q.version}, {c.opens_on} to {c.closes_on}, "
            f"norm group {c.norm_group or 'all'})",
        )
    click.echo(
        f"Created draft campaign {c.id} for {organisation.name} ({q.id} v{q.version}, "
        f"norm group {c.norm_group or 'all'})."
    )


@campaign.command("list")
@click.option("--org", "org_ref", help="Only this organisation (id or name).")
@with_appcontext
def campaign_list(org_ref: str | None) -> None:
    """List campaigns: id, organisation, name, status, dates, questionnaire version, norm
    group of the report."""
    import sqlalchemy as sa

    from .extensions import db
    from .models import Campaign, Organisation, QuestionnaireVersion
    from .services.organisations import find_organisation

    query = (
        sa.select(Campaign, Organisation.name, QuestionnaireVersion)
        .join(Organisation, Campaign.organisation_id == Organisation.id)
        .join(QuestionnaireVersion, Campaign.questionnaire_version_id == QuestionnaireVersion.id)
        .order_by(Campaign.id)
    )
    if org_ref:
        try:
            query = query.where(Campaign.organisation_id == find_organisation(org_ref).id)
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo("id\torganisation\tname\tstatus\topens\tcloses\tquestionnaire\tnorm_group")
    for c, organisation, version in db.session.execute(query):
        click.echo(
            f"{c.id}\t{organisation}\t{c.name}\t{c.status}\t{c.opens_on.isoformat()}"
            f"\t{c.closes_on.isoformat()}\t{version.key} v{version.version}"
            f"\t{c.norm_group or 'all'}"
        )


@campaign.command("norm-group")
@click.argument("campaign_id", type=int)
@click.argument("group")
@with_appcontext
def campaign_norm_group(campaign_id: int, group: str) -> None:
    """Choose who a campaign's reports compare with: GROUP is all, sector, size or
    sector_size (the organisation's own sector, size band, or both).

    A report setting, so it may change in any state, also after closing. A group with
    fewer than 5 other organisations with results, or one that leaves out only 1 to 4
    of a larger group, is refused and nothing changes.
    """
    from .services.campaigns import choose_norm_group, find_campaign

    group = _norm_group(group)
    with transaction():
        c = find_campaign(campaign_id)
        change = choose_norm_group(c, group)
        if change is not None:
            old, new = change
            _audit(
                "campaign_changed", c.organisation_id, f"campaign {c.id}: norm_group: {old} → {new}"
            )
    if change is None:
        click.echo(f"Nothing was changed: campaign {c.id} already uses norm group {group}.")
    else:
        click.echo(
            f"Campaign {c.id} now uses norm group {change[1]} (was {change[0]}); "
            "every report of it follows."
        )


@campaign.command("open")
@click.argument("campaign_id", type=int)
@with_appcontext
def campaign_open(campaign_id: int) -> None:
    """Open a campaign: freezes its department tree and thresholds."""
    from .services.campaigns import find_campaign, open_campaign

    with transaction():
        c = open_campaign(find_campaign(campaign_id))
        _audit("campaign_opened", c.organisation_id, f"campaign {c.id}: {len(c.units)} departments")
    click.echo(f"Campaign {c.id} is open ({len(c.units)} departments frozen).")


@campaign.command("close")
@click.argument("campaign_id", type=int)
@with_appcontext
def campaign_close(campaign_id: int) -> None:
    """Close a campaign."""
    from .services.campaigns import close_campaign, find_campaign

    with transaction():
        c = close_campaign(find_campaign(campaign_id))
        _audit("campaign_closed", c.organisation_id, f"campaign {c.id}")
    click.echo(f"Campaign {c.id} is closed.")


# --- invitations -----------------------------------------------------------------


@click.group(commands=INVITATION_COMMANDS)
def invitations() -> None:
    """Invitation links."""


@invitations.command("issue")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option(
    "--per-department",
    type=click.IntRange(1, 100_000),
    required=True,
    help="Links per department (1 to 100000).",
)
@click.option(
    "--department", "department_codes", multiple=True, help="Only these department codes."
)
@click.option(
    "--base-url",
    help="The address people reach the app at (default: SURVEYAPP_BASE_URL; in "
    "development http://127.0.0.1:5000).",
)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="CSV file for mail merge."
)
@with_appcontext
def invitations_issue(campaign_id, per_department, department_codes, base_url, out) -> None:
    """Write N single-use links per department to a CSV (the only copy of the links)."""
    from flask import current_app

    from .config import DEVELOPMENT_BASE_URL
    from .services.campaigns import find_campaign
    from .services.csvfiles import write_csv
    from .services.invitations import issue_invitations

    base_url = base_url or current_app.config.get("BASE_URL")
    if not base_url:
        if current_app.config.get("ENV_NAME") == "production":
            raise click.UsageError(
                "Give --base-url (for example https://survey.example.org) or set "
                "SURVEYAPP_BASE_URL, so the links point at the right server."
            )
        base_url = DEVELOPMENT_BASE_URL
    if os.path.exists(out):
        raise click.ClickException(f"{out} exists; choose a new file so no links are overwritten.")
    with transaction():
        links = issue_invitations(
            find_campaign(campaign_id), per_department, list(department_codes) or None
        )
        base = base_url.rstrip("/")
        # Write before committing: if the file cannot be written, no links are stored.
        with open(out, "x", encoding="utf-8", newline="") as handle:
            for line in write_csv(
                ["department_code", "department_name", "link"],
                (
                    [link.department_code, link.department_name, f"{base}/s/{link.token}"]
                    for link in links
                ),
            ):
                handle.write(line)
        _audit(
            "invitations_issued",
            find_campaign(campaign_id).organisation_id,
            f"campaign {campaign_id}: {len(links)} links",
        )
    click.echo(
        f"Wrote {len(links)} links to {out}. Keep this file safe: links cannot be shown again."
    )


# --- users -----------------------------------------------------------------------


@click.group()
def user() -> None:
    """Manager and consultant accounts."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["manager", "consultant"]))
@click.option("--org", "org_ref", help="Organisation id or name (managers only).")
@click.password_option()
@with_appcontext
def user_create(email, role, org_ref, password) -> None:
    """Create an account."""
    from .services.audit import record
    from .services.organisations import find_organisation
    from .services.users import create_user

    with transaction():
        organisation = find_organisation(org_ref) if org_ref else None
        account = create_user(email, password, role, organisation)
        record("user_created", actor="cli", organisation=organisation, detail=account.email)
    click.echo(f"Created {account.role} {account.email}.")


@user.command("invite")
@click.argument("email")
@click.option("--org", "org_ref", required=True, help="Organisation id or name.")
@click.option(
    "--base-url",
    help="The address people reach the app at (default: SURVEYAPP_BASE_URL).",
)
@click.option("--send", is_flag=True, help="E-mail the link instead of printing it.")
@click.option(
    "--department",
    "department_code",
    help="Limit the manager to this department's code and the departments under it.",
)
@with_appcontext
def user_invite(
    email: str, org_ref: str, base_url: str | None, send: bool, department_code: str | None
) -> None:
    """Create a manager account with a single-use link to set the first password."""
    from flask import current_app, url_for

    from .extensions import db
    from .services.account_mail import invitation_message
    from .services.audit import record
    from .services.mail import send as send_mail
    from .services.organisations import find_organisation
    from .services.users import find_department, invite_manager

    base = base_url or current_app.config.get("BASE_URL")
    if not base:
        raise click.UsageError(
            "Give --base-url (for example https://survey.example.org) or set "
            "SURVEYAPP_BASE_URL, so the link points at the right server."
        )
    days = current_app.config["ACCOUNT_INVITATION_DAYS"]
    with transaction():
        organisation = find_organisation(org_ref)
        department = find_department(organisation, department_code) if department_code else None
        account, secret = invite_manager(email, organisation, days, department)
        scope = f" (department {department.code} and below)" if department else ""
        record("user_created", actor="cli", organisation=organisation, detail=account.email + scope)
        with current_app.test_request_context(base_url=base):
            link = base.rstrip("/") + url_for("auth.reset", token=secret)
            if send:
                message = invitation_message(
                    account.email, organisation.name, link, base.rstrip("/") + url_for("auth.login")
                )
                try:
                    send_mail(current_app.config, message)
                except Exception as exc:  # noqa: BLE001 - said to the operator
                    raise ServiceError(f"The e-mail could not be sent: {exc}") from None
        db.session.flush()
    if send:
        click.echo(f"Invited {account.email}; the link works once, for {days} days.")
    else:
        click.echo(link)
        click.echo(
            f"Give this link to {account.email} only; it works once, for {days} days.", err=True
        )


@user.command("list")
@with_appcontext
def user_list() -> None:
    """List every account: role, organisation, state, two-step sign-in, API tokens."""
    import sqlalchemy as sa

    from .extensions import db
    from .models import ApiToken
    from .services.users import all_users

    tokens = dict(
        db.session.execute(
            sa.select(ApiToken.user_id, sa.func.count()).group_by(ApiToken.user_id)
        ).all()
    )
    click.echo("email\trole\torganisation\tdepartment\tstate\ttwo-step\ttokens")
    for account in all_users():
        organisation = account.organisation.name if account.organisation else "-"
        # A department head sees this department and those under it; "-": everything.
        department = account.department.code if account.department else "-"
        state = "disabled" if account.disabled else "active"
        two_step = "on" if account.totp_secret else "off"
        click.echo(
            f"{account.email}\t{account.role}\t{organisation}\t{department}\t{state}"
            f"\t{two_step}\t{tokens.get(account.id, 0)}"
        )


@user.command("scope")
@click.argument("email")
@click.option(
    "--department",
    "department_code",
    help="The department code the manager heads; leave out for the whole organisation.",
)
@with_appcontext
def user_scope(email: str, department_code: str | None) -> None:
    """Limit a manager to one department and those under it, or (without --department)
    let them see the whole organisation."""
    from .services.audit import record
    from .services.users import find_department, get_user, set_department

    with transaction():
        account = get_user(email)
        department = (
            find_department(account.organisation, department_code)
            if department_code and account.organisation is not None
            else None
        )
        set_department(account, department)
        scope = f"department {department.code} and below" if department else "whole organisation"
        record(
            "user_scope",
            actor="cli",
            organisation=account.organisation,
            detail=f"{account.email}: {scope}",
        )
    click.echo(f"{account.email} now sees: {scope}.")


@user.command("disable")
@click.argument("email")
@with_appcontext
def user_disable(email: str) -> None:
    """Stop an account: no sign-in; its sessions and API tokens stop working at once."""
    from .services.audit import record
    from .services.users import disable_user, get_user

    with transaction():
        account = get_user(email)
        disable_user(account)
        record(
            "user_disabled", actor="cli", organisation=account.organisation_id, detail=account.email
        )
    click.echo(f"Disabled {account.email}; every session of theirs has ended.")


@user.command("enable")
@click.argument("email")
@with_appcontext
def user_enable(email: str) -> None:
    """Let a disabled account sign in again (with its old password, or after a reset)."""
    from .services.audit import record
    from .services.users import enable_user, get_user

    with transaction():
        account = get_user(email)
        enable_user(account)
        record(
            "user_enabled", actor="cli", organisation=account.organisation_id, detail=account.email
        )
    click.echo(f"Enabled {account.email}.")


@user.command("reset")
@click.argument("email")
@click.option(
    "--base-url",
    help="The address people reach the app at (default: SURVEYAPP_BASE_URL).",
)
@click.option("--send", is_flag=True, help="E-mail the link to the account instead of printing it.")
@with_appcontext
def user_reset(email: str, base_url: str | None, send: bool) -> None:
    """Make a single-use link that sets a new password; print it, or e-mail it with --send.

    The link works once, for SURVEYAPP_PASSWORD_RESET_MINUTES (30 by default). Issuing
    one cancels the account's earlier links. Two-step sign-in stays as it was; use
    `surveyapp user two-step-off` for a lost phone.
    """
    from flask import current_app, render_template, url_for

    from .services.audit import record
    from .services.mail import build_message
    from .services.mail import send as send_mail
    from .services.users import get_user, issue_reset

    base = base_url or current_app.config.get("BASE_URL")
    if not base:
        raise click.UsageError(
            "Give --base-url (for example https://survey.example.org) or set "
            "SURVEYAPP_BASE_URL, so the link points at the right server."
        )
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    with transaction():
        account = get_user(email)
        secret = issue_reset(account, minutes)
        record(
            "password_reset_requested",
            actor="cli",
            organisation=account.organisation_id,
            detail=account.email,
        )
        with current_app.test_request_context(base_url=base):
            link = base.rstrip("/") + url_for("auth.reset", token=secret)
            if send:
                message = build_message(
                    current_app.config,
                    account.email,
                    "Set a new password",
                    render_template("auth/reset_mail.txt", link=link, minutes=minutes),
                )
                try:
                    send_mail(current_app.config, message)
                except Exception as exc:  # noqa: BLE001 - said to the operator
                    raise ServiceError(f"The e-mail could not be sent: {exc}") from None
    if send:
        click.echo(f"Sent a reset link to {account.email}; it works once, for {minutes} minutes.")
    else:
        click.echo(link)
        click.echo(
            f"Give this link to {account.email} only; it works once, for {minutes} minutes.",
            err=True,
        )


@user.command("two-step-off")
@click.argument("email")
@with_appcontext
def user_two_step_off(email: str) -> None:
    """Switch two-step sign-in off for an account whose phone is lost; its sessions end."""
    from .services import totp
    from .services.audit import record
    from .services.users import end_sessions, get_user

    with transaction():
        account = get_user(email)
        totp.disable(account)
        end_sessions(account)
        record(
            "two_factor_disabled",
            actor="cli",
            organisation=account.organisation_id,
            detail=account.email,
        )
    click.echo(f"Two-step sign-in is off for {account.email}; ask them to set it up again.")


@user.command("token")
@click.argument("email", required=False)
@click.argument("name", required=False)
@click.option("--email", "email_option", help="The account the token acts for (or give it first).")
@click.option("--name", "name_option", help="What will use it, for example a script's name.")
@click.option(
    "--days",
    type=int,
    help="How many days it works, 1 to 365 (default: SURVEYAPP_API_TOKEN_DAYS, 90).",
)
@with_appcontext
def user_token(
    email: str | None,
    name: str | None,
    email_option: str | None,
    name_option: str | None,
    days: int | None,
) -> None:
    """Issue a read-only API token for EMAIL named NAME; it is printed once, only its hash kept."""
    from .services.tokens import issue_token

    email, name = email or email_option, name or name_option
    if not email or not name:
        raise click.UsageError(
            "Give the account and a name for the token: surveyapp user token EMAIL NAME [--days N]."
        )
    with transaction():
        token, secret = issue_token(_token_account(email), name, days, actor="cli")
    click.echo(secret)
    click.echo(
        f"Keep it safe: it cannot be shown again. It stops working on "
        f"{token.expires_on.isoformat()}.",
        err=True,
    )


def _token_account(email: str):
    """The account with this e-mail address, or a ServiceError that says there is none."""
    import sqlalchemy as sa

    from .extensions import db
    from .models import User

    account = db.session.scalar(sa.select(User).filter_by(email=email.strip().lower()))
    if account is None:
        raise ServiceError(f"No account for {email}.")
    return account


@user.command("tokens")
@click.argument("email")
@with_appcontext
def user_tokens(email: str) -> None:
    """List an account's API tokens: id, name, created, expires, last used, state."""
    from .services.tokens import is_expired, tokens_of

    try:
        tokens = tokens_of(_token_account(email))
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("id\tname\tcreated\texpires\tlast_used\tstate")
    for token in tokens:
        last_used = token.last_used_on.isoformat() if token.last_used_on else "never"
        state = "expired" if is_expired(token) else "active"
        click.echo(
            f"{token.id}\t{token.name}\t{token.created_on.isoformat()}"
            f"\t{token.expires_on.isoformat()}\t{last_used}\t{state}"
        )


@user.command("revoke-token")
@click.argument("email")
@click.argument("token_id", type=int)
@with_appcontext
def user_revoke_token(email: str, token_id: int) -> None:
    """Revoke one of an account's API tokens (ids from `surveyapp user tokens EMAIL`)."""
    from .services.tokens import revoke_token

    with transaction():
        account = _token_account(email)
        name = revoke_token(account, token_id, actor="cli")
    click.echo(f"Revoked token {token_id} ({name}) of {account.email}.")


# --- responses -------------------------------------------------------------------


@click.group()
def responses() -> None:
    """Import and export responses."""


@responses.command("import")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.argument("csv_file", type=click.Path(dir_okay=False))
@with_appcontext
def responses_import(campaign_id: int, csv_file: str) -> None:
    """Import responses (paper surveys, another tool): all rows or none."""
    from .services.campaigns import find_campaign
    from .services.responses import import_responses

    try:
        handle = open(csv_file, "rb")  # noqa: SIM115 - a stream, closed by the with below
    except OSError as exc:
        raise click.ClickException(f"{csv_file}: cannot be read ({exc.strerror}).") from None
    with handle, transaction():
        c = find_campaign(campaign_id)
        count = import_responses(c, handle, csv_file)
        _audit("responses_imported", c.organisation_id, f"campaign {c.id}: {count} responses")
    click.echo(f"Imported {count} responses into campaign {campaign_id}.")


@responses.command("export")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--out", type=click.Path(dir_okay=False), default="-", show_default=True)
@with_appcontext
def responses_export(campaign_id: int, out: str) -> None:
    """Export anonymised responses as CSV (small groups folded or blanked)."""
    from .extensions import db
    from .services.campaigns import find_campaign
    from .services.csvfiles import write_csv
    from .services.responses import export_responses

    try:
        campaign = find_campaign(campaign_id)
        header, rows = export_responses(campaign)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    with click.open_file(out, "w", encoding="utf-8") as handle:
        for line in write_csv(header, rows):
            handle.write(line)
    _audit("export", campaign.organisation_id, f"campaign {campaign_id}: answers as CSV (CLI)")
    db.session.commit()


# --- analysis --------------------------------------------------------------------


@click.command("analyze")
@click.option(
    "--questionnaire", "questionnaire_file", required=True, type=click.Path(dir_okay=False)
)
@click.option("--responses", "responses_file", required=True, type=click.Path(dir_okay=False))
@click.option("--group-column", default="department", show_default=True)
@click.option("--threshold", default=5, show_default=True, help="Smallest group shown.")
@click.option("--format", "output_format", type=click.Choice(["json"]), default="json")
@click.option("--out", type=click.Path(dir_okay=False), default="-", show_default=True)
@click.option(
    "--indent",
    type=click.IntRange(0, 8),
    default=0,
    show_default=True,
    help="Spaces to indent the JSON by, for reading it; 0 writes it on one line, which is "
    "several times faster for a large file.",
)
def analyze(
    questionnaire_file, responses_file, group_column, threshold, output_format, out, indent
) -> None:
    """Analyse a response CSV against a questionnaire file, without the database."""
    import json

    from .questionnaires import QuestionnaireError, load_questionnaire
    from .services.analysis_files import analyse_file

    try:
        q = load_questionnaire(questionnaire_file)
    except QuestionnaireError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        result = analyse_file(q, _read(responses_file), responses_file, group_column, threshold)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    # One string, one write: json.dump would hand the file thousands of small pieces.
    # Without indentation the standard library encodes in C: 0.13 s instead of 0.7 s for
    # the 5 MB of a 200,000-respondent analysis (docs/benchmarks.md).
    text = json.dumps(
        result,
        indent=indent or None,
        separators=None if indent else (",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    with click.open_file(out, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")


# --- demo ------------------------------------------------------------------------


@click.command("demo")
@click.option("--seed", default=20261123, show_default=True)
@click.option("--scale", default=1.0, show_default=True, help="Multiply the number of respondents.")
@with_appcontext
def demo(seed: int, scale: float) -> None:
    """Load synthetic demo organisations (skipped if they exist) and print links to try."""
    from flask import current_app

    from .services.demo import load_demo

    with transaction():
        summary = load_demo(seed=seed, scale=scale)
    click.echo(summary.describe(current_app.config.get("BASE_URL")))


# --- reports ---------------------------------------------------------------------


@click.command("report")
@click.option("--campaign", "campaign_id", type=int, required=True)
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="PDF file; - for stdout."
)
@click.option(
    "--department", "department_code", help="A department code: that department's report."
)
@with_appcontext
def report(campaign_id: int, lang: str, out: str, department_code: str | None) -> None:
    """Write a campaign's PDF report (or one department's) in Dutch or English."""
    from .pdf import render_campaign_pdf
    from .services.campaigns import find_campaign

    try:
        c = find_campaign(campaign_id)
        document = render_campaign_pdf(c, lang, department_code)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        with click.open_file(out, "wb") as handle:
            handle.write(document)
    except OSError as exc:
        raise click.ClickException(f"{out}: cannot be written ({exc.strerror}).") from None
    scope = f"campaign {c.id}" + (f", department {department_code}" if department_code else "")
    with transaction():
        _audit("report_download", c.organisation_id, f"{scope}: PDF report ({lang})")
    if out != "-":
        click.echo(f"Wrote {out} ({len(document) // 1024} KiB).")


# --- audit log -------------------------------------------------------------------


@click.group()
def audit() -> None:
    """The audit log: list events, delete old ones.

    Old events are also deleted without this command: recording an event prunes the
    log once its oldest event is a day past the retention period. Run
    `surveyapp audit prune` from cron to keep to the period exactly.
    """


@audit.command("prune")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    help="Keep this many days. Default: SURVEYAPP_AUDIT_RETENTION_DAYS (365).",
)
@with_appcontext
def audit_prune(days: int | None) -> None:
    """Delete audit events older than the retention period (records the deletion)."""
    from .services.audit import prune, retention_days

    days = days or retention_days()
    with transaction():
        count = prune(days, actor="cli")
    click.echo(f"Deleted {count} audit events older than {days} days.")


@audit.command("list")
@click.option("--event", help="Only this event, for example export or campaign_closed.")
@click.option("--org", "org_ref", help="Organisation id or name.")
@click.option("--actor", help="Only events by someone whose name or address contains this.")
@click.option("--since", help="From this day on (UTC), YYYY-MM-DD.")
@click.option("--until", help="Up to and including this day (UTC), YYYY-MM-DD.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def audit_list(event, org_ref, actor, since, until, limit) -> None:
    """Print audit events, newest first: time (UTC), event, actor, organisation, detail."""
    from .extensions import db
    from .models import Organisation
    from .services.audit import EVENTS, AuditFilter, events
    from .services.organisations import find_organisation

    if event and event not in EVENTS:
        raise click.BadParameter(
            f"{event!r} is not an audit event; choose one of: {', '.join(EVENTS)}.",
            param_hint="--event",
        )
    try:
        organisation = find_organisation(org_ref) if org_ref else None
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    criteria = AuditFilter(
        event=event,
        organisation_id=organisation.id if organisation else None,
        actor=actor,
        since=_date(since, "--since") if since else None,
        until=_date(until, "--until") if until else None,
    )
    names: dict[int, str] = {}
    for entry in events(criteria, limit=limit):
        org_name = ""
        if entry.organisation_id is not None:
            if entry.organisation_id not in names:
                found = db.session.get(Organisation, entry.organisation_id)
                names[entry.organisation_id] = found.name if found else ""
            org_name = names[entry.organisation_id]
        when = entry.occurred_at.strftime("%Y-%m-%d %H:%M:%S")
        click.echo("\t".join([when, entry.event, entry.actor, org_name, entry.detail]))


COMMANDS = (
    questionnaire,
    org,
    departments,
    campaign,
    invitations,
    user,
    responses,
    analyze,
    demo,
    report,
    audit,
    worker,
)

# `analyze` needs no app: registered on the group itself, it runs without building one
# (no secret key, no database, no Flask extensions imported).
main.add_command(analyze)
# `serve` too, for another reason: a command of the app's runs inside an application
# context, which gunicorn's workers would inherit and share between requests.
main.add_command(serve)
