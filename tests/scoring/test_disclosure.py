"""Interval audit: tables with known answers, an exhaustive integer attacker, properties.

The reference for every bound is independent of the code under test: the Fréchet
bounds of a two-way table with known margins (Dobra & Fienberg, 2000), hand-worked
tables, and :func:`integer_bounds`, which searches all non-negative integer tables
consistent with the published cells (no linear programming, no flows).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import FrozenInstanceError

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from surveyapp.scoring.disclosure import (
    REASON_PINNED,
    REASON_SUM_PINNED,
    CellInterval,
    audit_disclosure,
)
from surveyapp.scoring.suppression import suppress

Sets = list[tuple[int, list[int]]]


# --------------------------------------------------------------------------- builders


def crossing(table: Sequence[Sequence[int]]) -> tuple[list[int], Sets]:
    """Interior row by row, then row totals, column totals, grand total (as in
    test_suppression); sets: rows, columns, grand -> rows, grand -> columns."""
    interior = np.asarray(table, dtype=int)
    r, c = interior.shape
    counts = interior.ravel().tolist()
    rows = list(range(len(counts), len(counts) + r))
    counts += interior.sum(axis=1).tolist()
    cols = list(range(len(counts), len(counts) + c))
    counts += interior.sum(axis=0).tolist()
    grand = len(counts)
    counts.append(int(interior.sum()))
    sets: Sets = [(rows[i], [i * c + j for j in range(c)]) for i in range(r)]
    sets += [(cols[j], [i * c + j for i in range(r)]) for j in range(c)]
    sets += [(grand, rows), (grand, cols)]
    return counts, sets


def organisation(
    parents: Sequence[int], direct: np.ndarray
) -> tuple[list[int], Sets, list[bool], int]:
    """A department tree, role levels and the department x role crossing.

    ``direct[d, k]``: respondents of department d (its own, not its sub-departments)
    at role level k. Cells: the organisation; each department's own respondents; a
    roll-up for each department with sub-departments; each role level; the crossing
    cells (hidden). Sets: roll-up = own + sub-departments as shown (their roll-up if
    they have one); organisation = top departments; own = its crossing cells; role
    level = its crossing cells; organisation = role levels. Returns the number of
    departments' cells before the role levels as the last item (for messages).
    """
    n_departments, n_roles = direct.shape
    children: list[list[int]] = [[] for _ in range(n_departments)]
    for d, p in enumerate(parents):
        if p >= 0:
            children[p].append(d)
    own_counts = direct.sum(axis=1)
    rolled = own_counts.copy()
    for d in range(n_departments - 1, -1, -1):  # parents have lower indices
        if parents[d] >= 0:
            rolled[parents[d]] += rolled[d]
    counts: list[int] = [int(direct.sum())]
    hidden = [False]

    def cell(count: int, is_hidden: bool = False) -> int:
        counts.append(int(count))
        hidden.append(is_hidden)
        return len(counts) - 1

    own = [cell(own_counts[d]) for d in range(n_departments)]
    roll = {d: cell(rolled[d]) for d in range(n_departments) if children[d]}
    shown = [roll.get(d, own[d]) for d in range(n_departments)]
    roles = [cell(direct[:, k].sum()) for k in range(n_roles)]
    split = len(counts)
    cross = [
        [cell(direct[d, k], is_hidden=True) for k in range(n_roles)] for d in range(n_departments)
    ]
    sets: Sets = [(roll[d], [own[d]] + [shown[c] for c in children[d]]) for d in roll]
    sets.append((0, [shown[d] for d in range(n_departments) if parents[d] < 0]))
    sets += [(own[d], cross[d]) for d in range(n_departments)]
    sets += [(roles[k], [cross[d][k] for d in range(n_departments)]) for k in range(n_roles)]
    sets.append((0, roles))
    return counts, sets, hidden, split


# ------------------------------------------------------------------- integer attacker


def _equations(
    counts: Sequence[int], sets: Sets, published: Sequence[bool]
) -> tuple[list[int], list[tuple[dict[int, int], int]]]:
    """Unknown cells and the set equations over them, known cells substituted."""
    known = [bool(p) or c == 0 for p, c in zip(published, counts, strict=True)]
    unknown = [c for c in range(len(counts)) if not known[c]]
    index = {c: i for i, c in enumerate(unknown)}
    equations = []
    for total, members in sets:
        coefficients: dict[int, int] = {}
        rhs = 0
        for cell, sign in [(total, 1)] + [(m, -1) for m in members]:
            if known[cell]:
                rhs -= sign * counts[cell]
            else:
                coefficients[index[cell]] = sign
        if coefficients:
            equations.append((coefficients, rhs))
    return unknown, equations


def _propagate(lo: list[int], hi: list[int], equations) -> bool:
    """Tighten integer bounds until nothing changes; False if some equation fails."""
    changed = True
    while changed:
        changed = False
        for coefficients, rhs in equations:
            low = sum(lo[v] if a > 0 else -hi[v] for v, a in coefficients.items())
            high = sum(hi[v] if a > 0 else -lo[v] for v, a in coefficients.items())
            if not low <= rhs <= high:
                return False
            for v, a in coefficients.items():
                own_low = lo[v] if a > 0 else -hi[v]
                own_high = hi[v] if a > 0 else -lo[v]
                # a * x_v = rhs - (rest), rest within [low - own_low, high - own_high]
                new_low, new_high = rhs - (high - own_high), rhs - (low - own_low)
                if a < 0:
                    new_low, new_high = -new_high, -new_low
                if new_low > lo[v]:
                    lo[v], changed = new_low, True
                if new_high < hi[v]:
                    hi[v], changed = new_high, True
                if lo[v] > hi[v]:
                    return False
    return True


def _tables(lo: list[int], hi: list[int], equations) -> Iterator[list[int]]:
    """Every integer solution within the bounds (depth-first, bounds propagated)."""
    if not _propagate(lo, hi, equations):
        return
    open_vars = [v for v in range(len(lo)) if lo[v] < hi[v]]
    if not open_vars:
        yield list(lo)
        return
    v = min(open_vars, key=lambda u: hi[u] - lo[u])
    for value in range(lo[v], hi[v] + 1):
        lo2, hi2 = list(lo), list(hi)
        lo2[v] = hi2[v] = value
        yield from _tables(lo2, hi2, equations)


def all_tables(counts: Sequence[int], sets: Sets, published: Sequence[bool]) -> list[dict]:
    """All non-negative integer tables consistent with the published cells.

    Searched within ``[0, sum(counts)]`` per cell, more than any group can hold.
    """
    unknown, equations = _equations(counts, sets, published)
    ceiling = sum(counts)
    return [
        dict(zip(unknown, table, strict=True))
        for table in _tables([0] * len(unknown), [ceiling] * len(unknown), equations)
    ]


def integer_bounds(
    counts: Sequence[int], sets: Sets, published: Sequence[bool], cells: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """Smallest and largest value of each cell over all integer tables (exhaustive search).

    For each cell the values are tried from the propagated bounds inwards; a value
    counts when some complete integer table has it. The search is within
    ``[0, sum(counts)]``: a largest value of ``sum(counts)`` means "unbounded".
    """
    unknown, equations = _equations(counts, sets, published)
    lo, hi = [0] * len(unknown), [sum(counts)] * len(unknown)
    assert _propagate(lo, hi, equations), "the true table must be consistent"
    position = {c: i for i, c in enumerate(unknown)}

    def feasible(v: int, value: int) -> bool:
        lo2, hi2 = list(lo), list(hi)
        lo2[v] = hi2[v] = value
        return next(_tables(lo2, hi2, equations), None) is not None

    out = {}
    for cell in cells:
        v = position[cell]
        low = next(x for x in range(lo[v], hi[v] + 1) if feasible(v, x))
        high = next(x for x in range(hi[v], low - 1, -1) if feasible(v, x))
        out[cell] = (low, high)
    return out


def protected_cells(counts: Sequence[int], published: Sequence[bool], threshold: int) -> list[int]:
    return [
        c
        for c, (n, p) in enumerate(zip(counts, published, strict=True))
        if not p and 0 < n < threshold
    ]


def by_cell(intervals: Sequence[CellInterval]) -> dict[int, CellInterval]:
    return {c.cell: c for c in intervals}


# ------------------------------------------------------------------ known answers


@pytest.mark.parametrize("seed", range(5))
def test_two_way_table_with_margins_has_frechet_bounds(seed: int) -> None:
    # Every interior cell withheld, margins shown; no empty cell (an empty cell would
    # be known and tighten the bounds). Threshold above the total: all are protected.
    rng = np.random.default_rng(seed)
    table = rng.integers(1, 12, size=(3, 4))
    counts, sets = crossing(table)
    published = [False] * table.size + [True] * (len(counts) - table.size)
    audit = audit_disclosure(counts, sets, published, threshold=int(table.sum()) + 1)
    r, c, n = table.sum(axis=1), table.sum(axis=0), table.sum()
    intervals = by_cell(audit.counts)
    assert sorted(intervals) == list(range(table.size))
    for i, j in itertools.product(range(3), range(4)):
        got = intervals[i * 4 + j]
        assert (got.lo, got.hi) == (max(0, r[i] + c[j] - n), min(r[i], c[j])), (i, j)


def test_frechet_bounds_match_the_integer_tables() -> None:
    table = [[3, 1, 2], [1, 4, 2], [2, 2, 1]]
    counts, sets = crossing(table)
    published = [False] * 9 + [True] * 7
    tables = all_tables(counts, sets, published)
    audit = audit_disclosure(counts, sets, published, threshold=100)
    for interval in audit.counts:
        seen = [t[interval.cell] for t in tables]
        assert (interval.lo, interval.hi) == (min(seen), max(seen))


def test_a_narrow_interval_fails_although_the_cell_is_not_determined() -> None:
    # Margins 7, 2 / 7, 2, total 9: x00 = 7 + 7 - 9 ... 7, i.e. 5, 6 or 7 of a group
    # of 6 (threshold 8). Not determined, yet the reader knows it to within 2.
    counts, sets = crossing([[6, 1], [1, 1]])
    published = [False] * 4 + [True] * 5
    audit = audit_disclosure(counts, sets, published, threshold=8)
    corner = by_cell(audit.counts)[0]
    assert (corner.lo, corner.hi) == (5, 7)
    assert not corner.passes and corner.reason == REASON_PINNED
    assert sorted({t[0] for t in all_tables(counts, sets, published)}) == [5, 6, 7]
    assert audit.failing == (0,) and not audit.passes
    others = [c for c in audit.counts if c.cell != 0]
    assert all(c.lo == 0 and c.passes for c in others)


def test_cox_pattern_two_per_row_and_column_yet_solvable() -> None:
    # Two withheld rectangles joined by one cell: every row and column has at least
    # two withheld cells, the rule of thumb Cox (1980) shows to be insufficient.
    # Rows 0-1 minus columns 0-1 give the joining cell (1, 2) exactly.
    table = [[2, 6, 30, 30], [6, 2, 3, 30], [30, 30, 2, 6], [30, 30, 6, 2]]
    counts, sets = crossing(table)
    withheld = {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)}
    published = [(i, j) not in withheld for i in range(4) for j in range(4)] + [True] * 9
    audit = audit_disclosure(counts, sets, published, threshold=5)
    bridge = by_cell(audit.counts)[1 * 4 + 2]
    assert (bridge.lo, bridge.hi) == (3, 3) and not bridge.passes
    assert integer_bounds(counts, sets, published, [6]) == {6: (3, 3)}
    assert audit.failing == (6,)


def test_four_by_four_table_the_exact_rules_leave_in_one_to_five() -> None:
    # Found by the audit among random tables. The exact conditions withhold the six
    # cells below; then x00 = t, x01 = 5 - t, x10 = 6 - t, x12 = t - 1, x31 = 3 + t,
    # x32 = 10 - t, so 1 <= t <= 5: the group of 3 is non-empty and within 2.
    table = [[3, 2, 25, 13], [3, 0, 2, 12], [0, 29, 5, 0], [0, 6, 7, 7]]
    counts, sets = crossing(table)
    exact_only = suppress(counts, sets, 5, audit=False)
    withheld = {i for i, s in enumerate(exact_only.suppressed) if s}
    assert withheld == {0, 1, 4, 6, 13, 14}
    published = [not s for s in exact_only.suppressed]
    audit = audit_disclosure(counts, sets, published, 5)
    assert {c.cell: (c.lo, c.hi) for c in audit.counts} == {
        0: (1, 5),
        1: (0, 4),
        4: (1, 5),
        6: (0, 4),
    }
    assert audit.failing == (0, 4)
    assert integer_bounds(counts, sets, published, [0, 4]) == {0: (1, 5), 4: (1, 5)}


def test_hierarchical_table_bounds_equal_integer_bounds() -> None:
    # Organisation -> A (own, A1, A2) and B; roles top / staff; crossing hidden.
    parents = [-1, 0, 0, -1]  # A, A1, A2, B
    direct = np.array([[1, 6], [2, 5], [1, 9], [3, 12]])
    counts, sets, hidden, _ = organisation(parents, direct)
    result = suppress(counts, sets, 5, hidden, audit=False)
    published = [not s for s in result.suppressed]
    audit = audit_disclosure(counts, sets, published, 5)
    cells = [c.cell for c in audit.counts]
    assert cells == protected_cells(counts, published, 5)
    assert len(cells) >= 4
    exact = integer_bounds(counts, sets, published, cells)
    assert {c.cell: (c.lo, c.hi) for c in audit.counts} == exact


def three_way(x: np.ndarray) -> tuple[list[int], Sets]:
    """Interior cells, then every two-way margin; each margin cell sums its line."""
    counts = x.ravel().tolist()
    sets: Sets = []
    for axis in range(3):
        margin = x.sum(axis=axis)
        for index in itertools.product(*(range(n) for n in margin.shape)):
            lines = [(*index[:axis], k, *index[axis:]) for k in range(x.shape[axis])]
            counts.append(int(margin[index]))
            sets.append((len(counts) - 1, [int(np.ravel_multi_index(i, x.shape)) for i in lines]))
    return counts, sets


def test_three_way_table_lp_bounds_contain_the_integer_bounds() -> None:
    # With every two-way margin of a 3 x 3 x 3 table shown, each interior cell is in
    # three sets: not a network, so the LP relaxation can be looser than whole numbers
    # (the module's Limits; Cox 2002 studies such gaps). It must never be tighter.
    # This table (found by searching random ones) has a gap of half a respondent.
    x = np.array(
        [
            [[0, 1, 2], [2, 0, 1], [2, 1, 0]],
            [[2, 1, 2], [2, 1, 2], [2, 2, 1]],
            [[1, 2, 2], [1, 2, 0], [2, 0, 2]],
        ]
    )
    counts, sets = three_way(x)
    published = [False] * x.size + [True] * (len(counts) - x.size)
    audit = audit_disclosure(counts, sets, published, threshold=100)
    exact = integer_bounds(counts, sets, published, [c.cell for c in audit.counts])
    for interval in audit.counts:
        low, high = exact[interval.cell]
        assert interval.lo <= low and interval.hi >= high
    looser = {c.cell: (c.lo, c.hi) for c in audit.counts if (c.lo, c.hi) != exact[c.cell]}
    assert looser == {13: (0.0, 2.5), 19: (1.0, 3.5), 21: (0.0, 2.5), 22: (0.5, 3.0)}
    assert exact[13] == (0, 2)


# --------------------------------------------------------------------------- sums


def test_sum_pinned_by_a_row_and_a_column_fails() -> None:
    # Counts [[3, 10], [10, 10]] on a 1-5 scale (shifted sums s = sum - n, cell range
    # 4n). Cell (1, 0) all answered 5, cell (1, 1) all 1, cell (0, 1) nearly all 1:
    # the margins then put s00 in [6, 7] (mean 3.0-3.33), narrower than a quarter of
    # its range (3) and than its row or column reveals alone.
    counts, sets = crossing([[3, 10], [10, 10]])
    raw = np.array([[9.0, 11.0], [50.0, 10.0]])
    sums = raw.ravel().tolist() + raw.sum(axis=1).tolist() + raw.sum(axis=0).tolist()
    sums.append(float(raw.sum()))
    published = [False] * 4 + [True] * 5
    audit = audit_disclosure(counts, sets, published, 5, sums=sums, value_range=(1, 5))
    count = by_cell(audit.counts)[0]
    assert count.lo == 0 and count.passes  # the count is well protected
    [column] = audit.sums
    corner = by_cell(column)[0]
    assert (corner.lo, corner.hi) == pytest.approx((6.0, 7.0))
    assert corner.required == pytest.approx(3.0)
    assert not corner.passes and corner.reason == REASON_SUM_PINNED
    assert audit.failing == (0,)


def test_sum_no_narrower_than_its_published_group_reveals_passes() -> None:
    # Total 8 = 3 + 5, both withheld, all eight answered 5: the published group
    # itself says everyone answered 5 (accepted by the threshold policy).
    counts = [8, 3, 5]
    sets: Sets = [(0, [1, 2])]
    sums = [40.0, 15.0, 25.0]
    audit = audit_disclosure(counts, sets, [True, False, False], 5, sums=sums, value_range=(1, 5))
    [column] = audit.sums
    cell = by_cell(column)[1]
    assert (cell.lo, cell.hi) == pytest.approx((12.0, 12.0))
    assert cell.required == pytest.approx(0.0) and cell.passes


# ---------------------------------------------------------------------- suppress + audit


def test_suppress_with_the_audit_leaves_no_pinned_cell_in_the_four_by_four_table() -> None:
    table = [[3, 2, 25, 13], [3, 0, 2, 12], [0, 29, 5, 0], [0, 6, 7, 7]]
    counts, sets = crossing(table)
    result = suppress(counts, sets, 5)
    published = [not s for s in result.suppressed]
    assert audit_disclosure(counts, sets, published, 5).passes
    cells = protected_cells(counts, published, 5)
    for low, high in integer_bounds(counts, sets, published, cells).values():
        assert low == 0 or high - low >= 5


@st.composite
def organisations(draw) -> tuple[list[int], Sets, list[bool], int]:
    """2-6 departments in a random forest, 2-4 role levels, many empty and small cells."""
    n_departments = draw(st.integers(2, 6))
    n_roles = draw(st.integers(2, 4))
    parents = [-1] + [draw(st.integers(-1, d - 1)) for d in range(1, n_departments)]
    sizes = st.sampled_from([0, 0, 0, 1, 2, 3, 4, 6, 9])
    direct = np.array(
        [[draw(sizes) for _ in range(n_roles)] for _ in range(n_departments)], dtype=int
    )
    if direct.sum() == 0:
        direct[0, 0] = 1
    threshold = draw(st.integers(3, 5))
    counts, sets, hidden, _ = organisation(parents, direct)
    return counts, sets, hidden, threshold


# Without the audit, this organisation leaves a group of 2 in [1, 5]
# (test_suppression.test_the_audit_withholds_a_department_whose_role_split_is_pinned).
PINNED_WITHOUT_AUDIT = (*organisation([-1, 0, -1], np.array([[2, 0], [2, 9], [1, 1]]))[:3], 5)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(organisations())
@example(PINNED_WITHOUT_AUDIT)
def test_after_suppress_no_protected_cell_is_pinned_among_integer_tables(case) -> None:
    counts, sets, hidden, threshold = case
    result = suppress(counts, sets, threshold, hidden)
    published = [not s for s in result.suppressed]
    cells = protected_cells(counts, published, threshold)
    exact = integer_bounds(counts, sets, published, cells)
    for cell, (low, high) in exact.items():
        assert low < high, f"cell {cell} ({counts[cell]}) is determined"
        assert low == 0 or high - low >= threshold, f"cell {cell} is in [{low}, {high}]"
    # The tree, role levels and crossing form a network: LP bounds are integer bounds
    # (the search stops at sum(counts), which stands for "unbounded").
    audit = audit_disclosure(counts, sets, published, threshold)
    assert audit.passes
    ceiling = sum(counts)
    lp = {c.cell: (c.lo, min(c.hi, ceiling)) for c in audit.counts}
    assert lp == exact


def test_the_explicit_example_is_pinned_without_the_audit() -> None:
    # Guards the example above: it must stay one the audit is needed for.
    counts, sets, hidden, threshold = PINNED_WITHOUT_AUDIT
    result = suppress(counts, sets, threshold, hidden, audit=False)
    published = [not s for s in result.suppressed]
    cells = protected_cells(counts, published, threshold)
    assert integer_bounds(counts, sets, published, cells)[9] == (1, 5)


# -------------------------------------------------------------------------- validation


def test_result_is_frozen() -> None:
    audit = audit_disclosure(*crossing([[6, 1], [1, 1]]), [False] * 4 + [True] * 5, 8)
    with pytest.raises(FrozenInstanceError):
        audit.counts[0].lo = 0.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"published": [True, False]}, "one flag per cell"),
        ({"sums": [3.0, 1.0, 2.0]}, "value_range"),
        ({"sums": [3.0, 1.0, 1.0], "value_range": (0, 5)}, "do not add up"),
        ({"sums": [30.0, 10.0, 20.0], "value_range": (0, 5)}, "outside count x value_range"),
        ({"sums": [3.0, 1.0, 2.0], "value_range": (5, 1)}, "smallest, largest"),
        ({"protection": 1.5}, "protection"),
    ],
)
def test_invalid_input_is_rejected(kwargs: dict, message: str) -> None:
    arguments = {"published": [True, False, False], **kwargs}
    with pytest.raises(ValueError, match=message):
        audit_disclosure([3, 1, 2], [(0, [1, 2])], threshold=5, **arguments)
