"""Welch ANOVA, Kruskal-Wallis, Games-Howell and group-vs-rest against published output."""

from __future__ import annotations

import numpy as np
import pytest

from surveyapp.scoring.comparison import (
    benjamini_hochberg,
    games_howell,
    kruskal,
    versus_rest,
    welch_anova,
)
from surveyapp.scoring.descriptives import describe, tabulate


def _summaries(groups):
    values = np.concatenate(groups).astype(float)
    codes = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
    d = describe(values[:, None], codes, len(groups))
    return d, values, codes


@pytest.fixture
def pain(reference):
    ref = reference("engine_pain_threshold.toml")
    g = ref["groups"]
    groups = [g["dark_blond"], g["dark_brunette"], g["light_blond"], g["light_brunette"]]
    return ref, groups


def test_welch_anova_matches_pingouin_and_jasp(pain):
    ref, groups = pain
    d, _, _ = _summaries(groups)
    w = welch_anova(d.n, d.mean, d.variance)
    assert w.F[0] == pytest.approx(ref["welch"]["F"], abs=1e-6)
    assert w.df1[0] == ref["welch"]["df1"]
    assert w.df2[0] == pytest.approx(ref["welch"]["df2"], abs=1e-6)
    assert w.p[0] == pytest.approx(ref["welch"]["p"], abs=1e-6)


def test_welch_omega_squared_from_published_f(pain):
    # No package prints omega^2 for Welch's F on these data; the documented estimator
    # (k-1)(F-1) / ((k-1)(F-1) + N) is applied by hand to the published F = 5.890115.
    ref, groups = pain
    d, _, _ = _summaries(groups)
    f = ref["welch"]["F"]
    assert welch_anova(d.n, d.mean, d.variance).omega2[0] == pytest.approx(
        3 * (f - 1) / (3 * (f - 1) + 19), abs=1e-6
    )


def test_kruskal_matches_pingouin(pain):
    ref, groups = pain
    _, values, codes = _summaries(groups)
    k = kruskal(tabulate(values[:, None], codes, 4))
    assert k.H[0] == pytest.approx(ref["kruskal"]["H"], abs=1e-5)
    assert k.p[0] == pytest.approx(ref["kruskal"]["p"], abs=1e-6)
    # epsilon^2 = H / ((n^2 - 1) / (n + 1)) with the published H and n = 19
    assert k.epsilon2[0] == pytest.approx(ref["kruskal"]["H"] / 18, abs=1e-6)


def test_kruskal_with_ties_matches_r_airquality(reference):
    ref = reference("engine_airquality_ozone.toml")
    months = sorted(ref["ozone"])
    groups = [ref["ozone"][m] for m in months]
    _, values, codes = _summaries(groups)
    k = kruskal(tabulate(values[:, None], codes, len(groups)))
    assert k.H[0] == pytest.approx(ref["expected"]["H"], abs=5e-4)
    assert k.df[0] == ref["expected"]["df"]
    assert k.p[0] == pytest.approx(ref["expected"]["p"], rel=5e-4)


def test_games_howell_matches_r_and_jasp(pain):
    ref, groups = pain
    d, _, _ = _summaries(groups)
    gh = games_howell(d.n, d.mean, d.variance)
    assert gh.a.tolist() == [0, 0, 0, 1, 1, 2] and gh.b.tolist() == [1, 2, 3, 2, 3, 3]
    np.testing.assert_array_equal(np.round(np.abs(gh.t[:, 0]), 2), ref["games_howell"]["abs_t"])
    np.testing.assert_array_equal(np.round(gh.df[:, 0], 2), ref["games_howell"]["df"])
    np.testing.assert_allclose(gh.p[:, 0], ref["games_howell"]["p"], atol=5e-5)
    # the interval excludes 0 exactly when p < 0.05 (both use the same studentized range)
    excludes = (gh.ci_low[:, 0] > 0) | (gh.ci_high[:, 0] < 0)
    np.testing.assert_array_equal(excludes, gh.p[:, 0] < 0.05)


@pytest.mark.parametrize("case", ["r_docs", "statology"])
def test_group_versus_rest_is_welch_t_test(reference, case):
    ref = reference("engine_welch_t.toml")[case]
    x, y = np.array(ref["x"], float), np.array(ref["y"], float)
    d, _, _ = _summaries([x, y])
    total = describe(np.concatenate([x, y])[:, None], np.zeros(x.size + y.size, int), 1)
    vr = versus_rest(
        d.n[:1],
        d.mean[:1],
        d.variance[:1],
        total_n=total.n[0],
        total_mean=total.mean[0],
        total_var=total.variance[0],
    )
    assert vr.t[0, 0] == pytest.approx(ref["t"], abs=1e-4)
    assert vr.df[0, 0] == pytest.approx(ref["df"], abs=1e-3)
    assert vr.p[0, 0] == pytest.approx(ref["p"], rel=1e-3)
    assert (vr.ci_low[0, 0], vr.ci_high[0, 0]) == pytest.approx(tuple(ref["ci95"]), abs=1e-6)


def test_benjamini_hochberg_matches_scipy_documentation(reference):
    ref = reference("engine_bh.toml")
    np.testing.assert_allclose(benjamini_hochberg(ref["p"]), ref["p_bh"], atol=1e-8)
    padded = benjamini_hochberg([[ref["p"][0], np.nan], [ref["p"][1], ref["p"][2]]])
    assert np.isnan(padded[0, 1])


def test_degenerate_inputs():
    # one group only, a group of one, a zero-variance group
    w = welch_anova([5], [3.0], [1.0])
    assert np.isnan(w.F[0]) and w.k[0] == 1
    w = welch_anova([5, 1, 6], [3.0, 2.0, 4.0], [1.0, np.nan, 0.5])
    assert w.k[0] == 2 and np.isfinite(w.F[0])  # the group of one takes no part
    assert np.isnan(welch_anova([5, 5], [3.0, 4.0], [0.0, 1.0]).F[0])
    gh = games_howell([5, 1, 6], [3.0, 2.0, 4.0], [1.0, np.nan, 0.5])
    assert np.isnan(gh.p[2, 0]) and np.isfinite(gh.p[1, 0])  # pairs (0,1) (0,2) (1,2)
    k = kruskal(tabulate(np.array([[1.0], [1.0], [1.0]]), np.array([0, 1, 1]), 2))
    assert np.isnan(k.H[0])  # all values tied: H undefined
