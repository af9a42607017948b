"""The analysis as plain data: the JSON documented in ``docs/analysis-json.md``.

Every ``null`` in it says why: an object with a null field also has a ``reasons``
object that names, for each of its null fields, the reason (one of ``REASONS``). The
one exception is a department's ``parent``, which is null for a top-level department
(not a missing value). The codes are in :mod:`surveyapp.scoring.reasons`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from surveyapp.scoring.analysis import (
    REASON_TOO_FEW_ANSWERS,
    SCHEMA_VERSION,
    SIGNIFICANT_DIGITS,
    Analysis,
    Design,
    Grouping,
    GroupingAnalysis,
)
from surveyapp.scoring.benchmark import Benchmark
from surveyapp.scoring.descriptives import Descriptives
from surveyapp.scoring.gap import Gap
from surveyapp.scoring.maturity import Maturity
from surveyapp.scoring.reasons import (
    ALL_TIED,
    NEVER_ANSWERED,
    NO_PREVIOUS_CAMPAIGN,
    NO_TOP_MANAGEMENT,
    NOT_COMPUTABLE,
    ONE_GROUP,
    ONE_VALUE,
    REASONS,
    REST_TOO_FEW,
    TOO_FEW_ORGANISATIONS,
    ZERO_VARIANCE,
)
from surveyapp.scoring.reliability import Reliability

__all__ = ["REASONS", "analysis_to_dict"]

Why = Callable[[str], str | None]


def analysis_to_dict(a: Analysis) -> dict[str, Any]:
    """The analysis as JSON-ready plain data (see ``docs/analysis-json.md``)."""
    return _to_dict(a)


def _explain(entry: dict[str, Any], why: Why) -> dict[str, Any]:
    """Add ``reasons`` naming why each null field of ``entry`` is null."""
    nulls = [key for key, value in entry.items() if value is None and key != "parent"]
    if nulls:
        entry["reasons"] = {key: why(key) or NOT_COMPUTABLE for key in nulls}
    return entry


def _by_count(n: int) -> str:
    """Why a spread, interval or test of ``n`` values is missing."""
    if n == 0:
        return NEVER_ANSWERED
    if n == 1:
        return ONE_VALUE
    return ZERO_VARIANCE


def _counted(n: int) -> Why:
    return lambda key: _by_count(n)


def _num(x: Any) -> Any:
    """Round to SIGNIFICANT_DIGITS significant digits; NaN and inf become None."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    f = float(x)
    if not math.isfinite(f):
        return None
    if f == 0.0:
        return 0.0
    return float(f"{f:.{SIGNIFICANT_DIGITS}g}")


def _interval(lo: Any, hi: Any) -> list[Any] | None:
    lo_n, hi_n = _num(lo), _num(hi)
    return None if lo_n is None or hi_n is None else [lo_n, hi_n]


def _stats(d: Descriptives, g: int, c: int, *, items: bool = False, flip: bool = False) -> dict:
    """Descriptives of one group and column; a value is null only for lack of answers."""
    n = int(d.n[g, c])
    out = {
        "n": n,
        "mean": _num(d.mean[g, c]),
        "sd": _num(d.sd[g, c]),
        "ci95": _interval(d.ci_low[g, c], d.ci_high[g, c]),
        "median": _num(d.median[g, c]),
    }
    if items and d.distribution is not None and d.favourable is not None:
        dist = d.distribution[g, c]
        out["distribution"] = [int(v) for v in (dist[::-1] if flip else dist)]
        out["favourable"] = _num(d.favourable[g, c])
    return out


def _withheld(reason: str | None) -> dict:
    return {"suppressed": True, "reason": reason or REASON_TOO_FEW_ANSWERS}


def _maturity(m: Maturity, n: int) -> dict:
    out = {
        "level": m.level,
        "level_ci95": None
        if m.level_low is None or m.level_high is None
        else [
            m.level_low,
            m.level_high,
        ],
        "uncertain": bool(m.uncertain),
    }
    return _explain(out, _counted(n))


def _to_dict(a: Analysis) -> dict[str, Any]:
    d = a.design
    n_dims = len(d.dimension_ids)
    org_ok = a.organisation_published
    out: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "settings": {k: _num(v) if not isinstance(v, str) else v for k, v in a.settings.items()},
    }
    if not org_ok:
        out["organisation"] = {"suppressed": True, "reason": a.organisation_reason}
        out["dimensions"] = [{"id": dim, "suppressed": True} for dim in d.dimension_ids]
        out["items"] = [{"id": item, "suppressed": True} for item in d.item_ids]
        return out
    overall_n = int(a.dimensions.n[0, n_dims])
    out["organisation"] = {
        "suppressed": False,
        "respondents": a.n_respondents,
        "overall": _explain(
            {
                **_stats(a.dimensions, 0, n_dims),
                "maturity": _maturity(a.maturity[n_dims], overall_n),
            },
            _counted(overall_n),
        ),
    }
    if a.gap is not None or a.gap_reason is not None:
        out["perception_gap"] = (
            {"suppressed": True, "reason": a.gap_reason} if a.gap is None else {"suppressed": False}
        )
    dims_out = []
    for k, dim in enumerate(d.dimension_ids):
        entry: dict[str, Any] = {
            "id": dim,
            "items": [d.item_ids[i] for i in range(len(d.item_ids)) if d.item_dimension[i] == k],
        }
        if a.dims_withheld[0, k]:
            entry.update(_withheld(a.dims_why[0, k]))
            dims_out.append(entry)
            continue
        n = int(a.dimensions.n[0, k])
        entry.update({"suppressed": False, **_stats(a.dimensions, 0, k)})
        entry["maturity"] = _maturity(a.maturity[k], n)
        rel = a.reliability[k]
        item_idx = [i for i in range(len(d.item_ids)) if d.item_dimension[i] == k]
        entry["alpha"] = _num(rel.alpha)
        entry["alpha_ci95"] = _interval(rel.ci_low, rel.ci_high)
        entry["alpha_n"] = rel.n
        entry["alpha_items"] = rel.n_used
        entry["item_reliability"] = [
            _item_reliability(rel, j, d.item_ids[i]) for j, i in enumerate(item_idx)
        ]
        entry["benchmark"] = _benchmark_entry(a.benchmark, k)
        entry["change"] = _gap_entry(a.change, a.change_why, k)
        entry["perception_gap"] = _gap_entry(a.gap, a.gap_why, k)
        entry["groupings"] = {
            ga.grouping.name: _grouping_dimension(ga, k, d, a) for ga in a.groupings
        }
        gap_absent = a.gap_reason or NO_TOP_MANAGEMENT
        absent = {
            "alpha": rel.reason,
            "alpha_ci95": rel.reason,
            "benchmark": a.benchmark_reason,
            "change": NO_PREVIOUS_CAMPAIGN,
            "perception_gap": gap_absent,
        }
        dims_out.append(
            _explain(entry, lambda key, absent=absent, n=n: absent.get(key) or _by_count(n))
        )
    out["dimensions"] = dims_out
    items_out = []
    for i, item in enumerate(d.item_ids):
        entry = {
            "id": item,
            "dimension": d.dimension_ids[d.item_dimension[i]],
            "reverse": d.reverse[i],
        }
        if a.items_withheld[0, i]:
            entry.update(_withheld(a.items_why[0, i]))
        else:
            entry.update(
                {"suppressed": False, **_stats(a.items, 0, i, items=True, flip=d.reverse[i])}
            )
            entry["groupings"] = {ga.grouping.name: _grouping_item(ga, i, d) for ga in a.groupings}
            _explain(entry, _counted(int(a.items.n[0, i])))
        items_out.append(entry)
    out["items"] = items_out
    out["groupings"] = [_grouping_summary(ga) for ga in a.groupings]
    return out


def _item_reliability(rel: Reliability, j: int, item_id: str) -> dict:
    reasons = rel.item_reasons[j] if rel.item_reasons else (None, None)
    entry = {
        "id": item_id,
        "item_rest_r": _num(rel.item_rest_r[j]),
        "alpha_if_deleted": _num(rel.alpha_if_deleted[j]),
    }
    why = {"item_rest_r": reasons[0], "alpha_if_deleted": reasons[1]}
    return _explain(entry, why.get)


def _benchmark_entry(b: Benchmark | None, k: int) -> dict | None:
    if b is None:
        return None
    entry = {
        "percentile_rank": _num(b.percentile_rank[k]),
        "q1": _num(b.q1[k]),
        "median": _num(b.median[k]),
        "q3": _num(b.q3[k]),
        "n_organisations": int(b.n_per_dimension[k]),
    }
    few = not np.isfinite(b.median[k])
    return _explain(entry, lambda key: TOO_FEW_ORGANISATIONS if few else NEVER_ANSWERED)


def _gap_entry(gap: Gap | None, why: tuple[str | None, ...], k: int) -> dict | None:
    if gap is None:
        return None
    if why[k] is not None:
        return _withheld(why[k])
    entry = {
        "suppressed": False,
        "diff": _num(gap.diff[k]),
        "ci95": _interval(gap.ci_low[k], gap.ci_high[k]),
        "t": _num(gap.t[k]),
        "df": _num(gap.df[k]),
        "p": _num(gap.p[k]),
        "p_holm": _num(gap.p_holm[k]),
        "hedges_g": _num(gap.hedges_g[k]),
        "n_a": int(gap.n_a[k]),
        "n_b": int(gap.n_b[k]),
    }
    return _explain(entry, _counted(min(int(gap.n_a[k]), int(gap.n_b[k]))))


def _parent(g: Grouping, c: int) -> int | None:
    if g.parents is None or g.parents[c] == -1:
        return None
    return g.parents[c]


def _icc_reason(ga: GroupingAnalysis, k: int) -> str:
    groups, n = int(ga.icc.n_groups[k]), int(ga.icc.n[k])
    if groups < 2:
        return ONE_GROUP
    if n <= groups:
        return ONE_VALUE  # every group has a single score: no within-group variance
    return ZERO_VARIANCE


def _welch_left_out(ga: GroupingAnalysis, k: int) -> tuple[list[dict], str]:
    """Shown groups that took no part in Welch's test, and why the test may be null."""
    w = ga.welch
    left_out = []
    for row, c in enumerate(ga.compared.tolist()):
        if ga.dims_withheld[c, k]:
            continue
        n = int(ga.dimensions.n[c, k])
        if n < 2:
            left_out.append({"code": c, "reason": _by_count(n)})
        elif w.zero_variance is not None and w.zero_variance[row, k]:
            left_out.append({"code": c, "reason": ZERO_VARIANCE})
    scored = int(w.k[k]) + sum(1 for g in left_out if g["reason"] == ZERO_VARIANCE)
    return left_out, ONE_GROUP if scored < 2 else ZERO_VARIANCE


def _grouping_dimension(ga: GroupingAnalysis, k: int, design: Design, a: Analysis) -> dict:
    g = ga.grouping
    icc_why = _icc_reason(ga, k)
    org_n = int(a.dimensions.n[0, k])
    groups = []
    for c in range(g.n_groups):
        head = {"code": c, "label": g.labels[c]}
        if g.parents is not None:
            head["parent"] = _parent(g, c)
        if not ga.published[c]:
            groups.append({**head, "suppressed": True, "reason": ga.reasons[c]})
            continue
        if ga.dims_withheld[c, k]:
            groups.append({**head, **_withheld(ga.dims_why[c, k])})
            continue
        n = int(ga.dimensions.n[c, k])
        entry = {**head, "suppressed": False, **_stats(ga.dimensions, c, k)}
        entry["rwg_j"] = _num(ga.rwg_j[c, k])
        rwg_j = ga.rwg_j[c, k]
        entry["agreement_ok"] = None if np.isnan(rwg_j) else bool(rwg_j >= design.agreement_cutoff)
        entry["mean_reliability"] = _num(ga.mean_reliability[c, k])
        entry["shrunken_mean"] = _num(ga.shrunken_mean[c, k])
        entry["rank"] = None if np.isnan(ga.rank[c, k]) else int(ga.rank[c, k])
        vr = ga.versus_rest
        rest_why = REST_TOO_FEW if n >= 2 and org_n - n < 2 else _by_count(n)
        entry["vs_rest"] = _explain(
            {
                "diff": _num(vr.diff[c, k]),
                "ci95": _interval(vr.ci_low[c, k], vr.ci_high[c, k]),
                "t": _num(vr.t[c, k]),
                "df": _num(vr.df[c, k]),
                "p": _num(vr.p[c, k]),
                "p_bh": _num(vr.p_bh[c, k]),
            },
            lambda key, why=rest_why: why,
        )
        shrink_why = NEVER_ANSWERED if n == 0 else icc_why
        groups.append(
            _explain(
                entry,
                lambda key, n=n, why=shrink_why: (
                    why if key in ("mean_reliability", "shrunken_mean", "rank") else _by_count(n)
                ),
            )
        )
    for c in range(g.n_groups):  # a subtree is its own group: shown even if c's own is not
        if ga.rolled_up[c]:
            groups[c]["rolled_up"] = _rolled(ga, c, k, items=False)
    gh = ga.games_howell
    pairs = [
        _explain(
            {
                "a": int(gh.a[i]),
                "b": int(gh.b[i]),
                "diff": _num(gh.diff[i, k]),
                "ci95": _interval(gh.ci_low[i, k], gh.ci_high[i, k]),
                "p": _num(gh.p[i, k]),
            },
            lambda key: ZERO_VARIANCE,  # both groups' scores are all the same
        )
        for i in range(gh.a.size)
        if np.isfinite(gh.diff[i, k])
    ]
    left_out, welch_why = _welch_left_out(ga, k)
    kruskal_why = ONE_GROUP if ga.kruskal.k[k] < 2 else ALL_TIED
    comparison = {
        "icc1": _num(ga.icc.icc1[k]),
        "icc2": _num(ga.icc.icc2[k]),
        "n0": _num(ga.icc.n0[k]),
        "groups_compared": int(ga.welch.k[k]),
        "left_out_of_welch": left_out,
        "welch_anova": _explain(
            {
                "F": _num(ga.welch.F[k]),
                "df1": _num(ga.welch.df1[k]),
                "df2": _num(ga.welch.df2[k]),
                "p": _num(ga.welch.p[k]),
                "omega2": _num(ga.welch.omega2[k]),
            },
            lambda key: welch_why,
        ),
        "kruskal": _explain(
            {
                "H": _num(ga.kruskal.H[k]),
                "df": _num(ga.kruskal.df[k]),
                "p": _num(ga.kruskal.p[k]),
                "epsilon2": _num(ga.kruskal.epsilon2[k]),
            },
            lambda key: kruskal_why,
        ),
        "games_howell": pairs,
        "groups": groups,
    }
    return _explain(comparison, lambda key: ONE_GROUP if key == "n0" else icc_why)


def _rolled(ga: GroupingAnalysis, c: int, k: int, *, items: bool, flip: bool = False) -> dict:
    if not ga.rolled_published[c]:
        return {"suppressed": True, "reason": ga.rolled_reasons[c]}
    row = int(np.flatnonzero(np.flatnonzero(ga.rolled_up) == c)[0])
    withheld = ga.rolled_items_withheld if items else ga.rolled_dims_withheld
    why = ga.rolled_items_why if items else ga.rolled_dims_why
    table = ga.rolled_items if items else ga.rolled_dimensions
    if withheld is None or why is None or table is None:  # pragma: no cover - has children
        raise RuntimeError("a rolled-up group without roll-up statistics")
    if withheld[row, k]:
        return _withheld(why[row, k])
    return _explain(
        {"suppressed": False, **_stats(table, row, k, items=items, flip=flip)},
        _counted(int(table.n[row, k])),
    )


def _grouping_item(ga: GroupingAnalysis, i: int, design: Design) -> dict:
    g = ga.grouping
    groups = []
    for c in range(g.n_groups):
        head = {"code": c, "label": g.labels[c]}
        if not ga.published[c]:
            groups.append({**head, "suppressed": True, "reason": ga.reasons[c]})
            continue
        if ga.items_withheld[c, i]:
            groups.append({**head, **_withheld(ga.items_why[c, i])})
            continue
        entry = {
            **head,
            "suppressed": False,
            **_stats(ga.items, c, i, items=True, flip=design.reverse[i]),
        }
        entry["rwg"] = _num(ga.rwg[c, i])
        entry["agreement_ok"] = (
            None if np.isnan(ga.rwg[c, i]) else bool(ga.rwg[c, i] >= design.agreement_cutoff)
        )
        groups.append(_explain(entry, _counted(int(ga.items.n[c, i]))))
    for c in range(g.n_groups):
        if ga.rolled_up[c]:
            groups[c]["rolled_up"] = _rolled(ga, c, i, items=True, flip=design.reverse[i])
    return {"groups": groups}


def _grouping_summary(ga: GroupingAnalysis) -> dict:
    g = ga.grouping
    groups = []
    for c in range(g.n_groups):
        entry: dict[str, Any] = {"code": c, "label": g.labels[c]}
        if g.parents is not None:
            entry["parent"] = _parent(g, c)
        if ga.published[c]:
            entry.update({"suppressed": False, "respondents": int(ga.respondents[c])})
        else:
            entry.update({"suppressed": True, "reason": ga.reasons[c]})
        groups.append(entry)
    return {"name": g.name, "groups": groups}
