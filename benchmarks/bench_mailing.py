"""Sending 10,000 invitations through a local SMTP server with the real worker.

Usage: python benchmarks/bench_mailing.py [--recipients 10000] [--workers 2] [--runs 1]
       [--baseline-commit e2a1746] [--quick]

One run builds a temporary SQLite database (by the migrations) with one open campaign,
adds the recipients through the service (each gets an invitation and a sealed link),
schedules the invitation mailing, and runs ``surveyapp worker`` as a subprocess against
an aiosmtpd server in the benchmark process that counts what it receives. Times: adding
the recipients, the worker's start-up, and sending (first message received to last).

Each run is a child process of its own, for the code of one folder. With
``--baseline-commit`` the code as of that commit is checked out with ``git worktree``
into a temporary folder (removed afterwards; the working tree is not touched) and runs
alternate between it and this checkout, so both see the same load on the machine; the
ratio compares their median sending times.

The floor, in the same child process against another counting server: the same number
of ready-made messages of about the same size sent by a bare ``smtplib`` loop over one
connection (no database, no links, no templates): what the SMTP exchange alone costs.

Writes benchmarks/results/mailing.json (with the ``metrics`` list) and prints a summary.
Aim: 10,000 sent in under 60 s (for another number, the same rate). ``--quick``: 300
recipients, no baseline commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, metric, write_results  # noqa: E402

# The console script `surveyapp` does this; spelled out so that PYTHONPATH chooses the code.
WORKER = "import sys; sys.argv[0] = 'surveyapp'; from surveyapp.cli import main; sys.exit(main())"


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


def bare_smtp_seconds(recipients: int) -> float:
    """Seconds for a bare smtplib loop to send ``recipients`` ready-made messages."""
    import smtplib
    from email.message import EmailMessage

    from aiosmtpd.controller import Controller

    inbox = CountingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    messages = []
    for i in range(recipients):
        message = EmailMessage()
        message["From"] = "surveys@bench.example.org"
        message["To"] = f"person{i}@bench.example.org"
        message["Subject"] = "Your invitation to the survey"
        link = f"https://survey.example.org/s/{i:043d}"
        message.set_content(("You are invited to take part in the survey. " * 12) + link)
        messages.append((message["To"], message.as_bytes()))
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", controller.port) as smtp:
        for address, data in messages:
            smtp.sendmail("surveys@bench.example.org", [address], data)
    seconds = time.perf_counter() - start
    controller.stop()
    assert inbox.received == recipients, inbox.received
    return seconds


def measure(code: Path, recipients: int, workers: int) -> dict[str, object]:
    """One run of the code in ``code`` (this process imports it from there)."""
    sys.path.insert(0, str(code))
    from aiosmtpd.controller import Controller

    from benchmarks.common import benchmark_app

    inbox = CountingInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    folder = Path(tempfile.mkdtemp(prefix="bench-mailing-"))
    database = folder / "bench.sqlite3"
    with benchmark_app(database) as app:
        # Each version reads its own questionnaire files (a newer file may have keys an
        # older version does not know).
        app.config["QUESTIONNAIRE_DIR"] = str(code / "questionnaires")
        import surveyapp
        from surveyapp.extensions import db
        from surveyapp.models import Mailing
        from surveyapp.services.campaigns import create_campaign, open_campaign
        from surveyapp.services.mailings import add_recipients, schedule_invitations
        from surveyapp.services.organisations import create_organisation, import_departments
        from surveyapp.services.questionnaires import latest_questionnaire

        assert Path(surveyapp.__file__).is_relative_to(code), surveyapp.__file__
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
        addresses = "\n".join(f"person{i}@bench.example.org" for i in range(recipients))
        start = time.perf_counter()
        add_recipients(campaign, "ALL", addresses, app.config["SECRET_KEY"])
        db.session.commit()
        adding = time.perf_counter() - start
        mailing_id = schedule_invitations(campaign).id
        db.session.commit()

        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")},
            "PYTHONPATH": str(code),
            "SURVEYAPP_ENV": "production",
            "SURVEYAPP_SECRET_KEY": app.config["SECRET_KEY"],
            "SURVEYAPP_DATABASE_URL": f"sqlite:///{database}",
            "SURVEYAPP_QUESTIONNAIRE_DIR": str(code / "questionnaires"),
            "SURVEYAPP_MAIL_SMTP_HOST": "127.0.0.1",
            "SURVEYAPP_MAIL_SMTP_PORT": str(controller.port),
            "SURVEYAPP_MAIL_FROM": "surveys@bench.example.org",
            "SURVEYAPP_BASE_URL": "https://survey.example.org",
            "SURVEYAPP_JOB_QUEUE": f"sqlite:///{folder / 'jobs.sqlite3'}",
        }
        started = time.perf_counter()
        with open(folder / "worker.log", "w") as log:
            worker = subprocess.Popen(
                [sys.executable, "-c", WORKER, "worker", "--workers", str(workers)],
                env=env,
                cwd=folder,
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
    shutil.rmtree(folder, ignore_errors=True)
    sending = (inbox.last or finished) - (inbox.first or started)
    return {
        "received": inbox.received,
        "add_recipients_s": round(adding, 2),
        "worker_start_to_first_message_s": round((inbox.first or started) - started, 2),
        "first_to_last_message_s": round(sending, 2),
        "worker_start_to_done_s": round(finished - started, 2),
        "messages_per_second": round(recipients / sending, 1) if sending else None,
        "bare_smtplib_s": round(bare_smtp_seconds(recipients), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1, help="Runs of each version.")
    parser.add_argument("--baseline-commit", help="Also run the code as of this commit.")
    parser.add_argument("--code", help=argparse.SUPPRESS)  # one run, in a child process
    parser.add_argument("--quick", action="store_true", help="300 recipients")
    args = parser.parse_args()
    if args.quick:
        args.recipients, args.runs, args.baseline_commit = 300, 1, None
    if args.code:
        print(json.dumps(measure(Path(args.code), args.recipients, args.workers)))
        return

    folder = Path(tempfile.mkdtemp(prefix="bench-mailing-code-"))
    versions = {"current": ROOT}
    if args.baseline_commit:
        versions["baseline"] = folder / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet"]
            + [str(versions["baseline"]), args.baseline_commit],
            check=True,
        )
    runs: dict[str, list[dict]] = {name: [] for name in versions}
    try:
        for _ in range(args.runs):
            for name, code in versions.items():
                child = subprocess.run(
                    [sys.executable, __file__, "--code", str(code)]
                    + ["--recipients", str(args.recipients), "--workers", str(args.workers)],
                    capture_output=True,
                    text=True,
                )
                if child.returncode != 0:
                    raise SystemExit(f"The {name} run failed:\n{child.stderr}")
                runs[name].append(json.loads(child.stdout.strip().splitlines()[-1]))
                print(name, runs[name][-1], flush=True)
    finally:
        if "baseline" in versions:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force"]
                + [str(versions["baseline"])],
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)
    payload: dict[str, object] = {
        "recipients": args.recipients,
        "worker_threads": args.workers,
        "baseline_commit": args.baseline_commit,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
    }
    for name, results in runs.items():
        payload[f"{name}_median_first_to_last_message_s"] = statistics.median(
            r["first_to_last_message_s"] for r in results
        )
    if "baseline" in runs:
        payload["baseline_over_current"] = round(
            payload["baseline_median_first_to_last_message_s"]
            / payload["current_median_first_to_last_message_s"],
            2,
        )
    payload["metrics"] = mailing_metrics(args.recipients, runs)
    path = write_results("mailing", payload)
    for key, value in payload.items():
        if key not in ("runs", "metrics"):
            print(f"{key}: {value}")
    print(f"written to {path}")


def mailing_metrics(recipients: int, runs: dict[str, list[dict]]) -> list[dict]:
    """Sending time against the bare smtplib loop of the same runs, and the code before."""
    sending = statistics.median(r["first_to_last_message_s"] for r in runs["current"])
    floor = statistics.median(r["bare_smtplib_s"] for r in runs["current"])
    limit = 60 * recipients / 10_000
    out = [
        metric(
            f"sending {recipients:,} invitations (first to last message)",
            sending,
            "s",
            f"bare smtplib loop, {recipients:,} ready-made messages",
            floor,
            f"< {limit:g} s" + ("" if recipients == 10_000 else " (60 s per 10,000)"),
            sending < limit,
        ),
        metric(
            f"adding {recipients:,} recipients",
            statistics.median(r["add_recipients_s"] for r in runs["current"]),
            "s",
        ),
    ]
    if "baseline" in runs:
        out.append(
            metric(
                f"sending {recipients:,} invitations, against the code before",
                sending,
                "s",
                "the same at the baseline commit",
                statistics.median(r["first_to_last_message_s"] for r in runs["baseline"]),
            )
        )
    return out


if __name__ == "__main__":
    main()
