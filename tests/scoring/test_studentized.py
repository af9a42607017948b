"""The vectorised studentized range against R, Harter's table and SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from surveyapp.scoring._studentized import ptukey, qtukey, tukey_sf


def test_ptukey_matches_r(reference):
    ref = reference("engine_studentized_range.toml")["r_ptukey"]
    got = ptukey(ref["q"], ref["nmeans"], ref["df"])
    np.testing.assert_allclose(got, ref["p"], atol=1e-7)


def test_qtukey_matches_r_to_its_documented_accuracy(reference):
    ref = reference("engine_studentized_range.toml")["r_qtukey"]
    got = [qtukey(p, ref["nmeans"], [ref["df"]])[0] for p in ref["p"]]
    np.testing.assert_allclose(got, ref["q"], atol=1e-4)


def test_qtukey_matches_harter_table(reference):
    ref = reference("engine_studentized_range.toml")["harter"]
    df = np.where(np.array(ref["df"]) < 0, np.inf, ref["df"])
    got = np.array([qtukey(0.95, k, [d])[0] for k, d in zip(ref["k"], df, strict=True)])
    expected = np.array(ref["q"])
    # one unit in the fourth significant figure
    unit = 10.0 ** (np.floor(np.log10(expected)) - 3)
    assert np.all(np.abs(got - expected) <= unit), got


@pytest.mark.parametrize("k", [3, 60])
@pytest.mark.parametrize("df", [1.0, 3.7, 39.5, 40.0, 5000.0])
def test_ptukey_matches_scipy(k, df):
    q = np.array([0.8, 2.5, 4.0, 6.0, 9.0])
    expected = [stats.studentized_range.cdf(x, k, df) for x in q]
    np.testing.assert_allclose(ptukey(q, k, df), expected, atol=2e-9)


@pytest.mark.parametrize(("k", "df"), [(4, 2.5), (25, 80.0)])
def test_qtukey_matches_scipy(k, df):
    expected = stats.studentized_range.ppf(0.95, k, df)
    np.testing.assert_allclose(qtukey(0.95, k, [df])[0], expected, atol=1e-7)


@pytest.mark.parametrize("df", [1.0, 2.0, 7.5, 60.0, 1e4, np.inf])
def test_two_means_reduce_to_the_t_distribution(df):
    # Q of two means = sqrt(2) |T_df|, so P(Q <= q) = 2 F_t(q / sqrt(2)) - 1.
    q = np.linspace(0.05, 25.0, 40)
    expected = 2.0 * stats.t.cdf(q / np.sqrt(2.0), df) - 1.0
    np.testing.assert_allclose(ptukey(q, 2, df), expected, atol=1e-9)


def test_vectorised_over_mixed_degrees_of_freedom():
    df = np.array([2.0, 9.0, 40.0, 700.0, np.inf])
    q = np.array([3.0, 3.5, 4.0, 4.5, 5.0])
    expected = [stats.studentized_range.cdf(qi, 5, di) for qi, di in zip(q, df, strict=True)]
    np.testing.assert_allclose(ptukey(q, 5, df), expected, atol=2e-9)
    np.testing.assert_allclose(tukey_sf(q, 5, df), 1.0 - np.array(expected), atol=2e-9)


def test_edges():
    assert ptukey(0.0, 4, 10.0) == 0.0
    assert ptukey(-1.0, 4, 10.0) == 0.0
    assert np.isnan(ptukey(np.nan, 4, 10.0))
    assert np.isnan(qtukey(0.95, 4, [np.nan])[0])
    with pytest.raises(ValueError, match="k >= 2"):
        ptukey(1.0, 1, 10.0)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        qtukey(1.0, 3, [10.0])
