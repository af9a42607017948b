"""Sending e-mail: messages written from a template, and a mailing's one commit per message.

The SMTP server is aiosmtpd on a free local port, in this process.
"""

from __future__ import annotations

import email
import threading
from email import policy

import pytest
import sqlalchemy as sa

from .conftest import _free_port

BASE_URL = "https://survey.example.org"
CONFIG = {"MAIL_FROM": "Enquêtes <surveys@example.org>"}
SUBJECT = "Enquête: Herfst / Survey: Autumn – a subject long enough to be folded over two lines"
TEXTS = [
    "Beste collega,\n\nJe organisatie vraagt je mee te doen aan een anonieme enquête.\n"
    "https://survey.example.org/s/Ab-_cd\n",
    ".a line with a dot\nFrom the first column\ntrailing space \ttab\n" + "x=y " * 40,
    "",
    "no line end at the end: é",
    "mixed\r\nline\rends\n\n\n",
]


class Recorder:
    """Records each message and, at every RCPT, what the database holds committed."""

    def __init__(self, on_rcpt=None):
        self.lock = threading.Lock()
        self.received: list[tuple[str, tuple[str, ...], bytes]] = []
        self.on_rcpt = on_rcpt

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if self.on_rcpt is not None:
            self.on_rcpt(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.lock:
            for address in envelope.rcpt_tos:
                self.received.append(
                    (address, tuple(envelope.mail_options), envelope.original_content)
                )
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    started = []

    def start(handler: Recorder, **options) -> int:
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **options)
        controller.start()
        started.append(controller)
        return controller.port

    yield start
    for controller in started:
        controller.stop()


def parse(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


@pytest.mark.parametrize("text", TEXTS)
def test_a_message_from_the_template_says_what_build_message_says(text):
    from surveyapp.services.mail import MessageTemplate, build_message

    built = build_message(CONFIG, "person1@staff.example.org", SUBJECT, text)
    expected = parse(built.as_bytes(policy=built.policy.clone(linesep="\r\n")))
    template = MessageTemplate(CONFIG, SUBJECT)
    data = template.render("person1@staff.example.org", "<tag.7@example.org>", text)
    message = parse(data)
    for name in ("From", "To", "Subject", "Auto-Submitted", "Content-Type", "MIME-Version"):
        assert message[name] == expected[name], name
    assert message["Message-ID"] == "<tag.7@example.org>"
    assert message["Date"].datetime is not None
    assert message["Content-Transfer-Encoding"] == "quoted-printable"
    # Line ends aside (base64 keeps "\n" inside), the reader gets the same text.
    assert message.get_content().replace("\r\n", "\n") == expected.get_content().replace(
        "\r\n", "\n"
    )
    assert all(len(line) <= 78 for line in data.split(b"\r\n")[1:])
    assert max(data) < 128, "7-bit clean"
    assert template.sender == "surveys@example.org"


def test_a_line_break_in_an_address_is_refused():
    from surveyapp.services.mail import MessageTemplate

    template = MessageTemplate(CONFIG, SUBJECT)
    with pytest.raises(ValueError, match="line break"):
        template.render("a@example.org\r\nBcc: b@example.org", "<x@example.org>", "Hi")


@pytest.mark.parametrize("utf8_server", [True, False])
def test_an_address_with_accents_goes_with_smtputf8_or_not_at_all(smtp_server, utf8_server):
    import smtplib

    from surveyapp.services.mail import Mailer, MessageTemplate

    recorder = Recorder()
    port = smtp_server(recorder, enable_SMTPUTF8=utf8_server)
    config = {**CONFIG, "MAIL_SMTP_HOST": "127.0.0.1", "MAIL_SMTP_PORT": port}
    template = MessageTemplate(config, SUBJECT)

    def send(mailer: Mailer, address: str) -> None:
        data = template.render(address, "<a@example.org>", "Hallo José")
        mailer.send_bytes(template.sender, address, data)

    with Mailer(config) as mailer:
        send(mailer, "ascii@example.org")
        if utf8_server:
            send(mailer, "jösé@example.org")
        else:
            with pytest.raises(smtplib.SMTPNotSupportedError):
                send(mailer, "jösé@example.org")
    assert recorder.received[0][0] == "ascii@example.org"
    assert "SMTPUTF8" not in recorder.received[0][1]
    if utf8_server:
        address, options, data = recorder.received[1]
        assert address == "jösé@example.org" and "SMTPUTF8" in options
        message = email.message_from_bytes(data, policy=policy.SMTPUTF8)
        assert message["To"] == "jösé@example.org"
        assert message.get_content().strip() == "Hallo José"
    assert len(recorder.received) == (2 if utf8_server else 1)


def test_each_message_is_marked_sent_before_the_next_is_sent(app, in_app, smtp_server):
    """At most one message is ever claimed and not marked, so a killed worker can send
    at most that one twice; the mark of a message is committed before the next goes."""
    from flask import current_app

    from surveyapp.extensions import db
    from surveyapp.models import OutgoingMail
    from surveyapp.services.mailings import add_recipients, schedule_invitations, send_mailing

    addresses = [f"person{i}@staff.example.org" for i in range(5)]
    seen: dict[str, dict[str, int]] = {}

    def committed(address: str) -> None:
        # Another thread, another session: only what was committed is visible.
        with app.app_context():
            seen[address] = dict(
                db.session.execute(
                    sa.select(OutgoingMail.status, sa.func.count()).group_by(OutgoingMail.status)
                ).all()
            )
            db.session.remove()

    port = smtp_server(Recorder(on_rcpt=committed))
    app.config.update(
        MAIL_SMTP_HOST="127.0.0.1",
        MAIL_SMTP_PORT=port,
        MAIL_FROM="s@example.org",
        BASE_URL=BASE_URL,
    )
    with in_app() as make:
        campaign = make.campaign()
        add_recipients(campaign, "COM", "\n".join(addresses), current_app.config["SECRET_KEY"])
        mailing_id = schedule_invitations(campaign).id
        make.commit()
        send_mailing(mailing_id)
    for k, address in enumerate(addresses):
        expected = {"sent": k, "sending": 1, "pending": len(addresses) - k - 1}
        assert seen[address] == {s: n for s, n in expected.items() if n}, address
    with in_app():
        statuses = db.session.execute(
            sa.select(OutgoingMail.status, sa.func.count()).group_by(OutgoingMail.status)
        ).all()
        assert dict(statuses) == {"sent": len(addresses)}
