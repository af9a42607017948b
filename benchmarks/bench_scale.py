"""Scaling out: whole surveys through nginx to 1, 2 and 4 app processes on PostgreSQL.

Usage: python benchmarks/bench_scale.py [--quick] [--duration 15] [--concurrency 16]
Writes benchmarks/results/scale.json and prints a Markdown table.

The deployment of docs/deployment.md on one machine: ``surveyapp serve`` instances of one
sync worker each (as if each were a host), nginx in front of them (the guide's proxy
settings, plain HTTP so that the client spends no CPU on TLS), one PostgreSQL database.
All instances start once; each configuration is an nginx of its own whose upstream
lists 1, 2 or 4 of them. A full run also measures, in turn twice, one instance of 2 x cores + 1
sync workers against one of 2 threaded workers (gthread, 4 threads each): the choice of
the default worker class of ``surveyapp serve``.

The closed-loop client is benchmarks/bench_survey.py's (30 requests per survey, CSRF
tokens, redirects, the session cookie), with the same number of respondents for every
configuration. Measured per configuration: completed surveys per second, and CPU per
request of the app processes, nginx and PostgreSQL's backends (``/proc``), plus the
client's own CPU (it shares the 2 cores). Afterwards every completed survey must be
stored exactly once (bench_survey's check of the database).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bench_survey import (  # noqa: E402
    TICKS,
    WARM_UP,
    Tally,
    new_postgres,
    percentile,
    postgres_database,
    run_load,
    set_up_app,
    stored,
)
from benchmarks.common import ROOT, metric, write_results  # noqa: E402

# benchmarks/run.py --quick leaves this script out (its own --quick still works): starting
# a PostgreSQL cluster, nginx and the app instances costs more than the whole quick run
# may take, and a few seconds per configuration say nothing about scaling.
FULL_RUN_ONLY = (
    "PostgreSQL, nginx and several app instances to start; scaling is a full-run measurement"
)
SURVEYAPP = Path(sys.executable).with_name("surveyapp")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The proxy settings of docs/deployment.md's nginx block, without TLS.
NGINX_CONFIG = """daemon off;
master_process off;
pid {work}/nginx-{name}.pid;
error_log {work}/nginx-{name}.error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {work}/temp-{name};
    proxy_temp_path {work}/temp-{name};
    access_log off;
    upstream surveyapp {{
{servers}
        keepalive 16;
        keepalive_timeout 4s;
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        location / {{ proxy_pass http://surveyapp; }}
    }}
}}
"""


def process_cpu(pid: int) -> float:
    """User + system seconds of one process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass
class Instance:
    """One ``surveyapp serve``: a gunicorn master and its workers."""

    process: subprocess.Popen
    port: int
    workers: int

    def cpu(self) -> float:
        return sum(process_cpu(pid) for pid in children(self.process.pid))


def start_instance(env: dict, port: int, work: Path, workers: int, threads: int) -> Instance:
    log = (work / f"serve-{port}.log").open("ab")
    command = [str(SURVEYAPP), "serve", "--bind", f"127.0.0.1:{port}", "--no-access-log"]
    command += ["--workers", str(workers), "--threads", str(threads)]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
    return Instance(process, port, workers)


def wait_until_serving(instance: Instance, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            raise RuntimeError(f"surveyapp serve on port {instance.port} stopped")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=5)
            connection.request("HEAD", "/static/app.css")
            connection.getresponse().read()
            connection.close()
            if len(children(instance.process.pid)) >= instance.workers:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"surveyapp serve on port {instance.port} did not start")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=35)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_nginx(label: str, instances: list[Instance], port: int, work: Path) -> subprocess.Popen:
    name = re.sub(r"[^a-z0-9-]+", "-", label)
    (work / f"temp-{name}").mkdir(exist_ok=True)
    servers = "\n".join(f"        server 127.0.0.1:{i.port};" for i in instances)
    config = work / f"nginx-{name}.conf"
    config.write_text(NGINX_CONFIG.format(work=work, name=name, servers=servers, port=port))
    process = subprocess.Popen(
        [NGINX, "-p", str(work), "-e", str(work / f"nginx-{name}.error.log"), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("HEAD", "/static/app.css")
            connection.getresponse().read()
            connection.close()
            return process
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"nginx {name} did not start")


def postgres_backends(data_dir: Path) -> list[int]:
    """PostgreSQL's server processes: the postmaster's children."""
    postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    return [postmaster, *children(postmaster)]


def database_clock(database: str):
    import psycopg

    with psycopg.connect(database.replace("postgresql+psycopg", "postgresql")) as connection:
        return connection.execute("SELECT now()").fetchone()[0]


def database_connections(database: str, since) -> int:
    """Connections to the database used since ``since`` (by the configuration measured:
    the pools of instances measured before keep theirs open, idle)."""
    import psycopg

    plain = database.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain) as connection:
        query = (
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND state_change >= %s"
        )
        return int(connection.execute(query, (since,)).fetchone()[0])


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(
    name: str,
    instances: list[Instance],
    nginx_port: int,
    tokens: list[str],
    args,
    work: Path,
    pg_data: Path,
    database: str,
) -> tuple[dict, Tally, int]:
    """One configuration: warm-up, then ``args.duration`` seconds of closed-loop load."""
    nginx = start_nginx(name, instances, nginx_port, work)
    spent = 0
    try:
        warm = Tally()
        run_load(nginx_port, tokens, args.concurrency, 1.0 if args.quick else WARM_UP, warm)
        spent = warm.completed + len(warm.failures)
        backends = postgres_backends(pg_data)
        before = (
            sum(i.cpu() for i in instances),
            process_cpu(nginx.pid),
            sum(process_cpu(p) for p in backends),
            client_cpu(),
        )
        since = database_clock(database)
        tally, elapsed = run_load(nginx_port, tokens[spent:], args.concurrency, args.duration)
        connections = database_connections(database, since)
        # Backends started during the run are counted from zero.
        backends = postgres_backends(pg_data)
        after = (
            sum(i.cpu() for i in instances),
            process_cpu(nginx.pid),
            sum(process_cpu(p) for p in backends),
            client_cpu(),
        )
    finally:
        stop(nginx)
    spent += tally.completed + len(tally.failures)
    requests = max(1, tally.requests)
    cpu = [b - a for a, b in zip(before, after, strict=True)]
    turns = [s for values in tally.turns.values() for s in values]
    result = {
        "processes": sum(i.workers for i in instances),
        "surveys_per_s": round(tally.completed / elapsed, 2),
        "requests_per_s": round(tally.requests / elapsed, 1),
        "app_cpu_ms_per_request": round(1000 * cpu[0] / requests, 3),
        "nginx_cpu_ms_per_request": round(1000 * cpu[1] / requests, 3),
        "postgres_cpu_ms_per_request": round(1000 * max(0.0, cpu[2]) / requests, 3),
        "client_cpu_ms_per_request": round(1000 * cpu[3] / requests, 3),
        "cpu_busy_of_2_cores": round(sum(cpu) / elapsed / (os.cpu_count() or 1), 2),
        "turn_p50_ms": round(1000 * percentile(turns, 0.5), 1),
        "turn_p99_ms": round(1000 * percentile(turns, 0.99), 1),
        "database_connections": connections,
        "completed": tally.completed,
        "failed": len(tally.failures),
        "failures": sorted(set(tally.failures))[:3],
        "seconds": round(elapsed, 1),
    }
    warm.completed += tally.completed
    warm.answer_sum += tally.answer_sum
    warm.failures += tally.failures
    return result, warm, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s per configuration")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=5320, help="first of 8 ports")
    parser.add_argument("--work", default=None, help="temporary folder (default: a new one)")
    args = parser.parse_args()
    if args.quick:
        args.duration = min(args.duration, 3.0)
        args.concurrency = min(args.concurrency, 8)
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)  # PostgreSQL's own user must reach its data folder inside
    load_before = os.getloadavg()
    began = time.monotonic()

    server_url, _, cluster_stop = new_postgres(work / "pg")
    pg_data = work / "pg" / "data"
    instances: list[Instance] = []
    results: dict[str, dict] = {}
    try:
        database = postgres_database(server_url, "bench_scale")
        # Quick: 1 and 2 processes only (each instance takes seconds to start).
        configurations = {"1": 1, "2": 2} if args.quick else {"1": 1, "2": 2, "4": 4}
        runs_planned = len(configurations) + (0 if args.quick else 4)
        needed = int(args.duration * 60 + 100) * runs_planned
        tokens = [secrets.token_urlsafe(32) for _ in range(needed)]
        set_up_app(ROOT, database, tokens)
        print(f"database ready after {time.monotonic() - began:.1f} s", file=sys.stderr)
        env = {
            **os.environ,
            "SURVEYAPP_ENV": "production",
            "SURVEYAPP_SECRET_KEY": secrets.token_hex(32),
            "SURVEYAPP_DATABASE_URL": database,
            "SURVEYAPP_BASE_URL": f"https://localhost:{args.port}",
            "SURVEYAPP_PROXY_HOPS": "1",
        }
        # Instances of one sync worker each: the "hosts".
        ports = iter(range(args.port + 2, args.port + 10))
        sync = [start_instance(env, next(ports), work, 1, 1) for _ in configurations]
        instances += sync
        # The worker class: one instance with gunicorn's 2 x cores + 1 sync workers against
        # one with 2 gthread workers of 4 threads, in turn twice (the machine's load drifts).
        classes: dict[str, Instance] = {}
        if not args.quick:
            cores = os.cpu_count() or 1
            classes[f"sync-{2 * cores + 1}w"] = start_instance(
                env, next(ports), work, 2 * cores + 1, 1
            )
            classes["gthread-2x4"] = start_instance(env, next(ports), work, 2, 4)
            instances += classes.values()
        for instance in instances:
            wait_until_serving(instance)
        print(f"serving after {time.monotonic() - began:.1f} s", file=sys.stderr)

        spent = 0
        totals = Tally()
        runs = [(f"sync-{n}", sync[:count]) for n, count in configurations.items()]
        for round_ in (1, 2):
            runs += [(f"{name} #{round_}", [instance]) for name, instance in classes.items()]
        for name, members in runs:
            print(f"{name} …", file=sys.stderr, flush=True)
            result, tally, used = measure(
                name, members, args.port, tokens[spent:], args, work, pg_data, database
            )
            spent += used
            totals.completed += tally.completed
            totals.answer_sum += tally.answer_sum
            totals.failures += tally.failures
            results[name] = result
    finally:
        for instance in instances:  # all told at once, then each waited for
            if instance.process.poll() is None:
                instance.process.send_signal(signal.SIGTERM)
        for instance in instances:
            stop(instance.process)
        if results:
            found = stored(database)
        subprocess.run(cluster_stop, capture_output=True)

    each_stored_once = (
        found["responses"] == found["used_links"] == totals.completed
        and found["drafts_of_used_links"] == 0
        and found["responses_without_46_answers"] == 0
        and found["answer_sum"] == totals.answer_sum
    )
    payload = {
        "setup": "surveyapp serve instances of 1 sync worker behind nginx (HTTP), PostgreSQL",
        "respondents": args.concurrency,
        "duration_s": args.duration,
        "quick": args.quick,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "results": results,
        "check": {
            "completed_by_client": totals.completed,
            **found,
            "answer_sum_sent": totals.answer_sum,
            "each_stored_once": each_stored_once,
        },
        "metrics": metrics(results, each_stored_once),
    }
    out = write_results("scale", payload)
    print(table(results))
    print(f"\nevery completed survey stored once: {each_stored_once}\nwritten to {out}")
    shutil.rmtree(work, ignore_errors=True)


def metrics(results: dict, each_stored_once: bool) -> list[dict]:
    one = results["sync-1"]
    out = []
    for name, result in results.items():
        if re.fullmatch(r"sync-\d+", name):  # the instances of one worker each
            count = name.removeprefix("sync-")
            target = {"2": ">= 1.5x 1 process"}.get(count)
            ratio = result["surveys_per_s"] / one["surveys_per_s"] if one["surveys_per_s"] else 0
            out.append(
                metric(
                    f"scale.surveys_per_s.{count}_processes",
                    result["surveys_per_s"],
                    "surveys/s",
                    "1 process",
                    one["surveys_per_s"] if count != "1" else None,
                    target,
                    (ratio >= 1.5) if target else None,
                )
            )
            out.append(
                metric(
                    f"scale.app_cpu_per_request.{count}_processes",
                    result["app_cpu_ms_per_request"],
                    "ms",
                    "1 process",
                    one["app_cpu_ms_per_request"] if count != "1" else None,
                )
            )
    sync_many = [r for name, r in results.items() if name.startswith("sync-") and "w #" in name]
    threaded = [r for name, r in results.items() if name.startswith("gthread-2x4 #")]
    if sync_many and threaded:

        def mean(runs: list[dict], key: str) -> float:
            return round(sum(r[key] for r in runs) / len(runs), 3)

        for key, unit in (
            ("surveys_per_s", "surveys/s"),
            ("app_cpu_ms_per_request", "ms"),
            ("turn_p99_ms", "ms"),
        ):
            out.append(
                metric(
                    f"scale.worker_class.gthread_2x4.{key}",
                    mean(threaded, key),
                    unit,
                    f"{sync_many[0]['processes']} sync workers",
                    mean(sync_many, key),
                )
            )
    two = results["sync-2"]
    out.append(metric("scale.nginx_cpu_per_request", two["nginx_cpu_ms_per_request"], "ms"))
    out.append(metric("scale.postgres_cpu_per_request", two["postgres_cpu_ms_per_request"], "ms"))
    out.append(
        metric(
            "scale.each_survey_stored_once",
            1.0 if each_stored_once else 0.0,
            "bool",
            target="= 1",
            met=each_stored_once,
        )
    )
    return out


def table(results: dict) -> str:
    lines = [
        "| configuration | surveys/s | CPU ms/request: app / nginx / PostgreSQL / client "
        "| cores busy | turn p50 / p99 ms | connections | failed |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['surveys_per_s']} | {r['app_cpu_ms_per_request']} / "
            f"{r['nginx_cpu_ms_per_request']} / {r['postgres_cpu_ms_per_request']} / "
            f"{r['client_cpu_ms_per_request']} | {r['cpu_busy_of_2_cores']} "
            f"| {r['turn_p50_ms']} / {r['turn_p99_ms']} | {r['database_connections']} "
            f"| {r['failed']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
