"""The report as a reader sees it: plain, localised data built from the analysis JSON.

The dashboard page, the PDF and the CSV of aggregate results all render this one
structure, which itself is read from ``CampaignReport.to_dict()`` (the JSON of
``docs/analysis-json.md``), so the four outputs cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..questionnaires import Questionnaire, pick_text
from ..reporting.certainty import certainty
from .reporting import CampaignReport

SIGNIFICANCE = 0.05

# Reader-facing words for the anonymity reasons of the analysis JSON.
REASONS = {
    "nl": {
        "below_threshold": "minder dan {n} respondenten",
        "complementary": "verborgen zodat een kleine groep niet af te leiden is",
        "too_few_answers": "minder dan {n} antwoorden",
        "hidden": "niet apart getoond",
        "organisation_below_threshold": "te weinig respondenten in de organisatie",
        "no_responses": "niemand heeft gereageerd",
        "previous_too_few_answers": "minder dan {n} antwoorden in de vorige meting",
    },
    "en": {
        "below_threshold": "fewer than {n} respondents",
        "complementary": "withheld so that a small group cannot be worked out",
        "too_few_answers": "fewer than {n} answers",
        "hidden": "not shown separately",
        "organisation_below_threshold": "too few respondents in the organisation",
        "no_responses": "nobody responded",
        "previous_too_few_answers": "fewer than {n} answers in the previous campaign",
    },
}


NORM_WORDS = {
    "nl": {"all": "alle organisaties", "sector": "sector {}", "size": "{} medewerkers"},
    "en": {"all": "all organisations", "sector": "sector {}", "size": "{} employees"},
}


def norm_description(norm_group: dict[str, Any], lang: str) -> str:
    """Who the benchmark compares with, in the reader's language."""
    words = NORM_WORDS.get(lang, NORM_WORDS["en"])
    parts = []
    if norm_group.get("sector"):
        parts.append(words["sector"].format(norm_group["sector"]))
    if norm_group.get("size_band"):
        parts.append(words["size"].format(norm_group["size_band"]))
    return ", ".join(parts) or words["all"]


def _significant(p: float | None) -> bool:
    return p is not None and p < SIGNIFICANCE


def _interval(values) -> tuple[float, float] | None:
    if not values or values[0] is None or values[1] is None:
        return None
    return (values[0], values[1])


class _Builder:
    def __init__(self, report: CampaignReport, questionnaire: Questionnaire, lang: str):
        self.report = report
        self.q = questionnaire
        self.lang = lang
        self.data = report.to_dict()
        self.threshold = report.campaign["min_group_size"]
        self.department_names = {d["code"]: d["name"] for d in report.departments}
        role = questionnaire.background_question("role_level")
        self.role_names = {o.id: pick_text(o.label, lang) for o in role.options}
        self.levels = {level.number: level for level in questionnaire.levels}

    def reason(self, code: str | None) -> str:
        words = REASONS.get(self.lang, REASONS["en"])
        return words.get(code or "", code or "").format(n=self.threshold)

    def group_name(self, grouping: str, label: str) -> str:
        if grouping == "department":
            return self.department_names.get(label, label)
        if grouping == "role_level":
            return self.role_names.get(label, label)
        return label

    def level(self, number: int | None) -> dict[str, Any] | None:
        if number is None or number not in self.levels:
            return None
        level = self.levels[number]
        return {
            "number": number,
            "id": level.id,
            "name": pick_text(level.name, self.lang),
            "description": pick_text(level.description, self.lang),
            "min_score": level.min_score,
        }

    def maturity(self, entry: dict[str, Any] | None) -> dict[str, Any]:
        if not entry or entry.get("level") is None:
            return {"level": None, "uncertain": False, "range": None}
        low, high = entry.get("level_ci95") or [None, None]
        return {
            "level": self.level(entry["level"]),
            "uncertain": bool(entry.get("uncertain")),
            "range": (self.level(low), self.level(high)) if entry.get("uncertain") else None,
        }

    def distribution(self, counts: list[int]) -> list[dict[str, Any]]:
        """Answers per scale point as counts and shares, labelled in the reader's language."""
        total = sum(counts) or 1
        return [
            {
                "label": pick_text(p.label, self.lang),
                "value": p.value,
                "count": c,
                "share": c / total,
            }
            for p, c in zip(self.q.scale.points, counts, strict=False)
        ]

    def groups(self, grouping: str, entry: dict[str, Any] | None) -> list[dict[str, Any]]:
        if not entry:
            return []
        rows = []
        for group in entry.get("groups", []):
            name = self.group_name(grouping, group["label"])
            if group.get("suppressed"):
                rows.append(
                    {
                        "code": group["label"],
                        "name": name,
                        "parent": group.get("parent"),
                        "suppressed": True,
                        "reason": self.reason(group.get("reason")),
                    }
                )
                continue
            if group.get("n", 0) == 0 and group.get("mean") is None:
                continue  # nobody in this group: nothing to show or hide
            versus = group.get("vs_rest") or {}
            rows.append(
                {
                    "code": group["label"],
                    "name": name,
                    "parent": group.get("parent"),
                    "suppressed": False,
                    "n": group.get("n"),
                    "mean": group.get("mean"),
                    "sd": group.get("sd"),
                    "ci": _interval(group.get("ci95")),
                    "agreement_ok": group.get("agreement_ok"),
                    "rwg_j": group.get("rwg_j"),
                    "shrunken_mean": group.get("shrunken_mean"),
                    "rank": group.get("rank"),
                    "vs_rest": {
                        "diff": versus.get("diff"),
                        "ci": _interval(versus.get("ci95")),
                        "p_bh": versus.get("p_bh"),
                        "significant": _significant(versus.get("p_bh")),
                        "certainty": certainty(versus.get("ci95"), versus.get("p_bh")).value,
                    }
                    if versus
                    else None,
                    "rolled_up": group.get("rolled_up"),
                    # A statement's answers in this group (items only; the analysis has
                    # already withheld them where the group or its answers are too few).
                    "distribution": self.distribution(group["distribution"])
                    if group.get("distribution")
                    else None,
                    "favourable": group.get("favourable"),
                }
            )
        return rows

    def comparison(self, grouping: str, entry: dict[str, Any] | None) -> dict[str, Any] | None:
        if not entry or not entry.get("groups_compared"):
            return None
        labels = {g["code"]: g["label"] for g in entry.get("groups", [])}
        pairs = [
            {
                "a": self.group_name(grouping, labels.get(pair["a"], str(pair["a"]))),
                "b": self.group_name(grouping, labels.get(pair["b"], str(pair["b"]))),
                "diff": pair["diff"],
                "ci": _interval(pair.get("ci95")),
                "p": pair["p"],
                # Games–Howell's interval and p are both adjusted for the pairs.
                "certainty": certainty(pair.get("ci95"), pair.get("p")).value,
            }
            for pair in entry.get("games_howell", [])
            if _significant(pair.get("p"))
        ]
        return {
            "groups_compared": entry["groups_compared"],
            "welch": entry.get("welch_anova"),
            "kruskal": entry.get("kruskal"),
            "icc1": entry.get("icc1"),
            "icc2": entry.get("icc2"),
            "significant_pairs": sorted(pairs, key=lambda p: -abs(p["diff"])),
        }

    def difference(self, entry: dict[str, Any] | None) -> dict[str, Any] | None:
        if not entry or entry.get("diff") is None:
            return None
        return {
            "diff": entry["diff"],
            "ci": _interval(entry.get("ci95")),
            "p": entry.get("p"),
            "p_holm": entry.get("p_holm"),
            "hedges_g": entry.get("hedges_g"),
            "n_a": entry.get("n_a"),
            "n_b": entry.get("n_b"),
            "significant": _significant(entry.get("p_holm")),
            "certainty": certainty(entry.get("ci95"), entry.get("p_holm")).value,
        }

    def item(self, entry: dict[str, Any]) -> dict[str, Any]:
        item = self.q.item(entry["id"])
        base = {"id": item.id, "text": pick_text(item.text, self.lang), "reverse": item.reverse}
        if entry.get("suppressed"):
            return {**base, "suppressed": True, "reason": self.reason(entry.get("reason"))}
        return {
            **base,
            "suppressed": False,
            "n": entry.get("n"),
            "mean": entry.get("mean"),
            "ci": _interval(entry.get("ci95")),
            "favourable": entry.get("favourable"),
            "distribution": self.distribution(entry.get("distribution") or []),
            "departments": self.groups("department", entry.get("groupings", {}).get("department")),
        }

    def dimension(self, entry: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
        dimension = self.q.dimension(entry["id"])
        base = {
            "id": dimension.id,
            "name": pick_text(dimension.name, self.lang),
            "description": pick_text(dimension.description, self.lang),
        }
        if entry.get("suppressed"):
            return {**base, "suppressed": True, "reason": self.reason(entry.get("reason"))}
        maturity = self.maturity(entry.get("maturity"))
        level = maturity["level"]
        groupings = entry.get("groupings", {})
        reliability_items = {r["id"]: r for r in entry.get("item_reliability", [])}
        benchmark = entry.get("benchmark")
        return {
            **base,
            "suppressed": False,
            "n": entry.get("n"),
            "mean": entry.get("mean"),
            "sd": entry.get("sd"),
            "ci": _interval(entry.get("ci95")),
            "maturity": maturity,
            "recommendation": self.q.recommendation(dimension.id, level["number"], self.lang)
            if level
            else None,
            "next_level": self.level(level["number"] + 1) if level else None,
            "benchmark": {
                "percentile": benchmark.get("percentile_rank"),
                "q1": benchmark.get("q1"),
                "median": benchmark.get("median"),
                "q3": benchmark.get("q3"),
                "organisations": benchmark.get("n_organisations"),
            }
            if benchmark
            else None,
            "change": self.difference(entry.get("change")),
            "gap": self.difference(entry.get("perception_gap")),
            "reliability": {
                "alpha": entry.get("alpha"),
                "ci": _interval(entry.get("alpha_ci95")),
                "n": entry.get("alpha_n"),
                "items": [
                    {
                        "text": pick_text(self.q.item(item_id).text, self.lang),
                        "item_rest_r": reliability_items.get(item_id, {}).get("item_rest_r"),
                        "alpha_if_deleted": reliability_items.get(item_id, {}).get(
                            "alpha_if_deleted"
                        ),
                    }
                    for item_id in entry.get("items", [])
                ],
            },
            "departments": self.groups("department", groupings.get("department")),
            "roles": self.groups("role_level", groupings.get("role_level")),
            "department_comparison": self.comparison("department", groupings.get("department")),
            "role_comparison": self.comparison("role_level", groupings.get("role_level")),
            "items": items,
        }

    def build(self, department: str | None) -> dict[str, Any]:
        data, report = self.data, self.report
        items_by_dimension: dict[str, list[dict[str, Any]]] = {}
        for entry in data.get("items", []):
            dimension_id = self.q.item(entry["id"]).dimension
            items_by_dimension.setdefault(dimension_id, []).append(self.item(entry))
        dimensions = [
            self.dimension(entry, items_by_dimension.get(entry["id"], []))
            for entry in data.get("dimensions", [])
        ]
        shown = [d for d in dimensions if not d["suppressed"] and d.get("mean") is not None]
        ranked = sorted(shown, key=lambda d: d["mean"], reverse=True)
        organisation = data.get("organisation", {})
        overall = organisation.get("overall") or {}
        # A closed campaign nobody answered is "published" by the analysis (there is nothing
        # to protect) but has no figure to show: it gets its own wording everywhere.
        no_responses = not organisation.get("suppressed", False) and not organisation.get(
            "respondents"
        )
        heatmap_rows: dict[str, dict[str, Any]] = {}
        for k, dimension in enumerate(dimensions):
            for group in dimension.get("departments", []):
                row = heatmap_rows.setdefault(
                    group["code"],
                    {
                        "code": group["code"],
                        "name": group["name"],
                        "cells": [None] * len(dimensions),
                    },
                )
                row["cells"][k] = group
        suppressed = [
            {
                "grouping": grouping["name"],
                "name": self.group_name(grouping["name"], g["label"]),
                "reason": self.reason(g.get("reason")),
            }
            for grouping in data.get("groupings", [])
            for g in grouping.get("groups", [])
            if g.get("suppressed")
        ]
        view = {
            "lang": self.lang,
            "generated_on": dt.date.today().isoformat(),
            "title": pick_text(self.q.title, self.lang),
            "organisation": report.organisation,
            "campaign": report.campaign,
            "departments": report.departments,
            "norm_group": {
                **report.norm_group,
                "description": norm_description(report.norm_group, self.lang),
            },
            "previous_campaign": report.previous_campaign,
            "threshold": self.threshold,
            "published": not organisation.get("suppressed", False) and not no_responses,
            "no_responses": no_responses,
            "overall": {
                "n": overall.get("n"),
                "mean": overall.get("mean"),
                "ci": _interval(overall.get("ci95")),
                **self.maturity(overall.get("maturity")),
            },
            "scale": {
                "min": self.q.scale.min,
                "max": self.q.scale.max,
                "labels": [pick_text(p.label, self.lang) for p in self.q.scale.points],
            },
            "levels": [self.level(level.number) for level in self.q.levels],
            "dimensions": dimensions,
            "strengths": ranked[:3],
            "priorities": list(reversed(ranked[-3:])) if len(ranked) > 3 else [],
            "heatmap": {
                "columns": [{"id": d["id"], "name": d["name"]} for d in dimensions],
                "rows": list(heatmap_rows.values()),
            },
            "has_gap": any(d.get("gap") for d in dimensions),
            "has_change": any(d.get("change") for d in dimensions),
            "has_benchmark": any(d.get("benchmark") for d in dimensions),
            # False when every department is withheld (or there are none): no sentence
            # may then speak of "every department shown".
            "departments_shown": any(
                not g["suppressed"] for d in dimensions for g in d.get("departments", [])
            ),
            "suppressed_groups": suppressed,
            "department": None,
        }
        if department is not None:
            view["department"] = self.department_view(department, dimensions)
        return view

    def department_view(self, code: str, dimensions: list[dict[str, Any]]) -> dict[str, Any]:
        """One department's figures beside the organisation's, for its head."""
        rows = []
        for dimension in dimensions:
            if dimension["suppressed"]:
                continue
            group = next((g for g in dimension["departments"] if g["code"] == code), None)
            if group is None or group["suppressed"]:
                rows.append(
                    {
                        "dimension": dimension,
                        "group": group,
                        "level": None,
                        "recommendation": None,
                        "benchmark_position": None,
                    }
                )
                continue
            maturity_level = None
            for level in reversed(self.q.levels):
                if group["mean"] is not None and group["mean"] >= level.min_score - 1e-9:
                    maturity_level = self.level(level.number)
                    break
            rows.append(
                {
                    "dimension": dimension,
                    "group": group,
                    "level": maturity_level,
                    "recommendation": self.q.recommendation(
                        dimension["id"], maturity_level["number"], self.lang
                    )
                    if maturity_level
                    else None,
                    "benchmark_position": _benchmark_position(
                        group["mean"], dimension.get("benchmark")
                    ),
                }
            )
        items = {
            item["id"]: next((g for g in item.get("departments", []) if g["code"] == code), None)
            for dimension in dimensions
            if not dimension["suppressed"]
            for item in dimension["items"]
            if not item["suppressed"]
        }
        return {
            "code": code,
            "name": self.department_names.get(code, code),
            "rows": rows,
            # The department's own answers per statement (None where it has none to show).
            "items": {k: v for k, v in items.items() if v is not None and not v["suppressed"]},
            "n": max(
                (r["group"]["n"] for r in rows if r.get("group") and not r["group"]["suppressed"]),
                default=None,
            ),
        }


def _benchmark_position(mean: float | None, benchmark: dict[str, Any] | None) -> str | None:
    """Where a score falls against the norm group's middle half: below, within or above."""
    if mean is None or not benchmark or benchmark.get("q1") is None or benchmark.get("q3") is None:
        return None
    if mean < benchmark["q1"]:
        return "below"
    if mean > benchmark["q3"]:
        return "above"
    return "within"


def build_view(
    report: CampaignReport,
    questionnaire: Questionnaire,
    lang: str,
    department: str | None = None,
) -> dict[str, Any]:
    """The report's plain, localised view data; ``department`` narrows it to one department."""
    return _Builder(report, questionnaire, lang).build(department)


# ---------------------------------------------------------------------------------
# Participation: added for the dashboard, separate from build_view so the PDF is untouched.


def department_participation(report: CampaignReport, lang: str) -> list[dict[str, Any]]:
    """Responses and response rate per department; a withheld department shows only why.

    The counts come from ``report.departments``, where the reporting service has already
    removed them for every department the analysis withholds.
    """
    words = REASONS.get(lang, REASONS["en"])
    threshold = report.campaign["min_group_size"]
    organisation_shown = report.analysis.organisation_published
    nobody = organisation_shown and not report.campaign.get("responses")
    rows = []
    for department in report.departments:
        base = {
            "code": department["code"],
            "name": department["name"],
            "parent": department.get("parent"),
            "headcount": department.get("headcount"),
        }
        if organisation_shown and (nobody or department.get("responses") == 0):
            # Nobody responded here: nothing to report, and no report to offer.
            rows.append({**base, "suppressed": True, "reason": words["no_responses"]})
            continue
        if department["suppressed"] or not organisation_shown:
            reason = department["reason"] if organisation_shown else "organisation_below_threshold"
            rows.append(
                {
                    **base,
                    "suppressed": True,
                    "reason": words.get(reason, reason).format(n=threshold),
                }
            )
        else:
            rows.append(
                {
                    **base,
                    "suppressed": False,
                    "responses": department["responses"],
                    "rate": department["response_rate"],
                }
            )
    return rows
