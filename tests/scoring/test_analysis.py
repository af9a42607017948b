"""analyse(): the whole organisation, its groups, suppression and the JSON.

Each statistic is already tested against published values in its own module; here the
numbers of the assembled analysis are checked against direct computations on the raw
answers (NumPy/SciPy on the respondents of each group), and the JSON against
docs/analysis-json.md.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from surveyapp.scoring import Design, Grouping, analyse
from surveyapp.scoring.gap import welch_difference

DESIGN = Design(
    item_ids=("q1", "q2", "q3", "q4", "q5", "q6"),
    dimension_ids=("sharing", "trust", "tools"),
    item_dimension=(0, 0, 0, 1, 1, 2),
    reverse=(False, True, False, False, False, False),
    scale_min=1,
    scale_max=5,
    level_min_scores=(1.0, 2.5, 3.5, 4.5),
)
# Department tree: Division A (0) with teams A1 (1) and A2 (2); Division B (3); Tiny (4).
PARENTS = (-1, 0, 0, -1, -1)
LABELS = ("Division A", "Team A1", "Team A2", "Division B", "Tiny")
SIZES = (6, 12, 8, 15, 3)


def make_org(unassigned: int = 0, seed: int = 3):
    rng = np.random.default_rng(seed)
    dept = np.repeat(np.arange(5), SIZES)
    dept = np.concatenate([dept, np.full(unassigned, -1)])
    n = dept.size
    base = np.array([3.0, 3.5, 2.5, 4.0, 3.0, 3.0])[np.maximum(dept, 0)]
    x = np.clip(np.rint(base[:, None] + rng.normal(0, 1, (n, 6))), 1, 5)
    x[rng.random(x.shape) < 0.05] = np.nan
    role = np.where(np.arange(n) % 7 == 0, 0, 1)
    groupings = [
        Grouping("department", dept, LABELS, parents=PARENTS, headcounts=(8, 15, 10, 20, 3)),
        Grouping("role", role, ("top management", "staff")),
    ]
    return x, groupings


def scored(x):
    """Independent scoring: recode q2, mean of answered items if at least half answered."""
    y = x.copy()
    y[:, 1] = 6 - y[:, 1]
    out = []
    for cols in ([0, 1, 2], [3, 4], [5]):
        block = y[:, cols]
        answered = (~np.isnan(block)).sum(axis=1)
        with np.errstate(invalid="ignore"):
            mean = np.nanmean(block, axis=1) if block.shape[1] > 1 else block[:, 0]
        out.append(np.where(answered >= np.ceil(len(cols) / 2), mean, np.nan))
    return np.column_stack(out)


@pytest.fixture(scope="module")
def result():
    x, groupings = make_org(unassigned=3)
    a = analyse(x, DESIGN, groupings, top_management=("role", 0), headcount=60)
    return x, groupings, a, a.to_dict()


def dim_group(doc, dim, grouping, code):
    entry = next(d for d in doc["dimensions"] if d["id"] == dim)
    return next(g for g in entry["groupings"][grouping]["groups"] if g["code"] == code)


def test_small_department_carries_no_numbers(result):
    *_, doc = result
    tiny = dim_group(doc, "sharing", "department", 4)
    assert tiny == {
        "code": 4,
        "label": "Tiny",
        "parent": None,
        "suppressed": True,
        "reason": "below_threshold",
    }
    summary = next(g for g in doc["groupings"][0]["groups"] if g["code"] == 4)
    assert "respondents" not in summary and summary["suppressed"] is True


def test_complementary_suppression_protects_a_lone_small_group():
    x, groupings = make_org(unassigned=0)
    doc = analyse(x, DESIGN, groupings).to_dict()
    groups = doc["groupings"][0]["groups"]
    reasons = {g["label"]: g.get("reason") for g in groups}
    assert reasons["Tiny"] == "below_threshold"
    # Organisation = Division A (subtree) + Division B + Tiny; with A and B shown, Tiny
    # would be the difference, so one of them must be withheld too.
    sharing = next(d for d in doc["dimensions"] if d["id"] == "sharing")
    rolled_a = sharing["groupings"]["department"]["groups"][0]["rolled_up"]
    b = sharing["groupings"]["department"]["groups"][3]
    assert rolled_a["suppressed"] or b["suppressed"]


def test_group_statistics_equal_direct_computation(result):
    x, groupings, a, doc = result
    scores = scored(x)
    dept = groupings[0].codes
    checked = 0
    for code in (0, 1, 2, 3):
        for k, dim in enumerate(DESIGN.dimension_ids):
            v = scores[dept == code, k]
            v = v[~np.isnan(v)]
            g = dim_group(doc, dim, "department", code)
            if g["suppressed"]:  # fewer answers than the threshold on this dimension
                assert set(g) - {"rolled_up"} == {"code", "label", "parent", "suppressed", "reason"}
                continue
            checked += 1
            assert g["n"] == v.size
            assert g["mean"] == pytest.approx(v.mean(), rel=1e-5)
            assert g["sd"] == pytest.approx(v.std(ddof=1), rel=1e-5)
            assert g["median"] == pytest.approx(np.median(v), rel=1e-5)
    assert checked >= 10
    # Division A rolled up = its own respondents and both teams
    v = scores[np.isin(dept, [0, 1, 2]), 0]
    v = v[~np.isnan(v)]
    rolled = dim_group(doc, "sharing", "department", 0)["rolled_up"]
    assert rolled["n"] == v.size and rolled["mean"] == pytest.approx(v.mean(), rel=1e-5)


def test_organisation_statistics_and_fpc(result):
    x, _, a, doc = result
    v = scored(x)[:, 1]
    v = v[~np.isnan(v)]
    trust = next(d for d in doc["dimensions"] if d["id"] == "trust")
    assert trust["n"] == v.size and trust["mean"] == pytest.approx(v.mean(), rel=1e-5)
    half = stats.t.ppf(0.975, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    half *= np.sqrt((60 - v.size) / 59)
    assert trust["ci95"] == pytest.approx([v.mean() - half, v.mean() + half], rel=1e-5)


def test_vs_rest_and_benjamini_hochberg_over_the_heatmap(result):
    x, groupings, a, doc = result
    scores = scored(x)
    dept = groupings[0].codes
    g = dim_group(doc, "trust", "department", 3)
    inside, rest = scores[dept == 3, 1], scores[dept != 3, 1]
    ref = stats.ttest_ind(inside[~np.isnan(inside)], rest[~np.isnan(rest)], equal_var=False)
    assert g["vs_rest"]["p"] == pytest.approx(ref.pvalue, rel=1e-4)
    cells = [
        dim_group(doc, dim, "department", code)
        for dim in DESIGN.dimension_ids
        for code in (0, 1, 2, 3, 4)
    ]
    tested = [c["vs_rest"] for c in cells if not c["suppressed"]]
    assert len(tested) >= 8
    p_bh = stats.false_discovery_control([t["p"] for t in tested])
    got = [t["p_bh"] for t in tested]
    np.testing.assert_allclose(got, p_bh, rtol=1e-4)


def test_comparisons_use_published_groups_only(result):
    *_, doc = result
    comp = next(d for d in doc["dimensions"] if d["id"] == "sharing")["groupings"]["department"]
    assert comp["groups_compared"] == 4
    pairs = {(p["a"], p["b"]) for p in comp["games_howell"]}
    assert pairs == {(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)}
    assert set(comp["welch_anova"]) == {"F", "df1", "df2", "p", "omega2"}
    assert set(comp["kruskal"]) == {"H", "df", "p", "epsilon2"}


def test_reliability_and_single_item_dimension(result):
    *_, doc = result
    sharing, _, tools = doc["dimensions"]
    assert sharing["alpha"] is not None and len(sharing["alpha_ci95"]) == 2
    assert [i["id"] for i in sharing["item_reliability"]] == ["q1", "q2", "q3"]
    assert tools["alpha"] is None and tools["alpha_ci95"] is None  # one item: NaN -> null


def test_reverse_keyed_item_distribution_is_in_answer_order(result):
    x, _, _, doc = result
    q2 = next(i for i in doc["items"] if i["id"] == "q2")
    raw = x[:, 1]
    raw = raw[~np.isnan(raw)].astype(int)
    assert q2["distribution"] == np.bincount(raw - 1, minlength=5).tolist()
    assert q2["favourable"] == pytest.approx(np.mean(raw <= 2), rel=1e-5)  # scored direction


def test_unassigned_remainder_forces_complementary_suppression():
    # One respondent without a role level: published organisation, top management and
    # staff counts would give that person away, so a role level is withheld as well.
    x, groupings = make_org()
    role = groupings[1].codes.copy()
    role[-1] = -1
    roles = Grouping("role", role, ("top management", "staff"))
    doc = analyse(x, DESIGN, [groupings[0], roles], top_management=("role", 0)).to_dict()
    reasons = [g.get("reason") for g in doc["groupings"][1]["groups"]]
    assert "complementary" in reasons
    assert doc["perception_gap"]["suppressed"] is True


def test_perception_gap_is_top_management_minus_staff(result):
    x, groupings, a, doc = result
    role = groupings[1].codes
    s = scored(x)
    ref = welch_difference(s[role == 0], s[role == 1])
    sharing = doc["dimensions"][0]
    assert sharing["perception_gap"]["suppressed"] is False
    assert sharing["perception_gap"]["diff"] == pytest.approx(ref.diff[0], rel=1e-5)


def test_answers_of_withheld_and_unassigned_people_do_not_add_up_to_a_small_group(result):
    # Tiny (withheld, 3 people) and the 3 people without a department are 6 together,
    # but only 4 of them answered q3: the organisation's q3 count minus the shown roots'
    # would be those 4 people's answers, so a root is withheld for q3 as well.
    *_, doc = result
    for entry in doc["dimensions"] + doc["items"]:
        roots = [
            g.get("rolled_up", g)
            for g in entry["groupings"]["department"]["groups"]
            if PARENTS[g["code"]] == -1
        ]
        remainder = entry["n"] - sum(g["n"] for g in roots if not g["suppressed"])
        assert remainder == 0 or remainder >= 5, entry["id"]


def test_agreement_fields(result):
    *_, doc = result
    g = dim_group(doc, "trust", "department", 1)
    assert 0.0 <= g["rwg_j"] <= 1.0
    assert g["agreement_ok"] == (g["rwg_j"] >= DESIGN.agreement_cutoff)
    assert g["shrunken_mean"] is not None and g["rank"] in {1, 2, 3, 4}


def test_json_is_deterministic_and_strict(result):
    x, groupings, _, doc = result
    again = analyse(x, DESIGN, groupings, top_management=("role", 0), headcount=60).to_dict()
    first = json.dumps(doc, allow_nan=False)
    assert first == json.dumps(again, allow_nan=False)
    assert list(doc) == [
        "schema_version",
        "settings",
        "organisation",
        "perception_gap",
        "dimensions",
        "items",
        "groupings",
    ]


def test_one_group_only_and_missing_item():
    x, _ = make_org()
    x[:, 5] = np.nan  # nobody answered the single-item dimension
    single = Grouping("department", np.zeros(x.shape[0], int), ("Everyone",))
    doc = analyse(x, DESIGN, [single]).to_dict()
    tools = doc["dimensions"][2]
    assert tools["n"] == 0 and tools["mean"] is None
    comp = doc["dimensions"][0]["groupings"]["department"]
    assert comp["welch_anova"]["F"] is None and comp["games_howell"] == []
    assert comp["icc1"] is None


def test_organisation_below_threshold_publishes_nothing():
    x, _ = make_org()
    doc = analyse(x[:3], DESIGN, []).to_dict()
    assert doc["organisation"] == {"suppressed": True, "reason": "below_threshold"}
    assert all(set(d) == {"id", "suppressed"} for d in doc["dimensions"])


def test_design_errors_are_sentences():
    with pytest.raises(ValueError, match="one of each per item"):
        Design(("a", "b"), ("d",), (0,), (False, False), 1, 5, (1.0,))
    with pytest.raises(ValueError, match="no items"):
        Design(("a",), ("d", "e"), (0,), (False,), 1, 5, (1.0,))
    with pytest.raises(ValueError, match="cycle"):
        Grouping("department", [0, 1], ("x", "y"), parents=(1, 0))
