"""Descriptives per group: NIST certified values and independent computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from surveyapp.scoring.descriptives import describe, favourable_threshold


def test_nist_numacc1(reference):
    ref = reference("engine_nist_univariate.toml")["numacc1"]
    d = describe(np.array(ref["values"], dtype=float)[:, None], np.zeros(3, int), 1)
    assert d.mean[0, 0] == pytest.approx(ref["mean"], rel=1e-15)
    assert d.sd[0, 0] == pytest.approx(ref["sd"], rel=1e-13)


def test_nist_numacc4_two_pass_keeps_precision(reference):
    ref = reference("engine_nist_univariate.toml")["numacc4"]
    values = np.array([ref["first"]] + ref["pair"] * ref["pairs"])
    d = describe(values[:, None], np.zeros(values.size, int), 1)
    assert d.mean[0, 0] == pytest.approx(ref["mean"], rel=1e-14)
    assert d.sd[0, 0] == pytest.approx(ref["sd"], rel=1e-7)  # NIST: 8+ digits is good


@pytest.fixture
def grouped():
    rng = np.random.default_rng(7)
    values = rng.integers(1, 6, size=(200, 3)).astype(float)
    values[rng.random(values.shape) < 0.1] = np.nan
    codes = rng.integers(-1, 5, size=200)
    return values, codes


def test_group_statistics_match_a_per_group_loop(grouped):
    # Independent computation: NumPy/SciPy on each group's values separately.
    values, codes = grouped
    d = describe(values, codes, 5, scale_min=1, scale_max=5)
    for g in range(5):
        for k in range(3):
            x = values[codes == g, k]
            x = x[~np.isnan(x)]
            assert d.n[g, k] == x.size
            assert d.mean[g, k] == pytest.approx(x.mean())
            assert d.sd[g, k] == pytest.approx(x.std(ddof=1))
            assert d.median[g, k] == np.median(x)
            lo, hi = stats.ttest_1samp(x, 0.0).confidence_interval(0.95)
            assert (d.ci_low[g, k], d.ci_high[g, k]) == pytest.approx((lo, hi))
            np.testing.assert_array_equal(
                d.distribution[g, k], np.bincount(x.astype(int) - 1, minlength=5)
            )
            assert d.favourable[g, k] == pytest.approx(np.mean(x >= 4))


def test_finite_population_correction():
    x = np.array([3.0, 4.0, 5.0, 4.0])  # n = 4, mean 4, sd sqrt(2/3)
    codes = np.zeros(4, int)
    half = stats.t.ppf(0.975, 3) * np.sqrt(2 / 3) / 2
    d = describe(x[:, None], codes, 1, headcounts=[10])
    assert d.ci_high[0, 0] - 4 == pytest.approx(half * np.sqrt(6 / 9))
    census = describe(x[:, None], codes, 1, headcounts=[4])
    assert census.ci_low[0, 0] == census.ci_high[0, 0] == 4.0
    stale = describe(x[:, None], codes, 1, headcounts=[3])
    assert stale.headcount_exceeded[0, 0]
    assert stale.ci_high[0, 0] - 4 == pytest.approx(half)


def test_group_of_one_and_empty_group():
    d = describe(np.array([[2.0], [np.nan]]), np.array([0, 1]), 3)
    assert d.n.tolist() == [[1], [0], [0]]
    assert d.mean[0, 0] == 2.0 and d.median[0, 0] == 2.0
    assert np.isnan(d.sd[0, 0]) and np.isnan(d.ci_low[0, 0])
    assert np.isnan(d.mean[1:]).all() and np.isnan(d.median[1:]).all()


def test_zero_variance_group():
    d = describe(np.full((5, 1), 3.0), np.zeros(5, int), 1)
    assert d.sd[0, 0] == 0.0
    assert d.ci_low[0, 0] == d.ci_high[0, 0] == 3.0


@pytest.mark.parametrize(("lo", "hi", "expected"), [(1, 5, 4), (0, 10, 9), (1, 3, 3), (0, 1, 1)])
def test_favourable_is_top_two_points_or_top_point_on_short_scales(lo, hi, expected):
    assert favourable_threshold(lo, hi) == expected
