"""The survey path under an open-loop arrival schedule, beside the bare-Flask floor.

Usage: python benchmarks/bench_open_loop.py [--respondents 1000] [--think 10]
       [--duration 60] [--database sqlite postgresql] [--port 5350] [--quick]
Writes benchmarks/results/open_loop.json and prints a Markdown table.

``--respondents`` people are in the middle of the survey at once, each thinking
``--think`` seconds per page on average, so pages are asked for at ``respondents / think``
per second (1,000 / 10 s = 100 pages a second) on a Poisson schedule drawn in advance
from a fixed seed. Open loop: each page is sent at its scheduled time whether or not
earlier pages have been answered (a thread per page in flight, ``http.client``), and its
latency counts from the scheduled time, so a slow server cannot slow the schedule down
and hide its own queue. Each arrival goes to one of the respondents not waiting for a
page, chosen at random (so each thinks about ``think`` seconds on average); if all are
waiting, a new respondent joins. A page is what a browser does for one step of the
survey: the POST of the previous page's form with its CSRF token, answered with the next
page (the first step: the link's GET; the submission: its POST and the redirected GET of
the thank-you page), as in
``benchmarks/bench_survey.py``, whose server, database and client helpers this script
uses. A respondent who submits leaves, and a new one takes their place at the first page.

Before the timed window, each respondent is taken to a random step of the 15 (uniformly,
as in a steady state where people arrive and leave all the time) by a closed-loop
warm-up that is not measured, so that surveys complete during the window. Pages
scheduled in the first ``--warm-up`` seconds of the window are not counted.

Both apps (``floor``: benchmarks/bare_flask; ``app``: this tree) get the same schedule,
each on a new database, served by gunicorn with 2 sync workers as in bench_survey.
Measured: page latency p50, p95 and p99 (target p99 < 100 ms), server CPU per request,
and afterwards, from the database, that every completed survey is stored exactly once
(responses = used links = surveys the client completed, 46 answers each, the sum of the
answers = what the client sent). The client shares the machine's cores with the server:
its own CPU time over the window and how late it sent pages against the schedule (p99)
are reported, and the run says when the client was the bottleneck.

``--quick``: SQLite only, 30 respondents thinking 3 s per page (the same 10 pages a second
as 100 thinking 10 s, with a third of the warm-up) for 4 s, the first half second not
counted.
A new SQLite database of the app starts as a copy of the migrated schema when an earlier
benchmark left one (``benchmarks.common.copy_schema_template``); the set-up's migrations
then have nothing to do.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_survey import (  # noqa: E402
    CSRF,
    ITEM,
    Respondent,
    SurveyFailed,
    new_postgres,
    percentile,
    postgres_database,
    serve,
    set_up_app,
    set_up_floor,
    stored,
)
from benchmarks.common import ROOT, copy_schema_template, metric, write_results  # noqa: E402

STEP_NAMES = ["start", "language", "intro", "about", *(f"page-{i}" for i in range(1, 10))]
STEP_NAMES += ["comment", "review"]
STEPS = len(STEP_NAMES)
TARGET_P99_MS = 100.0
# The client is the bottleneck when it sends pages this late (p99) or uses this much
# of one core (Python threads share one interpreter lock).
LATE_MS = 20.0  # a fifth of the target: lateness within it cannot explain a missed p99
BUSY_SHARE = 0.7


class SurveyRespondent(Respondent):
    """A respondent who takes one step of the survey at a time, when the schedule says."""

    def __init__(self, port: int, token: str, rng: random.Random):
        super().__init__(port, token, rng)
        self.step = 0
        self.page = ""
        self.total = 0

    def _csrf(self) -> str:
        match = CSRF.search(self.page)
        if match is None:
            raise SurveyFailed(f"step {self.step}: a page without a CSRF token")
        return match.group(1)

    def take_step(self) -> bool:
        """One page (a request, and its redirect if any); True when this step submitted."""
        base = f"/s/{self.token}"
        step = self.step
        if step == 0:
            self.page = self.turn("GET", base)
        elif step == 1:
            form = {"csrf_token": self._csrf(), "language": "en", "action": "next"}
            self.page = self.turn("POST", f"{base}/language", form)
        elif step == 2:
            form = {"csrf_token": self._csrf(), "action": "next"}
            self.page = self.turn("POST", f"{base}/intro", form)
        elif step == 3:
            form = {"csrf_token": self._csrf(), "role_level": "employee", "action": "next"}
            self.page = self.turn("POST", f"{base}/about", form)
        elif step <= 12:
            number = step - 3
            items = ITEM.findall(self.page)
            if not items:
                raise SurveyFailed(f"page {number} has no statements")
            form = {"csrf_token": self._csrf(), "action": "next"}
            for name in dict.fromkeys(items):
                value = self.rng.randint(1, 5)
                self.total += value
                form[name] = str(value)
            self.page = self.turn("POST", f"{base}/page-{number}", form)
        elif step == 13:
            form = {"csrf_token": self._csrf(), "comment": "", "action": "next"}
            self.page = self.turn("POST", f"{base}/comment", form)
        else:
            form = {"csrf_token": self._csrf(), "action": "submit"}
            self.page = self.turn("POST", f"{base}/review", form)
            if "Thank you" not in self.page:
                raise SurveyFailed("no thank-you page after submitting")
        self.step += 1
        return self.step == STEPS


@dataclass
class Outcome:
    """What the client saw in one window; shared by the page threads."""

    latencies: list[float] = field(default_factory=list)  # from the scheduled time
    by_step: dict[int, list[float]] = field(default_factory=dict)
    lateness: list[float] = field(default_factory=list)  # sent after the scheduled time
    completed: int = 0
    answer_sum: int = 0
    requests: int = 0
    pages: int = 0
    failures: list[str] = field(default_factory=list)
    joined: int = 0  # respondents added because every one was waiting
    lock: threading.Lock = field(default_factory=threading.Lock)


def schedule(rate: float, seconds: float, seed: int) -> list[float]:
    """Poisson arrival times in [0, seconds): exponential gaps of mean 1 / rate."""
    rng = random.Random(seed)
    times, now = [], rng.expovariate(rate)
    while now < seconds:
        times.append(now)
        now += rng.expovariate(rate)
    return times


def warm_up_steps(
    respondents: list[SurveyRespondent], seed: int, threads: int = 16
) -> list[SurveyRespondent]:
    """Take each respondent to a random step (0-14) by a closed loop; return the failed."""
    rng = random.Random(seed)
    targets = [rng.randrange(STEPS) for _ in respondents]
    failed = []

    def advance(pair: tuple[SurveyRespondent, int]) -> None:
        person, target = pair
        try:
            while person.step < target:
                person.take_step()
        except (SurveyFailed, OSError):
            failed.append(person)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(advance, zip(respondents, targets, strict=True)))
    return failed


def run_window(
    port: int,
    tokens: list[str],
    respondents: int,
    think: float,
    duration: float,
    warm_up: float,
    seed: int,
    cpu_seconds,
) -> dict:
    """The warm-up to random steps, then the timed open-loop window; what the client saw."""
    token_iter = iter(tokens)
    rng = random.Random(seed)  # the arrival loop's choices
    seeds = random.Random(seed + 1)  # each newcomer's answers
    newcomer_lock = threading.Lock()

    def newcomer() -> SurveyRespondent:
        with newcomer_lock:
            token = next(token_iter, None)
            if token is None:
                raise RuntimeError("ran out of invitation links; give more")
            return SurveyRespondent(port, token, random.Random(seeds.random()))

    people = [newcomer() for _ in range(respondents)]
    failed = warm_up_steps(people, seed)
    people = [p for p in people if p not in failed]
    people += [newcomer() for _ in failed]
    idle = list(people)
    idle_lock = threading.Lock()
    out = Outcome()
    arrivals = schedule(respondents / think, duration, seed)
    requests_before = sum(p.requests for p in people)

    def page(person: SurveyRespondent, due: float, counted: bool) -> None:
        sent = time.perf_counter()
        before, step = person.requests, person.step
        try:
            finished = person.take_step()
        except (SurveyFailed, OSError) as exc:
            with out.lock:
                out.failures.append(str(exc).replace(person.token, "<link>"))
                out.requests += person.requests - before
            # This respondent's draft stays as it is; a newcomer takes their place.
            with idle_lock:
                idle.append(newcomer())
            return
        done = time.perf_counter()
        with out.lock:
            out.requests += person.requests - before
            out.pages += 1
            if counted:
                out.latencies.append(done - due)
                out.lateness.append(sent - due)
                out.by_step.setdefault(step, []).append(done - due)
            if finished:
                out.completed += 1
                out.answer_sum += person.total
        with idle_lock:
            idle.append(newcomer() if finished else person)

    server_cpu_before = cpu_seconds()
    client_cpu_before = time.process_time()
    # Threads are created as pages arrive; the pool only bounds them far above the need.
    pool = ThreadPoolExecutor(max_workers=2000)
    start = time.perf_counter()
    for offset in arrivals:
        due = start + offset
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with idle_lock:
            if idle:
                index = rng.randrange(len(idle))
                idle[index], idle[-1] = idle[-1], idle[index]
                person = idle.pop()
            else:
                person = None
        if person is None:
            person = newcomer()
            out.joined += 1
        pool.submit(page, person, due, offset >= warm_up)
    pool.shutdown(wait=True)
    elapsed = time.perf_counter() - start
    client_cpu = time.process_time() - client_cpu_before
    server_cpu = cpu_seconds() - server_cpu_before
    latencies = out.latencies
    lateness = out.lateness
    late_p99 = 1000 * percentile(lateness, 0.99)
    client_share = client_cpu / elapsed
    return {
        "respondents": respondents,
        "think_s": think,
        "arrival_rate_pages_per_s": round(respondents / think, 1),
        "pages_scheduled": len(arrivals),
        "pages_answered": out.pages,
        "pages_counted": len(latencies),
        "window_s": round(elapsed, 1),
        "page_p50_ms": round(1000 * percentile(latencies, 0.5), 1),
        "page_p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "page_p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "page_max_ms": round(1000 * max(latencies, default=float("nan")), 1),
        "page_by_step_ms": {
            STEP_NAMES[step]: {
                "pages": len(values),
                "p50": round(1000 * percentile(values, 0.5), 1),
                "p99": round(1000 * percentile(values, 0.99), 1),
            }
            for step, values in sorted(out.by_step.items())
        },
        "sent_late_p50_ms": round(1000 * percentile(lateness, 0.5), 2),
        "sent_late_p99_ms": round(late_p99, 2),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(1, out.requests), 3),
        "server_cpu_share_of_2_cores": round(server_cpu / elapsed / 2, 3),
        "client_cpu_s": round(client_cpu, 2),
        "client_cpu_share_of_one_core": round(client_share, 3),
        "client_bottleneck": late_p99 > LATE_MS or client_share > BUSY_SHARE,
        "completed": out.completed,
        "answer_sum": out.answer_sum,
        "failed_pages": len(out.failures),
        "failures": sorted(set(out.failures))[:5],
        "respondents_joined_because_all_were_waiting": out.joined,
        "warm_up_failures": len(failed),
        "requests_in_warm_up_steps": requests_before,
    }


def measure(app: str, database_url: str, args, port: int) -> dict:
    """One app on one new database: set up, serve, run the window, check the rows."""
    # Enough links for the worst case: every arrival may need a newcomer (when everyone
    # is waiting for a slow server, or after a failed page), besides the starting crowd.
    arrivals = int(args.respondents / args.think * args.duration * 1.2) + 100
    tokens = [secrets.token_urlsafe(32) for _ in range(args.respondents * 2 + arrivals)]
    if app == "floor":
        set_up_floor(database_url.removeprefix("sqlite:///"), tokens)
    else:
        if database_url.startswith("sqlite:///"):
            copy_schema_template(database_url.removeprefix("sqlite:///"))
        set_up_app(ROOT, database_url, tokens)
    server = serve(app, ROOT, database_url, port, None)
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        result = run_window(
            port,
            tokens,
            args.respondents,
            args.think,
            args.duration,
            args.warm_up,
            args.seed,
            server.cpu_seconds,
        )
    finally:
        server.stop()
    result["load_average_before_after"] = [load_before, [round(x, 2) for x in os.getloadavg()]]
    found = stored(database_url)
    completed = result["completed"]
    result["check"] = {
        "completed_by_client": completed,
        **found,
        "answer_sum_sent": result["answer_sum"],
        "each_stored_once": found["responses"] == found["used_links"] == completed
        and found["drafts_of_used_links"] == 0
        and found["responses_without_46_answers"] == 0
        and found["answers"] == 46 * completed
        and found["answer_sum"] == result["answer_sum"],
    }
    return result


def open_loop_metrics(results: dict, respondents: int, think: float) -> list[dict]:
    """Page latency of the app against the floor under the same schedule, and the checks."""
    out = []
    load = f"{respondents:,} respondents thinking {think:g} s"
    for database, apps in results.items():
        app, floor = apps.get("app"), apps.get("floor")
        if app is None:
            continue
        for q in ("p50", "p95", "p99"):
            value = app[f"page_{q}_ms"]
            is_p99 = q == "p99"
            out.append(
                metric(
                    f"open loop: page {q}, {database}, {load}",
                    value,
                    "ms",
                    "bare-Flask floor, same schedule",
                    floor[f"page_{q}_ms"] if floor else None,
                    f"< {TARGET_P99_MS:g} ms" if is_p99 else None,
                    value < TARGET_P99_MS if is_p99 else None,
                )
            )
        out.append(
            metric(
                f"open loop: server CPU per request, {database}",
                app["server_cpu_ms_per_request"],
                "ms",
                "bare-Flask floor, same schedule",
                floor["server_cpu_ms_per_request"] if floor else None,
                "<= 2x floor",
                None
                if not floor
                else app["server_cpu_ms_per_request"] <= 2 * floor["server_cpu_ms_per_request"],
            )
        )
        for name, result in apps.items():
            out += [
                metric(
                    f"open loop: completed surveys stored exactly once, {database}, {name}",
                    result["check"]["completed_by_client"],
                    "surveys",
                    target="every one",
                    met=result["check"]["each_stored_once"],
                ),
                metric(
                    f"open loop: client sent pages late, p99, {database}, {name}",
                    result["sent_late_p99_ms"],
                    "ms",
                    target=f"< {LATE_MS:g} ms (client not the bottleneck)",
                    met=not result["client_bottleneck"],
                ),
            ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=1000)
    parser.add_argument("--think", type=float, default=10.0, help="seconds per page")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of schedule")
    parser.add_argument("--warm-up", type=float, default=3.0, help="seconds not counted")
    parser.add_argument(
        "--database", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--apps", nargs="+", default=["floor", "app"], choices=["floor", "app"])
    parser.add_argument("--port", type=int, default=5350)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--quick", action="store_true", help="SQLite, 30 respondents thinking 3 s, 4 s"
    )
    args = parser.parse_args()
    if args.quick:
        args.database, args.respondents, args.think = ["sqlite"], 30, 3.0
        args.duration, args.warm_up = 4.0, 0.5
    work = Path(tempfile.mkdtemp(prefix="bench-open-loop-"))
    results: dict[str, dict] = {}
    port = args.port
    for database in args.database:
        cluster_stop = None
        if database == "postgresql":
            server_url, _, cluster_stop = new_postgres(work / "pg")
        try:
            for app in args.apps:
                if database == "sqlite":
                    url = f"sqlite:///{work / f'{app}.sqlite3'}"
                else:
                    url = postgres_database(server_url, f"open_loop_{app}")
                print(f"{database} {app} …", file=sys.stderr, flush=True)
                results.setdefault(database, {})[app] = measure(app, url, args, port)
                port += 1
        finally:
            if cluster_stop:
                subprocess.run(cluster_stop, capture_output=True)
    payload = {
        "workers": "gunicorn, 2 sync workers, 127.0.0.1",
        "respondents": args.respondents,
        "think_s": args.think,
        "duration_s": args.duration,
        "warm_up_s": args.warm_up,
        "seed": args.seed,
        "target_page_p99_ms": TARGET_P99_MS,
        "results": results,
        "metrics": open_loop_metrics(results, args.respondents, args.think),
    }
    out = write_results("open_loop", payload)
    print(
        "| database | app | pages/s | pages counted | page p50 / p95 / p99 ms | CPU ms/request "
        "| client CPU (one core) | sent late p99 ms | completed | stored once |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for database, apps in results.items():
        for app, r in apps.items():
            print(
                f"| {database} | {app} | {r['arrival_rate_pages_per_s']} | {r['pages_counted']} "
                f"| {r['page_p50_ms']} / {r['page_p95_ms']} / {r['page_p99_ms']} "
                f"| {r['server_cpu_ms_per_request']} | {r['client_cpu_share_of_one_core']:.0%} "
                f"| {r['sent_late_p99_ms']} | {r['completed']} "
                f"| {'yes' if r['check']['each_stored_once'] else 'NO'} |"
            )
            if r["client_bottleneck"]:
                print(f"  {database} {app}: the client was the bottleneck (late or busy)")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
