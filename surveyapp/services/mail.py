"""Sending e-mail: SMTP in production, .eml files in an outbox folder in development.

The minimum the account pages need (password reset links). Configured by
``SURVEYAPP_MAIL_*`` (see surveyapp/config.py and the README): with
``MAIL_SMTP_HOST`` set, messages go to that server (plain, STARTTLS or TLS, with
optional login); otherwise, when ``MAIL_OUTBOX`` is set (development sets
``instance/outbox``), each message is written there as a file to open in a mail
program; otherwise there is no way to send mail and :func:`mail_available` says so.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any


class MailNotConfigured(RuntimeError):
    """This server has no way to send e-mail."""


def mail_available(config: dict[str, Any]) -> bool:
    return bool(config.get("MAIL_SMTP_HOST") or config.get("MAIL_OUTBOX"))


def build_message(config: dict[str, Any], to: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    # Keep automatic replies and list software away from account mail.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    return message


class Mailer:
    """Delivers messages over one SMTP connection, opened on first use and reused.

    Opening a connection (and, with TLS, loading the certificate store) costs far more
    than a message, so a mailing sends all its messages through one. A connection the
    server has dropped is opened again once.
    """

    def __init__(self, config: dict[str, Any]):
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        host = config["MAIL_SMTP_HOST"]
        port = int(config.get("MAIL_SMTP_PORT") or 25)
        security = config.get("MAIL_SMTP_SECURITY", "none")
        # The certificate store is loaded only when TLS is used.
        context = ssl.create_default_context() if security in ("ssl", "starttls") else None
        if security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=30, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=30)
        if security == "starttls":
            smtp.starttls(context=context)
        if config.get("MAIL_SMTP_USER"):
            smtp.login(config["MAIL_SMTP_USER"], config.get("MAIL_SMTP_PASSWORD") or "")
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` now. Raises on failure; the caller decides what to tell whom."""
        config = self.config
        if config.get("MAIL_SMTP_HOST"):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                self._smtp.send_message(message)
            except smtplib.SMTPServerDisconnected:
                self._smtp = self._connect()
                self._smtp.send_message(message)
            return
        outbox = config.get("MAIL_OUTBOX")
        if outbox:
            folder = Path(outbox)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
            return
        raise MailNotConfigured(
            "This server cannot send e-mail: set SURVEYAPP_MAIL_SMTP_HOST (see the README)."
        )

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def send(config: dict[str, Any], message: EmailMessage) -> None:
    """Deliver one message over its own connection."""
    with Mailer(config) as mailer:
        mailer.send(message)
