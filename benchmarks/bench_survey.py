"""The survey path end to end: whole surveys against gunicorn, beside a bare-Flask floor.

Usage: python benchmarks/bench_survey.py [--duration 15] [--concurrency 1 10 50]
       [--database sqlite postgresql] [--before REF] [--port 5400] [--quick]
Writes benchmarks/results/survey.json and prints Markdown tables. ``--quick``: SQLite only,
10 respondents for 3 s after a 1 s warm-up, no counting run (no SQL count). The
``metrics`` list (collected by ``benchmarks/run.py``) sets each app figure beside the
floor's from the same run: CPU per request (target at most 2x the floor's), completed
surveys per second (target 85/s, 20x LimeSurvey's 4.25/s on the same machine), turn p50
and p99, SQL statements per survey, and the stored-once check.

Each app is served by gunicorn (2 sync workers, 127.0.0.1 only) from its own new
database. A closed-loop client (one thread per simulated respondent, ``http.client``, no
keep-alive as sync workers close every connection) completes whole surveys: 15 turns,
the link's GET and a POST with the page's CSRF token for each step, with the session
cookie the server sets. A server that answers with a
redirect has it followed within the turn: since 2026-12-01 the app and the floor answer a
step's POST with the next page and redirect only after the submission, 16 requests a
survey (30 before, when every turn was a POST and a redirected GET; ``--before`` with an
older revision measures that flow). Each run
at 1, 10 and 50 respondents lasts ``--duration`` seconds after a short warm-up; a
respondent still in a survey at the end finishes it. Measured:

* completed surveys per second, and requests per second;
* server CPU per request: user + system time of the worker processes (``/proc/<pid>/stat``)
  over the run, divided by the requests served;
* p50 and p99 of each turn (one step: a POST, or the link's GET), in milliseconds;
* SQL statements per survey, in a separate counting run of 20 surveys: SQLite's own trace
  callback in each worker (benchmarks/survey_gunicorn.py), or pg_stat_statements on
  PostgreSQL;
* afterwards, from the database: every completed survey stored exactly once (responses =
  used invitations = surveys the client completed, no draft left for a used invitation,
  46 answer rows each, and the sum of the stored answers = the sum the client sent).

The apps: ``floor`` (benchmarks/bare_flask: the same flow and rows in bare Flask),
``app`` (this working tree) and, with ``--before REF``, ``before`` (the app at a git
revision, exported with ``git archive``: the same run measures the change).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, metric, write_results  # noqa: E402

GUNICORN = Path(sys.executable).with_name("gunicorn")
CONFIG = Path(__file__).with_name("survey_gunicorn.py")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ITEM = re.compile(r'name="(item-[a-z0-9_]+)"[^>]* type="radio"')
TURNS = ["start", "language", "intro", "about", *(f"page-{i}" for i in range(1, 10))]
TURNS += ["comment", "review"]
TICKS = os.sysconf("SC_CLK_TCK")
WARM_UP = 2.0
COUNTED_SURVEYS = 20
LIMESURVEY_SURVEYS_PER_S = 4.25  # LimeSurvey 6.14 on the same kind of machine (issue 13)


# ---------------------------------------------------------------------------
# Databases and servers


def new_postgres(base: Path) -> tuple[str, subprocess.Popen | None, list[str]]:
    """A throw-away PostgreSQL cluster (as the tests start one), with pg_stat_statements."""
    sys.path.insert(0, str(ROOT))
    from tests.conftest import _free_port, _pg_bin

    base.mkdir(parents=True, exist_ok=True)
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        # The postgres user must get through the folder around it (mkdtemp makes it 0700).
        base.parent.chmod(base.parent.stat().st_mode | 0o111)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    data, port = base / "data", _free_port()
    subprocess.run(
        [*as_postgres, _pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
        + ["--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off "
        "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
    )
    subprocess.run(
        [*as_postgres, _pg_bin("pg_ctl"), "-D", str(data), "-o", options]
        + ["-l", str(base / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    stop = [*as_postgres, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", None, stop


def postgres_database(server_url: str, name: str) -> str:
    import psycopg

    plain = server_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    address = plain.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(address, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def set_up_app(tree: Path, database_url: str, tokens: list[str]) -> None:
    """Build the app's schema (its own migrations) and an open campaign with these links."""
    token_file = Path(tempfile.mkstemp()[1])
    token_file.write_text("\n".join(tokens))
    script = (
        "import datetime as dt, sys\n"
        "from pathlib import Path\n"
        "from surveyapp import create_app\n"
        "from surveyapp.extensions import db\n"
        "from surveyapp.services.campaigns import create_campaign, open_campaign\n"
        "from surveyapp.services.invitations import hash_token, store_invitations\n"
        "from surveyapp.services.organisations import create_organisation, import_departments\n"
        "from surveyapp.services.questionnaires import latest_questionnaire\n"
        "app = create_app({'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': sys.argv[1],\n"
        "    'QUESTIONNAIRE_DIR': sys.argv[3], 'LANGUAGES': ('nl', 'en'),\n"
        "    'BABEL_DEFAULT_LOCALE': 'en'})\n"
        "with app.app_context():\n"
        "    from flask_migrate import upgrade\n"
        "    upgrade()\n"
        "    org = create_organisation('Benchmark organisation', 'government', '1000+')\n"
        "    import_departments(org, 'code,name,parent_code,headcount\\nA,A,,90000\\n', 'd.csv')\n"
        "    today = dt.date.today()\n"
        "    campaign = create_campaign(org, latest_questionnaire('social-business-maturity'),\n"
        "        'Benchmark', today - dt.timedelta(days=1), today + dt.timedelta(days=30))\n"
        "    open_campaign(campaign)\n"
        "    unit = campaign.units[0]\n"
        "    tokens = Path(sys.argv[2]).read_text().split()\n"
        "    store_invitations(campaign, [(unit, t) for t in tokens])\n"
        "    db.session.commit()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script, database_url, str(token_file), str(ROOT / "questionnaires")],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        check=True,
    )
    token_file.unlink()


def set_up_floor(database_url: str, tokens: list[str]) -> None:
    from benchmarks.bare_flask.app import add_invitations, init_database

    init_database(database_url)
    add_invitations(database_url, tokens)


@dataclass
class Server:
    """A gunicorn master serving one app; its workers are its child processes."""

    process: subprocess.Popen
    port: int

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def cpu_seconds(self) -> float:
        total = 0
        for pid in self.workers():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / TICKS

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(app: str, tree: Path, database_url: str, port: int, count_dir: Path | None) -> Server:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("BENCH_SQL_COUNT_DIR", None)
    if count_dir is not None:
        env["BENCH_SQL_COUNT_DIR"] = str(count_dir)
    if app == "floor":
        target = "benchmarks.bare_flask.app:create_app()"
        env["BARE_DATABASE"] = database_url.removeprefix("sqlite:///")
    else:
        target = "wsgi:app"
        # Production settings, as deployed: only the cookie is let through plain HTTP.
        env.update(
            SURVEYAPP_ENV="production",
            SURVEYAPP_SECRET_KEY=secrets.token_hex(32),
            SURVEYAPP_DATABASE_URL=database_url,
            SURVEYAPP_INSECURE_COOKIES="1",
            SURVEYAPP_JOB_QUEUE="memory",
        )
    process = subprocess.Popen(
        [str(GUNICORN), "--workers", "2", "--worker-class", "sync", "--timeout", "60"]
        + ["--bind", f"127.0.0.1:{port}", "--config", str(CONFIG), "--chdir", str(tree), target],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE if os.environ.get("BENCH_QUIET_SERVER") else None,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/s/done")
            connection.getresponse().read()
            server = Server(process, port)
            if len(server.workers()) == 2:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{app} did not start on port {port}")


# ---------------------------------------------------------------------------
# The client


class SurveyFailed(Exception):
    pass


@dataclass
class Tally:
    """What the respondents of one run did; shared by their threads."""

    completed: int = 0
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    answer_sum: int = 0
    turns: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in TURNS})
    lock: threading.Lock = field(default_factory=threading.Lock)


class Respondent:
    """One browser without JavaScript: a cookie, the page's CSRF token, every redirect."""

    def __init__(self, port: int, token: str, rng: random.Random):
        self.port, self.token, self.rng = port, token, rng
        self.cookie = ""
        self.requests = 0

    def request(self, method: str, path: str, form: dict[str, str] | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        page = response.read().decode()
        connection.close()
        self.requests += 1
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response.getheader("Location"), page

    def turn(self, method: str, path: str, form=None) -> str:
        """One step as a browser takes it: the request, and the GET of a redirect if the
        server answers with one (the app and the floor answer a step's POST with the next
        page, and redirect only after the submission); the page at the end."""
        status, location, page = self.request(method, path, form)
        if status == 200:
            return page
        if status not in (301, 302, 303):
            raise SurveyFailed(f"{method} {path.replace(self.token, '<link>')}: {status}")
        status, _, page = self.request("GET", location)
        if status != 200:
            raise SurveyFailed(f"GET {location.replace(self.token, '<link>')}: {status}")
        return page

    def survey(self, tally: Tally) -> int:
        """Complete the survey; return the sum of the answers given."""
        base = f"/s/{self.token}"
        timings: list[tuple[str, float]] = []
        total = 0

        def timed(name: str, method: str, path: str, form=None) -> str:
            start = time.perf_counter()
            page = self.turn(method, path, form)
            timings.append((name, time.perf_counter() - start))
            return page

        def csrf(page: str) -> str:
            match = CSRF.search(page)
            if match is None:
                raise SurveyFailed("a page without a CSRF token")
            return match.group(1)

        page = timed("start", "GET", base)
        page = timed(
            "language",
            "POST",
            f"{base}/language",
            {"csrf_token": csrf(page), "language": "en", "action": "next"},
        )
        page = timed("intro", "POST", f"{base}/intro", {"csrf_token": csrf(page), "action": "next"})
        form = {"csrf_token": csrf(page), "role_level": "employee", "action": "next"}
        page = timed("about", "POST", f"{base}/about", form)
        for number in range(1, 10):
            items = ITEM.findall(page)
            if not items:
                raise SurveyFailed(f"page {number} has no statements")
            form = {"csrf_token": csrf(page), "action": "next"}
            for name in dict.fromkeys(items):
                value = self.rng.randint(1, 5)
                total += value
                form[name] = str(value)
            page = timed(f"page-{number}", "POST", f"{base}/page-{number}", form)
        page = timed(
            "comment",
            "POST",
            f"{base}/comment",
            {"csrf_token": csrf(page), "comment": "", "action": "next"},
        )
        page = timed(
            "review", "POST", f"{base}/review", {"csrf_token": csrf(page), "action": "submit"}
        )
        if "Thank you" not in page:
            raise SurveyFailed("no thank-you page after submitting")
        with tally.lock:
            for name, seconds in timings:
                tally.turns[name].append(seconds)
        return total


def run_load(
    port: int, tokens: list[str], concurrency: int, duration: float, tally: Tally | None = None
) -> tuple[Tally, float]:
    """``concurrency`` respondents completing surveys for ``duration`` seconds (or until
    ``tokens`` are used up: a shorter list bounds the number of surveys)."""
    tally = tally or Tally()
    token_iter = iter(tokens)
    token_lock = threading.Lock()
    deadline = time.monotonic() + duration

    def respondent(seed: int) -> None:
        rng = random.Random(seed)
        while time.monotonic() < deadline:
            with token_lock:
                token = next(token_iter, None)
            if token is None:
                return
            person = Respondent(port, token, rng)
            try:
                total = person.survey(tally)
            except (SurveyFailed, OSError) as exc:
                with tally.lock:
                    tally.failures.append(str(exc))
                    tally.requests += person.requests
                continue
            with tally.lock:
                tally.completed += 1
                tally.answer_sum += total
                tally.requests += person.requests

    threads = [threading.Thread(target=respondent, args=(n,)) for n in range(concurrency)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.monotonic() - start


# ---------------------------------------------------------------------------
# Checks and counts in the database


def stored(database_url: str) -> dict[str, int]:
    """What the database holds after the runs: responses, used links, drafts, answers."""
    queries = {
        "responses": "SELECT count(*) FROM response",
        "used_links": "SELECT count(*) FROM invitation WHERE used",
        "drafts_of_used_links": "SELECT count(*) FROM draft JOIN invitation i"
        " ON i.id = draft.invitation_id WHERE i.used",
        "answers": "SELECT count(*) FROM answer",
        "answer_sum": "SELECT coalesce(sum(value), 0) FROM answer",
        "responses_without_46_answers": "SELECT count(*) FROM response r WHERE"
        " (SELECT count(*) FROM answer a WHERE a.response_id = r.id) <> 46",
    }
    if database_url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(database_url.replace("postgresql+psycopg", "postgresql")) as c:
            return {k: int(c.execute(q).fetchone()[0]) for k, q in queries.items()}
    import sqlite3

    connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        return {k: int(connection.execute(q).fetchone()[0]) for k, q in queries.items()}
    finally:
        connection.close()


def pg_statements(database_url: str, reset: bool = False) -> int:
    import psycopg

    plain = database_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as connection:
        if reset:
            connection.execute("SELECT pg_stat_statements_reset()")
            return 0
        # Every statement run in this database, BEGIN, COMMIT and the pool's pings included.
        return int(
            connection.execute(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d"
                " ON d.oid = s.dbid WHERE d.datname = current_database()"
            ).fetchone()[0]
        )


# ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(app: str, tree: Path, database_url: str, args, work: Path, port: int) -> dict:
    """Every measurement of one app on one database."""
    needed = int(args.duration * 150 * len(args.concurrency)) + 400
    tokens = [secrets.token_urlsafe(32) for _ in range(needed)]
    if app == "floor":
        set_up_floor(database_url.removeprefix("sqlite:///"), tokens)
    else:
        set_up_app(tree, database_url, tokens)
    spent = 0
    totals = Tally()
    result: dict[str, object] = {"runs": {}}

    # SQL statements per survey: a run of its own with the counter on (none in --quick).
    result["sql_statements_per_survey"] = None
    if args.counted:
        count_dir = work / f"count-{app}-{port}"
        count_dir.mkdir()
        postgres = database_url.startswith("postgresql")
        server = serve(app, tree, database_url, port, None if postgres else count_dir)
        try:
            if postgres:
                pg_statements(database_url, reset=True)
            counted, _ = run_load(port, tokens[: args.counted], 1, 3600, totals)
            spent = args.counted
        finally:
            server.stop()
        if postgres:
            statements = pg_statements(database_url)
        else:
            statements = sum(int(p.read_text()) for p in count_dir.iterdir())
        result["sql_statements_per_survey"] = round(statements / max(1, counted.completed), 1)

    server = serve(app, tree, database_url, port, None)
    try:
        for concurrency in args.concurrency:
            run_load(port, tokens[spent:], concurrency, args.warm_up, totals)
            spent = totals.completed + len(totals.failures)
            tally = Tally()
            cpu_before = server.cpu_seconds()
            tally, elapsed = run_load(port, tokens[spent:], concurrency, args.duration, tally)
            cpu = server.cpu_seconds() - cpu_before
            spent += tally.completed + len(tally.failures)
            totals.completed += tally.completed
            totals.answer_sum += tally.answer_sum
            totals.failures += tally.failures
            all_turns = [s for values in tally.turns.values() for s in values]
            result["runs"][str(concurrency)] = {
                "surveys_per_s": round(tally.completed / elapsed, 2),
                "requests_per_s": round(tally.requests / elapsed, 1),
                "cpu_ms_per_request": round(1000 * cpu / max(1, tally.requests), 3),
                "turn_p50_ms": round(1000 * percentile(all_turns, 0.5), 1),
                "turn_p99_ms": round(1000 * percentile(all_turns, 0.99), 1),
                "per_turn_ms": {
                    name: {
                        "p50": round(1000 * percentile(values, 0.5), 1),
                        "p99": round(1000 * percentile(values, 0.99), 1),
                    }
                    for name, values in tally.turns.items()
                },
                "completed": tally.completed,
                "failed": len(tally.failures),
                "seconds": round(elapsed, 1),
            }
    finally:
        server.stop()

    found = stored(database_url)
    checks = {
        "completed_by_client": totals.completed,
        **found,
        "answer_sum_sent": totals.answer_sum,
    }
    checks["each_stored_once"] = (
        found["responses"] == found["used_links"] == totals.completed
        and found["drafts_of_used_links"] == 0
        and found["responses_without_46_answers"] == 0
        and found["answers"] == 46 * totals.completed
        and found["answer_sum"] == totals.answer_sum
    )
    result["check"] = checks
    result["failures"] = sorted(set(totals.failures))[:5]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument(
        "--database", nargs="+", default=["sqlite"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--apps", nargs="+", default=["floor", "app"], choices=["floor", "before", "app"]
    )
    parser.add_argument("--before", help="git revision of the app to measure as 'before'")
    parser.add_argument("--port", type=int, default=5400)
    parser.add_argument("--work", default=None, help="temporary folder (default: a new one)")
    parser.add_argument("--output", default="survey")
    parser.add_argument("--quick", action="store_true", help="SQLite, 10 respondents, 3 s")
    args = parser.parse_args()
    args.warm_up, args.counted = WARM_UP, COUNTED_SURVEYS
    if args.quick:
        args.database, args.concurrency, args.duration = ["sqlite"], [10], 3.0
        args.warm_up, args.counted = 1.0, 0
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-survey-"))
    work.mkdir(parents=True, exist_ok=True)
    apps = list(args.apps)
    trees = {"floor": ROOT, "app": ROOT}
    if args.before:
        apps = [a for a in apps if a != "before"]
        apps.insert(1, "before")
        before = work / "before"
        before.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.before], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        trees["before"] = before
        shutil.copytree(
            ROOT / "surveyapp" / "translations",
            before / "surveyapp" / "translations",
            dirs_exist_ok=True,
        )

    results: dict[str, dict] = {}
    port = args.port
    for database in args.database:
        cluster_stop = None
        if database == "postgresql":
            server_url, _, cluster_stop = new_postgres(work / "pg")
        try:
            for app in apps:
                if database == "sqlite":
                    url = f"sqlite:///{work / f'{app}.sqlite3'}"
                else:
                    url = postgres_database(server_url, f"bench_{app}")
                print(f"{database} {app} …", file=sys.stderr, flush=True)
                results.setdefault(database, {})[app] = measure(
                    app, trees[app], url, args, work, port
                )
                port += 1
        finally:
            if cluster_stop:
                subprocess.run(cluster_stop, capture_output=True)

    payload = {
        "workers": "gunicorn, 2 sync workers, 127.0.0.1",
        "duration_s": args.duration,
        "before": args.before,
        "results": results,
        "ratios": ratios(results),
        "metrics": survey_metrics(results),
    }
    out = write_results(args.output, payload)
    print(table(results, payload["ratios"]))
    print(f"\nwritten to {out}")


def survey_metrics(results: dict) -> list[dict]:
    """Each app's figures beside the floor's of the same run, per database and load."""
    target_rate = 20 * LIMESURVEY_SURVEYS_PER_S
    out = []
    for database, apps in results.items():
        floor = apps.get("floor")
        for app, result in apps.items():
            if app == "floor":
                continue
            who = "" if app == "app" else f" ({app})"
            for concurrency, run in result["runs"].items():
                base = floor["runs"][concurrency] if floor else {}
                people = "1 respondent" if concurrency == "1" else f"{concurrency} respondents"
                where = f"{database}, {people}{who}"
                cpu = run["cpu_ms_per_request"]
                out += [
                    metric(
                        f"survey path: server CPU per request, {where}",
                        cpu,
                        "ms",
                        "bare-Flask floor",
                        base.get("cpu_ms_per_request"),
                        "<= 2x floor",
                        None if not base else cpu <= 2 * base["cpu_ms_per_request"],
                    ),
                    metric(
                        f"survey path: completed surveys per second, {where}",
                        run["surveys_per_s"],
                        "surveys/s",
                        "bare-Flask floor",
                        base.get("surveys_per_s"),
                        f">= {target_rate:g}/s (20x LimeSurvey)",
                        run["surveys_per_s"] >= target_rate,
                    ),
                    metric(
                        f"survey path: turn p50 (one step: a POST, or the link's GET), {where}",
                        run["turn_p50_ms"],
                        "ms",
                        "bare-Flask floor",
                        base.get("turn_p50_ms"),
                    ),
                    metric(
                        f"survey path: turn p99 (one step: a POST, or the link's GET), {where}",
                        run["turn_p99_ms"],
                        "ms",
                        "bare-Flask floor",
                        base.get("turn_p99_ms"),
                    ),
                ]
            if result["sql_statements_per_survey"] is not None:
                out.append(
                    metric(
                        f"survey path: SQL statements per survey, {database}{who}",
                        result["sql_statements_per_survey"],
                        "statements",
                        "bare-Flask floor",
                        floor["sql_statements_per_survey"] if floor else None,
                    )
                )
            out += [
                metric(
                    f"survey path: completed surveys stored exactly once, {database}{who}",
                    result["check"]["completed_by_client"],
                    "surveys",
                    target="every one",
                    met=result["check"]["each_stored_once"],
                ),
            ]
    return out


def ratios(results: dict) -> dict:
    """CPU per request and surveys/s of each app against the floor, in the same run."""
    out: dict[str, dict] = {}
    for database, apps in results.items():
        floor = apps.get("floor")
        if floor is None:
            continue
        for app, result in apps.items():
            if app == "floor":
                continue
            for concurrency, run in result["runs"].items():
                base = floor["runs"][concurrency]
                out.setdefault(database, {}).setdefault(app, {})[concurrency] = {
                    "cpu_per_request_vs_floor": round(
                        run["cpu_ms_per_request"] / base["cpu_ms_per_request"], 2
                    ),
                    "surveys_per_s_vs_floor": round(
                        run["surveys_per_s"] / base["surveys_per_s"], 2
                    ),
                }
    return out


def table(results: dict, ratio: dict) -> str:
    lines = [
        "| database | app | respondents | surveys/s | CPU ms/request (× floor) "
        "| turn p50 / p99 ms | SQL/survey | stored once |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for database, apps in results.items():
        for app, result in apps.items():
            for concurrency, run in result["runs"].items():
                times = ratio.get(database, {}).get(app, {}).get(concurrency)
                versus = f" ({times['cpu_per_request_vs_floor']}×)" if times else ""
                once = "yes" if result["check"]["each_stored_once"] else "NO"
                lines.append(
                    f"| {database} | {app} | {concurrency} | {run['surveys_per_s']} "
                    f"| {run['cpu_ms_per_request']}{versus} "
                    f"| {run['turn_p50_ms']} / {run['turn_p99_ms']} "
                    f"| {result['sql_statements_per_survey']} | {once} |"
                )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
