"""Loading a campaign's answers from SQLite and PostgreSQL: packed copies against the answer table.

Usage: python benchmarks/bench_matrix.py [--respondents 100000] [--departments 50]
           [--postgresql postgresql+psycopg://user@host:port/db | --postgresql auto]
           [--baseline-commit COMMIT | --no-baseline] [--rounds 3] [--quick]
Writes benchmarks/results/matrix.json and prints a Markdown table.
``--postgresql auto`` starts a throw-away PostgreSQL cluster for the run (as the survey
benchmark does; ``make bench`` passes it). ``--quick``: 5,000 respondents in 10
departments. Metrics: ``load_matrix()`` against the bare SELECT of the answer rows (the
floor of reading the answers the obvious way) and against the loader before, and the
analysis end to end (target under 1 s for 100,000 respondents), on each database.

The campaign is built in SQLite (``common.build_large_campaign``) and, with
``--postgresql``, copied row for row into that (empty) PostgreSQL database. On each
database, in the same run:

* the bare SELECT of the campaign's answer rows (``response_id, item_id, value``);
* the loader before the packed copy existed: the database packs every answer row into
  an integer and concatenates them (``matrix.answer_table_codes``), plus the SELECT of
  the responses' department and role;
* ``load_matrix()``: one SELECT of each response's id, department, role and packed
  answers, decoded by NumPy;
* ``analyse_campaign()`` end to end (load, previous campaign, norm group, analysis) in
  a fresh process, with its peak memory;
* the same, and ``load_matrix()`` alone, with the code as of ``--baseline-commit`` (the
  code before the analysis was made fast, checked out with ``git worktree``): fresh
  processes of the current code and of the baseline take turns, ``--rounds`` times each,
  so a change in the machine's load reaches both; each process reports its best of 3
  (wall clock and CPU time), and the median over the rounds is kept. The baseline's
  process reads the same database without running migrations.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    ROOT,
    benchmark_app,
    best_of,
    build_large_campaign,
    metric,
    peak_rss_mib,
    write_results,
)

# The code before the analysis of 100,000 x 46 was made fast (the baseline of the
# end-to-end metrics).
BASELINE_COMMIT = "7c0ff5c"

ANSWER_ROWS = (
    "SELECT a.response_id, a.item_id, a.value FROM answer a"
    " JOIN response r ON r.id = a.response_id WHERE r.campaign_id = {}"
)


def measure_end_to_end(database: str, tree: str | None = None) -> None:
    """Child process: load and analyse the campaign from the database (best of 3).

    With ``tree`` (a checkout of another commit) that tree's ``surveyapp`` is measured,
    on the database as it is (no migrations: the schema may be newer than the tree).
    """
    if tree:
        sys.path.insert(0, tree)
        from surveyapp import create_app

        app = create_app(
            {
                "SECRET_KEY": "benchmark",
                "SQLALCHEMY_DATABASE_URI": database
                if "://" in database
                else f"sqlite:///{database}",
                "QUESTIONNAIRE_DIR": str(Path(tree) / "questionnaires"),
                "LANGUAGES": ("nl", "en"),
                "BABEL_DEFAULT_LOCALE": "en",
            }
        )
        context = app.app_context()
    else:
        context = benchmark_app(database)
    with context:
        import surveyapp
        from surveyapp.extensions import db
        from surveyapp.models import Campaign
        from surveyapp.services.matrix import load_matrix
        from surveyapp.services.reporting import analyse_campaign

        assert Path(surveyapp.__file__).resolve().is_relative_to(Path(tree or ROOT).resolve())
        campaign = db.session.scalar(db.select(Campaign))
        load_s, load_cpu = best_of_wall_and_cpu(lambda: load_matrix(campaign))
        seconds, cpu = best_of_wall_and_cpu(lambda: analyse_campaign(campaign))
        report = analyse_campaign(campaign)
        assert report.analysis.n_respondents > 0
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "cpu_s": round(cpu, 3),
                "load_matrix_s": round(load_s, 3),
                "load_matrix_cpu_s": round(load_cpu, 3),
                "peak_rss_mib": round(peak_rss_mib()),
            }
        )
    )


def best_of_wall_and_cpu(function, repeat: int = 3) -> tuple[float, float]:
    """Fastest wall-clock time and fastest CPU time (this process) of ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def end_to_end(database: str, tree: Path | None) -> dict:
    """One fresh child process measuring the current code, or the code in ``tree``."""
    command = [sys.executable, __file__, "--child", database]
    if tree is not None:
        command += ["--tree", str(tree)]
    child = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


# What a child process reports, and its name in the results.
CHILD_KEYS = {
    "seconds": "analyse_campaign_s",
    "cpu_s": "analyse_campaign_cpu_s",
    "load_matrix_s": "fresh_process_load_matrix_s",
    "load_matrix_cpu_s": "fresh_process_load_matrix_cpu_s",
    "peak_rss_mib": "analyse_campaign_peak_rss_mib",
}


def compare_end_to_end(database: str, baseline: Path | None, rounds: int) -> dict:
    """Current code and baseline in alternating fresh processes; medians over the rounds."""
    runs: dict[str, list[dict]] = {"current": [], "baseline": []}
    load_before = os.getloadavg()[0]
    for _ in range(rounds):
        runs["current"].append(end_to_end(database, None))
        if baseline is not None:
            runs["baseline"].append(end_to_end(database, baseline))
    out: dict[str, object] = {
        "rounds": rounds,
        "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
    }
    for version, measured in runs.items():
        if not measured:
            continue
        prefix = "" if version == "current" else "baseline_"
        for key, name in CHILD_KEYS.items():
            out[prefix + name] = round(statistics.median(m[key] for m in measured), 3)
        out[prefix + "analyse_campaign_s_each_round"] = [m["seconds"] for m in measured]
    return out


def copy_to_postgresql(source: Path, url: str) -> None:
    """Copy every table of the SQLite benchmark database into an empty PostgreSQL one."""
    with benchmark_app(url):  # builds the schema with the migrations
        import sqlalchemy as sa

        from surveyapp.extensions import db

        tables = db.metadata.sorted_tables
        lite = sqlite3.connect(source)
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            for table in tables:
                columns = [c.name for c in table.columns]
                booleans = [isinstance(c.type, sa.Boolean) for c in table.columns]
                names = ", ".join(columns)
                rows = lite.execute(f"SELECT {names} FROM {table.name}")  # noqa: S608
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(
                            [
                                bool(v) if flag and v is not None else v
                                for v, flag in zip(row, booleans, strict=True)
                            ]
                        )
                if "id" in columns and table.c.id.autoincrement is not False:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"coalesce((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                    )
            raw.commit()
        finally:
            raw.close()
            lite.close()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def measure(
    database: str, campaign_id: int, respondents: int, baseline: Path | None, rounds: int
) -> dict:
    """Same-run timings of the loaders on one database."""
    with benchmark_app(database):
        import sqlalchemy as sa

        from surveyapp.extensions import db
        from surveyapp.models import Campaign, Response
        from surveyapp.services.matrix import answer_table_codes, load_matrix

        campaign = db.session.get(Campaign, campaign_id)
        answers = db.session.scalar(sa.text("SELECT count(*) FROM answer"))

        def bare_select():
            with db.engine.connect() as connection:
                return connection.exec_driver_sql(ANSWER_ROWS.format(campaign_id)).fetchall()

        def answer_table_loader():
            meta = db.session.execute(
                sa.select(Response.id, Response.department_id, Response.role_level)
                .where(Response.campaign_id == campaign_id)
                .order_by(Response.id)
            ).all()
            ids = np.fromiter((row[0] for row in meta), dtype=np.int64, count=len(meta))
            return answer_table_codes(campaign, ids, 46)

        bare, rows = best_of(bare_select)
        before, codes = best_of(answer_table_loader)
        ours, loaded = best_of(lambda: load_matrix(campaign))
        assert loaded.matrix.shape[0] == respondents
        answered = int(np.count_nonzero(~np.isnan(loaded.matrix)))
        assert answered == sum(1 for row in rows if row[2] is not None)
        assert answered == int(np.count_nonzero(codes <= 100))
        del rows
    return {
        "answer_rows": answers,
        "bare_select_answer_rows_s": round(bare, 3),
        "answer_table_loader_s": round(before, 3),
        "load_matrix_s": round(ours, 3),
        "ratio_load_matrix_to_bare_select": round(ours / bare, 3),
        "ratio_load_matrix_to_answer_table_loader": round(ours / before, 3),
        **compare_end_to_end(database, baseline, rounds),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--database", type=Path, help="reuse this SQLite file")
    parser.add_argument("--postgresql", help="an empty PostgreSQL database to measure too")
    parser.add_argument("--baseline-commit", default=BASELINE_COMMIT)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="processes per version")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="5,000 respondents, 1 round")
    args = parser.parse_args()
    if args.child:
        return measure_end_to_end(args.child, args.tree)
    if args.quick:
        args.respondents, args.departments, args.rounds = 5_000, 10, 1
    cluster_stop = None
    if args.postgresql == "auto":
        from benchmarks.bench_survey import new_postgres, postgres_database

        server_url, _, cluster_stop = new_postgres(Path(tempfile.mkdtemp(prefix="bench-pg-")))
        args.postgresql = postgres_database(server_url, "bench_matrix")
    try:
        run(args)
    finally:
        if cluster_stop:
            subprocess.run(cluster_stop, capture_output=True)


def matrix_metrics(result: dict) -> list[dict]:
    """Loading and the whole analysis on each database, against the same run's floors."""
    size = f"{result['respondents']:,} respondents x 46 items"
    full = result["respondents"] == 100_000
    out = []
    for database in ("sqlite", "postgresql"):
        if database not in result:
            continue
        m = result[database]
        out += [
            metric(
                f"load_matrix, {size}, {database}",
                m["load_matrix_s"],
                "s",
                "bare SELECT of the answer rows (fetchall)",
                m["bare_select_answer_rows_s"],
            ),
            metric(
                f"load_matrix against the loader before, {size}, {database}",
                m["load_matrix_s"],
                "s",
                "answers packed by the database from the answer table",
                m["answer_table_loader_s"],
            ),
            metric(
                f"analysis end to end (analyse_campaign, fresh process), {size}, {database}",
                m["analyse_campaign_s"],
                "s",
                "bare SELECT of the answer rows (fetchall)",
                m["bare_select_answer_rows_s"],
                "< 1 s" if full else None,
                m["analyse_campaign_s"] < 1 if full else None,
            ),
        ]
        if "baseline_analyse_campaign_s" in m:
            before = f"the code before ({result['baseline_commit']}), alternating processes"
            out += [
                metric(
                    f"analysis end to end against the code before, {size}, {database}",
                    m["analyse_campaign_s"],
                    "s",
                    before,
                    m["baseline_analyse_campaign_s"],
                    "< 1 s" if full else None,
                    m["analyse_campaign_s"] < 1 if full else None,
                ),
                metric(
                    f"analysis end to end, CPU time, against the code before, {size}, {database}",
                    m["analyse_campaign_cpu_s"],
                    "s",
                    before,
                    m["baseline_analyse_campaign_cpu_s"],
                ),
                metric(
                    f"load_matrix in a fresh process against the code before, {size}, {database}",
                    m["fresh_process_load_matrix_s"],
                    "s",
                    before,
                    m["baseline_fresh_process_load_matrix_s"],
                ),
            ]
    return out


def run(args: argparse.Namespace) -> None:
    path = args.database or Path(tempfile.mkdtemp()) / "bench.sqlite3"
    start = time.perf_counter()
    with benchmark_app(path):
        campaign_id = build_large_campaign(path, args.respondents, args.departments)
    built = time.perf_counter() - start
    baseline = None
    if not args.no_baseline:
        baseline = Path(tempfile.mkdtemp(prefix="bench-matrix-")) / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(baseline)]
            + [args.baseline_commit],
            check=True,
        )
    try:
        result: dict[str, object] = {
            "respondents": args.respondents,
            "items": 46,
            "baseline_commit": None if baseline is None else args.baseline_commit,
            "build_database_s": round(built, 1),
            "sqlite": measure(str(path), campaign_id, args.respondents, baseline, args.rounds),
        }
        if args.postgresql:
            start = time.perf_counter()
            copy_to_postgresql(path, args.postgresql)
            result["copy_to_postgresql_s"] = round(time.perf_counter() - start, 1)
            result["postgresql"] = measure(
                args.postgresql, campaign_id, args.respondents, baseline, args.rounds
            )
    finally:
        if baseline is not None:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)],
                check=False,
            )
            shutil.rmtree(baseline.parent, ignore_errors=True)
    result["metrics"] = matrix_metrics(result)
    out = write_results("matrix", result)
    databases = [name for name in ("sqlite", "postgresql") if name in result]
    print("| measure | " + " | ".join(databases) + " |")
    print("|---|" + "---:|" * len(databases))
    for key in result["sqlite"]:
        print(f"| {key} | " + " | ".join(str(result[name].get(key)) for name in databases) + " |")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
