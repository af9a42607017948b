"""Speed and memory of the statistics engine, next to the obvious per-group approach.

Run from the repository root::

    .venv/bin/python benchmarks/bench_scoring.py [--respondents 100000] [--repeat 3]
        [--sizes 1000 10000 100000 1000000] [--quick]

Synthetic survey: 100,000 respondents x 40 items (8 dimensions x 5 items, 1-5 scale,
one reverse-keyed item per dimension, 3% missing answers), 50 departments in a two-level
tree (5 divisions with 9 teams each) and 4 role levels. The script times
``surveyapp.scoring.analyse`` from the raw matrix (best of ``--repeat`` runs), measures its
peak traced memory (``tracemalloc``, which sees NumPy's allocations) and the process's peak
resident size, then computes the same statistics "the obvious way": a Python loop over
groups and dimensions calling SciPy once per group or per pair (``scipy.stats.f_oneway``
with ``equal_var=False``, ``kruskal``, ``ttest_ind``, ``studentized_range``). The SciPy
Games-Howell needs ``studentized_range.sf`` and ``.ppf`` per pair, 9,848 pairs in all; it
is timed on a sample of pairs and extrapolated, which the output says.

Results go to ``benchmarks/results/scoring.json`` and a Markdown table on stdout.

The same comparison runs for every number of respondents in ``--sizes`` (1,000 to
1,000,000), each with its own synthetic matrix: the engine against the per-group SciPy
loop measured without Games-Howell (the part of the loop that is not extrapolated), in
``by_size`` and in the ``metrics`` list that ``benchmarks/run.py`` collects. The top-level
figures are those of ``--respondents``. ``--quick``: 10,000 respondents, best of 1,
Games-Howell sampled on 2 pairs (the loop's cost is mostly SciPy's per-call overhead, about
7 s at any size, so a smaller size would not be quicker).

``--case large`` times ``analyse`` alone on an organisation of the shape the anonymity
rules find hardest: 100,000 respondents x 46 items (9 dimensions, the shipped
questionnaire's size), 500 departments in a three-level tree (5 divisions, 45 units, 450
teams; uneven sizes, some below the threshold) x 4 role levels (4% top management, 3%
conversation team, so most department x role-level cells are small), 4% missing
answers. It reports where the time goes (time inside ``suppress``, building the
``SuppressionSystem`` and ``games_howell``, counted by wrapping them) and writes JSON
only with ``--out``. The ``suppress`` calls of the best run are then replayed with
``suppress`` as of ``--previous-commit`` (before ``SuppressionSystem``; fresh sets every
call), which must give the same results: the disclosure work before and after, in the
same run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from surveyapp.scoring import Design, Grouping, analyse  # noqa: E402

N_DIMS, N_PER_DIM, N_DEPTS, N_ROLES = 8, 5, 50, 4


def make_survey(n: int, seed: int = 20240601) -> tuple[np.ndarray, Design, list[Grouping]]:
    """Synthetic answers with real department effects, agreement and missing values."""
    rng = np.random.default_rng(seed)
    n_items = N_DIMS * N_PER_DIM
    dept = rng.integers(0, N_DEPTS, n)
    role = rng.choice(N_ROLES, n, p=[0.02, 0.10, 0.28, 0.60])
    dept_effect = rng.normal(0.0, 0.3, (N_DEPTS, N_DIMS))
    latent = 3.0 + dept_effect[dept] + rng.normal(0.0, 0.7, (n, N_DIMS))
    item_dim = np.repeat(np.arange(N_DIMS), N_PER_DIM)
    answers = np.rint(latent[:, item_dim] + rng.normal(0.0, 0.6, (n, n_items)))
    answers = np.clip(answers, 1, 5)
    reverse = np.zeros(n_items, dtype=bool)
    reverse[::N_PER_DIM] = True
    answers[:, reverse] = 6.0 - answers[:, reverse]
    answers[rng.random(answers.shape) < 0.03] = np.nan
    design = Design(
        item_ids=tuple(f"q{i + 1:02d}" for i in range(n_items)),
        dimension_ids=tuple(f"dim{d + 1}" for d in range(N_DIMS)),
        item_dimension=tuple(item_dim),
        reverse=tuple(reverse),
        scale_min=1,
        scale_max=5,
        level_min_scores=(1.0, 2.0, 3.0, 3.75, 4.5),
    )
    # Departments 0-4 are divisions, 5-49 teams (9 per division).
    parents = tuple([-1] * 5 + [(d - 5) // 9 for d in range(5, N_DEPTS)])
    heads = np.bincount(dept, minlength=N_DEPTS) * 1.15
    groupings = [
        Grouping(
            "department",
            dept,
            tuple(f"Department {d}" for d in range(N_DEPTS)),
            parents=parents,
            headcounts=tuple(heads),
        ),
        Grouping("role", role, ("Top management", "Middle management", "Team lead", "Staff")),
    ]
    return answers, design, groupings


def make_large_survey(n: int, seed: int = 7) -> tuple[np.ndarray, Design, list[Grouping]]:
    """500 departments (three levels) x 4 role levels, 46 items in 9 dimensions."""
    rng = np.random.default_rng(seed)
    n_items, n_dims = 46, 9
    item_dim = np.sort(np.arange(n_items) % n_dims)
    # 5 divisions (0-4), 45 units (5-49, 9 per division), 450 teams (50-499, 10 per unit).
    parents = tuple([-1] * 5 + [u // 9 for u in range(45)] + [5 + t // 10 for t in range(450)])
    weight = rng.lognormal(0.0, 1.0, 500)
    weight[:50] *= 0.1  # divisions and units have few direct respondents of their own
    dept = rng.choice(500, n, p=weight / weight.sum())
    role = rng.choice(4, n, p=[0.04, 0.15, 0.78, 0.03])
    latent = 3.2 + rng.normal(0.0, 0.3, (500, n_dims))[dept] + rng.normal(0.0, 0.6, (n, n_dims))
    answers = np.clip(np.rint(latent[:, item_dim] + rng.normal(0.0, 0.8, (n, n_items))), 1, 5)
    answers[rng.random(answers.shape) < 0.04] = np.nan
    design = Design(
        item_ids=tuple(f"q{i + 1:02d}" for i in range(n_items)),
        dimension_ids=tuple(f"dim{d + 1}" for d in range(n_dims)),
        item_dimension=tuple(item_dim),
        reverse=(False,) * n_items,
        scale_min=1,
        scale_max=5,
        level_min_scores=(1.0, 2.0, 3.0, 3.75, 4.5),
    )
    groupings = [
        Grouping("department", dept, tuple(f"D{d:03d}" for d in range(500)), parents=parents),
        Grouping("role", role, ("Top management", "Middle management", "Staff", "Team")),
    ]
    return answers, design, groupings


def run_large(n: int, repeat: int, previous_commit: str | None) -> dict[str, Any]:
    """Best-of-``repeat`` time of ``analyse`` and the time spent in its costly parts."""
    from surveyapp.scoring import analysis, comparison

    x, design, groupings = make_large_survey(n)
    spent = {"suppress": [0.0, 0], "SuppressionSystem": [0.0, 0], "games_howell": [0.0, 0]}
    calls: list[tuple[tuple, dict, Any]] = []

    def timed(module: Any, name: str) -> None:
        original = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                out = original(*args, **kwargs)
            finally:
                spent[name][0] += time.perf_counter() - t0
                spent[name][1] += 1
            if name == "suppress":
                calls.append((args, kwargs, out))
            return out

        setattr(module, name, wrapper)

    timed(analysis, "suppress")
    timed(analysis, "SuppressionSystem")  # built once per layout, part of the disclosure work
    timed(comparison, "games_howell")
    runs = []
    for _ in range(repeat):
        for entry in spent.values():
            entry[:] = [0.0, 0]
        calls.clear()
        t0 = time.perf_counter()
        result = analyse(x, design, groupings, top_management=("role", 0))
        runs.append(
            (time.perf_counter() - t0, {k: tuple(v) for k, v in spent.items()}, list(calls))
        )
    best, parts, best_calls = min(runs, key=lambda run: run[0])
    previous = None if previous_commit is None else replay_previous(best_calls, previous_commit)
    sizes = np.bincount(groupings[0].codes, minlength=500)
    crossing = np.unique(groupings[0].codes * 4 + groupings[1].codes, return_counts=True)[1]
    return {
        "machine": machine(),
        "data": {
            "respondents": n,
            "items": len(design.item_ids),
            "dimensions": len(design.dimension_ids),
            "departments": 500,
            "departments_below_5": int(((sizes > 0) & (sizes < 5)).sum()),
            "role_levels": 4,
            "crossing_cells": int(crossing.size),
            "crossing_cells_below_5": int((crossing < 5).sum()),
        },
        "analyse_seconds_best": best,
        "analyse_seconds_all": [run[0] for run in runs],
        "suppress_seconds": parts["suppress"][0],
        "suppress_calls": parts["suppress"][1],
        "suppression_system_seconds": parts["SuppressionSystem"][0],
        "disclosure_seconds": parts["suppress"][0] + parts["SuppressionSystem"][0],
        "games_howell_seconds": parts["games_howell"][0],
        "departments_withheld": int((~result.groupings[0].published).sum()),
        "suppress_previous": previous,
        "disclosure_speedup": None
        if previous is None
        else previous["suppress_seconds"] / (parts["suppress"][0] + parts["SuppressionSystem"][0]),
    }


def replay_previous(calls: list[tuple[tuple, dict, Any]], commit: str) -> dict[str, Any] | None:
    """The same ``suppress`` calls with ``suppress`` as of ``commit``: time and agreement."""
    from benchmarks.bench_disclosure import load_previous
    from surveyapp.scoring.suppression import SuppressionSystem

    loaded = load_previous(commit)
    if loaded is None:
        return None
    old_suppress = loaded[1].suppress
    seconds, same = 0.0, True
    for args, kwargs, new in calls:
        counts, sets, *rest = args
        if isinstance(sets, SuppressionSystem):
            sets = sets.sets
        t0 = time.perf_counter()
        old = old_suppress(counts, sets, *rest, **kwargs)
        seconds += time.perf_counter() - t0
        same = same and (old.suppressed, old.reasons) == (new.suppressed, new.reasons)
    return {"commit": commit, "suppress_seconds": seconds, "same_results": same}


def run_engine(x, design, groupings, repeat: int) -> dict[str, Any]:
    kwargs = {"top_management": ("role", 0), "headcount": float(x.shape[0]) * 1.15}
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = analyse(x, design, groupings, **kwargs)
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    analyse(x, design, groupings, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    t0 = time.perf_counter()
    doc = result.to_dict()
    to_dict_s = time.perf_counter() - t0
    return {
        "analyse_seconds_best": min(times),
        "analyse_seconds_all": times,
        "to_dict_seconds": to_dict_s,
        "json_megabytes": len(json.dumps(doc, allow_nan=False)) / 1e6,
        "peak_traced_mib": peak / 2**20,
    }


def naive(x, design, groupings, gh_sample: int) -> dict[str, Any]:
    """The same statistics with a loop over groups/dimensions and one SciPy call each."""
    timings: dict[str, float] = {}
    t_all = time.perf_counter()

    t0 = time.perf_counter()
    y = x.copy()
    rev = np.array(design.reverse)
    y[:, rev] = 6.0 - y[:, rev]
    dims = np.array(design.item_dimension)
    scores = np.full((x.shape[0], N_DIMS), np.nan)
    for d in range(N_DIMS):
        block = y[:, dims == d]
        ok = (~np.isnan(block)).sum(axis=1) >= 3
        with np.errstate(invalid="ignore"):
            scores[ok, d] = np.nanmean(block[ok], axis=1)
    timings["scale scores"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    groups_of = []
    for g in groupings:
        masks = [g.codes == c for c in range(g.n_groups)]
        groups_of.append(masks)
        for mask in masks:
            for col in range(y.shape[1]):  # items: mean, sd, t CI, median, distribution
                v = y[mask, col]
                v = v[~np.isnan(v)]
                stats.t.interval(0.95, v.size - 1, loc=v.mean(), scale=stats.sem(v))
                np.median(v)
                np.unique(v, return_counts=True)
            for d in range(N_DIMS):
                v = scores[mask, d]
                v = v[~np.isnan(v)]
                stats.t.interval(0.95, v.size - 1, loc=v.mean(), scale=stats.sem(v))
                np.median(v)
    timings["descriptives per group"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for d in range(N_DIMS):
        block = y[:, dims == d]
        block = block[~np.isnan(block).any(axis=1)]
        k = block.shape[1]
        total = block.sum(axis=1)
        alpha = k / (k - 1) * (1 - block.var(axis=0, ddof=1).sum() / total.var(ddof=1))
        stats.f.ppf([0.025, 0.975], block.shape[0] - 1, (block.shape[0] - 1) * (k - 1))
        for i in range(k):
            stats.pearsonr(block[:, i], total - block[:, i])
            rest = np.delete(block, i, axis=1)
            _ = alpha, rest.var(axis=0, ddof=1).sum() / rest.sum(axis=1).var(ddof=1)
    timings["reliability"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for masks in groups_of:
        for mask in masks:
            for col in range(y.shape[1]):
                v = y[mask, col]
                v = v[~np.isnan(v)]
                _ = 1 - v.var(ddof=1) / 2.0  # rwg
        for d in range(N_DIMS):  # one-way ANOVA for ICC(1)/ICC(2)
            samples = [scores[m, d][~np.isnan(scores[m, d])] for m in masks]
            stats.f_oneway(*samples)
    timings["agreement (rwg, ICC)"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    for masks in groups_of:
        for d in range(N_DIMS):
            samples = [scores[m, d][~np.isnan(scores[m, d])] for m in masks]
            stats.f_oneway(*samples, equal_var=False)
            stats.kruskal(*samples)
            everyone = scores[:, d][~np.isnan(scores[:, d])]
            for m, s in zip(masks, samples, strict=True):
                rest = scores[~m, d]
                stats.ttest_ind(s, rest[~np.isnan(rest)], equal_var=False)
            del everyone
    timings["Welch ANOVA, Kruskal-Wallis, vs rest"] = time.perf_counter() - t0

    # Games-Howell with SciPy's studentized range: sample pairs, extrapolate.
    n_pairs = sum(g.n_groups * (g.n_groups - 1) // 2 for g in groupings) * N_DIMS
    masks = groups_of[0]
    samples = [scores[m, 0][~np.isnan(scores[m, 0])] for m in masks]
    t0 = time.perf_counter()
    for i in range(gh_sample):
        a, b = samples[i % N_DEPTS], samples[(i * 7 + 1) % N_DEPTS]
        va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = np.sqrt(va + vb)
        df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
        q = abs(a.mean() - b.mean()) / se * np.sqrt(2)
        stats.studentized_range.sf(q, N_DEPTS, df)
        stats.studentized_range.ppf(0.95, N_DEPTS, df)
    per_pair = (time.perf_counter() - t0) / gh_sample
    measured = time.perf_counter() - t_all
    timings["Games-Howell (extrapolated)"] = per_pair * n_pairs
    return {
        "parts_seconds": timings,
        "games_howell_pairs": n_pairs,
        "games_howell_sampled_pairs": gh_sample,
        "games_howell_seconds_per_pair": per_pair,
        "measured_seconds": measured,
        "total_seconds_with_extrapolation": measured - per_pair * gh_sample + per_pair * n_pairs,
    }


def engine_games_howell(x, design, groupings) -> float:
    """Time of the engine's vectorised Games-Howell alone, for the side-by-side table."""
    from surveyapp.scoring import comparison
    from surveyapp.scoring.descriptives import describe

    scores = np.nanmean(x[:, :N_PER_DIM].reshape(x.shape[0], -1), axis=1)[:, None]
    d = describe(np.repeat(scores, N_DIMS, axis=1), groupings[0].codes, N_DEPTS)
    t0 = time.perf_counter()
    comparison.games_howell(d.n, d.mean, d.variance)
    return time.perf_counter() - t0


def loop_without_games_howell(baseline: dict[str, Any]) -> float:
    """The per-group SciPy loop's measured time, its extrapolated Games-Howell left out."""
    return (
        baseline["total_seconds_with_extrapolation"]
        - baseline["parts_seconds"]["Games-Howell (extrapolated)"]
    )


def scoring_metrics(
    by_size: dict[str, dict[str, Any]], main_size: int, engine: dict, baseline: dict
) -> list[dict[str, Any]]:
    """The analysis by size against the per-group SciPy loop, and Games-Howell alone."""
    from benchmarks.common import metric

    out = []
    for n, size in by_size.items():
        seconds = size["analyse_seconds_best"]
        target = "< 1 s" if int(n) == 100_000 else None
        out.append(
            metric(
                f"analysis from the matrix, {int(n):,} respondents x 40 items",
                seconds,
                "s",
                "per-group SciPy loop, Games-Howell left out",
                size["naive_seconds_without_games_howell"],
                target,
                None if target is None else seconds < 1.0,
            )
        )
    out.append(
        metric(
            f"Games-Howell, all pairs of all dimensions, {main_size:,} respondents",
            engine["games_howell_seconds_all_dimensions"],
            "s",
            "SciPy's studentized range per pair (extrapolated from "
            f"{baseline['games_howell_sampled_pairs']} pairs)",
            baseline["parts_seconds"]["Games-Howell (extrapolated)"],
        )
    )
    return out


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import scipy

    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "date": dt.date.today().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gh-sample", type=int, default=20)
    parser.add_argument("--case", choices=("compare", "large"), default="compare")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="10,000 respondents")
    parser.add_argument("--out", type=Path, help="--case large: also write the JSON here")
    parser.add_argument(
        "--previous-commit",
        default="41c742f",
        help="--case large: replay the suppress calls with this commit's suppress ('' skips)",
    )
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.respondents, args.repeat, args.gh_sample = [10_000], 10_000, 1, 2
    if args.case == "large":
        large = run_large(args.respondents, args.repeat, args.previous_commit or None)
        text = json.dumps(large, indent=2) + "\n"
        if args.out is not None:
            args.out.write_text(text, encoding="utf-8")
        print(text, end="")
        return

    by_size: dict[int, dict[str, Any]] = {}
    for n in sorted(set(args.sizes) | {args.respondents}):
        x, design, groupings = make_survey(n)
        engine = run_engine(x, design, groupings, args.repeat)
        engine["games_howell_seconds_all_dimensions"] = engine_games_howell(x, design, groupings)
        baseline = naive(x, design, groupings, args.gh_sample)
        by_size[n] = {"engine": engine, "naive_scipy_loop": baseline}
        print(f"{n:,} respondents: analyse {engine['analyse_seconds_best']:.3f} s", flush=True)
        del x
    engine = by_size[args.respondents]["engine"]
    baseline = by_size[args.respondents]["naive_scipy_loop"]
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    speedup = baseline["total_seconds_with_extrapolation"] / engine["analyse_seconds_best"]
    without_gh = (
        baseline["total_seconds_with_extrapolation"]
        - baseline["parts_seconds"]["Games-Howell (extrapolated)"]
    )
    result = {
        "machine": machine(),
        "data": {
            "respondents": args.respondents,
            "items": N_DIMS * N_PER_DIM,
            "dimensions": N_DIMS,
            "departments": N_DEPTS,
            "role_levels": N_ROLES,
        },
        "engine": engine,
        "process_peak_rss_mib": rss_mib,
        "naive_scipy_loop": baseline,
        "speedup": speedup,
        "naive_seconds_without_games_howell": without_gh,
        "speedup_without_games_howell": without_gh / engine["analyse_seconds_best"],
        "by_size": {
            str(n): {
                "analyse_seconds_best": size["engine"]["analyse_seconds_best"],
                "peak_traced_mib": size["engine"]["peak_traced_mib"],
                "naive_seconds_without_games_howell": loop_without_games_howell(
                    size["naive_scipy_loop"]
                ),
                "naive_seconds_with_extrapolated_games_howell": size["naive_scipy_loop"][
                    "total_seconds_with_extrapolation"
                ],
            }
            for n, size in by_size.items()
        },
    }
    result["metrics"] = scoring_metrics(result["by_size"], args.respondents, engine, baseline)
    out = ROOT / "benchmarks" / "results" / "scoring.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    m = result["machine"]
    print(f"{args.respondents:,} respondents x 40 items, {N_DEPTS} departments, {N_ROLES} roles")
    print(f"machine: {m['nproc']} x {m['cpu']}, Python {m['python']}, NumPy {m['numpy']}, ")
    print(f"SciPy {m['scipy']}, {m['date']}\n")
    print("| step | engine (s) | per-group SciPy loop (s) |")
    print("|---|---:|---:|")
    for name, seconds in baseline["parts_seconds"].items():
        eng = ""
        if name.startswith("Games-Howell"):
            eng = f"{engine['games_howell_seconds_all_dimensions']:.3f}"
        print(f"| {name} | {eng} | {seconds:.2f} |")
    print(
        f"| **everything** | **{engine['analyse_seconds_best']:.3f}** | "
        f"**{baseline['total_seconds_with_extrapolation']:.1f}** |"
    )
    print(f"\nspeed-up: {speedup:,.0f}x (without Games-Howell: {without_gh:.2f} s, ")
    print(f"{without_gh / engine['analyse_seconds_best']:.1f}x; the engine's time includes it)")
    print(f"analyse() peak traced memory: {engine['peak_traced_mib']:.0f} MiB")
    print(f"process peak RSS: {rss_mib:.0f} MiB")
    print(
        f"Games-Howell via SciPy: {baseline['games_howell_seconds_per_pair'] * 1e3:.0f} ms per "
        f"pair measured on {args.gh_sample} pairs, extrapolated to "
        f"{baseline['games_howell_pairs']:,} pairs."
    )
    print(f"results written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
