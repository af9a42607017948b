"""rwg, rwg(j), ICC(1)/ICC(2), group-mean reliability and empirical-Bayes means."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from surveyapp.scoring.agreement import (
    expected_uniform_variance,
    group_mean_reliability,
    icc_oneway,
    rwg,
    rwg_j,
    shrunken_means,
)
from surveyapp.scoring.descriptives import describe


def test_uniform_null_variance():
    # R package multilevel, ?rwg: "The value of 2 represents the variance from a rectangular
    # distribution in the case where there are 5 response options"; (A^2 - 1)/12 otherwise.
    assert expected_uniform_variance(5) == 2.0
    assert expected_uniform_variance(7) == 4.0


def test_rwg_definition_and_truncation():
    # No published data set with printed rwg was found; hand computation from James,
    # Demaree & Wolf (1984): answers 4, 4, 5, 4, 3 on a 5-point scale have s^2 = 0.5, so
    # rwg = 1 - 0.5 / 2 = 0.75. Answers 1, 5, 1, 5 have s^2 = 16/3 > 2, truncated to 0.
    s2 = np.var([4, 4, 5, 4, 3], ddof=1)
    assert s2 == 0.5
    np.testing.assert_allclose(rwg([s2, 16 / 3, np.nan], n_points=5), [0.75, 0.0, np.nan])


def test_rwg_j_definition_and_truncation():
    # Hand computation of JDW (1984) eq. 5: J = 4 items with variances .4, .6, .5, .5 on a
    # 5-point scale: mean .5, ratio .25, rwg(j) = 4(.75) / (4(.75) + .25) = 3 / 3.25.
    np.testing.assert_allclose(rwg_j([[0.4, 0.6, 0.5, 0.5]], n_points=5), [3 / 3.25])
    # mean variance above the null: the raw formula gives -2.5 / -0.5 = 5 > 1; truncated to 0.
    assert rwg_j([3.0, 3.0], n_points=5) == 0.0
    # one item: equals rwg; undefined items are left out
    assert rwg_j([0.5], n_points=5) == pytest.approx(0.75)
    assert rwg_j([0.5, np.nan], n_points=5) == pytest.approx(0.75)
    assert np.isnan(rwg_j([np.nan, np.nan], n_points=5))


def _icc_of(ratings):
    x = np.asarray(ratings, dtype=float)
    n, k = x.shape
    d = describe(x.ravel()[:, None], np.repeat(np.arange(n), k), n)
    return icc_oneway(d.n, d.mean, (d.n - 1) * d.variance)


@pytest.mark.parametrize("case", ["shrout_fleiss", "pingouin_wine"])
def test_icc_matches_published_values(reference, case):
    ref = reference("engine_icc.toml")[case]
    icc = _icc_of(ref["ratings"])
    digits = 2 if case == "shrout_fleiss" else 3
    assert round(float(icc.icc1[0]), digits) == ref["icc1"]
    assert round(float(icc.icc2[0]), digits) == ref["icc2"]


def test_icc_with_unequal_group_sizes_uses_n0():
    # Independent computation: mean squares from scipy's one-way ANOVA F and the
    # between-group sum of squares, n0 = (N - sum n_g^2 / N) / (G - 1) (Bliese 2000).
    groups = [[3, 4, 5, 4], [2, 2, 3], [5, 4, 5, 5, 4, 5], [1, 2]]
    values = np.concatenate(groups).astype(float)
    codes = np.repeat(np.arange(4), [len(g) for g in groups])
    d = describe(values[:, None], codes, 4)
    icc = icc_oneway(d.n, d.mean, (d.n - 1) * d.variance)
    sizes = np.array([len(g) for g in groups])
    big_n = sizes.sum()
    grand = values.mean()
    msb = sum(len(g) * (np.mean(g) - grand) ** 2 for g in groups) / 3
    msw = msb / stats.f_oneway(*groups).statistic
    n0 = (big_n - (sizes**2).sum() / big_n) / 3
    assert icc.n0[0] == pytest.approx(n0)
    assert icc.icc1[0] == pytest.approx((msb - msw) / (msb + (n0 - 1) * msw))
    assert icc.icc2[0] == pytest.approx((msb - msw) / msb)


def test_icc_needs_two_groups():
    icc = _icc_of([[1, 2, 3]])
    assert np.isnan(icc.icc1[0]) and np.isnan(icc.icc2[0])


def test_group_mean_reliability_and_shrinkage():
    # Spearman-Brown by hand: n = 4, ICC1 = 0.2 -> 0.8 / 1.6 = 0.5; negative ICC -> 0.
    lam = group_mean_reliability([4, 1, 4], [0.2, 0.2, -0.1])
    np.testing.assert_allclose(lam, [0.5, 0.2, 0.0])
    np.testing.assert_allclose(shrunken_means([4.0, 2.0, 5.0], lam, 3.0), [3.5, 2.8, 3.0])
