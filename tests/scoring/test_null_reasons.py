"""Every null in the analysis JSON says why; a group without variance and an item nobody
answered no longer remove a whole statistic (docs/analysis-json.md, docs/statistics.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from test_analysis import DESIGN, make_org  # tests/scoring is on sys.path (rootless)

from surveyapp.scoring import Design, Grouping, analyse
from surveyapp.scoring.reasons import NOT_COMPUTABLE, REASONS
from surveyapp.scoring.reliability import cronbach_alpha


def nulls(node: Any, path: str = "") -> Iterator[tuple[str, dict, str]]:
    """(path, containing object, key) of every null in the JSON, except a root's parent."""
    if isinstance(node, dict):
        for key, value in node.items():
            if value is None and key != "parent":
                yield f"{path}.{key}", node, key
            else:
                yield from nulls(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if value is None:
                raise AssertionError(f"{path}[{i}] is a null inside a list")
            yield from nulls(value, f"{path}[{i}]")


def reasons_of(doc: dict) -> dict[str, str]:
    """Every null's path and reason; fails naming the first null without one."""
    found = {}
    for path, parent, key in nulls(doc):
        reason = parent.get("reasons", {}).get(key)
        assert reason in REASONS, f"{path} is null without a known reason ({reason!r})"
        found[path] = reason
    return found


def degenerate_org():
    """make_org's organisation with every awkward case the engine knows about."""
    x, groupings = make_org(unassigned=3)
    x[:, 5] = np.nan  # nobody answered the single-item dimension "tools"
    x[:, 4] = np.nan  # nor the second item of "trust": its alpha is over one item
    x[6:18, 0:3] = 3.0  # Team A1 gives the same answers on "sharing": zero variance
    return x, groupings


@pytest.mark.parametrize(
    "case",
    ["typical", "degenerate", "one group", "with change and benchmark", "tiny groups"],
)
def test_every_null_carries_a_known_reason(case):
    x, groupings = make_org(unassigned=3) if case != "degenerate" else degenerate_org()
    kwargs: dict[str, Any] = {"top_management": ("role", 0), "headcount": 60}
    if case == "one group":
        groupings = [Grouping("department", np.zeros(x.shape[0], int), ("Everyone",))]
        kwargs = {}
    if case == "with change and benchmark":
        rng = np.random.default_rng(5)
        kwargs["previous_scores"] = rng.normal(3.0, 0.7, (40, 3))
        kwargs["norm_means"] = rng.normal(3.0, 0.3, (4, 3))  # too few organisations
    if case == "tiny groups":
        kwargs["min_group_size"] = 2
    doc = analyse(x, DESIGN, groupings, **kwargs).to_dict()
    found = reasons_of(doc)
    unexplained = [path for path, reason in found.items() if reason == NOT_COMPUTABLE]
    assert not unexplained, f"nulls without a specific reason: {unexplained}"
    if case == "with change and benchmark":
        assert {d["reasons"]["benchmark"] for d in doc["dimensions"]} == {"too_few_organisations"}
    # A reasons object names null fields only.
    for _, parent, _ in nulls(doc):
        assert all(parent[key] is None for key in parent.get("reasons", {}))


def test_degenerate_cases_get_the_documented_reasons():
    x, groupings = degenerate_org()
    doc = analyse(x, DESIGN, groupings, top_management=("role", 0)).to_dict()
    reasons_of(doc)
    tools = doc["dimensions"][2]
    assert tools["mean"] is None and tools["reasons"]["mean"] == "never_answered"
    assert tools["alpha"] is None and tools["reasons"]["alpha"] == "one_item"
    trust = doc["dimensions"][1]
    assert trust["alpha"] is None and trust["reasons"]["alpha"] == "never_answered"
    assert trust["alpha_items"] == 1
    assert trust["item_reliability"][1]["reasons"] == {
        "item_rest_r": "never_answered",
        "alpha_if_deleted": "never_answered",
    }
    assert doc["dimensions"][0]["benchmark"] is None
    assert doc["dimensions"][0]["reasons"]["benchmark"] == "no_norm_group"
    assert doc["dimensions"][0]["reasons"]["change"] == "no_previous_campaign"
    item = next(i for i in doc["items"] if i["id"] == "q6")
    assert item["reasons"]["mean"] == "never_answered"
    team_a1 = doc["dimensions"][0]["groupings"]["department"]
    assert {"code": 1, "reason": "zero_variance"} in team_a1["left_out_of_welch"]


def test_a_withheld_perception_gap_gives_its_reason_per_dimension():
    x, groupings = make_org(unassigned=3)
    doc = analyse(x, DESIGN, groupings, top_management=("role", 0), min_group_size=20).to_dict()
    assert doc["perception_gap"] == {"suppressed": True, "reason": "below_threshold"}
    shown = [d for d in doc["dimensions"] if not d["suppressed"]]
    assert shown and all(d["reasons"]["perception_gap"] == "below_threshold" for d in shown)


# --- Welch's ANOVA with a group whose scores are all the same ----------------------

# Dimension scores of four teams; team A answered 3 throughout (variance 0).
TEAMS = {
    "A": [3.0] * 6,
    "B": [2.0, 3.0, 3.5, 4.0, 2.5, 3.0, 4.5],
    "C": [4.0, 4.5, 3.5, 5.0, 4.0, 3.0],
    "D": [2.0, 2.5, 1.5, 3.0, 2.0, 3.5, 2.5, 2.0],
}
# scipy.stats.f_oneway(B, C, D, equal_var=False), SciPy 1.17.1 (Welch 1951, as R's
# oneway.test); with A included SciPy returns nan, as the engine did before.
WELCH_BCD = {"F": 9.420132242929544, "p": 0.003972339888300628}
# scipy.stats.kruskal(A, B, C, D), SciPy 1.17.1 (tie-corrected; A takes part).
KRUSKAL_ABCD = 12.558267024426344

TWO_ITEMS = Design(
    item_ids=("q1", "q2"),
    dimension_ids=("openness",),
    item_dimension=(0, 0),
    reverse=(False, False),
    scale_min=1,
    scale_max=5,
    level_min_scores=(1.0, 2.5, 3.5, 4.5),
)


def teams_matrix(teams: dict[str, list[float]]) -> tuple[np.ndarray, Grouping]:
    """Two items per respondent whose mean is the team score (3.5 = 3 and 4)."""
    scores = np.concatenate(list(teams.values()))
    x = np.column_stack([np.floor(scores), np.ceil(scores)])
    codes = np.repeat(np.arange(len(teams)), [len(v) for v in teams.values()])
    return x, Grouping("team", codes, tuple(teams))


def test_welch_tests_the_groups_with_variance_and_names_the_one_left_out():
    x, team = teams_matrix(TEAMS)
    comp = analyse(x, TWO_ITEMS, [team]).to_dict()["dimensions"][0]["groupings"]["team"]
    assert comp["groups_compared"] == 3
    assert comp["left_out_of_welch"] == [{"code": 0, "reason": "zero_variance"}]
    assert comp["welch_anova"]["F"] == pytest.approx(WELCH_BCD["F"], rel=1e-5)
    assert comp["welch_anova"]["p"] == pytest.approx(WELCH_BCD["p"], rel=1e-5)
    assert comp["welch_anova"]["df1"] == 2.0
    assert comp["kruskal"]["H"] == pytest.approx(KRUSKAL_ABCD, rel=1e-5)
    # Games-Howell still compares team A with each other team (its pair se is positive).
    assert {(p["a"], p["b"]) for p in comp["games_howell"]} == {
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 2),
        (1, 3),
        (2, 3),
    }


def test_welch_without_two_groups_with_variance_is_null_with_the_reason():
    teams = {"A": [3.0] * 6, "B": [4.0] * 5, "C": [2.0, 3.0, 3.5, 4.0, 2.5]}
    x, team = teams_matrix(teams)
    comp = analyse(x, TWO_ITEMS, [team]).to_dict()["dimensions"][0]["groupings"]["team"]
    assert comp["groups_compared"] == 1
    assert comp["welch_anova"]["F"] is None
    assert comp["welch_anova"]["reasons"]["F"] == "zero_variance"
    assert [g["code"] for g in comp["left_out_of_welch"]] == [0, 1]
    one = analyse(x[:6], TWO_ITEMS, [Grouping("team", np.zeros(6, int), ("A",))]).to_dict()
    comp = one["dimensions"][0]["groupings"]["team"]
    assert comp["welch_anova"]["reasons"]["F"] == "one_group"
    assert comp["reasons"]["icc1"] == "one_group"


# --- alpha with an item nobody answered ---------------------------------------------


def test_alpha_is_over_the_answered_items(reference):
    """pingouin's documented example (alpha 0.5917188485995826, Feldt [0.195, 0.84]) with
    an eleventh item that nobody answered: the same alpha, over the ten answered items."""
    ref = reference("engine_alpha.toml")["pingouin_feldt"]
    items = np.array(ref["items"], dtype=float)
    with_blank = np.column_stack([items, np.full(items.shape[0], np.nan)])
    r = cronbach_alpha(with_blank)
    assert r.alpha == pytest.approx(ref["alpha"], rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(ref["ci95"]), abs=5e-4)
    assert r.n == 15 and r.n_items == 11 and r.n_used == 10 and r.reason is None
    assert r.item_reasons[10] == ("never_answered", "never_answered")
    assert np.isnan(r.item_rest_r[10]) and np.isfinite(r.item_rest_r[:10]).all()

    design = Design(
        item_ids=tuple(f"q{i}" for i in range(11)),
        dimension_ids=("scale",),
        item_dimension=(0,) * 11,
        reverse=(False,) * 11,
        scale_min=1,
        scale_max=7,
        level_min_scores=(1.0, 4.0),
    )
    dim = analyse(with_blank, design, []).to_dict()["dimensions"][0]
    assert dim["alpha"] == pytest.approx(ref["alpha"], rel=1e-5)
    assert dim["alpha_n"] == 15 and dim["alpha_items"] == 10
    assert dim["item_reliability"][10]["reasons"]["item_rest_r"] == "never_answered"
    assert "alpha" not in dim.get("reasons", {})


def test_reasons_for_alpha_that_cannot_be_computed():
    assert cronbach_alpha(np.arange(10.0)[:, None]).reason == "one_item"
    assert cronbach_alpha(np.full((6, 3), 4.0)).reason == "zero_variance"
    sparse = np.array([[1.0, np.nan, 3.0], [np.nan, 2.0, 3.0], [2.0, 2.0, np.nan]])
    assert cronbach_alpha(sparse).reason == "too_few_complete"
    blank = np.column_stack([np.arange(5.0), np.full(5, np.nan)])
    assert cronbach_alpha(blank).reason == "never_answered"
