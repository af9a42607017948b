"""The t, F and chi-squared tail functions of the engine, computed from ``scipy.special``.

Importing ``scipy.stats`` takes about two seconds (it builds every one of its hundred-odd
distributions), and ``surveyapp analyze`` would spend most of its run doing it. The
engine needs only five functions of three distributions. ``scipy.stats`` computes them
with the special functions called here (``t.sf`` is ``stdtr(df, -x)``, ``f.ppf`` is
``fdtri(dfn, dfd, q)``, and so on); these functions add the same handling that
``rv_continuous.sf`` and ``.ppf`` wrap around them: NaN for a parameter that is not
positive or a NaN argument, the ends of the support for ``x`` outside it and for
``q`` of 0 or 1. The results are therefore those of ``scipy.stats`` bit for bit;
``tests/scoring/test_distributions.py`` checks that on ordinary values and on every
edge case.

References
----------
SciPy 1.17 source: ``scipy/stats/_distn_infrastructure.py`` (``rv_continuous.sf``,
``rv_continuous.ppf``) and ``scipy/stats/_continuous_distns.py`` (``t_gen``, ``f_gen``,
``chi2_gen``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import special


def _valid_parameters(parameters: tuple[np.ndarray, ...]) -> np.ndarray:
    """Where every shape parameter is positive (``rv_continuous._argcheck``)."""
    valid: np.ndarray | bool = True
    for parameter in parameters:
        valid = np.logical_and(valid, parameter > 0)
    return np.asarray(valid)


def _sf(
    function: Callable[..., np.ndarray],
    x: ArrayLike,
    parameters: tuple[ArrayLike, ...],
    lower: float,
    upper: float,
) -> np.ndarray | np.float64:
    """``rv_continuous.sf`` of a distribution on ``(lower, upper)`` with ``_sf = function``."""
    x = np.asarray(x)
    x = np.asarray(x, dtype=np.promote_types(x.dtype, np.float64))
    shapes = tuple(np.asarray(p) for p in parameters)
    valid = _valid_parameters(shapes)
    with np.errstate(invalid="ignore"):
        inside = (lower < x) & (x < upper)
    below = valid & (x <= lower)
    compute = valid & inside
    output = np.zeros(np.shape(compute), x.dtype)
    output[np.broadcast_to(~valid | np.isnan(x), output.shape)] = np.nan
    output[np.broadcast_to(below, output.shape)] = 1.0
    if np.any(compute):
        arguments = (np.broadcast_to(a, compute.shape)[compute] for a in (x, *shapes))
        output[compute] = function(*arguments)
    return output[()] if output.ndim == 0 else output


def _ppf(
    function: Callable[..., np.ndarray],
    q: ArrayLike,
    parameters: tuple[ArrayLike, ...],
    lower: float,
    upper: float,
) -> np.ndarray | np.float64:
    """``rv_continuous.ppf`` of a distribution on ``(lower, upper)`` with ``_ppf = function``."""
    q = np.asarray(q)
    shapes = tuple(np.asarray(p) for p in parameters)
    valid = _valid_parameters(shapes)
    compute = valid & (q > 0) & (q < 1)
    output = np.full(np.shape(compute), np.nan)
    output[np.broadcast_to(valid & (q == 0), output.shape)] = lower
    output[np.broadcast_to(valid & (q == 1), output.shape)] = upper
    if np.any(compute):
        arguments = [np.broadcast_to(a, compute.shape)[compute] for a in (q, *shapes)]
        # scipy.stats scales by 1 and shifts by 0 (loc), which turns -0.0 into 0.0.
        output[compute] = function(*arguments) * 1.0 + 0.0
    return output[()] if output.ndim == 0 else output


def t_sf(x: ArrayLike, df: ArrayLike) -> np.ndarray | np.float64:
    """Student's t upper tail probability, ``scipy.stats.t.sf(x, df)``."""
    return _sf(lambda x_, df_: special.stdtr(df_, -x_), x, (df,), -np.inf, np.inf)


def t_ppf(q: ArrayLike, df: ArrayLike) -> np.ndarray | np.float64:
    """Student's t quantile, ``scipy.stats.t.ppf(q, df)``."""
    return _ppf(lambda q_, df_: special.stdtrit(df_, q_), q, (df,), -np.inf, np.inf)


def f_sf(x: ArrayLike, dfn: ArrayLike, dfd: ArrayLike) -> np.ndarray | np.float64:
    """F distribution upper tail probability, ``scipy.stats.f.sf(x, dfn, dfd)``."""
    return _sf(lambda x_, n_, d_: special.fdtrc(n_, d_, x_), x, (dfn, dfd), 0.0, np.inf)


def f_ppf(q: ArrayLike, dfn: ArrayLike, dfd: ArrayLike) -> np.ndarray | np.float64:
    """F distribution quantile, ``scipy.stats.f.ppf(q, dfn, dfd)``."""
    return _ppf(lambda q_, n_, d_: special.fdtri(n_, d_, q_), q, (dfn, dfd), 0.0, np.inf)


def chi2_sf(x: ArrayLike, df: ArrayLike) -> np.ndarray | np.float64:
    """Chi-squared upper tail probability, ``scipy.stats.chi2.sf(x, df)``."""
    return _sf(lambda x_, df_: special.chdtrc(df_, x_), x, (df,), 0.0, np.inf)
