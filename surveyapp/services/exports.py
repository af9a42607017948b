"""Downloads of a campaign's aggregate results (CSV).

Every function returns an iterator of chunks, so a view can stream the file instead of
building it in memory. Anonymity is never decided here: the aggregate rows come from the
report view model (which carries the analysis' suppression); a withheld group is written
with empty numbers and ``suppressed = yes``, never with a figure. The answer files
(individual answers, with a codebook) are ``answer_files.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ..reporting.view import (
    Benchmark,
    Difference,
    DimensionView,
    GroupRow,
    Interval,
    Maturity,
    Overall,
    ParticipationRow,
    ReportView,
)
from .csvfiles import write_csv

RESULT_COLUMNS = [
    "section",
    "dimension_id",
    "dimension",
    "group_code",
    "group",
    "n",
    "mean",
    "sd",
    "ci_low",
    "ci_high",
    "level",
    "level_name",
    "level_uncertain",
    "agreement_ok",
    "vs_rest_diff",
    "vs_rest_p_bh",
    "vs_rest_significant",
    "benchmark_percentile",
    "benchmark_q1",
    "benchmark_median",
    "benchmark_q3",
    "benchmark_organisations",
    "benchmark_group",
    "change_diff",
    "change_ci_low",
    "change_ci_high",
    "change_p_holm",
    "change_significant",
    "gap_diff",
    "gap_ci_low",
    "gap_ci_high",
    "gap_p_holm",
    "gap_significant",
    "headcount",
    "response_rate",
    "favourable",
    "suppressed",
    "reason",
]


CHANGE_COLUMNS = [c for c in RESULT_COLUMNS if c.startswith("change_")]
GAP_COLUMNS = [c for c in RESULT_COLUMNS if c.startswith("gap_")]


def _flag(value: bool | None) -> str:
    if value is None:
        return ""
    return "yes" if value else "no"


def _interval(ci: Interval | None) -> tuple[Any, Any]:
    return (ci[0], ci[1]) if ci else (None, None)


def _difference(entry: Difference | None) -> list[Any]:
    if entry is None:
        return [None] * 5
    low, high = _interval(entry.ci)
    return [entry.diff, low, high, entry.p_holm, _flag(entry.significant)]


def _withheld(
    section: str, dimension: DimensionView | None, code: str, name: str, reason: str | None
) -> dict:
    return {
        "section": section,
        "dimension_id": dimension.id if dimension else "",
        "dimension": dimension.name if dimension else "",
        "group_code": code,
        "group": name,
        "suppressed": "yes",
        "reason": reason,
    }


def _group_row(section: str, dimension: DimensionView, group: GroupRow) -> dict:
    if group.suppressed:
        return _withheld(section, dimension, group.code, group.name, group.reason)
    versus = group.vs_rest
    low, high = _interval(group.ci)
    return {
        "section": section,
        "dimension_id": dimension.id,
        "dimension": dimension.name,
        "group_code": group.code,
        "group": group.name,
        "n": group.n,
        "mean": group.mean,
        "sd": group.sd,
        "ci_low": low,
        "ci_high": high,
        "agreement_ok": _flag(group.agreement_ok),
        "vs_rest_diff": versus.diff if versus else None,
        "vs_rest_p_bh": versus.p_bh if versus else None,
        "vs_rest_significant": _flag(versus.significant) if versus else "",
        "suppressed": "no",
    }


def _level(maturity: Maturity | Overall) -> dict[str, Any]:
    level = maturity.level
    if not level:
        return {}
    return {
        "level": level.number,
        "level_name": level.name,
        "level_uncertain": _flag(maturity.uncertain),
    }


def _norm_group_text(view: ReportView) -> str:
    """The norm group with its size, and why it is not the chosen one if it fell back."""
    norm = view.norm_group
    return f"{norm.name} ({norm.note})" if norm.note else norm.name


def result_rows(view: ReportView, participation: Sequence[ParticipationRow]) -> Iterator[dict]:
    """The aggregate results of a report view as flat rows (dicts keyed by column)."""
    overall = view.overall
    if not view.published:
        yield _withheld("overall", None, "", view.organisation.name, "not published")
        return
    low, high = _interval(overall.ci)
    yield {
        "section": "overall",
        "group": view.organisation.name,
        "n": overall.n,
        "mean": overall.mean,
        "ci_low": low,
        "ci_high": high,
        **_level(overall),
        "headcount": view.campaign.headcount,
        "response_rate": view.campaign.response_rate,
        "benchmark_organisations": view.norm_group.organisations,
        "benchmark_group": _norm_group_text(view),
        "suppressed": "no",
    }
    for row in participation:
        if row.suppressed:
            yield _withheld("participation", None, row.code, row.name, row.reason)
        else:
            yield {
                "section": "participation",
                "group_code": row.code,
                "group": row.name,
                "n": row.responses,
                "headcount": row.headcount,
                "response_rate": None if row.rate is None else round(row.rate, 4),
                "suppressed": "no",
            }
    for dimension in view.dimensions:
        if dimension.suppressed:
            yield _withheld("dimension", dimension, "", "", dimension.reason)
            continue
        low, high = _interval(dimension.ci)
        benchmark = dimension.benchmark or Benchmark()
        change = _difference(dimension.change)
        gap = _difference(dimension.gap)
        yield {
            "section": "dimension",
            "dimension_id": dimension.id,
            "dimension": dimension.name,
            "group": view.organisation.name,
            "n": dimension.n,
            "mean": dimension.mean,
            "sd": dimension.sd,
            "ci_low": low,
            "ci_high": high,
            **_level(dimension.maturity),
            "benchmark_percentile": benchmark.percentile,
            "benchmark_q1": benchmark.q1,
            "benchmark_median": benchmark.median,
            "benchmark_q3": benchmark.q3,
            "benchmark_organisations": benchmark.organisations,
            "benchmark_group": view.norm_group.name if dimension.benchmark else None,
            **dict(zip(CHANGE_COLUMNS, change, strict=True)),
            **dict(zip(GAP_COLUMNS, gap, strict=True)),
            "suppressed": "no",
        }
        for group in dimension.departments:
            yield _group_row("department", dimension, group)
        for group in dimension.roles:
            yield _group_row("role_level", dimension, group)
        for item in dimension.items:
            if item.suppressed:
                yield _withheld("item", dimension, item.id, item.text, item.reason)
                continue
            low, high = _interval(item.ci)
            yield {
                "section": "item",
                "dimension_id": dimension.id,
                "dimension": dimension.name,
                "group_code": item.id,
                "group": item.text,
                "n": item.n,
                "mean": item.mean,
                "ci_low": low,
                "ci_high": high,
                "favourable": item.favourable,
                "suppressed": "no",
            }


def results_csv(view: ReportView, participation: Sequence[ParticipationRow]) -> Iterator[str]:
    """The aggregate results CSV, line by line (one row per figure group; see RESULT_COLUMNS)."""
    rows: Iterable[list[Any]] = (
        [row.get(column) for column in RESULT_COLUMNS] for row in result_rows(view, participation)
    )
    return iter(write_csv(RESULT_COLUMNS, rows))
