"""Sending e-mail: SMTP in production, .eml files in an outbox folder in development.

Account mail (reset and invitation links) builds one :class:`EmailMessage` per message;
a mailing to many recipients writes each from one :class:`MessageTemplate`. Configured by
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
from collections.abc import Callable
from email import quoprimime
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
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


CRLF = b"\r\n"


class MessageTemplate:
    """One sender and subject for many recipients: the message bytes written per recipient.

    Building an :class:`EmailMessage` parses and folds each of its headers, which costs
    more than sending the message over an open connection (about 3 ms against 2 ms).
    A mailing sends the same From, Subject and MIME headers to everyone, so they are
    built once here, with the e-mail package; each recipient's message then gets its
    own To, Date and Message-ID lines and its text, encoded quoted-printable in UTF-8
    as ``EmailMessage.set_content(text, cte="quoted-printable")`` encodes it (7-bit
    clean, so any relay takes it). An address with non-ASCII characters is written as
    UTF-8 and sent with SMTPUTF8, as ``smtplib.send_message`` does.
    """

    def __init__(self, config: dict[str, Any], subject: str):
        prototype = EmailMessage()
        prototype["From"] = config["MAIL_FROM"]
        prototype["Subject"] = subject
        prototype["Auto-Submitted"] = "auto-generated"
        prototype.set_content("", cte="quoted-printable")
        policy = prototype.policy.clone(linesep="\r\n")
        self._head = prototype.as_bytes(policy=policy).partition(CRLF + CRLF)[0]
        self._max_line_length = policy.max_line_length
        self.sender = getaddresses([config["MAIL_FROM"]])[0][1]

    def render(self, to: str, message_id: str, text: str) -> bytes:
        """The whole message to ``to`` (an address without a name), CRLF line ends."""
        # What email.contentmanager does for cte="quoted-printable": lines ended by "\n",
        # each byte as one character, then encoded (and here given CRLF ends for SMTP).
        if any(c in to + message_id for c in "\r\n"):
            raise ValueError("An address or Message-ID cannot contain a line break.")
        lines = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
        body = quoprimime.body_encode(lines.decode("latin-1"), self._max_line_length)
        return CRLF.join(
            [
                b"To: " + to.encode("utf-8"),
                b"Date: " + formatdate(localtime=False).encode("ascii"),
                b"Message-ID: " + message_id.encode("ascii"),
                self._head,
                b"",
                body.replace("\n", "\r\n").encode("ascii"),
            ]
        )


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
        self._deliver(lambda smtp: smtp.send_message(message), lambda: bytes(message))

    def send_bytes(self, sender: str, recipient: str, data: bytes) -> None:
        """Deliver a message written as bytes (by :class:`MessageTemplate`) to one address."""
        options = () if recipient.isascii() else ("SMTPUTF8", "BODY=8BITMIME")
        self._deliver(lambda smtp: smtp.sendmail(sender, [recipient], data, options), lambda: data)

    def _deliver(
        self, over_smtp: Callable[[smtplib.SMTP], object], as_bytes: Callable[[], bytes]
    ) -> None:
        config = self.config
        if config.get("MAIL_SMTP_HOST"):
            if self._smtp is None:
                self._smtp = self._connect()
            try:
                over_smtp(self._smtp)
            except smtplib.SMTPServerDisconnected:
                self._smtp = self._connect()
                over_smtp(self._smtp)
            return
        outbox = config.get("MAIL_OUTBOX")
        if outbox:
            folder = Path(outbox)
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{uuid.uuid4().hex}.eml").write_bytes(as_bytes())
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
