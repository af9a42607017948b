"""Cell suppression and the interval audit for a large organisation with a crossing.

Usage: python benchmarks/bench_disclosure.py [--respondents 100000] [--departments 500]
       [--repeat 5] [--baseline-commit 69a7deb] [--previous-commit 41c742f]
       [--no-baseline] [--no-previous] [--quick]
Builds the suppression system of one organisation: ``--departments`` departments in a
three-level tree (divisions, sections, teams) with lognormal sizes, four role levels
(about 2 % top management, 10 % middle management, 85 % employees, 3 % conversation
team), a few respondents without a department, and the hidden department x role
crossing. Cells: the organisation; each department's own respondents and, if it has
sub-departments, its roll-up; each role level; the crossing cells; hidden remainders.
Sets: roll-up = own + sub-departments as shown; organisation = top departments +
remainder; own = its four crossing cells; role level = its crossing cells + its
remainder; organisation = role levels + remainder. Everything is one connected block.

Times, best of ``--repeat``:

* ``suppress(..., audit=False)``: the exact-recovery conditions only;
* ``suppress(...)``: with the interval audit (the default);
* ``audit_disclosure(...)`` of the result: the exact count interval of every protected
  cell (what a consultant would inspect);
* the baseline: ``suppress`` as of ``--baseline-commit`` (an SVD of the whole block for
  every determinacy test), loaded from git and run once; it must give the same result
  as ``audit=False``;
* the previous version: ``suppress`` and ``audit_disclosure`` as of ``--previous-commit``
  (before ``SuppressionSystem`` and the max-flow screen), best of ``--repeat`` in the
  same run; it must give the same results;
* ``suppress`` with a ``SuppressionSystem`` built once, on 50 count vectors of the same
  table (respondents thinned as skipped answers would), as ``analyse`` uses it, next to
  fresh calls on the same vectors.

Target: suppression with the audit plus the exact audit under 1 s. Sum audits
(``audit_disclosure(sums=...)``) are not timed: they take one LP per cell and bound.
Writes benchmarks/results/disclosure.json and prints a Markdown table. ``--quick``: 10,000
respondents in 100 departments, best of 1, without the slow SVD baseline.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, best_of, metric, write_results  # noqa: E402
from surveyapp.scoring.disclosure import audit_disclosure  # noqa: E402
from surveyapp.scoring.suppression import SuppressionSystem, suppress  # noqa: E402

ROLE_MIX = (0.02, 0.10, 0.85, 0.03)
WITHOUT_DEPARTMENT = 0.003
THRESHOLD = 5
TARGET_SECONDS = 1.0
BASELINE_COMMIT = "69a7deb"  # the last commit with the SVD-based suppress
PREVIOUS_COMMIT = "41c742f"  # the last commit before SuppressionSystem and the flow screen
COLUMNS = 50  # count vectors of one table in the reuse measurement


def build_respondents(
    respondents: int, departments: int, seed: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """Parent of each department and respondents per (department or none, role) cell.

    Divisions are the roots, sections hang under divisions and teams under sections;
    department sizes are lognormal (sigma 1.4: many teams of a handful of people,
    some of several thousand). The last row of the crossing is "no department".
    """
    rng = np.random.default_rng(seed)
    divisions = max(2, departments // 50)
    sections = max(4, departments // 6)
    parent = np.full(departments, -1)
    parent[divisions : divisions + sections] = rng.integers(0, divisions, sections)
    parent[divisions + sections :] = rng.integers(
        divisions, divisions + sections, departments - divisions - sections
    )
    weight = rng.lognormal(0.0, 1.4, departments)
    share = np.append(weight / weight.sum() * (1 - WITHOUT_DEPARTMENT), WITHOUT_DEPARTMENT)
    department = rng.choice(departments + 1, respondents, p=share)
    role = rng.choice(len(ROLE_MIX), respondents, p=ROLE_MIX)
    crossing = np.bincount(
        department * len(ROLE_MIX) + role, minlength=(departments + 1) * len(ROLE_MIX)
    ).reshape(departments + 1, len(ROLE_MIX))
    return parent, crossing


def build_system(
    parent: np.ndarray, crossing: np.ndarray
) -> tuple[list[int], list[tuple[int, list[int]]], list[bool]]:
    """Counts, sets and hidden flags of the suppression cells (see the module docstring)."""
    departments, roles = crossing.shape[0] - 1, crossing.shape[1]
    children: list[list[int]] = [[] for _ in range(departments)]
    for d in range(departments):
        if parent[d] >= 0:
            children[parent[d]].append(d)
    own_counts = crossing[:departments].sum(axis=1)
    rolled = own_counts.copy()
    for d in range(departments - 1, -1, -1):  # parents have lower indices
        if parent[d] >= 0:
            rolled[parent[d]] += rolled[d]
    counts: list[int] = []
    hidden: list[bool] = []

    def cell(count: int, is_hidden: bool = False) -> int:
        counts.append(int(count))
        hidden.append(is_hidden)
        return len(counts) - 1

    organisation = cell(crossing.sum())
    own = [cell(own_counts[d]) for d in range(departments)]
    roll = {d: cell(rolled[d]) for d in range(departments) if children[d]}
    shown = [roll.get(d, own[d]) for d in range(departments)]
    no_department = cell(crossing[departments].sum(), is_hidden=True)
    role = [cell(crossing[:, k].sum()) for k in range(roles)]
    no_role = cell(0, is_hidden=True)
    cross = [
        [cell(crossing[d, k], is_hidden=True) for k in range(roles)] for d in range(departments)
    ]
    role_rest = [cell(crossing[departments, k], is_hidden=True) for k in range(roles)]
    sets = [(roll[d], [own[d]] + [shown[c] for c in children[d]]) for d in roll]
    roots = [shown[d] for d in range(departments) if parent[d] < 0]
    sets.append((organisation, roots + [no_department]))
    sets += [(own[d], cross[d]) for d in range(departments)]
    sets += [
        (role[k], [cross[d][k] for d in range(departments)] + [role_rest[k]]) for k in range(roles)
    ]
    sets.append((organisation, role + [no_role]))
    return counts, sets, hidden


def load_baseline(commit: str) -> types.ModuleType | None:
    """``surveyapp/scoring/suppression.py`` as of ``commit``, as a module (None without git)."""
    try:
        source = subprocess.run(
            ["git", "show", f"{commit}:surveyapp/scoring/suppression.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("baseline_suppression")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{commit}:suppression.py", "exec"), module.__dict__)
    return module


def load_previous(commit: str) -> tuple[types.ModuleType, types.ModuleType] | None:
    """``disclosure.py`` and ``suppression.py`` as of ``commit``, the second using the first."""
    try:
        sources = [
            subprocess.run(
                ["git", "show", f"{commit}:surveyapp/scoring/{name}.py"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for name in ("disclosure", "suppression")
        ]
    except (OSError, subprocess.CalledProcessError):
        return None
    modules = []
    for name, source in zip(("disclosure", "suppression"), sources, strict=True):
        module = types.ModuleType(f"previous_{name}")
        sys.modules[module.__name__] = module  # dataclasses look their module up
        source = source.replace("surveyapp.scoring.disclosure", "previous_disclosure")
        exec(compile(source, f"{commit}:{name}.py", "exec"), module.__dict__)
        modules.append(module)
    return modules[0], modules[1]


def thinned_columns(
    parent: np.ndarray, crossing: np.ndarray, columns: int, seed: int = 11
) -> list[list[int]]:
    """Counts of the same cells for ``columns`` answer columns (4 % skipped answers)."""
    rng = np.random.default_rng(seed)
    return [
        build_system(parent, crossing - rng.binomial(crossing, 0.04))[0] for _ in range(columns)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=100_000)
    parser.add_argument("--departments", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline-commit", default=BASELINE_COMMIT)
    parser.add_argument("--previous-commit", default=PREVIOUS_COMMIT)
    parser.add_argument("--no-baseline", action="store_true", help="skip the slow baseline")
    parser.add_argument("--no-previous", action="store_true", help="skip the previous version")
    parser.add_argument("--quick", action="store_true", help="a small organisation")
    args = parser.parse_args()
    if args.quick:
        args.respondents, args.departments, args.repeat = 10_000, 100, 1
        args.no_baseline = True

    parent, crossing = build_respondents(args.respondents, args.departments)
    counts, sets, hidden = build_system(parent, crossing)
    inner = crossing[: args.departments]
    own = inner.sum(axis=1)

    exact_s, exact = best_of(
        lambda: suppress(counts, sets, THRESHOLD, hidden, audit=False), args.repeat
    )
    audited_s, audited = best_of(lambda: suppress(counts, sets, THRESHOLD, hidden), args.repeat)
    published = [not s for s in audited.suppressed]
    audit_s, audit = best_of(
        lambda: audit_disclosure(counts, sets, published, THRESHOLD), args.repeat
    )
    total_s = audited_s + audit_s

    # One table, many count vectors: a prepared system against fresh calls.
    columns = thinned_columns(parent, crossing, COLUMNS)
    withheld = [h or s for h, s in zip(hidden, audited.suppressed, strict=True)]

    def prepared_columns() -> list:
        system = SuppressionSystem(len(counts), sets)
        return [suppress(c, system, THRESHOLD, withheld) for c in columns]

    def fresh_columns() -> list:
        return [suppress(c, sets, THRESHOLD, withheld) for c in columns]

    reuse_repeat = max(1, args.repeat // 2)
    prepared_s, prepared = best_of(prepared_columns, reuse_repeat)
    fresh_s, fresh = best_of(fresh_columns, reuse_repeat)
    reuse = {
        "columns": COLUMNS,
        "seconds_prepared_system": prepared_s,
        "seconds_fresh_calls": fresh_s,
        "speedup": fresh_s / prepared_s,
        "same_results": prepared == fresh,
    }

    previous = None
    loaded = None if args.no_previous else load_previous(args.previous_commit)
    if loaded is not None:
        old_disclosure, old_suppression = loaded
        old_audited_s, old_audited = best_of(
            lambda: old_suppression.suppress(counts, sets, THRESHOLD, hidden), args.repeat
        )
        old_audit_s, old_audit = best_of(
            lambda: old_disclosure.audit_disclosure(counts, sets, published, THRESHOLD),
            args.repeat,
        )
        old_columns_s, old_columns = best_of(
            lambda: [old_suppression.suppress(c, sets, THRESHOLD, withheld) for c in columns],
            reuse_repeat,
        )
        previous = {
            "commit": args.previous_commit,
            "suppress_with_audit": old_audited_s,
            "audit_disclosure_exact": old_audit_s,
            "suppress_with_audit_plus_exact_audit": old_audited_s + old_audit_s,
            "columns": old_columns_s,
            "same_results": (old_audited.suppressed, old_audited.reasons)
            == (audited.suppressed, audited.reasons)
            and [(c.cell, c.lo, c.hi, c.passes) for c in old_audit.counts]
            == [(c.cell, c.lo, c.hi, c.passes) for c in audit.counts]
            and [(r.suppressed, r.reasons) for r in old_columns]
            == [(r.suppressed, r.reasons) for r in prepared],
            "speedup_suppress_plus_exact_audit": (old_audited_s + old_audit_s) / total_s,
            "speedup_columns": old_columns_s / prepared_s,
        }

    baseline = None
    module = None if args.no_baseline else load_baseline(args.baseline_commit)
    if module is not None:
        start = time.perf_counter()
        old = module.suppress(counts, sets, THRESHOLD, hidden)
        seconds = time.perf_counter() - start
        baseline = {
            "commit": args.baseline_commit,
            "seconds": seconds,
            "same_result_as_exact_conditions": (old.suppressed, old.reasons)
            == (exact.suppressed, exact.reasons),
            "speedup_exact_conditions": seconds / exact_s,
            "speedup_with_audit_and_exact_audit": seconds / total_s,
        }

    protected = audit.counts
    result = {
        "scipy": scipy.__version__,
        "data": {
            "respondents": args.respondents,
            "departments": args.departments,
            "roll_up_cells": sum(1 for d in range(args.departments) if (parent == d).any()),
            "role_levels": len(ROLE_MIX),
            "cells": len(counts),
            "sets": len(sets),
            "crossing_cells_small": int(((inner > 0) & (inner < THRESHOLD)).sum()),
            "crossing_cells_empty": int((inner == 0).sum()),
            "departments_below_threshold": int(((own > 0) & (own < THRESHOLD)).sum()),
            "threshold": THRESHOLD,
        },
        "suppression": {
            "complementary_without_audit": exact.reasons.count("complementary"),
            "complementary_with_audit": audited.reasons.count("complementary"),
            "protected_cells": len(protected),
            "protected_cells_lo_zero": sum(1 for c in protected if c.lo == 0),
            "audit_passes": audit.passes,
        },
        "seconds": {
            "suppress_exact_conditions": exact_s,
            "suppress_with_audit": audited_s,
            "audit_disclosure_exact": audit_s,
            "suppress_with_audit_plus_exact_audit": total_s,
        },
        "target_seconds": TARGET_SECONDS,
        "meets_target": total_s < TARGET_SECONDS,
        "reuse": reuse,
        "previous": previous,
        "baseline": baseline,
    }
    size = f"{args.respondents:,} respondents, {args.departments} departments"
    result["metrics"] = [
        metric(
            f"suppression with the interval audit + exact audit, {size}",
            total_s,
            "s",
            None if previous is None else f"the same at commit {previous['commit']}",
            None if previous is None else previous["suppress_with_audit_plus_exact_audit"],
            f"< {TARGET_SECONDS:g} s",
            total_s < TARGET_SECONDS,
        ),
        metric(
            f"suppression, exact conditions only, {size}",
            exact_s,
            "s",
            None if baseline is None else f"an SVD per test (commit {baseline['commit']})",
            None if baseline is None else baseline["seconds"],
        ),
        metric(
            f"{COLUMNS} count vectors through one SuppressionSystem, {size}",
            prepared_s,
            "s",
            "fresh calls on the same vectors",
            fresh_s,
        ),
    ]
    path = write_results("disclosure", result)

    data = result["data"]
    print(
        f"{args.respondents:,} respondents, {args.departments} departments "
        f"({data['roll_up_cells']} with sub-departments), 4 role levels: {data['cells']:,} "
        f"cells, {data['sets']} sets; {data['crossing_cells_small']} small and "
        f"{data['crossing_cells_empty']} empty crossing cells; threshold {THRESHOLD}\n"
    )
    print(f"| step (best of {args.repeat}) | seconds |")
    print("|---|---:|")
    print(f"| suppress, exact conditions only (`audit=False`) | {exact_s:.3f} |")
    print(f"| suppress with the interval audit (default) | {audited_s:.3f} |")
    print(
        f"| audit_disclosure: exact intervals of {len(protected)} protected cells | {audit_s:.3f} |"
    )
    print(f"| **suppress + exact audit** (target < {TARGET_SECONDS:g} s) | **{total_s:.3f}** |")
    print(
        f"| {COLUMNS} count vectors, one SuppressionSystem (best of {reuse_repeat}) | "
        f"{prepared_s:.3f} |"
    )
    print(f"| {COLUMNS} count vectors, fresh calls | {fresh_s:.3f} |")
    if previous is not None:
        print(
            f"| previous ({previous['commit']}): suppress + exact audit | "
            f"{previous['suppress_with_audit_plus_exact_audit']:.3f} |"
        )
        print(
            f"| previous ({previous['commit']}): {COLUMNS} count vectors | "
            f"{previous['columns']:.3f} |"
        )
    if baseline is not None:
        print(
            f"| baseline suppress, commit {baseline['commit']} (SVD per test; one run) | "
            f"{baseline['seconds']:.1f} |"
        )
        print(
            f"\nbaseline / new: {baseline['speedup_exact_conditions']:,.0f}x for the same "
            f"conditions (same result: {baseline['same_result_as_exact_conditions']}); "
            f"{baseline['speedup_with_audit_and_exact_audit']:,.0f}x against suppression "
            "with the audit plus the exact audit"
        )
    print(
        f"\nreuse: {reuse['speedup']:.1f}x over fresh calls (same results: {reuse['same_results']})"
    )
    if previous is not None:
        print(
            f"previous / new: {previous['speedup_suppress_plus_exact_audit']:.1f}x for "
            f"suppress + exact audit, {previous['speedup_columns']:.1f}x for {COLUMNS} count "
            f"vectors (same results: {previous['same_results']})"
        )
    supp = result["suppression"]
    print(
        f"complements: {supp['complementary_without_audit']} without the audit, "
        f"{supp['complementary_with_audit']} with it; audit passes: {supp['audit_passes']} "
        f"({supp['protected_cells_lo_zero']} of {supp['protected_cells']} protected cells can "
        "be empty)"
    )
    print(f"results written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
