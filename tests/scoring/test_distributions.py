"""The engine's t, F and chi-squared functions, BH and ranks equal SciPy's, bit for bit.

The engine computes them from ``scipy.special`` so that it need not import
``scipy.stats`` (two seconds); these tests hold them to the ``scipy.stats`` functions
they stand for, on ordinary values and at every edge the wrappers handle.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from surveyapp.scoring._distributions import chi2_sf, f_ppf, f_sf, t_ppf, t_sf
from surveyapp.scoring.analysis import _min_rank
from surveyapp.scoring.comparison import benjamini_hochberg

rng = np.random.default_rng(20261201)
EDGES = np.array([-np.inf, -3.5, -1.0, -0.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 40.0, np.inf, np.nan])
DFS = np.array([-1.0, 0.0, 0.3, 1.0, 2.0, 7.5, 30.0, 1e6, np.inf, np.nan])
QS = np.array([-0.1, 0.0, 1e-12, 0.025, 0.5, 0.975, 1 - 1e-12, 1.0, 1.5, np.nan])


def same(ours, theirs) -> None:
    """Equal values (NaN where NaN, the sign of zero included), type and shape."""
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    assert ours.tobytes() == theirs.tobytes(), np.flatnonzero(ours != theirs)


@pytest.mark.parametrize(
    ("x", "df"),
    [
        (EDGES[:, None], DFS[None, :]),
        (rng.normal(0, 3, 500), rng.uniform(0.5, 200, 500)),
        (1.7, 12),
        (np.array(2.5), np.array([3, 4, 5])),
    ],
)
def test_t_and_chi2_survival_functions(x, df):
    with np.errstate(all="ignore"):
        same(t_sf(x, df), stats.t.sf(x, df))
        same(chi2_sf(np.abs(x), df), stats.chi2.sf(np.abs(x), df))
        same(chi2_sf(x, df), stats.chi2.sf(x, df))


@pytest.mark.parametrize(
    ("q", "df"),
    [
        (QS[:, None], DFS[None, :]),
        (rng.uniform(0, 1, 500), rng.uniform(0.5, 200, 500)),
        (0.975, np.array([1, 2, 3, 59])),
        (0.5, 4.0),
    ],
)
def test_t_quantile(q, df):
    with np.errstate(all="ignore"):
        same(t_ppf(q, df), stats.t.ppf(q, df))


@pytest.mark.parametrize(
    ("x", "dfn", "dfd"),
    [
        (EDGES[:, None, None], DFS[None, :, None], DFS[None, None, :]),
        (rng.gamma(2, 1, 500), rng.integers(1, 30, 500), rng.uniform(1, 300, 500)),
        (3.2, 2, 57.25),
    ],
)
def test_f_survival_function(x, dfn, dfd):
    with np.errstate(all="ignore"):
        same(f_sf(x, dfn, dfd), stats.f.sf(x, dfn, dfd))


@pytest.mark.parametrize(
    ("q", "dfn", "dfd"),
    [
        (QS[:, None, None], DFS[None, :, None], DFS[None, None, :]),
        (rng.uniform(0, 1, 500), rng.integers(1, 30, 500), rng.uniform(1, 300, 500)),
        (0.975, 59, 590),
    ],
)
def test_f_quantile(q, dfn, dfd):
    with np.errstate(all="ignore"):
        same(f_ppf(q, dfn, dfd), stats.f.ppf(q, dfn, dfd))


@pytest.mark.parametrize("n", [1, 2, 7, 300])
def test_benjamini_hochberg_is_scipys(n):
    p = rng.uniform(0, 1, n) ** 3
    p[: n // 3] = p[0]  # ties
    p[-1:] = 1.0
    same(benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"))


def test_benjamini_hochberg_refuses_what_scipy_refuses():
    with pytest.raises(ValueError):
        stats.false_discovery_control([0.2, 1.5])
    with pytest.raises(ValueError):
        benjamini_hochberg([0.2, 1.5])


@pytest.mark.parametrize("n", [1, 2, 9, 400])
def test_min_rank_is_scipys_rankdata_min(n):
    values = np.round(rng.normal(3, 1, n), 1)  # many ties
    values[0] = -0.0 if n > 1 else values[0]
    values[-1] = 0.0
    ours = _min_rank(values)
    theirs = stats.rankdata(values, method="min")
    assert np.array_equal(ours, theirs) and ours.dtype.kind == theirs.dtype.kind == "i"
