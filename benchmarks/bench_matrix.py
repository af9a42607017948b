"""Loading a campaign's answers from SQLite: our loader against a bare SELECT.

Usage: python benchmarks/bench_matrix.py [--respondents 100000] [--departments 50]
Writes benchmarks/results/matrix.json and prints a Markdown table.
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
    peak_rss_mib,
    write_results,
)


def measure_end_to_end(path: Path) -> None:
    """Child process: load and analyse the campaign from the database (best of 3)."""
    with benchmark_app(path):
        from surveyapp.extensions import db
        from surveyapp.models import Campaign
        from surveyapp.services.reporting import analyse_campaign

        campaign = db.session.scalar(db.select(Campaign))
        seconds, report = best_of(lambda: analyse_campaign(campaign))
        assert report.analysis.n_respondents > 0
    print(json.dumps({"seconds": round(seconds, 3), "peak_rss_mib": round(peak_rss_mib())}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--database", type=Path, help="reuse this SQLite file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure_end_to_end(args.database)
    path = args.database or Path(tempfile.mkdtemp()) / "bench.sqlite3"
    with benchmark_app(path):
        from surveyapp.extensions import db
        from surveyapp.models import Campaign
        from surveyapp.services.matrix import load_matrix

        start = time.perf_counter()
        campaign_id = build_large_campaign(path, args.respondents, args.departments)
        built = time.perf_counter() - start
        campaign = db.session.get(Campaign, campaign_id)
        answers = sqlite3.connect(path).execute("SELECT count(*) FROM answer").fetchone()[0]

        def bare_select():
            connection = sqlite3.connect(path)
            rows = connection.execute(
                "SELECT a.response_id, a.item_id, a.value FROM answer a"
                " JOIN response r ON r.id = a.response_id WHERE r.campaign_id = ?",
                (campaign_id,),
            ).fetchall()
            connection.close()
            return rows

        def naive_matrix():
            rows = bare_select()
            return np.array(rows, dtype=object)

        bare, rows = best_of(bare_select)
        naive, _ = best_of(naive_matrix, repeat=1)
        ours, loaded = best_of(lambda: load_matrix(campaign))
        # The end-to-end run and its memory are measured in a fresh process, so the
        # baselines' Python row lists above do not count towards its peak.
        child = subprocess.run(
            [sys.executable, __file__, "--database", str(path), "--child"],
            check=True,
            capture_output=True,
            text=True,
        )
        measured = json.loads(child.stdout.strip().splitlines()[-1])
        assert loaded.matrix.shape[0] == args.respondents
        assert int(np.count_nonzero(~np.isnan(loaded.matrix))) == sum(
            1 for row in rows if row[2] is not None
        )
    result = {
        "respondents": args.respondents,
        "items": int(loaded.matrix.shape[1]),
        "answer_rows": answers,
        "build_database_s": round(built, 1),
        "bare_select_s": round(bare, 3),
        "naive_rows_to_numpy_s": round(naive, 3),
        "load_matrix_s": round(ours, 3),
        "ratio_load_to_bare_select": round(ours / bare, 3),
        "analyse_campaign_from_database_s": measured["seconds"],
        "analyse_campaign_peak_rss_mib": measured["peak_rss_mib"],
    }
    out = write_results("matrix", result)
    print("| measure | seconds |\n|---|---|")
    for key in (
        "bare_select_s",
        "naive_rows_to_numpy_s",
        "load_matrix_s",
        "analyse_campaign_from_database_s",
    ):
        print(f"| {key} | {result[key]} |")
    print(
        f"\nload_matrix / bare SELECT = {result['ratio_load_to_bare_select']}"
        f" ({answers} answer rows); written to {out}"
    )


if __name__ == "__main__":
    main()
