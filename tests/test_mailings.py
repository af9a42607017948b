"""E-mail invitations and reminders: sent by the real worker to a real SMTP server.

The worker is ``surveyapp worker`` in a subprocess (the Huey consumer on the same queue
as the test app: SQLite, or PostgreSQL with ``SURVEYAPP_TEST_DATABASE=postgresql``); the
SMTP server is aiosmtpd on a free local port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from . import mail_fixtures
from .conftest import QUESTIONNAIRES
from .dashboard_data import fast_password_hashes, login, responses_csv  # noqa: F401 (fixture)

# The SMTP server, the app that sends through it and the in-process worker are shared
# with tests/test_mail_pages.py (tests/mail_fixtures.py).
BASE_URL = mail_fixtures.BASE_URL
inbox = mail_fixtures.inbox
mail_app = mail_fixtures.mail_app
thread_worker = mail_fixtures.thread_worker

SURVEYAPP = str(Path(sys.executable).parent / "surveyapp")


class Worker:
    """``surveyapp worker`` in a subprocess, for the test app's database and queue."""

    def __init__(self, app, tmp_path):
        self.app, self.log = app, tmp_path / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        config = self.app.config
        env = {
            **os.environ,
            "SURVEYAPP_ENV": "production",
            "SURVEYAPP_SECRET_KEY": config["SECRET_KEY"],
            "SURVEYAPP_DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "SURVEYAPP_QUESTIONNAIRE_DIR": str(QUESTIONNAIRES),
            "SURVEYAPP_MAIL_SMTP_HOST": config["MAIL_SMTP_HOST"],
            "SURVEYAPP_MAIL_SMTP_PORT": str(config["MAIL_SMTP_PORT"]),
            "SURVEYAPP_MAIL_FROM": config["MAIL_FROM"],
            "SURVEYAPP_BASE_URL": config["BASE_URL"],
            "SURVEYAPP_JOB_QUEUE": config["JOB_QUEUE"],
            "SURVEYAPP_JOB_QUEUE_NAME": config["JOB_QUEUE_NAME"],
        }
        log = self.log.open("a")
        self.process = subprocess.Popen(
            [SURVEYAPP, "worker", "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()  # the child has its own copy

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def worker(mail_app, tmp_path):
    running = Worker(mail_app, tmp_path)
    yield running
    running.stop()


def _add(campaign, code: str, addresses: list[str]) -> int:
    from flask import current_app

    from surveyapp.services.mailings import add_recipients

    added = add_recipients(campaign, code, "\n".join(addresses), current_app.config["SECRET_KEY"])
    _commit()
    return added


def _commit():
    from surveyapp.extensions import db

    db.session.commit()


def _schedule(kind: str, campaign, on=None) -> int:
    from surveyapp.services import mailings

    schedule = mailings.schedule_invitations if kind == "invitation" else mailings.schedule_reminder
    mailing = schedule(campaign, on)
    _commit()
    return mailing.id


def _enqueue(mailing_id: int) -> None:
    from surveyapp.services.jobs import enqueue_mailing

    enqueue_mailing(mailing_id)


def _statuses(mailing_id: int) -> dict[str, int]:
    from surveyapp.extensions import db
    from surveyapp.models import OutgoingMail

    db.session.expire_all()
    return dict(
        db.session.execute(
            sa.select(OutgoingMail.status, sa.func.count())
            .where(OutgoingMail.mailing_id == mailing_id)
            .group_by(OutgoingMail.status)
        ).all()
    )


ADDRESSES = [f"person{i}@staff.example.org" for i in range(1, 7)]


def test_invitations_arrive_with_headers_and_working_links(
    mail_app, in_app, thread_worker, inbox, tmp_path
):
    runner = mail_app.test_cli_runner()
    with in_app() as make:
        campaign_id = make.campaign(name="Autumn pulse").id
    listing = tmp_path / "com.csv"
    listing.write_text("name,email\nAda,person1@staff.example.org\nBo,person2@staff.example.org\n")
    result = runner.invoke(
        args=[
            "invitations",
            "add",
            "--campaign",
            str(campaign_id),
            "--department",
            "COM",
            str(listing),
        ]
    )
    assert result.exit_code == 0, result.output
    one_per_line = tmp_path / "hr.txt"
    one_per_line.write_text("person3@staff.example.org\n\nperson4@staff.example.org\n")
    result = runner.invoke(
        args=[
            "invitations",
            "add",
            "--campaign",
            str(campaign_id),
            "--department",
            "HR",
            str(one_per_line),
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["invitations", "send", "--campaign", str(campaign_id)])
    assert result.exit_code == 0, result.output
    received = inbox.wait_for(4)
    assert sorted(received) == ADDRESSES[:4]

    from surveyapp.services.invitations import find_invitation

    with in_app():
        for address, message in inbox.messages:
            assert message["To"] == address
            assert message["From"] == "surveys@example.org"
            assert message["Date"] and message["Message-ID"].endswith("@example.org>")
            assert message["Auto-Submitted"] == "auto-generated"
            assert message["Subject"] == "Enquête: Autumn pulse / Survey: Autumn pulse"
            text = message.get_body(("plain",)).get_content()
            assert "anonieme" in text and "anonymous" in text  # Dutch, then English
            links = [line for line in text.splitlines() if line.startswith(BASE_URL + "/s/")]
            assert len(links) == 2 and links[0] == links[1]
            invitation = find_invitation(links[0].rsplit("/", 1)[1])
            assert invitation is not None and invitation.campaign_id == campaign_id
    assert len({m["Message-ID"] for _, m in inbox.messages}) == 4

    status = runner.invoke(args=["invitations", "status", "--campaign", str(campaign_id)])
    assert status.exit_code == 0, status.output
    assert "recipients: 4" in status.output and "sent 4, failed 0, waiting 0" in status.output
    assert "answered: fewer than 5" in status.output
    assert "@" not in status.output


def test_reminders_reach_only_those_who_did_not_answer(mail_app, in_app, thread_worker, inbox):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign, Invitation, Recipient

    with in_app() as make:
        campaign = make.campaign()
        campaign.max_reminders = 1
        campaign_id = campaign.id
        _add(campaign, "IT", ADDRESSES)
        _enqueue(_schedule("invitation", campaign))
    assert sorted(inbox.wait_for(6)) == ADDRESSES
    with in_app():
        answered = ADDRESSES[:2]
        db.session.execute(
            sa.update(Invitation)
            .where(
                Invitation.id.in_(
                    sa.select(Recipient.invitation_id).where(Recipient.email.in_(answered))
                )
            )
            .values(used=True)
        )
        db.session.commit()
        campaign = db.session.get(Campaign, campaign_id)
        reminder = _schedule("reminder", campaign)
        from surveyapp.services import ServiceError
        from surveyapp.services.mailings import schedule_reminder

        with pytest.raises(ServiceError, match="allows 1 reminder"):
            schedule_reminder(campaign)
        _enqueue(reminder)
    received = inbox.wait_for(6 + 4)
    reminded = [a for a, m in inbox.messages if m["Subject"].startswith("Herinnering")]
    assert sorted(reminded) == ADDRESSES[2:]
    assert len(received) == 10


def test_a_job_that_runs_twice_sends_once(mail_app, in_app, inbox):
    from surveyapp.services.mailings import send_mailing

    with in_app() as make:
        campaign = make.campaign()
        _add(campaign, "COM", ADDRESSES[:3])
        mailing_id = _schedule("invitation", campaign)
    # Two jobs at once (the lock: the second finds the mailing being sent and leaves
    # it), then once more afterwards (every message is marked sent).
    threads = []
    for _ in range(2):

        def job():
            with mail_app.app_context():
                send_mailing(mailing_id)

        threads.append(threading.Thread(target=job))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with in_app():
        send_mailing(mailing_id)
        assert _statuses(mailing_id) == {"sent": 3}
    assert sorted(inbox.wait_for(3, timeout=1)) == ADDRESSES[:3]


def test_a_worker_killed_while_sending_leaves_each_message_sent_exactly_once(
    mail_app, in_app, worker, inbox
):
    with in_app() as make:
        campaign = make.campaign()
        _add(campaign, "IT", ADDRESSES)
        mailing_id = _schedule("invitation", campaign)
        _enqueue(mailing_id)
    inbox.hold = ADDRESSES[3]
    worker.start()
    # Generous: starting the worker is a new process (seconds on a busy machine).
    assert inbox.held.wait(90), "the worker never reached the held message"
    with in_app():
        assert _statuses(mailing_id).get("sending") == 1  # claimed, not yet marked
    worker.kill()
    inbox.release.set()
    worker.start()  # the new worker picks the mailing up at start and resends the claimed one
    received = inbox.wait_for(6, timeout=90)
    assert sorted(received) == ADDRESSES, received
    with in_app():
        assert _statuses(mailing_id) == {"sent": 6}


def test_smtp_refusals_are_retried_or_given_up(mail_app, in_app, inbox):
    from surveyapp.extensions import db
    from surveyapp.models import Mailing, OutgoingMail
    from surveyapp.services.mailings import MailingIncomplete, send_mailing

    inbox.try_later[ADDRESSES[0]] = 1
    inbox.refuse.add(ADDRESSES[1])
    with in_app() as make:
        campaign = make.campaign()
        _add(campaign, "COM", ADDRESSES[:3])
        mailing_id = _schedule("invitation", campaign)
        with pytest.raises(MailingIncomplete):
            send_mailing(mailing_id)  # huey retries the job, with backoff
        assert _statuses(mailing_id) == {"pending": 1, "failed": 1, "sent": 1}
        errors = db.session.scalars(sa.select(OutgoingMail.last_error).order_by(OutgoingMail.id))
        assert all("@" not in (e or "") or "451" in e or "550" in e for e in errors)
        send_mailing(mailing_id)
        assert _statuses(mailing_id) == {"failed": 1, "sent": 2}
        assert db.session.get(Mailing, mailing_id).status == "done"
    assert sorted(inbox.to()) == [ADDRESSES[0], ADDRESSES[2]]


def test_a_wrong_list_is_refused_whole_with_row_numbers(in_app, count):
    from flask import current_app

    from surveyapp.models import Invitation, Recipient
    from surveyapp.services import ServiceError
    from surveyapp.services.mailings import add_recipients

    with in_app() as make:
        campaign = make.campaign()
        key = current_app.config["SECRET_KEY"]
        text = "a@example.org\nnot-an-address\nb@example.org\nA@example.org\n"
        with pytest.raises(ServiceError) as refused:
            add_recipients(campaign, "COM", text, key)
        message = str(refused.value)
        assert "row 2: 'not-an-address' is not an e-mail address" in message
        assert "row 4: A@example.org is also on row 1 (duplicate)" in message
        with pytest.raises(ServiceError, match="no 'email' column"):
            add_recipients(campaign, "COM", "name,mail\nx,y@example.org\n", key)
        with pytest.raises(ServiceError, match="Unknown department"):
            add_recipients(campaign, "NOPE", "a@example.org\n", key)
        make.commit()
        assert add_recipients(campaign, "COM", "a@example.org\n", key) == 1
        make.commit()
        with pytest.raises(ServiceError, match="Already invited.*a@example.org"):
            add_recipients(campaign, "HR", "b@example.org\na@example.org\n", key)
    assert count(Recipient) == 1 and count(Invitation) == 1


def test_the_link_is_sealed_under_the_secret_key(in_app):
    from flask import current_app

    from surveyapp.models import Recipient
    from surveyapp.services import ServiceError
    from surveyapp.services.mailings import add_recipients, open_link

    with in_app() as make:
        campaign = make.campaign()
        add_recipients(campaign, "COM", "a@example.org", current_app.config["SECRET_KEY"])
        make.commit()
        row = Recipient.query.one()
        token = open_link(row.sealed_link, current_app.config["SECRET_KEY"], row.invitation_id)
        assert token.encode() not in row.sealed_link
        with pytest.raises(ServiceError, match="secret key"):
            open_link(row.sealed_link, "another secret", row.invitation_id)
        with pytest.raises(ServiceError):
            open_link(row.sealed_link, current_app.config["SECRET_KEY"], row.invitation_id + 1)


def test_addresses_go_at_close_and_never_appear_with_results(
    mail_app,
    in_app,
    inbox,
    client,
    count,
    fast_password_hashes,  # noqa: F811
):
    from surveyapp.models import Mailing, Organisation, OutgoingMail, Recipient
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.mailings import send_mailing
    from surveyapp.services.responses import import_responses
    from surveyapp.services.users import create_user

    addresses = [f"secret.person{i}@staff.example.org" for i in range(40)]
    with in_app() as make:
        campaign = make.campaign()
        campaign_id, organisation_id = campaign.id, campaign.organisation_id
        _add(campaign, "IT", addresses[:20])
        _add(campaign, "COM", addresses[20:])
        send_mailing(_schedule("invitation", campaign))
        import_responses(
            campaign,
            responses_csv(make.questionnaire(), {"COM": 8, "HR": 6, "IT": 9, "IT-OPS": 7}, 3),
            "answers.csv",
        )
        from surveyapp.extensions import db

        create_user(
            "boss@example.org",
            "lantern-quarry-velvet-41",
            "manager",
            db.session.get(Organisation, organisation_id),
        )
        create_user("consult@example.org", "copper-meadow-zephyr-59", "consultant")
        make.commit()
    assert count(Recipient) == 40 and count(OutgoingMail) == 40
    outputs = []

    def read(response) -> None:
        assert response.status_code == 200, (response.request.path, response.status_code)
        outputs.append((response.request.path, response.get_data(as_text=True)))

    login(client, ("boss@example.org", "lantern-quarry-velvet-41"))
    read(client.get(f"/results/campaigns/{campaign_id}"))
    read(client.get(f"/api/v1/campaigns/{campaign_id}/participation"))
    with in_app():
        from surveyapp.extensions import db
        from surveyapp.models import Campaign

        close_campaign(db.session.get(Campaign, campaign_id))
        db.session.commit()
    assert count(Recipient) == 0 and count(OutgoingMail) == 0
    with in_app():
        assert {m.status for m in Mailing.query} <= {"done", "cancelled"}
    read(client.get(f"/results/campaigns/{campaign_id}"))
    read(client.get(f"/api/v1/campaigns/{campaign_id}/results"))
    read(client.get(f"/results/campaigns/{campaign_id}/results.csv"))
    consultant = mail_app.test_client()
    login(consultant, ("consult@example.org", "copper-meadow-zephyr-59"))
    read(consultant.get(f"/results/campaigns/{campaign_id}/responses.csv"))
    for path, body in outputs:
        assert "staff.example.org" not in body, path
    runner = mail_app.test_cli_runner()
    exported = runner.invoke(args=["invitations", "status", "--campaign", str(campaign_id)])
    assert "staff.example.org" not in exported.output


def test_the_outbox_page_shows_mail_in_development_only(
    app,
    in_app,
    client,
    tmp_path,
    fast_password_hashes,  # noqa: F811
):
    from surveyapp.services.mail import build_message, send
    from surveyapp.services.users import create_user

    app.config.update(ENV_NAME="development", MAIL_OUTBOX=str(tmp_path / "outbox"))
    with in_app() as make:
        make.organisation()
        create_user("consult@example.org", "copper-meadow-zephyr-59", "consultant")
        make.commit()
        send(app.config, build_message(app.config, "x@staff.example.org", "Hello there", "Body"))
    assert client.get("/consultant/outbox").status_code == 302  # to sign-in
    login(client, ("consult@example.org", "copper-meadow-zephyr-59"))
    page = client.get("/consultant/outbox")
    assert page.status_code == 200
    assert "Hello there" in page.get_data(as_text=True)
    app.config.update(ENV_NAME="production")
    assert client.get("/consultant/outbox").status_code == 404
    app.config.update(ENV_NAME="development", MAIL_SMTP_HOST="127.0.0.1")
    assert client.get("/consultant/outbox").status_code == 404
