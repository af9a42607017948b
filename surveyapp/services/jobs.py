"""The job queue: Huey, built from the app's configuration, run by ``surveyapp worker``.

Which queue (``JOB_QUEUE`` in the app's config, else ``SURVEYAPP_JOB_QUEUE``):

* ``sqlite`` (the default when the database is SQLite): ``SqliteHuey`` in
  ``instance/jobs.sqlite3``. Embedded like the database itself: nothing to install or run
  besides the worker, and the worker runs on the same host as the app.
* ``postgresql`` (the default when the database is PostgreSQL): ``PostgresHuey`` in the
  app's own database (tables ``huey_*``). Web servers and workers on several hosts share
  it, woken by LISTEN/NOTIFY, with no extra service such as Redis to run and secure.
* ``sqlite:///path/to/file``: SqliteHuey in that file. ``memory``: an in-process queue
  that runs each job at once (``immediate`` mode), for tests without a worker.

The queue carries only ids (a mailing's id), never an address or a link: the database is
the record of what is to be sent and what was sent, and the queue only says "look now".
A periodic job looks every minute anyway, so a job lost with a killed worker, or a
mailing whose day has come, is picked up without anyone enqueuing it.

Tasks run in an application context of the app the queue was built for: in the worker
that is the app ``surveyapp worker`` creates.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask
    from huey import Huey

EXTENSION_KEY = "surveyapp.jobs"
# A send that failed for a reason that may pass (the SMTP server is down or busy) is
# tried again after 30 s, 60 s, 2, 4, 8 and 16 minutes.
SEND_RETRIES = 6
SEND_RETRY_DELAY = 30
SEND_RETRY_BACKOFF = 2


@dataclass(frozen=True)
class JobQueue:
    """The app's Huey instance and the tasks registered on it."""

    huey: Huey
    kind: str
    send_mailing: Any
    dispatch_due_mailings: Any


def queue_setting(app: Flask) -> str:
    """The configured queue, or the default that matches the app's database."""
    setting = app.config.get("JOB_QUEUE") or os.environ.get("SURVEYAPP_JOB_QUEUE")
    if setting:
        return setting
    uri = str(app.config["SQLALCHEMY_DATABASE_URI"])
    return "postgresql" if uri.startswith("postgresql") else "sqlite"


def _build_huey(app: Flask, setting: str) -> tuple[Huey, str]:
    from huey import MemoryHuey, PostgresHuey, SqliteHuey

    name = app.config.get("JOB_QUEUE_NAME") or os.environ.get("SURVEYAPP_JOB_QUEUE_NAME")
    name = name or "surveyapp"
    if setting == "memory":
        return MemoryHuey(name, immediate=True, results=False), "memory"
    if setting == "sqlite" or setting.startswith("sqlite:///"):
        path = setting[len("sqlite:///") :] if setting != "sqlite" else ""
        filename = Path(path or Path(app.instance_path) / "jobs.sqlite3")
        filename.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(name, filename=str(filename), results=False), "sqlite"
    if setting == "postgresql":
        from sqlalchemy.engine import make_url

        url = make_url(str(app.config["SQLALCHEMY_DATABASE_URI"]))
        if not url.drivername.startswith("postgresql"):
            raise RuntimeError(
                "SURVEYAPP_JOB_QUEUE is 'postgresql' but the database is not PostgreSQL; "
                "use 'sqlite' or set SURVEYAPP_DATABASE_URL to a PostgreSQL database."
            )
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHuey(name, dsn=dsn, results=False), "postgresql"
    raise RuntimeError(
        f"SURVEYAPP_JOB_QUEUE is {setting!r}; set it to 'sqlite', 'sqlite:///<file>', "
        "'postgresql' or 'memory'."
    )


def init_queue(app: Flask) -> JobQueue:
    """Build the app's queue and register its tasks (once per app)."""
    from huey import crontab

    huey, kind = _build_huey(app, queue_setting(app))

    def in_app(function):
        def run(*args):
            from ..extensions import db

            with app.app_context():
                try:
                    return function(*args)
                finally:
                    db.session.remove()

        return run

    @in_app
    def _send(mailing_id: int) -> None:
        from .mailings import send_mailing

        send_mailing(mailing_id)

    @in_app
    def _dispatch() -> None:
        from .mailings import due_mailing_ids

        for mailing_id in due_mailing_ids():
            queue.send_mailing(mailing_id)

    @huey.on_shutdown(name="close_queue_connections")
    def _close() -> None:
        # Each worker thread's PostgreSQL LISTEN connection, and the shared one.
        huey.storage.close()

    send = huey.task(
        retries=SEND_RETRIES,
        retry_delay=SEND_RETRY_DELAY,
        retry_backoff=SEND_RETRY_BACKOFF,
        name="send_mailing",
    )(_send)
    dispatch = huey.periodic_task(crontab(minute="*"), name="dispatch_due_mailings")(_dispatch)
    queue = JobQueue(huey=huey, kind=kind, send_mailing=send, dispatch_due_mailings=dispatch)
    app.extensions[EXTENSION_KEY] = queue
    return queue


def job_queue(app: Flask | None = None) -> JobQueue:
    """The app's queue, built on first use from its configuration."""
    if app is None:
        from flask import current_app

        app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = app.extensions.get(EXTENSION_KEY)
    return queue if queue is not None else init_queue(app)


def enqueue_mailing(mailing_id: int) -> None:
    """Ask a worker to send a mailing now (call after the mailing is committed)."""
    job_queue().send_mailing(mailing_id)


def run_worker(app: Flask, workers: int = 2) -> None:
    """Run the Huey consumer for ``app`` until it is stopped (SIGINT or SIGTERM)."""
    import logging

    queue = job_queue(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if queue.kind == "memory":
        raise RuntimeError("The 'memory' queue runs jobs at once; it needs no worker.")
    # Pick up what is due now instead of at the next whole minute: after a restart this
    # resumes a mailing whose job died with the previous worker.
    queue.dispatch_due_mailings()
    consumer = queue.huey.create_consumer(workers=workers, periodic=True, max_delay=1.0)
    consumer.run()
