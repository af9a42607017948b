"""``surveyapp invitations add|send|remind|status`` and ``surveyapp worker``.

The invitation subcommands join the ``invitations`` group of :mod:`surveyapp.cli`
(``INVITATION_COMMANDS``); the helpers of that module are imported inside each command,
because :mod:`surveyapp.cli` imports this module.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


def _campaign_option(function):
    return click.option("--campaign", "campaign_id", type=int, required=True)(function)


@click.command("add")
@_campaign_option
@click.option("--department", "department_code", required=True, help="Department code.")
@click.argument("address_file", type=click.Path(dir_okay=False))
@with_appcontext
def invitations_add(campaign_id: int, department_code: str, address_file: str) -> None:
    """Add the e-mail addresses of one department (one per line, or CSV with 'email').

    Each address gets its own single-use link, sent by `invitations send`. If any address
    is malformed or repeated, nothing is stored and every such row is named.
    """
    from .cli import _audit, _read, transaction
    from .services import ServiceError
    from .services.campaigns import find_campaign
    from .services.mailings import add_recipients

    raw = _read(address_file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise click.ClickException(f"{address_file}: is not UTF-8 text.") from None
    with transaction():
        campaign = find_campaign(campaign_id)
        if campaign.status == "draft":
            raise ServiceError(
                f"Campaign {campaign.id} is a draft; open it first (surveyapp campaign open "
                f"{campaign.id}), so its departments are frozen."
            )
        added = add_recipients(
            campaign, department_code, text, current_app.config["SECRET_KEY"], address_file
        )
        # The count only: the log never holds the addresses.
        _audit(
            "invitations_issued",
            campaign.organisation_id,
            f"campaign {campaign_id}: {added} links for e-mail to {department_code}",
        )
    click.echo(f"Added {added} recipients to {department_code}; `invitations send` mails them.")


@click.command("send")
@_campaign_option
@click.option("--on", "on", help="Sending day, YYYY-MM-DD (default: today, or the opening day).")
@with_appcontext
def invitations_send(campaign_id: int, on: str | None) -> None:
    """Schedule the invitation e-mail to every recipient not yet invited."""
    from .cli import _date, transaction
    from .services.campaigns import find_campaign
    from .services.jobs import enqueue_mailing
    from .services.mailings import schedule_invitations

    with transaction():
        send_on = _date(on, "--on") if on else None
        mailing = schedule_invitations(find_campaign(campaign_id), send_on)
        mailing_id, send_on = mailing.id, mailing.send_on
    enqueue_mailing(mailing_id)
    click.echo(f"Invitations scheduled for {send_on.isoformat()} (mailing {mailing_id}).")


@click.command("remind")
@_campaign_option
@click.option("--on", "on", help="Sending day, YYYY-MM-DD (default: today).")
@with_appcontext
def invitations_remind(campaign_id: int, on: str | None) -> None:
    """Schedule a reminder to the recipients who have not answered by that day."""
    from .cli import _date, transaction
    from .services.campaigns import find_campaign
    from .services.jobs import enqueue_mailing
    from .services.mailings import schedule_reminder

    with transaction():
        send_on = _date(on, "--on") if on else None
        mailing = schedule_reminder(find_campaign(campaign_id), send_on)
        mailing_id, send_on = mailing.id, mailing.send_on
    enqueue_mailing(mailing_id)
    click.echo(f"Reminder scheduled for {send_on.isoformat()} (mailing {mailing_id}).")


@click.command("status")
@_campaign_option
@with_appcontext
def invitations_status(campaign_id: int) -> None:
    """Counts only: recipients, messages sent and failed, and how many answered (rounded).

    A reminder's size is how many had not answered on its day, so it is rounded too.
    """
    from .cli import transaction
    from .services.campaigns import find_campaign
    from .services.mailings import mail_status

    with transaction():
        status = mail_status(find_campaign(campaign_id))
    click.echo(f"recipients: {status.recipients}")
    answered = (
        str(status.answered) if status.answered is not None else f"fewer than {status.threshold}"
    )
    click.echo(f"answered: {answered} (rounded down to a multiple of {status.threshold})")
    for m in status.mailings:
        if m.kind == "reminder":
            # Its size is how many had not answered: rounded, like participation.
            if m.status == "scheduled":
                reached = "not made yet"
            else:
                size = m.messages if m.messages is not None else f"fewer than {status.threshold}"
                reached = f"{size} (rounded down to a multiple of {status.threshold})"
            click.echo(
                f"mailing {m.id} {m.kind} on {m.send_on.isoformat()}: {m.status}; "
                f"messages {reached}, failed {m.failed}"
            )
            continue
        click.echo(
            f"mailing {m.id} {m.kind} on {m.send_on.isoformat()}: {m.status}; "
            f"sent {m.sent}, failed {m.failed}, waiting {m.waiting}"
        )


INVITATION_COMMANDS = [invitations_add, invitations_send, invitations_remind, invitations_status]


@click.command("worker")
@click.option("--workers", default=2, show_default=True, help="Threads that run jobs.")
@with_appcontext
def worker(workers: int) -> None:
    """Run the job queue's worker: sends the e-mail mailings (stop with Ctrl-C)."""
    from .services.jobs import queue_setting, run_worker

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Worker for the {queue_setting(app)} job queue; Ctrl-C stops it.", err=True)
    run_worker(app, workers=workers)
