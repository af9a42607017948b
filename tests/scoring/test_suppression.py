"""Cell suppression: hand-worked cases, then attacks on random trees and tables.

Hand-worked cases use threshold 5. The property tests play the reader: from the
published counts they try to recover every withheld group, by subtraction within
one set, by chains of such subtractions, and by any linear combination of the set
equations, and assert that no recovered group has 0 < count < threshold; and they
check that the interval audit passes (its own tests, against an exhaustive integer
search, are in test_disclosure.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.scoring.disclosure import audit_disclosure
from surveyapp.scoring.suppression import Suppression, SuppressionSystem, suppress

THRESHOLD = 5

Sets = list[tuple[int, list[int]]]


# --------------------------------------------------------------------------- builders


def crossing(table: Sequence[Sequence[int]]) -> tuple[list[int], Sets]:
    """Cells and sets of a table with row, column and grand totals.

    Cell order: the r × c interior row by row, then row totals, column totals,
    grand total. Sets: each row, each column, grand → rows, grand → columns.
    """
    interior = np.asarray(table, dtype=int)
    r, c = interior.shape
    counts = interior.ravel().tolist()
    row_totals = list(range(len(counts), len(counts) + r))
    counts += interior.sum(axis=1).tolist()
    col_totals = list(range(len(counts), len(counts) + c))
    counts += interior.sum(axis=0).tolist()
    grand = len(counts)
    counts.append(int(interior.sum()))
    sets: Sets = [(row_totals[i], [i * c + j for j in range(c)]) for i in range(r)]
    sets += [(col_totals[j], [i * c + j for i in range(r)]) for j in range(c)]
    sets += [(grand, row_totals), (grand, col_totals)]
    return counts, sets


def interior_pattern(result: Suppression, shape: tuple[int, int]) -> list[list[int]]:
    n = shape[0] * shape[1]
    return np.array(result.suppressed[:n], dtype=int).reshape(shape).tolist()


def random_counts(rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    """Many empty and small groups, so that suppression has work to do."""
    kind = rng.choice(3, size=size, p=[0.15, 0.35, 0.5])
    small = rng.integers(1, THRESHOLD, size=size)
    large = rng.integers(THRESHOLD, 30, size=size)
    return np.select([kind == 0, kind == 1], [0, small], large)


def random_organisation(rng: np.random.Generator) -> tuple[list[int], Sets, list[bool]]:
    """A department tree, organisation → role levels, and a unit × role crossing.

    Respondents sit in a department (direct members) and a role level. Cells: each
    department's rolled-up count; each parent's own direct respondents (hidden);
    each role level; each top-level unit × role level, where the root's direct
    respondents form a hidden unit.
    """
    n_departments = int(rng.integers(2, 10))
    n_roles = int(rng.integers(2, 4))
    parent = [-1] + [int(rng.integers(0, i)) for i in range(1, n_departments)]
    direct = random_counts(rng, (n_departments, n_roles))  # department × role, direct only
    return organisation_cells(parent, direct)


def organisation_cells(parent: list[int], direct: np.ndarray) -> tuple[list[int], Sets, list[bool]]:
    """Cells of :func:`random_organisation` for a tree and its department × role counts."""
    n_departments, n_roles = direct.shape
    children: list[list[int]] = [[] for _ in range(n_departments)]
    for node in range(1, n_departments):
        children[parent[node]].append(node)

    # Top-level unit of each department: the child of the root above it (root: itself).
    unit = list(range(n_departments))
    for node in range(1, n_departments):
        unit[node] = node if parent[node] == 0 else unit[parent[node]]

    rolled = direct.copy()
    for node in range(n_departments - 1, 0, -1):  # parents have lower indices
        rolled[parent[node]] += rolled[node]

    counts: list[int] = []
    hidden: list[bool] = []

    def cell(count: int, is_hidden: bool = False) -> int:
        counts.append(int(count))
        hidden.append(is_hidden)
        return len(counts) - 1

    department = [cell(rolled[d].sum()) for d in range(n_departments)]
    sets: Sets = []
    for d in range(n_departments):
        if children[d]:
            own = cell(direct[d].sum(), is_hidden=True)
            sets.append((department[d], [own] + [department[k] for k in children[d]]))
    root_direct_cell = sets[0][1][0]

    roles = [cell(direct[:, k].sum()) for k in range(n_roles)]
    sets.append((department[0], roles))

    units = [(department[u], u) for u in children[0]] + [(root_direct_cell, 0)]
    columns: list[list[int]] = [[] for _ in range(n_roles)]
    for row_total, u in units:
        in_unit = [d for d in range(n_departments) if unit[d] == u]
        by_role = rolled[u] if u != 0 else direct[0]
        assert u == 0 or by_role.tolist() == direct[in_unit].sum(axis=0).tolist()
        row = [cell(by_role[k], is_hidden=(u == 0)) for k in range(n_roles)]
        sets.append((row_total, row))
        for k in range(n_roles):
            columns[k].append(row[k])
    sets += [(roles[k], columns[k]) for k in range(n_roles)]
    return counts, sets, hidden


def random_table(rng: np.random.Generator) -> tuple[list[int], Sets, list[bool]]:
    shape = (int(rng.integers(2, 6)), int(rng.integers(2, 6)))
    counts, sets = crossing(random_counts(rng, shape))
    return counts, sets, [False] * len(counts)


# ---------------------------------------------------------------------------- attacks


def single_set_recoveries(
    counts: Sequence[int], sets: Sets, published: np.ndarray
) -> list[tuple[int, int]]:
    """(set, recovered count): visible total minus visible members, per set."""
    found = []
    for index, (total, members) in enumerate(sets):
        if published[total]:
            withheld = [m for m in members if not published[m]]
            if withheld:
                found.append(
                    (index, counts[total] - sum(counts[m] for m in members if published[m]))
                )
    return found


def chained_recoveries(counts: Sequence[int], sets: Sets, published: np.ndarray) -> list[int]:
    """Counts recovered by repeated subtraction, by a reader who also knows empty cells."""
    known = published | (np.asarray(counts) == 0)
    recovered: list[int] = []
    changed = True
    while changed:
        changed = False
        for total, members in sets:
            unknown = [m for m in members if not known[m]]
            if known[total] and unknown:
                recovered.append(sum(counts[m] for m in unknown))  # total minus known members
                if len(unknown) == 1:
                    known[unknown[0]] = changed = True
            elif not known[total] and not unknown:
                recovered.append(counts[total])
                known[total] = changed = True
    return recovered


def linearly_determined(counts: Sequence[int], sets: Sets, published: np.ndarray) -> list[int]:
    """Withheld non-empty cells fixed by some linear combination of the set equations."""
    unknown = np.flatnonzero(~published & (np.asarray(counts) > 0))
    if unknown.size == 0:
        return []
    position = {cell: j for j, cell in enumerate(unknown)}
    matrix = np.zeros((len(sets), unknown.size))
    for i, (total, members) in enumerate(sets):
        if total in position:
            matrix[i, position[total]] += 1
        for m in members:
            if m in position:
                matrix[i, position[m]] -= 1
    rank = np.linalg.matrix_rank(matrix)
    determined = []
    for cell, j in position.items():
        probe = np.zeros((1, unknown.size))
        probe[0, j] = 1
        if np.linalg.matrix_rank(np.vstack([matrix, probe])) == rank:
            determined.append(int(counts[cell]))
    return determined


def assert_protected(
    counts: list[int], sets: Sets, hidden: list[bool], result: Suppression
) -> None:
    suppressed = np.array(result.suppressed)
    published = ~suppressed
    for i, count in enumerate(counts):
        reason = result.reasons[i]
        assert suppressed[i] == (reason is not None), f"cell {i}: flag and reason disagree"
        if hidden[i]:
            assert reason == "hidden"
        elif 0 < count < THRESHOLD:
            assert reason == "below_threshold", f"cell {i} ({count}) is published"
        elif reason is not None:
            assert reason == "complementary"
    small = [c for c in range(len(counts)) if published[c] and 0 < counts[c] < THRESHOLD]
    assert not small
    for index, count in single_set_recoveries(counts, sets, published):
        assert not 0 < count < THRESHOLD, f"set {index} gives away a group of {count}"
    for count in chained_recoveries(counts, sets, published):
        assert not 0 < count < THRESHOLD, f"chained subtraction gives away a group of {count}"
    for count in linearly_determined(counts, sets, published):
        assert count >= THRESHOLD, f"a withheld cell of {count} is determined"
    audit = audit_disclosure(counts, sets, published, THRESHOLD)
    assert audit.passes, f"cells {audit.failing} are pinned to a narrow interval"


# ------------------------------------------------------------------------ hand-worked


def test_small_department_among_visible_ones_takes_the_smallest_other_one() -> None:
    # Organisation 50 = 3 + 10 + 12 + 25. Showing 10, 12, 25 would give 3 = 50 - 47;
    # withholding 10 as well leaves 13 unknown.
    result = suppress([50, 3, 10, 12, 25], [(0, [1, 2, 3, 4])], THRESHOLD)
    assert result.reasons == (None, "below_threshold", "complementary", None, None)


def test_two_small_departments_protect_each_other() -> None:
    # 2 + 3 = 5 people whose split cannot be told apart: no complement needed.
    result = suppress([30, 2, 3, 10, 15], [(0, [1, 2, 3, 4])], THRESHOLD)
    assert result.suppressed == (False, True, True, False, False)
    assert "complementary" not in result.reasons


def test_hidden_direct_remainder_forces_a_child_out() -> None:
    # Department 20 = 2 own (hidden) + child 10 + child 8: 20 - 18 would reveal the 2.
    result = suppress(
        [20, 2, 10, 8], [(0, [1, 2, 3])], THRESHOLD, hidden=[False, True, False, False]
    )
    assert result.reasons == (None, "hidden", None, "complementary")


def test_ties_go_to_the_lowest_index() -> None:
    result = suppress([30, 3, 9, 9, 9], [(0, [1, 2, 3, 4])], THRESHOLD)
    assert result.reasons == (None, "below_threshold", "complementary", None, None)


def test_crossing_needs_row_column_and_corner_complements() -> None:
    # The 2 in the corner is withheld; its row and column each need a complement
    # (6 and 8), and those would be single unknowns in their own column and row,
    # so the fourth corner (9) goes too: the classic rectangle.
    table = [[2, 6, 7], [8, 9, 10], [11, 12, 13]]
    counts, sets = crossing(table)
    result = suppress(counts, sets, THRESHOLD)
    assert interior_pattern(result, (3, 3)) == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]
    assert not any(result.suppressed[9:])  # all margins stay visible
    assert result.reasons[0] == "below_threshold"
    assert {result.reasons[i] for i in (1, 3, 4)} == {"complementary"}


def test_a_sibling_its_children_add_up_to_is_passed_over() -> None:
    # Root 53 = A 3 + B 20 + C 30, and B = own 0 (hidden, empty) + B1 12 + B2 8.
    # Withholding B would protect nothing (B = 12 + 8, so A = 53 - 20 - 30): the
    # next smallest sibling, C, is withheld instead.
    counts = [53, 3, 20, 30, 0, 12, 8]
    sets: Sets = [(0, [1, 2, 3]), (2, [4, 5, 6])]
    hidden = [False, False, False, False, True, False, False]
    result = suppress(counts, sets, THRESHOLD, hidden)
    assert result.reasons == (
        None,
        "below_threshold",
        None,
        "complementary",
        "hidden",
        None,
        None,
    )
    assert_protected(counts, sets, hidden, result)


def test_only_sibling_that_its_children_add_up_to_takes_a_child_along() -> None:
    # Root 23 = A 3 + B 20 and B = own 0 (hidden) + B1 12 + B2 8. B is the only
    # complement, but 12 + 8 would give it away, so B's smaller child goes too.
    counts = [23, 3, 20, 0, 12, 8]
    sets: Sets = [(0, [1, 2]), (2, [3, 4, 5])]
    hidden = [False, False, False, True, False, False]
    result = suppress(counts, sets, THRESHOLD, hidden)
    assert result.reasons == (
        None,
        "below_threshold",
        "complementary",
        "hidden",
        None,
        "complementary",
    )
    assert_protected(counts, sets, hidden, result)


def test_hidden_own_respondents_keep_a_withheld_department_unknown() -> None:
    # As above but B has 2 own respondents (hidden): B is no longer 12 + 8.
    counts = [55, 3, 22, 30, 2, 12, 8]
    sets: Sets = [(0, [1, 2, 3]), (2, [4, 5, 6])]
    hidden = [False, False, False, False, True, False, False]
    result = suppress(counts, sets, THRESHOLD, hidden)
    assert result.suppressed == (False, True, True, False, True, False, False)
    assert_protected(counts, sets, hidden, result)


def test_hidden_member_recoverable_from_its_own_parts_is_broken_up() -> None:
    # T 20 = A 3 + D 17 (hidden), and D 17 = D1 10 + D2 7 is shown: D is known,
    # so A = 20 - 17. Withholding D2 (the smaller part) breaks the chain.
    counts = [20, 3, 17, 10, 7]
    sets: Sets = [(0, [1, 2]), (2, [3, 4])]
    hidden = [False, False, True, False, False]
    result = suppress(counts, sets, THRESHOLD, hidden)
    assert result.reasons == (None, "below_threshold", "hidden", None, "complementary")
    assert_protected(counts, sets, hidden, result)


def test_a_total_is_withheld_when_no_member_can_be() -> None:
    # T 12 = A 3 + H 9 (hidden); P 9 = H 9 alone, so H = P and A = 12 - 9. The only
    # published cell that can hide H is the total P itself.
    counts = [12, 3, 9, 9]
    sets: Sets = [(0, [1, 2]), (3, [2])]
    hidden = [False, False, True, False]
    result = suppress(counts, sets, THRESHOLD, hidden)
    assert result.reasons == (None, "below_threshold", "hidden", "complementary")
    assert_protected(counts, sets, hidden, result)


def test_empty_cells_are_shown_and_never_used_as_complements() -> None:
    result = suppress([20, 3, 0, 17], [(0, [1, 2, 3])], THRESHOLD)
    assert result.reasons == (None, "below_threshold", None, "complementary")


def test_threshold_one_withholds_only_hidden_cells() -> None:
    result = suppress([3, 1, 2], [(0, [1, 2])], 1, hidden=[False, False, True])
    assert result.suppressed == (False, False, True)


def test_no_sets_means_primary_suppression_only() -> None:
    result = suppress([0, 4, 5], [], THRESHOLD)
    assert result.reasons == (None, "below_threshold", None)


def test_the_audit_withholds_a_department_whose_role_split_is_pinned() -> None:
    # Organisation 15 = A (13, with sub-department A1 of 11 and 2 own respondents) +
    # B (2); top management 5, staff 10; department x role cells hidden:
    # A top 2, A staff 0, A1 top 2, A1 staff 9, B top 1, B staff 1. The exact
    # conditions withhold A's own 2, B's 2 and A's roll-up. Then A1 = 11 with at most
    # 10 staff puts A1's top management (2) in [1, 5]: not determined, but known to
    # be non-empty and within 4. The audit also withholds A1 (the smallest published
    # cell nearby that helps: withholding a role level would not, as organisation
    # minus the other level gives it back), which leaves A1's top management in
    # [0, 5].
    counts = [15, 2, 11, 2, 13, 5, 10, 2, 0, 2, 9, 1, 1]
    sets: Sets = [
        (4, [1, 2]),  # A rolled = A own + A1
        (0, [4, 3]),  # organisation = A + B
        (1, [7, 8]),  # A own = its top + staff cells
        (2, [9, 10]),
        (3, [11, 12]),
        (5, [7, 9, 11]),  # top management
        (6, [8, 10, 12]),  # staff
        (0, [5, 6]),
    ]
    hidden = [False] * 7 + [True] * 6
    exact_only = suppress(counts, sets, THRESHOLD, hidden, audit=False)
    assert np.flatnonzero(exact_only.suppressed[:7]).tolist() == [1, 3, 4]
    pinned = audit_disclosure(counts, sets, [not s for s in exact_only.suppressed], THRESHOLD)
    assert pinned.failing == (9,)
    result = suppress(counts, sets, THRESHOLD, hidden)
    assert result.reasons[:7] == (
        None,
        "below_threshold",
        "complementary",
        "below_threshold",
        "complementary",
        None,
        None,
    )
    assert_protected(counts, sets, hidden, result)


def test_bridge_between_two_blocks_is_caught() -> None:
    # A cell joining two withheld rectangles is fixed by rows minus columns even
    # though no single row or column isolates it; check the published result.
    table = [
        [2, 6, 30, 30],
        [6, 2, 3, 30],
        [30, 30, 2, 6],
        [30, 30, 6, 2],
    ]
    counts, sets = crossing(table)
    result = suppress(counts, sets, THRESHOLD)
    assert_protected(counts, sets, [False] * len(counts), result)


# ------------------------------------------------------------------------- properties


@pytest.mark.parametrize("seed", range(4))
def test_random_organisations_leak_no_small_group(seed: int) -> None:
    rng = np.random.default_rng(1000 + seed)
    for _ in range(40):
        counts, sets, hidden = random_organisation(rng)
        result = suppress(counts, sets, THRESHOLD, hidden)
        assert_protected(counts, sets, hidden, result)


@pytest.mark.parametrize("seed", range(4))
def test_random_tables_leak_no_small_group(seed: int) -> None:
    rng = np.random.default_rng(2000 + seed)
    for _ in range(40):
        counts, sets, hidden = random_table(rng)
        result = suppress(counts, sets, THRESHOLD, hidden)
        assert_protected(counts, sets, hidden, result)


@st.composite
def count_vectors_of_one_system(draw: st.DrawFn) -> tuple[list[list[int]], Sets, list[bool]]:
    """An organisation or a table, and count vectors of it that differ like answer counts.

    The first vector is the respondents; each further one thins them as skipped answers
    would (so some small cells become empty or smaller), or repeats an earlier vector.
    """
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_vectors = draw(st.integers(2, 6))
    if draw(st.booleans()):
        n_departments = int(rng.integers(2, 10))
        parent = [-1] + [int(rng.integers(0, i)) for i in range(1, n_departments)]
        base = random_counts(rng, (n_departments, int(rng.integers(2, 4))))

        def cells(interior: np.ndarray) -> tuple[list[int], Sets, list[bool]]:
            return organisation_cells(parent, interior)
    else:
        base = random_counts(rng, (int(rng.integers(2, 6)), int(rng.integers(2, 6))))

        def cells(interior: np.ndarray) -> tuple[list[int], Sets, list[bool]]:
            counts, sets = crossing(interior)
            return counts, sets, [False] * len(counts)

    vectors = []
    for _ in range(n_vectors):
        if vectors and rng.random() < 0.2:
            vectors.append(vectors[int(rng.integers(len(vectors)))])
            continue
        interior = base if not vectors else base - rng.binomial(base, rng.uniform(0, 0.5))
        vectors.append(cells(interior)[0])
    _, sets, hidden = cells(base)
    return vectors, sets, hidden


@given(count_vectors_of_one_system(), st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_prepared_system_gives_the_results_of_fresh_calls(
    case: tuple[list[list[int]], Sets, list[bool]], audit: bool
) -> None:
    """Reusing one SuppressionSystem (starts, blocks, memo) changes no result.

    As in :func:`~surveyapp.scoring.analysis.analyse`, later vectors start from the
    cells withheld for the first one.
    """
    vectors, sets, hidden = case
    system = SuppressionSystem(len(vectors[0]), sets)
    first = suppress(vectors[0], system, THRESHOLD, hidden, audit=audit)
    assert first == suppress(vectors[0], sets, THRESHOLD, hidden, audit=audit)
    withheld = list(first.suppressed)
    for counts in vectors[1:]:
        for flags in (hidden, withheld):
            prepared = suppress(counts, system, THRESHOLD, flags, audit=audit)
            assert prepared == suppress(counts, sets, THRESHOLD, flags, audit=audit)


def test_a_prepared_system_checks_the_counts_against_its_sets() -> None:
    system = SuppressionSystem(3, [(0, [1, 2])])
    with pytest.raises(ValueError, match="add up to 4"):
        suppress([5, 2, 2], system, THRESHOLD)
    with pytest.raises(ValueError, match="one entry per cell"):
        suppress([4, 2, 2, 1], system, THRESHOLD)
    with pytest.raises(ValueError, match="not a cell index"):
        SuppressionSystem(3, [(0, [1, 3])])


def test_result_is_deterministic() -> None:
    counts, sets, hidden = random_organisation(np.random.default_rng(5))
    assert suppress(counts, sets, THRESHOLD, hidden) == suppress(counts, sets, THRESHOLD, hidden)


# ------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("counts", "sets", "kwargs", "message"),
    [
        ([5, 2, 2], [(0, [1, 2])], {}, "add up to 4"),
        ([4, 2, 2], [(0, [1, 3])], {}, "not a cell index"),
        ([4, 2, 2], [(0, [1, 1])], {}, "repeats a cell"),
        ([4, 2, 2], [(0, [])], {}, "no member cells"),
        ([4, -2, 6], [(0, [1, 2])], {}, "negative"),
        ([4.5, 2, 2.5], [], {}, "whole numbers"),
        ([4, 2, 2], [(0, [1, 2])], {"threshold": 0}, "threshold"),
        ([4, 2, 2], [(0, [1, 2])], {"hidden": [True]}, "one flag per cell"),
    ],
)
def test_invalid_input_is_rejected(counts: list, sets: list, kwargs: dict, message: str) -> None:
    arguments = {"threshold": THRESHOLD, **kwargs}
    with pytest.raises(ValueError, match=message):
        suppress(counts, sets, **arguments)
