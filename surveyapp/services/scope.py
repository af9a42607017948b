"""What a department head may read: their own department subtree, never another's.

A manager account may be limited to one department (``User.department_id``). Such a
manager sees, for each campaign, the organisation-wide figures every manager of the
organisation sees, and the figures of their department and the departments under it;
every figure that belongs to another department is taken out before anything is built
from the report: pages, PDF, results CSV and the JSON API all read the scoped report.

Scoping only ever *removes* entries from the released report, which has already been
through the release policy and the analysis's suppression (complementary suppression
included). A scoped reader therefore holds a subset of what an organisation-wide manager
holds, and no subtraction becomes possible that was not already impossible for them.
The subtree is taken from the campaign's frozen department tree, so a department moved
after a campaign closed does not change what its head can read of that campaign.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from ..models import Campaign, User
from .campaigns import campaign_departments
from .release import Participation
from .reporting import CampaignReport, memoised

DEPARTMENT = "department"


def department_scope(user: User | None, campaign: Campaign) -> frozenset[str] | None:
    """The department codes of ``campaign`` that ``user`` may read, or None for all.

    Consultants and organisation-wide managers read every department (None). A manager
    limited to a department reads that department's subtree as it stood when the
    campaign opened; if the department did not exist then, an empty set (organisation-
    wide figures only).
    """
    if user is None or user.role != "manager" or user.department_id is None:
        return None
    units = campaign_departments(campaign)
    children: dict[int, list[int]] = {}
    for unit in units:
        if unit.parent_department_id is not None:
            children.setdefault(unit.parent_department_id, []).append(unit.department_id)
    codes = {unit.department_id: unit.code for unit in units}
    if user.department_id not in codes:
        return frozenset()
    seen: set[int] = set()
    stack = [user.department_id]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        stack.extend(children.get(current, []))
    return frozenset(codes[d] for d in seen if d in codes)


def own_department_code(user: User | None, campaign: Campaign) -> str | None:
    """The code of the department a limited manager heads, in ``campaign``'s tree."""
    if user is None or user.department_id is None:
        return None
    for unit in campaign_departments(campaign):
        if unit.department_id == user.department_id:
            return unit.code
    return None


def _scope_grouping_groups(entry: dict[str, Any], codes: frozenset[str]) -> dict[str, Any]:
    """A department grouping's entry with only the groups in ``codes``.

    Groups are numbered within the grouping (``code``); pairwise comparisons name groups by
    that number, and a group's ``parent`` is one. Pairs with a side outside the scope go,
    and a parent outside it becomes None, so no other department's figure or position
    remains.
    """
    groups = entry.get("groups", [])
    kept = [g for g in groups if g.get("label") in codes]
    indices = {g["code"] for g in kept}
    scoped = dict(entry)
    scoped["groups"] = [
        {**g, "parent": g.get("parent") if g.get("parent") in indices else None}
        if "parent" in g
        else g
        for g in kept
    ]
    if "games_howell" in entry:
        scoped["games_howell"] = [
            pair for pair in entry["games_howell"] if pair["a"] in indices and pair["b"] in indices
        ]
    return scoped


def scope_analysis(data: dict[str, Any], codes: frozenset[str]) -> dict[str, Any]:
    """The analysis JSON (``docs/analysis-json.md``) with other departments taken out.

    Every ``groupings`` entry named ``department`` (the list at the top, and the mapping
    inside each dimension and item) keeps only the groups in ``codes``; the context's
    department list likewise. Organisation-wide figures stay as they are.
    """

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(value) for value in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "groupings" and isinstance(value, dict):
                out[key] = {
                    name: _scope_grouping_groups(entry, codes)
                    if name == DEPARTMENT and isinstance(entry, dict)
                    else walk(entry)
                    for name, entry in value.items()
                }
            elif key == "groupings" and isinstance(value, list):
                out[key] = [
                    _scope_grouping_groups(entry, codes)
                    if isinstance(entry, dict) and entry.get("name") == DEPARTMENT
                    else walk(entry)
                    for entry in value
                ]
            else:
                out[key] = walk(value)
        return out

    scoped = walk(data)
    context = scoped.get("context")
    if isinstance(context, dict) and isinstance(context.get("departments"), list):
        context["departments"] = _scope_departments(context["departments"], codes)
    return scoped


def _scope_departments(rows: list[dict[str, Any]], codes: frozenset[str]) -> list[dict[str, Any]]:
    return [
        {**row, "parent": row.get("parent") if row.get("parent") in codes else None}
        for row in rows
        if row.get("code") in codes
    ]


class _ScopedAnalysis:
    """Stands in for the analysis inside a scoped report: the same publication flag, and
    ``to_dict`` without other departments' figures."""

    def __init__(self, analysis: Any, codes: frozenset[str]):
        self._analysis = analysis
        self._codes = codes
        self.organisation_published = analysis.organisation_published

    def to_dict(self) -> dict[str, Any]:
        return scope_analysis(self._analysis.to_dict(), self._codes)


def scoped_report(report: CampaignReport, codes: frozenset[str] | None) -> CampaignReport:
    """``report`` as a reader limited to ``codes`` may see it (itself for None).

    The scoped report is kept with the full one, so its view models are built once per
    scope like the full report's.
    """
    if codes is None:
        return report
    return memoised(
        report,
        ("scope", codes),
        lambda: replace(
            report,
            departments=_scope_departments(copy.deepcopy(report.departments), codes),
            analysis=_ScopedAnalysis(report.analysis, codes),
            memo={},
        ),
    )


def scoped_participation(result: Participation, codes: frozenset[str] | None) -> Participation:
    """An open campaign's participation with only the departments in ``codes``; the
    organisation's rounded total stays (every manager of the organisation sees it)."""
    if codes is None:
        return result
    return replace(
        result,
        departments=tuple(
            replace(d, parent=d.parent if d.parent in codes else None)
            for d in result.departments
            if d.code in codes
        ),
    )
