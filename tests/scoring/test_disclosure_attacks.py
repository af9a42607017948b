"""A manager who knows the organisation chart tries to recover one person's scores.

Each test builds a small organisation, runs :func:`analyse` and plays the attacker on
``Analysis.to_dict()``, the JSON that every output is built from. The attacks are those
that worked before the crossing of departments and role levels entered the suppression
and before the perception gap and the campaign change were withheld per dimension:

1. role-level total minus a department that holds all but one of its members;
2. the perception gap where top management's own score is withheld (its mean and SD
   follow from the gap), or where its staff side minus the shown role levels is a
   small withheld role level;
3. the change since a previous campaign of two respondents.

Besides the literal subtraction, :func:`determined_cells` is a general attacker: every
published count of a group is an equation over the department x role-level cells (the
cells the organisation chart says are empty are known to be zero), and a cell is given
away exactly when its indicator vector lies in the row space of those equations. Counts
and sums of scores obey the same equations, so a determined count is a recovered mean.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from surveyapp.scoring import Design, Grouping, analyse
from surveyapp.scoring.gap import welch_difference

THRESHOLD = 5
DESIGN = Design(
    item_ids=("q1", "q2", "q3", "q4"),
    dimension_ids=("trust", "tools"),
    item_dimension=(0, 0, 1, 1),
    reverse=(False, False, False, False),
    scale_min=1,
    scale_max=5,
    level_min_scores=(1.0, 2.5, 3.5, 4.5),
)
ROLES = ("top management", "middle management", "employee", "conversation team")
TOP, MIDDLE, EMPLOYEE, CONVERSATION = range(4)
NONE = -1  # no department or no role level


def organisation(
    cells: dict[tuple[int, int], int],
    departments: tuple[str, ...],
    *,
    parents: tuple[int, ...] | None = None,
    seed: int = 1,
):
    """Answers and groupings for ``{(department, role level): respondents}``."""
    dept = np.concatenate([np.full(n, d) for (d, _), n in cells.items()])
    role = np.concatenate([np.full(n, r) for (_, r), n in cells.items()])
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=(dept.size, len(DESIGN.item_ids))).astype(float)
    groupings = [
        Grouping("department", dept, departments, parents=parents),
        Grouping("role_level", role, ROLES),
    ]
    return x, groupings


def scores(x: np.ndarray) -> np.ndarray:
    """Dimension scores, computed independently: mean of the answered items of each
    two-item dimension, missing when neither is answered (the engine's half rule)."""
    out = []
    for items in ([0, 1], [2, 3]):
        answered = ~np.isnan(x[:, items])
        total = np.where(answered, x[:, items], 0.0).sum(axis=1)
        count = answered.sum(axis=1)
        out.append(np.where(count > 0, total / np.maximum(count, 1), np.nan))
    return np.column_stack(out)


def column(doc: dict, kind: str, key: str) -> dict:
    """The JSON entry of dimension or item ``key`` (``kind`` is "dimensions" or "items")."""
    return next(entry for entry in doc[kind] if entry["id"] == key)


def group(doc: dict, kind: str, key: str, grouping: str, code: int) -> dict:
    entry = column(doc, kind, key)
    return next(g for g in entry["groupings"][grouping]["groups"] if g["code"] == code)


def subtree(parents: tuple[int, ...] | None, code: int, n: int) -> set[int]:
    """``code`` and every department below it."""
    if parents is None:
        return {code}
    out = {code}
    for d in range(n):
        node = d
        while node != -1:
            if node == code:
                out.add(d)
                break
            node = parents[node]
    return out


def published_equations(doc: dict, kind: str, key: str, groupings: list[Grouping]):
    """What the JSON says about one column, as (members, n, sum) over crossing cells.

    ``members`` is a predicate on a cell (department, role level); ``sum`` is n x mean,
    None where no mean is shown. The perception gap's staff side is a group too: its n
    is ``n_b``, its mean top management's minus ``diff``.
    """
    depts, roles = groupings
    entry = column(doc, kind, key)
    eqs = []
    if entry["suppressed"]:
        return eqs
    eqs.append((lambda d, r: True, entry["n"], total(entry)))
    for g in entry["groupings"]["department"]["groups"]:
        if not g["suppressed"]:
            eqs.append((lambda d, r, c=g["code"]: d == c, g["n"], total(g)))
        rolled = g.get("rolled_up")
        if rolled and not rolled["suppressed"]:
            below = subtree(depts.parents, g["code"], depts.n_groups)
            eqs.append((lambda d, r, b=below: d in b, rolled["n"], total(rolled)))
    top = None
    for g in entry["groupings"]["role_level"]["groups"]:
        if not g["suppressed"]:
            eqs.append((lambda d, r, c=g["code"]: r == c, g["n"], total(g)))
            if g["code"] == TOP:
                top = g
    gap = entry.get("perception_gap")
    if gap and not gap.get("suppressed", False) and top is not None and gap["n_b"]:
        staff = None if gap["diff"] is None else gap["n_b"] * (top["mean"] - gap["diff"])
        eqs.append((lambda d, r: r not in (TOP, NONE), gap["n_b"], staff))
    return eqs


def total(entry: dict) -> float | None:
    """n x mean of a shown group (the sum of its scores), None without a mean."""
    return None if entry["mean"] is None else entry["n"] * entry["mean"]


def determined_cells(
    doc: dict, kind: str, key: str, x: np.ndarray, groupings: list[Grouping]
) -> dict[tuple[int, int], tuple[int, float, float]]:
    """Small crossing cells whose answers the published figures give away.

    Returns ``{(department, role level): (answers, recovered sum, true sum)}`` for every
    cell with ``0 < answers < THRESHOLD`` whose count the published equations determine
    (the recovered sum is None where some of those equations come without a mean). The
    attacker is told which cells have no answers at all (stronger than the org chart).
    """
    depts, roles = groupings
    if kind == "dimensions":
        values = scores(x)[:, DESIGN.dimension_ids.index(key)]
    else:
        values = x[:, DESIGN.item_ids.index(key)]
    answered = ~np.isnan(values)
    pairs = sorted({(int(d), int(r)) for d, r in zip(depts.codes, roles.codes, strict=True)})
    truth = {}
    for d, r in pairs:
        mask = (depts.codes == d) & (roles.codes == r) & answered
        if mask.any():
            truth[(d, r)] = (int(mask.sum()), float(values[mask].sum()))
    cells = list(truth)
    eqs = published_equations(doc, kind, key, groupings)
    if not eqs:
        return {}
    a = np.array([[float(member(*cell)) for cell in cells] for member, _, _ in eqs])
    with_sum = np.array([s is not None for _, _, s in eqs])
    sums = np.array([s for _, _, s in eqs if s is not None])
    solution = np.linalg.lstsq(a[with_sum], sums, rcond=None)[0] if sums.size else None
    found = {}
    for t, cell in enumerate(cells):
        n, true_sum = truth[cell]
        if not 0 < n < THRESHOLD:
            continue
        probe = np.zeros(len(cells))
        probe[t] = 1.0
        if in_row_space(a, probe):
            value = float(solution[t]) if in_row_space(a[with_sum], probe) else None
            found[cell] = (n, value, true_sum)
    return found


def in_row_space(a: np.ndarray, probe: np.ndarray) -> bool:
    """Whether ``probe . x`` is fixed by ``a x = b`` (probe is a combination of rows)."""
    if a.shape[0] == 0:
        return False
    return np.linalg.matrix_rank(np.vstack([a, probe])) == np.linalg.matrix_rank(a)


def assert_nothing_recoverable(doc, x, groupings, kinds=("dimensions", "items")):
    for kind in kinds:
        keys = DESIGN.dimension_ids if kind == "dimensions" else DESIGN.item_ids
        for key in keys:
            found = determined_cells(doc, kind, key, x, groupings)
            assert not found, f"{kind[:-1]} {key}: cells given away {found}"


def withheld_entries(node, path="") -> list[str]:
    """Paths of every ``"suppressed": true`` entry in the JSON."""
    out = []
    if isinstance(node, dict):
        if node.get("suppressed") is True:
            out.append(path)
        for k, v in node.items():
            out += withheld_entries(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += withheld_entries(v, f"{path}/{i}")
    return out


# ----------------------------------------------------------------- 1. the crossing

# OPS has one top manager and five employees; MGMT is five top managers. Every group is
# at least 5, so department and role-level tables alone suppress nothing, yet
# "top management minus MGMT" is the one top manager in OPS.
LONE_TOP_MANAGER = {
    (0, TOP): 1,
    (0, EMPLOYEE): 5,
    (1, TOP): 5,
    (2, MIDDLE): 6,
    (2, EMPLOYEE): 10,
    (3, EMPLOYEE): 12,
}
DEPARTMENTS = ("OPS", "MGMT", "SALES", "IT")


def test_role_total_minus_department_no_longer_gives_a_person_away():
    x, groupings = organisation(LONE_TOP_MANAGER, DEPARTMENTS)
    doc = analyse(x, DESIGN, groupings).to_dict()
    for dim in DESIGN.dimension_ids:
        top = group(doc, "dimensions", dim, "role_level", TOP)
        mgmt = group(doc, "dimensions", dim, "department", 1)
        # The attack needs both n x mean; at least one must be withheld.
        assert top["suppressed"] or mgmt["suppressed"], f"{dim}: top management and MGMT shown"
    assert_nothing_recoverable(doc, x, groupings)


def test_the_lone_top_manager_is_protected_in_the_group_lists_too():
    x, groupings = organisation(LONE_TOP_MANAGER, DEPARTMENTS)
    doc = analyse(x, DESIGN, groupings).to_dict()
    shown = {
        (g["name"], entry["code"]): entry.get("respondents")
        for g in doc["groupings"]
        for entry in g["groups"]
    }
    top, mgmt = shown[("role_level", TOP)], shown[("department", 1)]
    assert top is None or mgmt is None  # counts: 6 - 5 would say "one person elsewhere"


def test_answer_counts_are_crossed_as_well():
    # Respondents: every crossing cell is 0 or at least 5, so nothing is withheld. But
    # four of OPS's five top managers skipped q1: on q1 top management (7 answers)
    # minus MGMT (6) is the fifth one's answer, while every published q1 cell has >= 5.
    cells = {
        (0, TOP): 5,
        (0, EMPLOYEE): 5,
        (1, TOP): 6,
        (2, MIDDLE): 6,
        (2, EMPLOYEE): 10,
        (3, EMPLOYEE): 12,
    }
    x, groupings = organisation(cells, DEPARTMENTS)
    x[1:5, 0] = np.nan  # rows 0-4 are OPS's top managers
    doc = analyse(x, DESIGN, groupings).to_dict()
    top = group(doc, "items", "q1", "role_level", TOP)
    mgmt = group(doc, "items", "q1", "department", 1)
    assert top["suppressed"] or mgmt["suppressed"]
    assert determined_cells(doc, "items", "q1", x, groupings) == {}
    # The other items lost nobody: all of their cells are shown.
    for item in ("q2", "q3", "q4"):
        assert withheld_entries(column(doc, "items", item)) == [], item


def test_a_well_populated_crossing_publishes_everything():
    # Every department x role-level cell is 0 or at least 5, a tree of departments,
    # a few skipped answers that leave every cell at 5 or more: nothing to withhold.
    cells = {
        (0, TOP): 5,
        (1, MIDDLE): 5,
        (1, EMPLOYEE): 9,
        (2, EMPLOYEE): 8,
        (2, CONVERSATION): 5,
        (3, MIDDLE): 6,
        (3, EMPLOYEE): 12,
    }
    x, groupings = organisation(
        cells, ("Board", "Division", "Team", "Support"), parents=(-1, 0, 1, -1)
    )
    x[[11, 21, 45], 1] = np.nan  # employees of departments 1, 2 and 3
    previous = np.random.default_rng(5).uniform(1, 5, size=(30, 2))
    a = analyse(x, DESIGN, groupings, top_management=("role_level", TOP), previous_scores=previous)
    doc = a.to_dict()
    assert withheld_entries(doc) == []
    assert all(d["perception_gap"]["suppressed"] is False for d in doc["dimensions"])
    assert all(d["change"]["suppressed"] is False for d in doc["dimensions"])


def test_every_pair_of_groupings_is_crossed():
    # A third grouping: sites. The departments say nothing here (one department), but
    # top management (6) minus the Rotterdam site (its 5 top managers) is the top
    # manager in Utrecht, so the role-level x site crossing must be protected too.
    role = np.array([TOP] * 6 + [EMPLOYEE] * 5 + [MIDDLE] * 6)
    site = np.array([0] * 5 + [1] * 6 + [2] * 6)
    x = np.random.default_rng(4).integers(1, 6, size=(role.size, 4)).astype(float)
    groupings = [
        Grouping("department", np.zeros(role.size, int), ("Everyone",)),
        Grouping("role_level", role, ROLES),
        Grouping("site", site, ("Rotterdam", "Utrecht", "Delft")),
    ]
    doc = analyse(x, DESIGN, groupings).to_dict()
    for dim in DESIGN.dimension_ids:
        top = group(doc, "dimensions", dim, "role_level", TOP)
        rotterdam = group(doc, "dimensions", dim, "site", 0)
        assert top["suppressed"] or rotterdam["suppressed"], dim


@st.composite
def crossings(draw):
    """Small organisations: 2-5 departments (maybe a tree) x 2-4 role levels, many tiny
    cells and empty ones, people without a department or role, skipped answers."""
    n_depts = draw(st.integers(2, 5))
    n_roles = draw(st.integers(2, 4))
    sizes = st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 8, 12])
    cells = {(d, r): draw(sizes) for d in range(-1, n_depts) for r in range(-1, n_roles)}
    cells[(-1, -1)] = 0
    cells = {k: v for k, v in cells.items() if v}
    if sum(cells.values()) < THRESHOLD:
        cells[(0, 0)] = cells.get((0, 0), 0) + THRESHOLD
    tree = draw(st.booleans())
    parents = tuple([-1] + [draw(st.integers(-1, d - 1)) for d in range(1, n_depts)])
    skip = draw(st.floats(0.0, 0.3))
    seed = draw(st.integers(0, 2**16))
    return cells, n_depts, parents if tree else None, skip, seed


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(crossings())
def test_no_published_figure_determines_a_small_crossing_cell(case):
    cells, n_depts, parents, skip, seed = case
    labels = tuple(f"D{d}" for d in range(n_depts))
    x, groupings = organisation(cells, labels, parents=parents, seed=seed)
    rng = np.random.default_rng(seed)
    x[rng.random(x.shape) < skip] = np.nan
    doc = analyse(x, DESIGN, groupings, top_management=("role_level", TOP)).to_dict()
    if doc["organisation"]["suppressed"]:
        return
    assert_nothing_recoverable(doc, x, groupings)


# ----------------------------------------------------------------- 2. perception gap


def test_gap_is_withheld_where_top_managements_own_score_is():
    # Six top managers, but three of them answered no tools item: on tools, top
    # management has 3 scores and is withheld; its gap would give their mean and SD.
    cells = {(0, TOP): 6, (0, MIDDLE): 6, (1, EMPLOYEE): 20}
    x, groupings = organisation(cells, ("Head office", "Plant"))
    x[:3, 2:4] = np.nan
    a = analyse(x, DESIGN, groupings, top_management=("role_level", TOP))
    doc = a.to_dict()
    tools_top = group(doc, "dimensions", "tools", "role_level", TOP)
    assert tools_top == {
        "code": TOP,
        "label": ROLES[TOP],
        "suppressed": True,
        "reason": "too_few_answers",
    }
    gap = column(doc, "dimensions", "tools")["perception_gap"]
    assert gap == {"suppressed": True, "reason": "too_few_answers"}
    assert np.isnan(a.gap.diff[1]) and a.gap.n_a[1] == 0  # no trace in the result either
    # Trust: both sides shown, so is the gap (Holm over the one shown dimension).
    s = scores(x)
    role = groupings[1].codes
    ref = welch_difference(s[role == TOP, 0], s[role != TOP, 0])
    trust = column(doc, "dimensions", "trust")["perception_gap"]
    assert trust["suppressed"] is False
    assert trust["diff"] == pytest.approx(ref.diff[0], rel=1e-5)
    assert trust["p_holm"] == pytest.approx(ref.p[0], rel=1e-5)


def test_gap_staff_side_minus_shown_levels_would_give_a_small_level_away():
    # A conversation team of three is withheld; five people without a role level keep
    # the organisation total from pinning it, so top management is shown. But the gap's
    # staff side (n_b, and its mean = top's mean - diff) minus middle management and
    # employees would be the conversation team.
    cells = {
        (0, TOP): 6,
        (0, MIDDLE): 8,
        (1, EMPLOYEE): 20,
        (1, CONVERSATION): 3,
        (1, NONE): 5,
    }
    x, groupings = organisation(cells, ("Head office", "Plant"))
    doc = analyse(x, DESIGN, groupings, top_management=("role_level", TOP)).to_dict()
    roles = {g["code"]: g for g in doc["groupings"][1]["groups"]}
    assert roles[CONVERSATION]["reason"] == "below_threshold"
    assert roles[TOP]["suppressed"] is False
    for dim in DESIGN.dimension_ids:
        gap = column(doc, "dimensions", dim)["perception_gap"]
        assert gap == {"suppressed": True, "reason": "complementary"}, dim
    assert_nothing_recoverable(doc, x, groupings, kinds=("dimensions",))


# ----------------------------------------------------------------- 3. campaign change


def test_change_is_withheld_when_the_previous_campaign_had_two_respondents():
    x, groupings = organisation(LONE_TOP_MANAGER, DEPARTMENTS)
    previous = np.array([[2.0, 4.5], [3.5, 1.0]])
    a = analyse(x, DESIGN, groupings, previous_scores=previous)
    doc = a.to_dict()
    for dim in DESIGN.dimension_ids:
        entry = column(doc, "dimensions", dim)
        assert entry["suppressed"] is False
        assert entry["change"] == {"suppressed": True, "reason": "previous_too_few_answers"}
    assert np.isnan(a.change.diff).all() and not a.change.n_b.any()


def test_change_is_withheld_per_dimension():
    # Six previous respondents, three of whom have no tools score.
    x, groupings = organisation(LONE_TOP_MANAGER, DEPARTMENTS)
    previous = np.random.default_rng(2).uniform(1, 5, size=(6, 2))
    previous[:3, 1] = np.nan
    doc = analyse(x, DESIGN, groupings, previous_scores=previous).to_dict()
    tools = column(doc, "dimensions", "tools")["change"]
    assert tools == {"suppressed": True, "reason": "previous_too_few_answers"}
    trust = column(doc, "dimensions", "trust")["change"]
    ref = welch_difference(scores(x)[:, 0], previous[:, 0])
    assert trust["suppressed"] is False and trust["n_b"] == 6
    assert trust["diff"] == pytest.approx(ref.diff[0], rel=1e-5)


def test_change_follows_this_campaigns_withheld_dimension():
    x, groupings = organisation(LONE_TOP_MANAGER, DEPARTMENTS)
    x[4:, 2:4] = np.nan  # only four people have a tools score
    previous = np.random.default_rng(3).uniform(1, 5, size=(20, 2))
    a = analyse(x, DESIGN, groupings, previous_scores=previous)
    assert a.change_why == (None, "too_few_answers")
    assert column(a.to_dict(), "dimensions", "tools") == {
        "id": "tools",
        "items": ["q3", "q4"],
        "suppressed": True,
        "reason": "too_few_answers",
    }
