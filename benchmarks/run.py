"""Every benchmark in one run: results.json with each metric and its same-run baseline.

Usage: python benchmarks/run.py [--quick] [--only NAME ...] [--timeout SECONDS] [--resume]
       (``make bench``, or ``make bench QUICK=1``)

Runs each ``benchmarks/bench_*.py`` as a child process (with ``--quick`` when quick; a
script found later is picked up by its name). A full run runs them one at a time. A quick
run runs two side by side (``--jobs``), except the scripts in ``ALONE``, which time
requests, start-ups or throughput and get the machine to themselves: a quick run is a
check that every benchmark still runs and a rough reading of its ratios, and the figures
of record come from a full run. Each script writes
``benchmarks/results/<name>.json`` (``bench_survey.py`` → ``survey.json``) holding a
``metrics`` list: name, value, unit, the baseline measured in the same run, the ratio,
the target and whether it is met (``benchmarks.common.metric``). This script collects
every metric into ``benchmarks/results.json``, with the machine (cores, CPU, memory,
Python, SQLite and PostgreSQL versions), the date, the git commit, the load average
before and after, and whether the run was quick; it writes the Markdown table
``docs/benchmarks-table.md`` and, after a full run, pastes the same table into
``docs/benchmarks.md`` between the ``bench-table`` markers (a quick run's small sizes do
not replace the full run's figures there).

A script that fails (exit status, timeout, or no metrics written during its run) is
recorded as failed with the tail of its error output; the others still run, and this
script exits with status 1 at the end. A script that measures only at full size says so
with a top-level ``FULL_RUN_ONLY = "why"``: a quick run records it as not run, with that
reason, which is not a failure. Each script's wall time and CPU time (its own and that
of the processes it waited for) are recorded. ``--resume`` goes on with a run that stopped:
it keeps the recorded outcomes and metrics of the scripts it does not run now (``--only``
chooses those it runs).
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures as futures
import datetime as dt
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, ROOT  # noqa: E402

BENCHMARKS = ROOT / "benchmarks"
RESULTS_FILE = BENCHMARKS / "results.json"
TABLE_FILE = ROOT / "docs" / "benchmarks-table.md"
DOC_FILE = ROOT / "docs" / "benchmarks.md"
START_MARKER = "<!-- bench-table:start -->"
END_MARKER = "<!-- bench-table:end -->"
# Seconds a script may take before it is stopped and reported as failed.
TIMEOUT = {"quick": 240, "full": 3600}
# Arguments a script always gets (ports of the range this runner uses), and in a full run.
ARGUMENTS = {
    "bench_survey.py": ["--port", "5370"],
    "bench_open_loop.py": ["--port", "5380"],
    "bench_scale.py": ["--port", "5386"],
}
# Fewer repetitions than the scripts' own defaults where a full run would take long.
FULL_ARGUMENTS = {
    "bench_cli_start.py": ["--runs", "3"],
    "bench_pdf.py": ["--repeat", "2"],
    "bench_matrix.py": ["--postgresql", "auto"],
    "bench_survey.py": ["--database", "sqlite", "postgresql"],
}
STDERR_TAIL = 3000
# A quick run lets Python keep the bytecode of every module it compiles in this folder,
# as an installation normally runs: where PYTHONDONTWRITEBYTECODE is set (as here), each
# child process otherwise compiles again every module that has no bytecode beside it
# (about a hundred, 1.3 s of CPU per process on the reference machine). A full run keeps
# the environment as it is. bench_cli_start.py's quick run measures the start-up "as
# installed", so it keeps the environment as it is too.
QUICK_BYTECODE = Path(tempfile.gettempdir()) / "surveyapp-bench-pycache"
KEEP_ENVIRONMENT = {"bench_cli_start.py"}
# Scripts that time requests under load, a start-up or a timing difference: in a quick
# run they wait for the others to finish and run with nothing beside them.
ALONE = {
    "bench_cli_start.py",
    "bench_mailing.py",
    "bench_open_loop.py",
    "bench_scale.py",
    "bench_sign_in.py",
    "bench_survey.py",
}


def result_name(script: Path) -> str:
    """``bench_survey.py`` writes ``results/survey.json``."""
    return script.stem.removeprefix("bench_")


def full_run_only(script: Path) -> str | None:
    """The reason a script gives for running in a full run only (its top-level
    ``FULL_RUN_ONLY = "..."``), read without importing it; None if it runs in both."""
    for node in ast.parse(script.read_text()).body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "FULL_RUN_ONLY" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return None


def postgresql_version() -> str | None:
    try:
        from tests.conftest import _pg_bin

        output = subprocess.run(
            [_pg_bin("postgres"), "--version"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, RuntimeError, subprocess.SubprocessError):
        return None
    found = re.search(r"\d+(\.\d+)*", output)
    return found.group(0) if found else output.strip() or None


def git_commit() -> dict[str, object]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True
        ).stdout.strip()

    return {
        "commit": git("rev-parse", "HEAD"),
        "short": git("rev-parse", "--short", "HEAD"),
        # Other work in progress in the tree is part of what was measured: say so.
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def machine() -> dict[str, object]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgresql_version(),
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def wait_for(process: subprocess.Popen, timeout: float) -> tuple[bool, float]:
    """Wait for a child, stopping it after ``timeout`` seconds: whether it was stopped, and
    the user and system CPU time of the child and of the processes it waited for (its
    servers and workers), read from ``wait4`` so that two children side by side are told
    apart."""
    deadline = time.monotonic() + timeout
    stopped = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline and not stopped:
            process.kill()
            stopped = True
        time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    return stopped, usage.ru_utime + usage.ru_stime


def tail(text: str) -> str:
    return text[-STDERR_TAIL:]


def child_environment(script: Path, quick: bool) -> dict[str, str]:
    """The environment of a script's process (see QUICK_BYTECODE)."""
    env = dict(os.environ)
    if quick and script.name not in KEEP_ENVIRONMENT:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(QUICK_BYTECODE)
    return env


def run_script(script: Path, quick: bool, timeout: float) -> tuple[dict, list[dict]]:
    """Run one script; its outcome and the metrics it wrote during this run."""
    name = result_name(script)
    out_file = RESULTS / f"{name}.json"
    command = [sys.executable, str(script), *ARGUMENTS.get(script.name, [])]
    command += ["--quick"] if quick else FULL_ARGUMENTS.get(script.name, [])
    env = child_environment(script, quick)
    started_wall = time.time()
    start = time.perf_counter()
    outcome: dict[str, object] = {"script": script.name, "results_file": None}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=err)
        stopped, cpu_seconds = wait_for(child, timeout)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if stopped:
        outcome.update(
            status="failed",
            seconds=round(time.perf_counter() - start, 1),
            reason=f"stopped after the {timeout:g} s time limit",
            stderr_tail=tail(stderr),
        )
        return outcome, []
    outcome["seconds"] = round(time.perf_counter() - start, 1)
    # CPU time of the script and the processes it waited for (servers, workers): what
    # the wall time would shrink to on a quiet machine, at most.
    outcome["cpu_seconds"] = round(cpu_seconds, 1)
    outcome["returncode"] = child.returncode
    if child.returncode != 0:
        outcome.update(
            status="failed",
            reason=f"exit status {child.returncode}",
            stderr_tail=tail(stderr or stdout),
        )
        return outcome, []
    if not out_file.exists() or out_file.stat().st_mtime < started_wall - 1:
        outcome.update(
            status="failed",
            reason=f"{out_file.relative_to(ROOT)} was not written by this run",
            stderr_tail=tail(stderr),
        )
        return outcome, []
    payload = json.loads(out_file.read_text())
    metrics = payload.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        outcome.update(
            status="failed",
            reason=f"{out_file.relative_to(ROOT)} has no 'metrics' list",
            stderr_tail=tail(stderr),
        )
        return outcome, []
    outcome.update(status="ok", results_file=str(out_file.relative_to(ROOT)))
    return outcome, [{"script": script.name, **entry} for entry in metrics]


def number(value: object, unit: str = "") -> str:
    """A figure for the table: three significant digits, thousands separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    value = float(value)
    if value != value:  # NaN
        return "n/a"
    if abs(value) >= 100 or value.is_integer():
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def ratio_text(ratio: object) -> str:
    return "" if ratio is None else f"{float(ratio):,.3g}×"


def table(results: dict) -> str:
    """The Markdown table of a run: machine and date, one row per metric, failures."""
    m = results["machine"]
    run = results["run"]
    lines = [
        f"Run of {run['date']} ({'quick' if run['quick'] else 'full'}) at commit "
        f"`{run['git']['short']}`"
        + (" with uncommitted changes in the tree" if run["git"]["uncommitted_changes"] else "")
        + f"; {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"SQLite {m['sqlite']}, PostgreSQL {m['postgresql'] or 'not found'}; load average "
        f"{run['load_average_before'][0]} before, {run['load_average_after'][0]} after "
        f"(1-minute); {run['seconds']:.0f} s in all"
        + (
            f", {run['scripts_side_by_side']} scripts side by side (those that time "
            "requests or start-ups alone)"
            if run.get("scripts_side_by_side", 1) > 1
            else ""
        )
        + ("." if run.get("complete", True) else "; **the run had not finished**."),
        "",
        "| benchmark | metric | value | baseline (same run) | baseline value | ratio "
        "| target | met |",
        "|---|---|---:|---|---:|---:|---|---|",
    ]
    for entry in results["metrics"]:
        met = {True: "yes", False: "**no**", None: ""}[entry.get("met")]
        lines.append(
            f"| {entry['script'].removeprefix('bench_').removesuffix('.py')} | {entry['name']} "
            f"| {number(entry['value'], entry['unit'])} | {entry.get('baseline_name') or ''} "
            f"| {number(entry.get('baseline'), entry['unit'])} | {ratio_text(entry.get('ratio'))} "
            f"| {entry.get('target') or ''} | {met} |"
        )
    failed = [s for s in results["scripts"] if s["status"] != "ok"]
    if failed:
        lines += ["", "Failed or not run (details in `benchmarks/results.json`):", ""]
        lines += [f"* `{s['script']}`: {s['status']}, {s['reason']}" for s in failed]
    return "\n".join(lines) + "\n"


def write_table(text: str, paste: bool = True) -> None:
    header = (
        "# Latest benchmark run\n\n"
        "Written by `benchmarks/run.py` (`make bench`); do not edit by hand. Ratio = value /"
        " baseline, both measured in the same run on the same machine. How each figure is"
        " measured: [benchmarks.md](benchmarks.md).\n\n"
    )
    TABLE_FILE.write_text(header + text)
    if not paste:
        return
    document = DOC_FILE.read_text()
    start, end = document.find(START_MARKER), document.find(END_MARKER)
    if start < 0 or end < start:
        print(f"{DOC_FILE.relative_to(ROOT)} has no bench-table markers; table not pasted.")
        return
    DOC_FILE.write_text(
        document[: start + len(START_MARKER)] + "\n" + text + document[end:],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small versions (a few minutes)")
    parser.add_argument("--only", nargs="+", help="run only these scripts (e.g. survey pdf)")
    parser.add_argument("--timeout", type=float, help="per-script limit in seconds")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the last run's results (same mode) of the scripts not run now",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        help="scripts side by side (default: 2 in a quick run, 1 in a full run); "
        "the scripts in ALONE always run alone",
    )
    args = parser.parse_args()
    jobs = args.jobs or (2 if args.quick else 1)
    if jobs < 1:
        parser.error("--jobs: give 1 or more")
    timeout = args.timeout or TIMEOUT["quick" if args.quick else "full"]
    scripts = sorted(BENCHMARKS.glob("bench_*.py"))
    if args.only:
        wanted = {name.removeprefix("bench_").removesuffix(".py") for name in args.only}
        scripts = [s for s in scripts if result_name(s) in wanted]
    before = load_average()
    start = time.perf_counter()
    outcomes, metrics = [], []
    listed = scripts  # what results.json lists: run now, kept from the last run, or not run
    machine_now, commit = machine(), git_commit()
    if args.resume and RESULTS_FILE.exists():
        # A run that stopped halfway goes on: earlier outcomes of scripts not run now stay.
        last = json.loads(RESULTS_FILE.read_text())
        if last["run"]["quick"] != args.quick:
            parser.error("--resume: the last run was not of the same kind (quick or full)")
        now = {s.name for s in scripts}
        outcomes = [
            o for o in last["scripts"] if o["status"] != "not run" and o["script"] not in now
        ]
        kept = {o["script"] for o in outcomes}
        metrics = [m for m in last["metrics"] if m["script"] in kept]
        listed = sorted(BENCHMARKS.glob("bench_*.py"))
        before = last["run"]["load_average_before"]
        start -= last["run"]["seconds"]

    def record(finished: bool) -> dict:
        """results.json and the tables as they stand: rewritten after every script, so a
        run stopped halfway leaves what it measured (``complete`` says whether it ended)."""
        done = {o["script"] for o in outcomes}
        results = {
            "machine": machine_now,
            "run": {
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "quick": args.quick,
                "scripts_side_by_side": jobs,
                "complete": finished,
                "git": commit,
                "load_average_before": before,
                "load_average_after": load_average(),
                "seconds": round(time.perf_counter() - start, 1),
            },
            "scripts": outcomes
            + [
                {"script": s.name, "status": "not run", "reason": "not reached in this run"}
                for s in listed
                if s.name not in done
            ],
            "metrics": metrics,
        }
        RESULTS_FILE.write_text(json.dumps(results, indent=2) + "\n")
        write_table(table(results), paste=not args.quick)
        return results

    def finished(script: Path, outcome: dict, found: list[dict]) -> None:
        outcomes.append(outcome)
        metrics.extend(found)
        print(
            f"{script.name} … {outcome['status']} ({outcome['seconds']} s, "
            f"{outcome.get('cpu_seconds', '?')} s CPU, {len(found)} metrics)"
            + (" alone" if jobs > 1 and script.name in ALONE else ""),
            flush=True,
        )
        if outcome["status"] != "ok":
            print(
                f"  {outcome['reason']}\n  " + outcome["stderr_tail"][-600:].replace("\n", "\n  ")
            )
        record(finished=False)

    running: dict[futures.Future, Path] = {}

    def wait(until_fewer_than: int) -> None:
        while len(running) >= until_fewer_than:
            done, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
            for future in done:
                finished(running.pop(future), *future.result())

    with futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for script in scripts:
            reason = full_run_only(script) if args.quick else None
            if reason is not None:
                outcomes.append(
                    {
                        "script": script.name,
                        "status": "not run",
                        "reason": f"not run in quick mode: {reason}",
                    }
                )
                print(f"{script.name} … not run in quick mode", flush=True)
                record(finished=False)
                continue
            alone = script.name in ALONE
            # A script that must run alone waits for the others, and they wait for it.
            wait(until_fewer_than=1 if alone else jobs)
            running[pool.submit(run_script, script, args.quick, timeout)] = script
            if alone:
                wait(until_fewer_than=1)
        wait(until_fewer_than=1)
    # Listed in the scripts' order, whatever order they finished in.
    order = {s.name: n for n, s in enumerate(listed)}
    outcomes.sort(key=lambda o: order.get(o["script"], len(order)))
    metrics.sort(key=lambda m: order.get(m["script"], len(order)))  # stable: a script's own order
    results = record(finished=True)
    failed = [o["script"] for o in outcomes if o["status"] == "failed"]
    ran = [o for o in outcomes if o["status"] != "not run"]
    print(
        f"{len(metrics)} metrics from {len(ran) - len(failed)} of {len(ran)} scripts run "
        f"in {results['run']['seconds']:.0f} s; written to {RESULTS_FILE.relative_to(ROOT)} "
        f"and {TABLE_FILE.relative_to(ROOT)}"
    )
    if failed:
        print("failed: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
