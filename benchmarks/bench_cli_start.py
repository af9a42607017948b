"""How fast ``surveyapp`` starts: ``--help``, ``analyze --help`` and a small ``analyze`` run.

Usage: python benchmarks/bench_cli_start.py [--runs 7] [--baseline-commit 2792f00]
       [--no-baseline] [--modes as-installed,bytecode] [--quick]

Each command runs in a fresh process, ``--runs`` times, alternating with the same command
of the baseline (the code as of ``--baseline-commit``, checked out with ``git worktree``
into a temporary folder, which is removed afterwards; the working tree is not touched),
so both see the same load on the machine. Reported per command: median and fastest wall
time, median CPU time (user + system, which other work on the machine disturbs less),
and the ratio of the baseline's median to this code's.

The ``analyze`` run reads a sample file of 60 respondents in 3 departments (written
here); whether it writes the same JSON as the baseline is recorded
(``same_json_as_baseline``). ``--help`` builds the app, so it gets a secret key and a
throw-away SQLite database; ``analyze`` gets neither.

Two modes, because Python compiles every module it imports unless it finds the
compiled bytecode: ``as-installed`` runs with the environment as it is (where
``PYTHONDONTWRITEBYTECODE`` is set and the packages were installed without bytecode,
every run compiles everything again), ``bytecode`` lets Python keep bytecode in a
temporary folder (``PYTHONPYCACHEPREFIX``), filled by one run before timing, which is
how an installation normally runs.

Floors, timed in the same loop between the commands: the bare interpreter
(``python -c pass``) for the two ``--help`` commands, and the interpreter importing NumPy
(``python -c "import numpy"``) for the ``analyze`` run, which cannot start faster than
that. ``--quick``: one run of each, as installed, without warm-up or baseline commit.

Writes benchmarks/results/cli_start.json (with the ``metrics`` list) and prints a summary.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, metric, write_results  # noqa: E402

BASELINE_COMMIT = "2792f00"  # the last commit before analyze stopped importing the app
QUESTIONNAIRE = Path("questionnaires") / "social-business-maturity-v1.toml"
# The console script `surveyapp` does exactly this; spelled out so that the baseline's
# code can be run with the same interpreter from its own folder.
LAUNCHER = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'surveyapp'; "
    "from surveyapp.cli import main; sys.exit(main())"
)


def write_sample(path: Path, questionnaire: Path) -> None:
    """60 respondents in 3 departments with role levels: every answer from a formula."""
    from surveyapp.questionnaires import load_questionnaire

    ids = [item.id for item in load_questionnaire(questionnaire).items]
    lines = [",".join(["department", "role_level", *ids])]
    for r in range(60):
        role = "top_management" if r % 10 == 0 else "employee"
        values = [str(1 + (r * 7 + j * 3 + r // 3) % 5) for j in range(len(ids))]
        lines.append(",".join([("North", "South", "East")[r % 3], role, *values]))
    path.write_text("\n".join(lines) + "\n")


def timed(code_root: Path, args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``surveyapp ARGS`` from ``code_root``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, str(code_root), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"surveyapp {' '.join(args)} failed ({code_root}):\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


FLOORS = {
    "surveyapp --help": ("python -c pass", "pass"),
    "surveyapp analyze --help": ("python -c pass", "pass"),
    "surveyapp analyze (60 respondents)": ("python -c 'import numpy'", "import numpy"),
}
TARGETS = {"surveyapp analyze --help": 0.5, "surveyapp analyze (60 respondents)": 1.0}


def timed_floor(code: str, env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``python -c CODE``: what any command pays to start."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    walls = [w for w, _ in samples]
    return {
        "median_s": round(statistics.median(walls), 3),
        "fastest_s": round(min(walls), 3),
        "median_cpu_s": round(statistics.median(c for _, c in samples), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline-commit", default=BASELINE_COMMIT)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--modes", default="as-installed,bytecode")
    parser.add_argument("--quick", action="store_true", help="one run as installed, no baseline")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.no_baseline, args.modes = 1, True, "as-installed"

    folder = Path(tempfile.mkdtemp(prefix="bench-cli-start-"))
    versions = {"current": ROOT}
    if not args.no_baseline:
        base = folder / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(base)]
            + [args.baseline_commit],
            check=True,
        )
        versions["baseline"] = base
    # The baseline's questionnaire file, which both versions read (a newer file may have
    # keys an older version does not know).
    questionnaire = versions.get("baseline", ROOT) / QUESTIONNAIRE
    sample = folder / "answers.csv"
    write_sample(sample, questionnaire)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SURVEYAPP_")}
    app_env = {
        **clean,
        "SURVEYAPP_ENV": "production",
        "SURVEYAPP_SECRET_KEY": "benchmark",
        "SURVEYAPP_DATABASE_URL": f"sqlite:///{folder / 'help.sqlite3'}",
    }
    commands = {
        "surveyapp --help": (["--help"], app_env),
        "surveyapp analyze --help": (["analyze", "--help"], clean),
        "surveyapp analyze (60 respondents)": (
            ["analyze", "--questionnaire", str(questionnaire), "--responses", str(sample)],
            clean,
        ),
    }
    results: dict[str, dict] = {}
    try:
        outputs = {}
        # The output is compared with the baseline's: without a baseline, nothing to run.
        compared = versions if "baseline" in versions else {}
        for name, root in compared.items():
            out = folder / f"{name}.json"
            analyze_args = [*commands["surveyapp analyze (60 respondents)"][0], "--out", str(out)]
            timed(root, analyze_args, clean, folder)
            outputs[name] = out.read_bytes()
        # Recorded, not required: the analysis JSON has grown since the baseline (new
        # fields such as the reasons beside each null), so equal bytes are no longer expected.
        same_json = outputs["baseline"] == outputs["current"] if "baseline" in outputs else None
        for mode in args.modes.split(","):
            extra: dict[str, str] = {}
            if mode == "bytecode":
                extra = {
                    "PYTHONPYCACHEPREFIX": str(folder / "pycache"),
                    "PYTHONDONTWRITEBYTECODE": "",
                }
            elif mode != "as-installed":
                raise SystemExit(f"unknown mode {mode!r}; use as-installed or bytecode")
            results[mode] = {}
            for label, (command, env) in commands.items():
                env = {**env, **extra}
                samples: dict[str, list[tuple[float, float]]] = {name: [] for name in versions}
                samples["floor"] = []
                floor_label, floor_code = FLOORS[label]
                if not args.quick:
                    for root in versions.values():
                        timed(root, command, env, folder)  # warm-up: fills the bytecode folder
                    timed_floor(floor_code, env, folder)
                for _ in range(args.runs):
                    for name, root in versions.items():
                        samples[name].append(timed(root, command, env, folder))
                    samples["floor"].append(timed_floor(floor_code, env, folder))
                entry = {name: summary(s) for name, s in samples.items()}
                entry["floor"]["command"] = floor_label
                if "baseline" in entry:
                    entry["baseline_over_current"] = round(
                        entry["baseline"]["median_s"] / entry["current"]["median_s"], 2
                    )
                results[mode][label] = entry
                print(f"{mode:13} {label:36} {entry}", flush=True)
    finally:
        if "baseline" in versions:
            subprocess.run(
                [
                    "git",
                    "-C",
                    str(ROOT),
                    "worktree",
                    "remove",
                    "--force",
                    str(versions["baseline"]),
                ],
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)
    payload = {
        "runs": args.runs,
        "baseline_commit": None if args.no_baseline else args.baseline_commit,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "same_json_as_baseline": same_json,
        "results": results,
        "metrics": cli_metrics(results),
    }
    path = write_results("cli_start", payload)
    print(f"written to {path}")


def cli_metrics(results: dict[str, dict]) -> list[dict]:
    """Median wall times against the floor (bytecode mode when measured), and the baseline."""
    mode = "bytecode" if "bytecode" in results else next(iter(results))
    out = []
    for label, entry in results[mode].items():
        seconds = entry["current"]["median_s"]
        target = TARGETS.get(label)
        out.append(
            metric(
                f"{label}, wall ({mode})",
                seconds,
                "s",
                f"{entry['floor']['command']} (floor)",
                entry["floor"]["median_s"],
                None if target is None else f"< {target:g} s",
                None if target is None else seconds < target,
            )
        )
        if "baseline" in entry:
            out.append(
                metric(
                    f"{label}, wall ({mode}), against the code before",
                    seconds,
                    "s",
                    "the same command at the baseline commit",
                    entry["baseline"]["median_s"],
                )
            )
    return out


if __name__ == "__main__":
    main()
