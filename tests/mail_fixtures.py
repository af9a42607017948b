"""Fixtures for the e-mail tests: an SMTP server that records what it receives
(aiosmtpd on a free local port), the test app sending through it on a job queue of its
own, and that queue's consumer running in the test process.

Import the fixtures into a test module: ``from .mail_fixtures import inbox, mail_app``.
"""

from __future__ import annotations

import asyncio
import email
import signal
import threading
import time
import uuid
from email import policy

import pytest

from .conftest import _free_port

BASE_URL = "https://survey.example.org"


class Inbox:
    """What the SMTP server received; can hold one address at RCPT, or answer 451 or 550."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[tuple[str, email.message.EmailMessage]] = []
        self.hold: str | None = None
        self.held = threading.Event()
        self.release = threading.Event()
        self.try_later: dict[str, int] = {}
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == self.hold:
            self.hold = None
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
            return "421 4.3.0 closing"
        if self.try_later.get(address):
            self.try_later[address] -= 1
            return "451 4.3.0 try again later"
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        parsed = email.message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            for address in envelope.rcpt_tos:
                self.messages.append((address, parsed))
        return "250 OK"

    def to(self) -> list[str]:
        with self.lock:
            return [address for address, _ in self.messages]

    def wait_for(self, n: int, timeout: float = 20) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.to()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # long enough for a duplicate to show up
        return self.to()


@pytest.fixture
def inbox():
    from aiosmtpd.controller import Controller

    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    box.port = controller.port
    yield box
    box.release.set()
    controller.stop()


@pytest.fixture
def mail_app(app, inbox, database_backend, tmp_path):
    """The test app, sending through ``inbox`` on a queue of its own."""
    queue = "postgresql" if database_backend == "postgresql" else f"sqlite:///{tmp_path}/jobs.db"
    app.config.update(
        MAIL_SMTP_HOST="127.0.0.1",
        MAIL_SMTP_PORT=inbox.port,
        MAIL_FROM="surveys@example.org",
        BASE_URL=BASE_URL,
        JOB_QUEUE=queue,
        JOB_QUEUE_NAME=f"test-{uuid.uuid4().hex[:12]}",
    )
    yield app
    queue = app.extensions.get("surveyapp.jobs")
    if queue is not None:
        queue.huey.storage.close()


@pytest.fixture
def thread_worker(mail_app):
    """The Huey consumer of the test app, in this process (starts at once)."""
    from surveyapp.services.jobs import job_queue

    consumer = job_queue(mail_app).huey.create_consumer(workers=2, periodic=False, max_delay=0.5)
    # start() installs the consumer's signal handlers; pytest keeps its own.
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    for number, handler in saved.items():
        signal.signal(number, handler)
    yield consumer
    consumer.stop(graceful=True)
