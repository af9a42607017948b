"""The development outbox: the e-mails the app would have sent, for consultants.

Only in development, when mail is written to ``MAIL_OUTBOX`` instead of an SMTP server;
everywhere else the page does not exist (404), because its messages hold survey links.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template

from .auth import consultant_required

bp = Blueprint("outbox", __name__, url_prefix="/consultant")


@bp.app_context_processor
def _template_helpers() -> dict[str, object]:
    return {"outbox_available": outbox_available}


# The newest messages; an outbox of a benchmark run can hold thousands.
SHOWN = 100


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    filename: str
    written_at: dt.datetime
    sender: str
    to: str
    subject: str
    text: str


def _outbox_folder() -> Path | None:
    config = current_app.config
    if config.get("ENV_NAME") == "production" or config.get("MAIL_SMTP_HOST"):
        return None
    folder = config.get("MAIL_OUTBOX")
    return Path(folder) if folder else None


def outbox_available() -> bool:
    """Whether this server keeps mail in an outbox folder (development without SMTP)."""
    return _outbox_folder() is not None


def _read(path: Path) -> OutboxMessage:
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = message.get_body(preferencelist=("plain",))
    return OutboxMessage(
        filename=path.name,
        written_at=dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(microsecond=0),
        sender=str(message.get("From", "")),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        text=body.get_content() if body is not None else "",
    )


@bp.get("/outbox")
@consultant_required
def outbox():
    """The newest e-mails written to the development outbox."""
    folder = _outbox_folder()
    if folder is None:
        abort(404)
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
    messages = [_read(path) for path in files[:SHOWN]]
    return render_template(
        "consultant/outbox.html",
        messages=messages,
        total=len(files),
        shown=SHOWN,
        folder=str(folder),
    )
