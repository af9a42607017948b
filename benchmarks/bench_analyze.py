"""``surveyapp analyze`` at size: a 200,000 x 40 response CSV, end to end, in fresh processes.

Usage: python benchmarks/bench_analyze.py [--respondents 200000] [--runs 5] [--quick]
       [--as-installed] [--before 0212620]

Writes, in a temporary folder, a questionnaire of 40 items (the shipped one without its
last dimension and the last item of its fifth: 8 dimensions) and a response CSV with
``department`` (60 departments) and ``role_level`` columns, answers on the 1-5 scale with
department effects and 4 % empty cells. Then each command runs in a fresh process,
``--runs`` times, alternating so that all see the same load on the machine:

* ``analyze``: the real entry point, ``surveyapp analyze --questionnaire Q --responses
  CSV --out JSON`` (reading, checking, analysing and writing the JSON), with no secret
  key and no database;
* ``analyze --help``: start-up (imports and the command line), nothing read;
* floor for start-up: ``python -c "import numpy"``, the least a NumPy program pays;
* ``analyze`` as of ``--before COMMIT`` (optional; checked out with ``git worktree`` into
  the temporary folder and removed afterwards): the same command before this work (the
  row-by-row reader), on the same file;
* floor for reading: a fresh process that imports NumPy and reads the same CSV into a
  list of rows of strings with the standard library's ``csv`` reader (no conversion to
  numbers, no checking, no analysis, no output). ``numpy.loadtxt`` would be the obvious
  floor but refuses the empty cells of unanswered questions.

Reported per command: median and fastest wall time and median CPU time (user + system)
of the child, the child's peak resident memory, and ratios to the floors.
``--quick`` uses 10,000 respondents and 2 runs, warmed up by the two surveyapp commands
only (well under 30 s). Bytecode: by default
Python keeps compiled modules in a temporary folder (``PYTHONPYCACHEPREFIX``, filled by
a warm-up run), as an installation normally runs; ``--as-installed`` runs with the
environment as it is (where ``PYTHONDONTWRITEBYTECODE`` is set, every run compiles every
module it imports).

Writes benchmarks/results/analyze.json (``metrics`` as benchmarks/run.py collects them)
and prints a summary.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, metric, write_results  # noqa: E402

QUESTIONNAIRE = ROOT / "questionnaires" / "social-business-maturity-v1.toml"
DROP_DIMENSION = "strategy"
N_DEPARTMENTS = 60
ROLES = ("top_management", "middle_management", "employee", "conversation_team")
ROLE_SHARES = (0.04, 0.15, 0.78, 0.03)
SURVEYAPP = (
    "import sys; sys.argv[0] = 'surveyapp'; from surveyapp.cli import main; sys.exit(main())"
)
CSV_READ = (
    "import csv, sys, numpy; "
    "rows = list(csv.reader(open(sys.argv[1], encoding='utf-8', newline=''))); print(len(rows))"
)


def write_questionnaire(path: Path) -> list[str]:
    """The shipped questionnaire cut to 40 items; returns the item ids in order."""
    text = QUESTIONNAIRE.read_text(encoding="utf-8")
    # Blocks start at a table header line; a block is dropped whole.
    blocks = re.split(r"(?m)^(?=\[)", text)
    ambassadors = [
        b for b in blocks if b.startswith("[[items]]") and 'dimension = "ambassadors"' in b
    ]
    drop_item = ambassadors[-1]
    kept = []
    for block in blocks:
        if block is drop_item:
            continue
        if re.search(rf'(?m)^(id|dimension) = "{DROP_DIMENSION}"$', block) and block.startswith(
            ("[[items]]", "[[dimensions]]", "[[recommendations]]")
        ):
            continue
        kept.append(block)
    path.write_text("".join(kept), encoding="utf-8")
    ids = re.findall(r'(?m)^\[\[items\]\]\nid = "([^"]+)"', "".join(kept))
    if len(ids) != 40:
        raise SystemExit(f"expected 40 items after cutting the questionnaire, got {len(ids)}")
    return ids


def write_responses(path: Path, item_ids: list[str], respondents: int, seed: int = 13) -> None:
    """Answers with department effects, 1-5, 4 % empty; department and role columns."""
    rng = np.random.default_rng(seed)
    n_items = len(item_ids)
    dept = rng.integers(0, N_DEPARTMENTS, respondents)
    role = rng.choice(len(ROLES), respondents, p=ROLE_SHARES)
    effect = rng.normal(0.0, 0.3, N_DEPARTMENTS)
    latent = 3.1 + effect[dept][:, None] + rng.normal(0.0, 0.7, (respondents, 1))
    answers = np.clip(np.rint(latent + rng.normal(0.0, 0.8, (respondents, n_items))), 1, 5)
    text = answers.astype(np.int64).astype("U1")
    text[rng.random(text.shape) < 0.04] = ""
    departments = np.array([f"D{d:02d}" for d in range(N_DEPARTMENTS)])
    roles = np.array(ROLES)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(["department", "role_level", *item_ids]) + "\n")
        for start in range(0, respondents, 10_000):
            stop = min(start + 10_000, respondents)
            rows = zip(
                departments[dept[start:stop]],
                roles[role[start:stop]],
                (",".join(r) for r in text[start:stop].tolist()),
                strict=True,
            )
            handle.writelines(f"{d},{r},{a}\n" for d, r, a in rows)


def run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MiB of one fresh process.

    The child runs under GNU ``time``, which reports the child's own peak: a child forked
    from this process directly would report this process's peak where its own is lower
    (Linux keeps the larger of the two across ``exec``).
    """
    report = cwd / "time.txt"
    start = time.perf_counter()
    process = subprocess.Popen(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), sys.executable, *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, rusage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    stderr = process.stderr.read().decode() if process.stderr else ""
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{stderr}")
    cpu = rusage.ru_utime + rusage.ru_stime  # the child's and its waited-for children's
    peak_kib = int(report.read_text().split()[-1])
    return wall, cpu, peak_kib / 1024


def summary(samples: list[tuple[float, float, float]]) -> dict[str, float]:
    walls = [s[0] for s in samples]
    return {
        "median_s": round(statistics.median(walls), 3),
        "fastest_s": round(min(walls), 3),
        "median_cpu_s": round(statistics.median(s[1] for s in samples), 3),
        "peak_mib": round(max(s[2] for s in samples), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10,000 respondents, 2 runs")
    parser.add_argument("--as-installed", action="store_true")
    parser.add_argument("--keep", help="keep the generated files in this folder")
    parser.add_argument("--before", help="also time analyze as of this commit")
    args = parser.parse_args()
    if args.quick:
        args.respondents, args.runs = 10_000, 2

    folder = Path(args.keep or tempfile.mkdtemp(prefix="bench-analyze-"))
    folder.mkdir(parents=True, exist_ok=True)
    questionnaire = folder / "questionnaire.toml"
    responses = folder / "responses.csv"
    item_ids = write_questionnaire(questionnaire)
    write_responses(responses, item_ids, args.respondents)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")}
    env["PYTHONPATH"] = str(ROOT)
    if not args.as_installed:
        env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = folder / "analysis.json"
    envs: dict[str, dict[str, str]] = {}
    if args.before:
        before = folder / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(before)]
            + [args.before],
            check=True,
        )
        envs["analyze (before)"] = {**env, "PYTHONPATH": str(before)}
    commands = {
        "analyze": [
            "-c",
            SURVEYAPP,
            "analyze",
            "--questionnaire",
            str(questionnaire),
            "--responses",
            str(responses),
            "--out",
            str(out),
        ],
        "analyze (before)": [
            "-c",
            SURVEYAPP,
            "analyze",
            "--questionnaire",
            str(questionnaire),
            "--responses",
            str(responses),
            "--out",
            str(folder / "before.json"),
        ],
        "analyze --help": ["-c", SURVEYAPP, "analyze", "--help"],
        "import numpy": ["-c", "import numpy"],
        "csv.reader": ["-c", CSV_READ, str(responses)],
    }
    if not args.before:
        del commands["analyze (before)"]
    try:
        # Warm-up: bytecode, page cache. A quick run warms up with the two surveyapp
        # commands alone: between them they import every module the floors import (NumPy,
        # csv), and the CSV was just written.
        quick_warm_up = ("analyze", "analyze --help")
        warm_up = {k: commands[k] for k in quick_warm_up} if args.quick else commands
        for name, command in warm_up.items():
            run(command, envs.get(name, env), folder)
        samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                samples[name].append(run(command, envs.get(name, env), folder))
        json_bytes = out.stat().st_size
    finally:
        if args.before:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)],
                check=False,
            )
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    results = {name: summary(s) for name, s in samples.items()}
    for name, entry in results.items():
        print(f"{name:16} {entry}", flush=True)
    analyze = results["analyze"]["median_s"]
    start = results["analyze --help"]["median_s"]
    floor_start = results["import numpy"]["median_s"]
    floor_read = results["csv.reader"]["median_s"]
    size = f"{args.respondents:,} x {len(item_ids)}"
    full = args.respondents >= 200_000
    metrics = [
        metric(
            f"analyze {size}: end to end (median wall)",
            analyze,
            "s",
            "csv.reader of the same CSV in a fresh process",
            floor_read,
            "< 3 s" if full else None,
            (analyze < 3.0) if full else None,
        ),
        *(
            [
                metric(
                    f"analyze {size}: end to end, this code against the code before",
                    analyze,
                    "s",
                    f"analyze as of {args.before} (row-by-row reader)",
                    results["analyze (before)"]["median_s"],
                )
            ]
            if args.before
            else []
        ),
        metric(
            f"analyze {size}: CPU (median)",
            results["analyze"]["median_cpu_s"],
            "s",
            "csv.reader of the same CSV in a fresh process",
            results["csv.reader"]["median_cpu_s"],
        ),
        metric(
            f"analyze {size}: peak memory",
            results["analyze"]["peak_mib"],
            "MiB",
            "csv.reader of the same CSV in a fresh process",
            results["csv.reader"]["peak_mib"],
        ),
        metric(
            "analyze --help: start-up (median wall)",
            start,
            "s",
            "python -c 'import numpy'",
            floor_start,
            "< 0.5 s",
            start < 0.5,
        ),
    ]
    for m in metrics:
        print(m, flush=True)
    payload = {
        "respondents": args.respondents,
        "items": len(item_ids),
        "departments": N_DEPARTMENTS,
        "runs": args.runs,
        "before_commit": args.before,
        "bytecode": not args.as_installed,
        "csv_mib": round(responses.stat().st_size / 2**20, 1) if args.keep else None,
        "json_bytes": json_bytes,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "results": results,
        "metrics": metrics,
    }
    path = write_results("analyze", payload)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
