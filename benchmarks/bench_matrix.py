"""Loading a campaign's answers from SQLite and PostgreSQL: packed copies against the answer table.

Usage: python benchmarks/bench_matrix.py [--respondents 100000] [--departments 50]
           [--postgresql postgresql+psycopg://user@host:port/db | --postgresql auto] [--quick]
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
  a fresh process, with its peak memory.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    benchmark_app,
    best_of,
    build_large_campaign,
    metric,
    peak_rss_mib,
    write_results,
)

ANSWER_ROWS = (
    "SELECT a.response_id, a.item_id, a.value FROM answer a"
    " JOIN response r ON r.id = a.response_id WHERE r.campaign_id = {}"
)


def measure_end_to_end(database: str) -> None:
    """Child process: load and analyse the campaign from the database (best of 3)."""
    with benchmark_app(database):
        from surveyapp.extensions import db
        from surveyapp.models import Campaign
        from surveyapp.services.reporting import analyse_campaign

        campaign = db.session.scalar(db.select(Campaign))
        seconds, report = best_of(lambda: analyse_campaign(campaign))
        assert report.analysis.n_respondents > 0
    print(json.dumps({"seconds": round(seconds, 3), "peak_rss_mib": round(peak_rss_mib())}))


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


def measure(database: str, campaign_id: int, respondents: int) -> dict:
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
    child = subprocess.run(
        [sys.executable, __file__, "--child", database],
        check=True,
        capture_output=True,
        text=True,
    )
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "answer_rows": answers,
        "bare_select_answer_rows_s": round(bare, 3),
        "answer_table_loader_s": round(before, 3),
        "load_matrix_s": round(ours, 3),
        "ratio_load_matrix_to_bare_select": round(ours / bare, 3),
        "ratio_load_matrix_to_answer_table_loader": round(ours / before, 3),
        "analyse_campaign_s": measured["seconds"],
        "analyse_campaign_peak_rss_mib": measured["peak_rss_mib"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--database", type=Path, help="reuse this SQLite file")
    parser.add_argument("--postgresql", help="an empty PostgreSQL database to measure too")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="5,000 respondents")
    args = parser.parse_args()
    if args.child:
        return measure_end_to_end(args.child)
    if args.quick:
        args.respondents, args.departments = 5_000, 10
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
                "< 1 s" if result["respondents"] == 100_000 else None,
                m["analyse_campaign_s"] < 1 if result["respondents"] == 100_000 else None,
            ),
        ]
    return out


def run(args: argparse.Namespace) -> None:
    path = args.database or Path(tempfile.mkdtemp()) / "bench.sqlite3"
    start = time.perf_counter()
    with benchmark_app(path):
        campaign_id = build_large_campaign(path, args.respondents, args.departments)
    built = time.perf_counter() - start
    result: dict[str, object] = {
        "respondents": args.respondents,
        "items": 46,
        "build_database_s": round(built, 1),
        "sqlite": measure(str(path), campaign_id, args.respondents),
    }
    if args.postgresql:
        start = time.perf_counter()
        copy_to_postgresql(path, args.postgresql)
        result["copy_to_postgresql_s"] = round(time.perf_counter() - start, 1)
        result["postgresql"] = measure(args.postgresql, campaign_id, args.respondents)
    result["metrics"] = matrix_metrics(result)
    out = write_results("matrix", result)
    databases = [name for name in ("sqlite", "postgresql") if name in result]
    print("| measure | " + " | ".join(databases) + " |")
    print("|---|" + "---:|" * len(databases))
    for key in result["sqlite"]:
        print(f"| {key} | " + " | ".join(str(result[name][key]) for name in databases) + " |")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
