"""Live participation of an open campaign: responses per day, and per department against
the invitations issued and the headcount, as rounded as ``release.py`` rounds them.

Every response figure here is a count rounded down to a multiple of the threshold ``k``
and shown from ``k`` up (:func:`.release.rounded_count`). The department figures are the
ones :func:`.release.participation` publishes (a department counts its sub-departments);
the invitations and headcounts next to them carry no response information.

The organisation's total is where rounding alone is not enough. A reader who sees the
department rows knows each department's count to within an interval: ``[r, r + k - 1]``
for a row shown as ``r``, ``[0, k - 1]`` for a hidden one, narrower where the headcount
or the number of invitations issued is smaller (a department has only so many people,
and nobody answers online without a link). A bound that the rows contradict (more
responses than links, because some answered on paper) is one the reader drops, and so
does the rule; one they do not contradict is used, even if paper answers make it wrong,
which can only lower the total shown. Subtracting the shown rows from a total rounded
the same way then gives a hidden department a lower bound: with ``k = 5``, rows
"at least 5" (really 9) and "fewer than 5" (really 1) and a total "at least 10" say that
someone in the small department has responded; four rows really at 9 and a small one
at 4 make the total 40 and pin the small one at exactly 4.

So the total shown is ``min(floor_k(N), floor_k(cap))`` with, over the top-level
departments ``R`` and their intervals ``[lo_R, hi_R]`` (worked out from the rows below
them, :func:`_intervals`),

    cap = sum(hi_R) - max(hi_R - lo_R).

*Why this is safe.* A reader learns ``N >= total``. For any top-level department ``R``
that gives ``n_R >= total - sum(hi_S for S != R) <= lo_R``: nothing beyond its row. When
the total is below the cap, the reader also learns ``N <= total + k - 1``, which gives
``n_R <= total + k - 1 - sum(lo_S for S != R) >= hi_R``, because ``total >= sum(lo_S)``
(the ``lo`` are multiples of ``k`` no larger than the true counts) and ``hi_R - lo_R``
is at most ``k - 1`` (each row is such an interval). So each top-level department keeps
exactly the interval its row gives it, and what lies inside one is untouched by the
total. Whether the cap applies is worked out from the published rows alone, and the page
says "may be rounded further down" whenever it could, so the wording gives nothing away
either. When the cap is below ``k`` the total is not shown at all (saying "fewer than
``k``" only when that is true would tell the reader when it is not).

Each day of the chart is the total as it stood at the end of that day, by the same rule
with that day's rows, so the history says no more than a visit on that day did.

Limits: this protects against the total, not against the rows among themselves. A
department's row counts its sub-departments, so a parent shown as "at least 5" with two
hidden sub-departments and nobody of its own tells that someone in one of them
responded; that is the participation release of ``release.py`` itself, not changed here.
Links carry no date, so each day of the chart is worked out with the links issued so
far; someone who knew that a department had fewer links on an earlier day could, in
corner cases, narrow that day further than the rule does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Campaign, CampaignDepartment, Invitation, Response, today
from .campaigns import campaign_departments
from .release import rounded_count


@dataclass(frozen=True, slots=True)
class DayCount:
    """Responses up to and including ``day``, rounded down; ``None`` when not shown."""

    day: dt.date
    responses: int | None
    # True when the figure is held back for the small departments' sake (whatever it
    # is); False with ``responses`` None means fewer than the threshold.
    withheld: bool


@dataclass(frozen=True, slots=True)
class DepartmentRate:
    """A department (with its sub-departments) whose count is shown."""

    code: str
    name: str
    parent: str | None
    depth: int
    responses: int  # rounded down, at least the threshold
    invitations: int
    headcount: int | None  # the people in it and under it; None if no headcount is known
    rate: float | None  # responses / headcount, whole percents rounded down


@dataclass(frozen=True, slots=True)
class SmallDepartments:
    """The departments with fewer than the threshold so far, as one row without a count."""

    departments: int
    invitations: int
    headcount: int | None  # their own people (each is counted once)


@dataclass(frozen=True, slots=True)
class LiveParticipation:
    """An open campaign's participation per day and per department, nothing exact."""

    campaign_id: int
    threshold: int
    opens_on: dt.date
    as_of: dt.date
    responses: int | None  # the organisation; None when fewer than the threshold or withheld
    withheld: bool  # the total is not shown, for the small departments' sake
    may_be_lowered: bool  # the total may be rounded further down than to a multiple
    invitations: int
    headcount: int | None
    rate: float | None
    days: tuple[DayCount, ...]
    departments: tuple[DepartmentRate, ...]
    small: SmallDepartments | None


# --- the arithmetic (pure) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """A department of the frozen tree, as the arithmetic needs it."""

    id: int
    parent: int | None
    # Public upper bounds on how many of its own people can respond, one per kind (the
    # headcount; the invitations issued, as nobody answers online without a link);
    # None where that kind is not known.
    limits: tuple[int | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Release:
    """What may be published of one set of counts: rows, and the total."""

    rows: dict[int, int | None]  # per department, its subtree rounded (release.py's rows)
    total: int | None
    withheld: bool
    may_be_lowered: bool


def _order(nodes: Sequence[Node]) -> tuple[list[int], dict[int, list[int]], list[int]]:
    """Roots, children, and every department after all of its sub-departments."""
    ids = {node.id for node in nodes}
    children: dict[int, list[int]] = {}
    roots = []
    for node in nodes:
        if node.parent in ids:
            children.setdefault(node.parent, []).append(node.id)
        else:
            roots.append(node.id)
    order: list[int] = []
    stack = [(root, False) for root in reversed(roots)]
    while stack:
        current, expanded = stack.pop()
        if expanded:
            order.append(current)
            continue
        stack.append((current, True))
        stack.extend((child, False) for child in children.get(current, []))
    return roots, children, order


def _intervals(
    nodes: Sequence[Node],
    rows: Mapping[int, int | None],
    threshold: int,
    kinds: Sequence[int],
) -> tuple[dict[int, tuple[int, float]], bool]:
    """Per department, the smallest and largest count of its subtree that a reader can
    reconcile with the published rows and the limits of ``kinds``, worked out from the
    leaves up, and whether those limits agree with the rows at all.

    ``lo = max(row, sum(lo of children))`` and ``hi = min(row + k - 1, own limit +
    sum(hi of children))`` (``k - 1`` for a hidden row); every value in between is
    possible, because sub-departments are disjoint.
    """
    _roots, children, order = _order(nodes)
    limit = {
        node.id: min(
            (node.limits[kind] for kind in kinds if node.limits[kind] is not None),
            default=float("inf"),
        )
        for node in nodes
    }
    bounds: dict[int, tuple[int, float]] = {}
    consistent = True
    for current in order:
        below = children.get(current, [])
        row = rows[current]
        lo = max(row or 0, sum(bounds[c][0] for c in below))
        hi = min(
            (row if row is not None else 0) + threshold - 1,
            limit[current] + sum(bounds[c][1] for c in below),
        )
        consistent = consistent and hi >= lo
        bounds[current] = (lo, max(hi, lo))
    return bounds, consistent


def _bounds(
    nodes: Sequence[Node], rows: Mapping[int, int | None], threshold: int
) -> dict[int, tuple[int, float]]:
    """The intervals with every kind of limit the rows do not contradict.

    A reader who sees a department with more responses than, say, links issued knows
    that some answered on paper and drops that bound; one who sees no contradiction may
    use it. Which kinds hold is decided from published figures only.
    """
    count = max((len(node.limits) for node in nodes), default=0)
    kinds = [kind for kind in range(count) if _intervals(nodes, rows, threshold, [kind])[1]]
    return _intervals(nodes, rows, threshold, kinds)[0]


def release_counts(nodes: Sequence[Node], own: Mapping[int, int], threshold: int) -> Release:
    """The rows and the total that may be shown for these own counts (see the module's
    docstring for the total's rule and why it is safe)."""
    roots, children, order = _order(nodes)
    subtree: dict[int, int] = {}
    for current in order:
        subtree[current] = own.get(current, 0) + sum(subtree[c] for c in children.get(current, []))
    rows = {d: rounded_count(n, threshold) for d, n in subtree.items()}
    n = sum(own.values())
    bounds = _bounds(nodes, rows, threshold)
    his = [bounds[r][1] for r in roots]
    spread = max((bounds[r][1] - bounds[r][0] for r in roots), default=0)
    cap = int(sum(his) - spread)  # finite: every row bounds its subtree
    capped = cap - cap % threshold
    if capped < threshold:
        # Whatever N is: "fewer than k" only when true would say when it is not.
        return Release(rows, None, withheld=True, may_be_lowered=False)
    if capped <= n - n % threshold:
        return Release(rows, capped, withheld=False, may_be_lowered=True)
    return Release(rows, rounded_count(n, threshold), withheld=False, may_be_lowered=False)


# --- the service ------------------------------------------------------------------


def _nodes(campaign: Campaign, units: Sequence[CampaignDepartment]) -> tuple[list[Node], dict]:
    invitations = dict(
        db.session.execute(
            sa.select(Invitation.department_id, sa.func.count(Invitation.id))
            .where(Invitation.campaign_id == campaign.id)
            .group_by(Invitation.department_id)
        ).all()
    )
    nodes = [
        Node(
            u.department_id,
            u.parent_department_id,
            (u.headcount, invitations.get(u.department_id, 0)),
        )
        for u in units
    ]
    return nodes, invitations


def open_total(campaign: Campaign) -> int | None:
    """The organisation's response count of an open campaign as every output shows it
    (API, lists, pages): rounded down, and lowered or withheld where the department rows
    would otherwise let a reader subtract a small department's count (module docstring)."""
    own = dict(
        db.session.execute(
            sa.select(Response.department_id, sa.func.count(Response.id))
            .where(Response.campaign_id == campaign.id)
            .group_by(Response.department_id)
        ).all()
    )
    nodes, _ = _nodes(campaign, campaign_departments(campaign))
    return release_counts(nodes, own, campaign.min_group_size).total


def _share(responses: int, headcount: int | None) -> float | None:
    """The response rate in whole percents rounded down, as it reads "at least"."""
    return (100 * responses // headcount) / 100 if headcount else None


def live_participation(
    campaign: Campaign, codes: frozenset[str] | None = None, on: dt.date | None = None
) -> LiveParticipation:
    """Participation of an open campaign up to ``on`` (today): per day, cumulative, and
    per department with its invitations and headcount.

    ``codes`` limits the department rows to those a department head may read
    (``services/scope.py``); the organisation's figures stay, as every manager of the
    organisation sees them.
    """
    on = on or today()
    threshold = campaign.min_group_size
    units = campaign_departments(campaign)
    per_day = db.session.execute(
        sa.select(Response.department_id, Response.submitted_on, sa.func.count(Response.id))
        .where(Response.campaign_id == campaign.id, Response.submitted_on <= on)
        .group_by(Response.department_id, Response.submitted_on)
    ).all()
    nodes, invitations = _nodes(campaign, units)
    first = campaign.opens_on
    last = max(min(on, campaign.closes_on), max((d for _, d, _ in per_day), default=first))
    days: list[DayCount] = []
    own: dict[int, int] = {}
    day = first
    pending = sorted(per_day, key=lambda row: row[1])
    position = 0
    published = release_counts(nodes, own, threshold)
    while day <= last and first <= on:
        while position < len(pending) and pending[position][1] <= day:
            department_id, _, n = pending[position]
            own[department_id] = own.get(department_id, 0) + n
            position += 1
        published = release_counts(nodes, own, threshold)
        days.append(DayCount(day, published.total, published.withheld))
        day += dt.timedelta(days=1)
    return _assemble(campaign, units, nodes, invitations, published, tuple(days), codes, on)


def _assemble(
    campaign: Campaign,
    units: Sequence[CampaignDepartment],
    nodes: Sequence[Node],
    invitations: Mapping[int, int],
    published: Release,
    days: tuple[DayCount, ...],
    codes: frozenset[str] | None,
    on: dt.date,
) -> LiveParticipation:
    roots, children, order = _order(nodes)
    by_id = {u.department_id: u for u in units}
    invited: dict[int, int] = {}
    people: dict[int, int | None] = {}
    for current in order:
        below = children.get(current, [])
        invited[current] = invitations.get(current, 0) + sum(invited[c] for c in below)
        known = [by_id[current].headcount, *(people[c] for c in below)]
        known = [h for h in known if h is not None]
        people[current] = sum(known) if known else None
    depth: dict[int, int] = {}
    tree_order: list[int] = []
    stack = [(root, 0) for root in reversed(roots)]
    while stack:
        current, level = stack.pop()
        depth[current] = level
        tree_order.append(current)
        stack.extend((child, level + 1) for child in reversed(children.get(current, [])))
    visible = [d for d in tree_order if codes is None or by_id[d].code in codes]
    shown = []
    for d in visible:
        responses = published.rows[d]
        if responses is None:
            continue
        parent = by_id[d].parent_department_id
        shown.append(
            DepartmentRate(
                code=by_id[d].code,
                name=by_id[d].name,
                parent=by_id[parent].code if parent in by_id else None,
                depth=depth[d],
                responses=responses,
                invitations=invited[d],
                headcount=people[d],
                rate=_share(responses, people[d]),
            )
        )
    hidden = [d for d in visible if published.rows[d] is None]
    small = None
    if hidden:
        own_heads = [by_id[d].headcount for d in hidden if by_id[d].headcount is not None]
        small = SmallDepartments(
            departments=len(hidden),
            invitations=sum(invitations.get(d, 0) for d in hidden),
            headcount=sum(own_heads) if own_heads else None,
        )
    known_roots = [people[r] for r in roots if people[r] is not None]
    headcount = sum(known_roots) if known_roots else None
    return LiveParticipation(
        campaign_id=campaign.id,
        threshold=campaign.min_group_size,
        opens_on=campaign.opens_on,
        as_of=on,
        responses=published.total,
        withheld=published.withheld,
        may_be_lowered=published.may_be_lowered,
        invitations=sum(invitations.values()),
        headcount=headcount,
        rate=_share(published.total, headcount) if published.total is not None else None,
        days=days,
        departments=tuple(shown),
        small=small,
    )
