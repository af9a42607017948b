"""Welch differences, Hedges' g and Holm, against published R / package output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from surveyapp.scoring.gap import (
    Gap,
    WelchDifference,
    campaign_change,
    hedges_correction,
    holm,
    perception_gap,
    restrict,
    welch_difference,
)

REFERENCE = Path(__file__).parent / "reference"


def load(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


WELCH_CASES = load("gap_welch_r.json")["cases"]
HOLM_CASES = load("gap_holm_r.json")["cases"]
EFFECT_SIZES = load("gap_hedges_g.json")


def ragged_columns(*columns: list[float]) -> np.ndarray:
    """Stack columns of different lengths into a matrix, padding with NaN."""
    matrix = np.full((max(map(len, columns)), len(columns)), np.nan)
    for j, column in enumerate(columns):
        matrix[: len(column), j] = column
    return matrix


@pytest.mark.parametrize("case", WELCH_CASES, ids=[c["name"] for c in WELCH_CASES])
def test_welch_matches_r_t_test(case: dict) -> None:
    result = welch_difference(np.array(case["a"]), np.array(case["b"]))
    digits = case["digits"]
    assert result.diff[0] == pytest.approx(case["mean_a"] - case["mean_b"], abs=1e-5)
    assert result.t[0] == pytest.approx(case["t"], abs=0.5 * 10 ** -digits["t"])
    assert result.df[0] == pytest.approx(case["df"], abs=0.5 * 10 ** -digits["df"])
    assert result.p[0] == pytest.approx(case["p"], abs=0.5 * 10 ** -digits["p"])
    assert result.ci_low[0] == pytest.approx(case["ci_low"], abs=0.5 * 10 ** -digits["ci"])
    assert result.ci_high[0] == pytest.approx(case["ci_high"], abs=0.5 * 10 ** -digits["ci"])
    assert (result.n_a[0], result.n_b[0]) == (len(case["a"]), len(case["b"]))


def test_welch_handles_columns_of_different_length_with_nan() -> None:
    sleep, mtcars = WELCH_CASES
    a = ragged_columns(sleep["a"], mtcars["a"])
    b = ragged_columns(sleep["b"], mtcars["b"])
    result = welch_difference(a, b)
    assert result.t == pytest.approx([sleep["t"], mtcars["t"]], abs=5e-4)
    assert result.n_a.tolist() == [10, 19]
    assert result.n_b.tolist() == [10, 13]


def test_confidence_level_changes_the_interval_only() -> None:
    sleep = WELCH_CASES[0]
    wide = welch_difference(np.array(sleep["a"]), np.array(sleep["b"]), confidence=0.99)
    usual = welch_difference(np.array(sleep["a"]), np.array(sleep["b"]))
    assert wide.ci_low[0] < usual.ci_low[0] and wide.ci_high[0] > usual.ci_high[0]
    assert wide.p[0] == usual.p[0]
    assert wide.confidence == 0.99


def test_hedges_g_matches_effectsize_on_mtcars() -> None:
    ref = EFFECT_SIZES["effectsize_mtcars_wt_by_am"]
    result = welch_difference(np.array(ref["a_am0"]), np.array(ref["b_am1"]))
    n = len(ref["a_am0"]) + len(ref["b_am1"])
    assert result.hedges_g[0] == pytest.approx(ref["hedges_g"], rel=ref["relative_tolerance"])
    cohens_d = result.hedges_g[0] / hedges_correction(n - 2)
    assert cohens_d == pytest.approx(ref["cohens_d"], rel=ref["relative_tolerance"])


def test_hedges_g_is_pingouin_cohens_d_times_exact_j() -> None:
    ref = EFFECT_SIZES["pingouin_compute_effsize"]
    result = welch_difference(np.array(ref["x"], float), np.array(ref["y"], float))
    df = len(ref["x"]) + len(ref["y"]) - 2
    assert result.hedges_g[0] / hedges_correction(df) == pytest.approx(ref["cohens_d"], rel=1e-12)


def test_exact_correction_agrees_with_the_usual_approximation() -> None:
    # Hedges & Olkin (1985): J(m) ≈ 1 - 3/(4m - 1), error O(m^-2).
    m = np.array([4.0, 10.0, 30.0, 100.0])
    approx = 1 - 3 / (4 * m - 1)
    assert hedges_correction(m) == pytest.approx(approx, rel=3e-3)
    # Closed form for m = 2: Γ(1) / (1 · Γ(1/2)) = 1/√π.
    assert hedges_correction(2.0) == pytest.approx(1 / np.sqrt(np.pi), rel=1e-14)
    assert np.isnan(hedges_correction(1.0))


@pytest.mark.parametrize("case", HOLM_CASES, ids=[c["name"] for c in HOLM_CASES])
def test_holm_matches_r(case: dict) -> None:
    raw = np.array(case["raw"])
    shuffled = np.random.default_rng(7).permutation(raw.size)
    assert holm(raw) == pytest.approx(case["holm"], rel=1e-12)
    assert holm(raw[shuffled]) == pytest.approx(np.array(case["holm"])[shuffled], rel=1e-12)


def test_holm_leaves_nan_out_of_the_family() -> None:
    raw = np.array(HOLM_CASES[1]["raw"])
    with_missing = np.insert(raw, [0, 4], np.nan)
    adjusted = holm(with_missing)
    assert np.isnan(adjusted[[0, 5]]).all()
    assert adjusted[~np.isnan(with_missing)] == pytest.approx(HOLM_CASES[1]["holm"])
    assert np.isnan(holm(np.array([np.nan, np.nan]))).all()
    assert holm(np.array([])).shape == (0,)


def test_holm_rejects_values_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm(np.array([0.2, 1.5]))


def test_small_columns_give_nan_but_keep_counts() -> None:
    a = np.array([[1.0, 2.0, np.nan], [2.0, np.nan, np.nan], [3.0, 4.0, np.nan]])
    b = np.array([[2.0, 3.0, 1.0], [4.0, 5.0, 2.0]])
    result = welch_difference(a, b)
    assert np.isfinite(result.t[:2]).all()
    for field in ("diff", "ci_low", "ci_high", "t", "df", "p", "hedges_g"):
        assert np.isnan(getattr(result, field)[2]), field
    assert result.n_a.tolist() == [3, 2, 0]
    assert result.n_b.tolist() == [2, 2, 2]


def test_constant_groups_give_a_difference_but_no_test() -> None:
    result = welch_difference(np.array([4.0, 4.0, 4.0]), np.array([3.0, 3.0]))
    assert result.diff[0] == 1.0
    assert np.isnan([result.t[0], result.p[0], result.ci_low[0], result.hedges_g[0]]).all()


def test_perception_gap_is_top_minus_staff_with_holm() -> None:
    sleep, mtcars = WELCH_CASES
    top = ragged_columns(sleep["a"], mtcars["a"])
    staff = ragged_columns(sleep["b"], mtcars["b"])
    gap = perception_gap(top, staff)
    assert isinstance(gap, Gap)
    assert gap.diff == pytest.approx([0.75 - 2.33, 17.14737 - 24.39231], abs=1e-5)
    assert gap.p_holm == pytest.approx(holm(gap.p))
    assert gap.p_holm[0] == pytest.approx(min(1.0, max(2 * gap.p[1], gap.p[0])))


def test_campaign_change_is_after_minus_before() -> None:
    sleep = WELCH_CASES[0]
    before, after = np.array(sleep["a"]), np.array(sleep["b"])
    change = campaign_change(before, after)
    assert change.diff[0] == pytest.approx(2.33 - 0.75)
    assert change.t[0] == pytest.approx(-sleep["t"], abs=5e-5)
    assert (change.n_a[0], change.n_b[0]) == (after.size, before.size)
    assert change.p_holm[0] == pytest.approx(change.p[0])


def test_restrict_leaves_no_trace_of_withheld_columns() -> None:
    rng = np.random.default_rng(8)
    top = rng.normal([3.0, 3.5, 2.0], 1.0, size=(8, 3))
    staff = rng.normal(3.0, 1.0, size=(40, 3))
    gap = perception_gap(top, staff)
    shown = restrict(gap, np.array([True, False, True]))
    for field in ("diff", "ci_low", "ci_high", "t", "df", "p", "hedges_g"):
        assert np.isnan(getattr(shown, field)[1]), field
        assert getattr(shown, field)[[0, 2]] == pytest.approx(getattr(gap, field)[[0, 2]])
    assert np.isnan(shown.p_holm[1])
    assert shown.n_a.tolist() == [8, 0, 8] and shown.n_b.tolist() == [40, 0, 40]
    # Holm over the two shown p-values only (R: p.adjust(p[c(1, 3)], "holm")).
    low, high = sorted(gap.p[[0, 2]])
    expected = {low: min(1.0, 2 * low), high: min(1.0, max(2 * low, high))}
    assert shown.p_holm[[0, 2]] == pytest.approx([expected[gap.p[0]], expected[gap.p[2]]])


def test_restrict_needs_one_flag_per_column() -> None:
    gap = perception_gap(np.ones((3, 2)) + np.eye(3, 2), np.zeros((3, 2)) + np.eye(3, 2))
    with pytest.raises(ValueError, match="one flag per column"):
        restrict(gap, np.array([True]))


def test_results_are_frozen() -> None:
    result = welch_difference(np.ones((3, 1)), np.zeros((3, 1)))
    assert isinstance(result, WelchDifference)
    with pytest.raises(AttributeError):
        result.diff = np.zeros(1)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "message"),
    [
        (np.ones((3, 2)), np.ones((3, 3)), {}, "same dimensions"),
        (np.ones((2, 2, 2)), np.ones((3, 2)), {}, "2-D"),
        (np.array([1.0, np.inf]), np.ones(3), {}, "infinite"),
        (np.ones(3), np.ones(3), {"confidence": 1.0}, "confidence"),
    ],
)
def test_invalid_input_is_rejected(
    a: np.ndarray, b: np.ndarray, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        welch_difference(a, b, **kwargs)
