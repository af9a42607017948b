"""Benchmarks against 100 to 10,000 organisations, read from stored per-campaign scores.

Usage: python benchmarks/bench_norms.py [--organisations 100 1000 10000] [--repeat 5] [--quick]
For each number of organisations (``--quick``: 100 and 1,000), writes that many synthetic
organisations, each with one closed campaign and its
``campaign_score`` rows (9 dimensions), straight into a temporary SQLite file, plus one
organisation with an open campaign to benchmark. Times, best of ``--repeat``:

* a campaign's percentile ranks and quartiles (``scoring.benchmark``) with its norm group
  read by ``aggregates.norm_group_uncached`` (one plain query) and by
  ``aggregates.norm_group`` (packed text, cached until a campaign closes), first
  read and cached: target < 100 ms; the two must give the same norm group;
* the consultant's norm-group table by sector and size band (``comparison.norm_groups``).

Nothing is recomputed from answers. Writes benchmarks/results/norms.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import benchmark_app, best_of, metric, write_results  # noqa: E402

SECTORS = ("government", "healthcare", "education", "finance", "retail", "industry", "ngo")
SIZE_BANDS = ("1-49", "50-249", "250-999", "1000+")
TARGET_MS = 100


def fill(path: Path, organisations: int, version_id: int, dimensions: list[str], seed: int) -> int:
    """Write the organisations, campaigns and scores with sqlite3; return the open campaign."""
    rng = np.random.default_rng(seed)
    closes = dt.date(2026, 6, 30)
    means = np.clip(rng.normal(3.1, 0.35, (organisations, len(dimensions))), 1, 5)
    connection = sqlite3.connect(path)
    with connection:
        connection.executemany(
            "INSERT INTO organisation (id, name, sector, size_band, created_on)"
            " VALUES (?, ?, ?, ?, '2026-01-01')",
            (
                (i + 1, f"Organisation {i + 1:05d}", SECTORS[i % 7], SIZE_BANDS[(i // 7) % 4])
                for i in range(organisations + 1)
            ),
        )
        connection.executemany(
            "INSERT INTO campaign (id, organisation_id, questionnaire_version_id, name,"
            " opens_on, closes_on, status, min_group_size, min_comment_group_size)"
            " VALUES (?, ?, ?, 'Survey', ?, ?, ?, 5, 10)",
            (
                (
                    i + 1,
                    i + 1,
                    version_id,
                    (closes - dt.timedelta(days=28 + i % 300)).isoformat(),
                    (closes - dt.timedelta(days=i % 300)).isoformat(),
                    "open" if i == organisations else "closed",
                )
                for i in range(organisations + 1)
            ),
        )
        connection.executemany(
            "INSERT INTO campaign_score (campaign_id, dimension_id, n, mean, sd)"
            " VALUES (?, ?, ?, ?, 0.8)",
            (
                (i + 1, dimension, 20 + i % 400, float(means[i, k]))
                for i in range(organisations)
                for k, dimension in enumerate(dimensions)
            ),
        )
    connection.close()
    return organisations + 1


def measure(organisations: int, repeat: int) -> dict:
    """Every timing for one number of organisations, in a database of its own."""
    path = Path(tempfile.mkdtemp()) / "norms.sqlite3"
    with benchmark_app(path):
        from surveyapp.extensions import db
        from surveyapp.models import Campaign
        from surveyapp.scoring.benchmark import benchmark
        from surveyapp.services import aggregates
        from surveyapp.services.comparison import norm_groups
        from surveyapp.services.questionnaires import (
            ensure_questionnaire_version,
            latest_questionnaire,
        )

        questionnaire = latest_questionnaire("social-business-maturity")
        version = ensure_questionnaire_version(questionnaire)
        db.session.commit()
        dimensions = [d.id for d in questionnaire.dimensions]
        campaign_id = fill(path, organisations, version.id, dimensions, seed=7)
        campaign = db.session.get(Campaign, campaign_id)
        own = np.full(len(dimensions), 3.2)
        dims = tuple(dimensions)

        def percentiles(read):
            norms = read(campaign, dims)
            return norms, benchmark(own, norms.means)

        def cold(function):
            def run():
                aggregates._NORM_TABLES.clear()  # as right after a campaign closed
                return function()

            return run

        uncached_s, (reference, _) = best_of(
            lambda: percentiles(aggregates.norm_group_uncached), repeat
        )
        cold_s, _ = best_of(cold(lambda: percentiles(aggregates.norm_group)), repeat)
        warm_s, (norms, result) = best_of(lambda: percentiles(aggregates.norm_group), repeat)
        assert result is not None and result.n_organisations == organisations
        assert norms.organisation_ids == reference.organisation_ids
        assert np.array_equal(norms.means, reference.means, equal_nan=True)
        sector_s, _ = best_of(
            lambda: aggregates.norm_group(campaign, dims, sector="government"), repeat
        )
        table_cold_s, _ = best_of(
            cold(lambda: norm_groups(questionnaire, version.id, "en")), repeat
        )
        table_s, table = best_of(lambda: norm_groups(questionnaire, version.id, "en"), repeat)
        assert table["organisations"] == organisations
        db.session.remove()

    def ms(seconds: float) -> float:
        return round(seconds * 1000, 1)

    return {
        "organisations": organisations,
        "dimensions": len(dimensions),
        "campaign_score_rows": organisations * len(dimensions),
        "repeat": repeat,
        "percentiles_ms": {
            "norm_group_uncached (ORM rows, no cache)": ms(uncached_s),
            "norm_group, first read after a campaign closed": ms(cold_s),
            "norm_group, cached": ms(warm_s),
            "norm_group, one sector, cached": ms(sector_s),
        },
        "consultant_norm_table_ms": {"first read": ms(table_cold_s), "cached": ms(table_s)},
        "target_ms": TARGET_MS,
        "meets_target": {
            "cached": warm_s * 1000 < TARGET_MS,
            "first read after a campaign closed": cold_s * 1000 < TARGET_MS,
        },
    }


def size_metrics(measured: dict) -> list[dict]:
    """Percentiles of one campaign at this number of organisations, against the plain query."""
    n = f"{measured['organisations']:,} organisations"
    times = measured["percentiles_ms"]
    plain = times["norm_group_uncached (ORM rows, no cache)"]
    first = times["norm_group, first read after a campaign closed"]
    cached = times["norm_group, cached"]
    baseline = "one plain ORM query (norm_group_uncached)"
    target = f"< {TARGET_MS} ms"
    return [
        metric(f"percentiles, first read after a close, {n}", first, "ms", baseline, plain)
        | {"target": target, "met": first < TARGET_MS},
        metric(f"percentiles, cached, {n}", cached, "ms", baseline, plain)
        | {"target": target, "met": cached < TARGET_MS},
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--organisations",
        type=int,
        nargs="+",
        default=[100, 1_000, 10_000],
        help="numbers of organisations, each measured in a database of its own",
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100 and 1,000 organisations")
    args = parser.parse_args()
    if args.quick:
        args.organisations, args.repeat = [100, 1_000], 3
    by_size = [measure(n, args.repeat) for n in sorted(args.organisations)]
    # The largest number keeps the file's earlier shape; every size is under by_organisations.
    payload = {
        **by_size[-1],
        "by_organisations": {str(m["organisations"]): m for m in by_size},
        "metrics": [entry for measured in by_size for entry in size_metrics(measured)],
    }
    out = write_results("norms", payload)
    print(f"best of {args.repeat}; ms")
    print("| organisations | " + " | ".join(by_size[0]["percentiles_ms"]) + " |")
    print("|---:|" + "---:|" * len(by_size[0]["percentiles_ms"]))
    for measured in by_size:
        values = " | ".join(str(v) for v in measured["percentiles_ms"].values())
        print(f"| {measured['organisations']:,} | {values} |")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
