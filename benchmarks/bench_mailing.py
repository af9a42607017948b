"""Sending 10,000 invitations through a local SMTP server with the real worker.

Usage: python benchmarks/bench_mailing.py [--recipients 10000] [--workers 2]
Builds a temporary SQLite database (by the migrations) with one open campaign, adds the
recipients through the service (each gets an invitation and a sealed link), schedules
the invitation mailing, and runs ``surveyapp worker`` as a subprocess against an aiosmtpd
server in this process that counts what it receives. Times: adding the recipients, the
worker's start-up, and sending (first message received to the mailing marked done).
Writes benchmarks/results/mailing.json and prints a summary. Aim: under 60 s to send.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, benchmark_app, write_results  # noqa: E402


class CountingInbox:
    """An SMTP handler that only counts, so the server is not what is measured."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received = 0
        self.first: float | None = None
        self.last: float | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        now = time.perf_counter()
        with self.lock:
            self.received += len(envelope.rcpt_tos)
            self.first = self.first or now
            self.last = now
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller

    inbox = CountingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    folder = Path(tempfile.mkdtemp(prefix="bench-mailing-"))
    database = folder / "bench.sqlite3"
    with benchmark_app(database) as app:
        from surveyapp.extensions import db
        from surveyapp.models import Mailing
        from surveyapp.services.campaigns import create_campaign, open_campaign
        from surveyapp.services.mailings import add_recipients, schedule_invitations
        from surveyapp.services.organisations import create_organisation, import_departments
        from surveyapp.services.questionnaires import latest_questionnaire

        org = create_organisation("Mailing benchmark", "government", "1000+")
        import_departments(org, "code,name\nALL,Everyone\n", "departments.csv")
        today = dt.date.today()
        campaign = create_campaign(
            org,
            latest_questionnaire("social-business-maturity"),
            "Benchmark",
            today - dt.timedelta(days=1),
            today + dt.timedelta(days=30),
        )
        open_campaign(campaign)
        db.session.commit()
        addresses = "\n".join(f"person{i}@bench.example.org" for i in range(args.recipients))
        start = time.perf_counter()
        add_recipients(campaign, "ALL", addresses, app.config["SECRET_KEY"])
        db.session.commit()
        adding = time.perf_counter() - start
        mailing_id = schedule_invitations(campaign).id
        db.session.commit()

        env = {
            **os.environ,
            "SURVEYAPP_ENV": "production",
            "SURVEYAPP_SECRET_KEY": app.config["SECRET_KEY"],
            "SURVEYAPP_DATABASE_URL": f"sqlite:///{database}",
            "SURVEYAPP_QUESTIONNAIRE_DIR": str(ROOT / "questionnaires"),
            "SURVEYAPP_MAIL_SMTP_HOST": "127.0.0.1",
            "SURVEYAPP_MAIL_SMTP_PORT": str(controller.port),
            "SURVEYAPP_MAIL_FROM": "surveys@bench.example.org",
            "SURVEYAPP_BASE_URL": "https://survey.example.org",
            "SURVEYAPP_JOB_QUEUE": f"sqlite:///{folder / 'jobs.sqlite3'}",
        }
        surveyapp = str(Path(sys.executable).parent / "surveyapp")
        started = time.perf_counter()
        with open(folder / "worker.log", "w") as log:
            worker = subprocess.Popen(
                [surveyapp, "worker", "--workers", str(args.workers)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            while True:
                time.sleep(0.5)
                db.session.expire_all()
                done = db.session.get(Mailing, mailing_id).status == "done"
                db.session.rollback()  # no read transaction held open between polls
                if done:
                    break
                if worker.poll() is not None:
                    raise SystemExit(f"The worker stopped; see {folder / 'worker.log'}")
            finished = time.perf_counter()
        finally:
            worker.send_signal(signal.SIGINT)
            worker.wait(30)
    controller.stop()
    sending = (inbox.last or finished) - (inbox.first or started)
    payload = {
        "recipients": args.recipients,
        "worker_threads": args.workers,
        "received": inbox.received,
        "add_recipients_s": round(adding, 2),
        "worker_start_to_first_message_s": round((inbox.first or started) - started, 2),
        "first_to_last_message_s": round(sending, 2),
        "worker_start_to_done_s": round(finished - started, 2),
        "messages_per_second": round(args.recipients / sending, 1) if sending else None,
    }
    path = write_results("mailing", payload)
    for key, value in payload.items():
        print(f"{key}: {value}")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
