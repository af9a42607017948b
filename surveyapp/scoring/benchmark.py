"""Where an organisation stands among the other organisations that took the survey.

The *norm group* is a matrix of organisation means (organisations × dimensions)
supplied by the caller. The caller must leave the organisation being benchmarked
out of it: an organisation compared with a group that contains itself is pulled
towards the middle, and with a small norm group the effect is large. Nothing here
can detect the organisation in the norm (two organisations may share a mean), so
this is the caller's contract.

Missing means (``NaN``) in the norm are ignored dimension by dimension. A
dimension with fewer than ``min_organisations`` valid norm values gets ``NaN``
statistics, for the same reason the whole benchmark is withheld below that size:
quartiles of three or four organisations come close to publishing their means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Benchmark",
    "benchmark",
    "percentile_rank",
    "percentile_ranks_sorted",
]

QUARTILE_PROBABILITIES = (0.25, 0.5, 0.75)


@dataclass(frozen=True, slots=True)
class Benchmark:
    """An organisation's position in its norm group, one entry per dimension.

    Attributes
    ----------
    percentile_rank : ndarray of float, shape (k,)
        Mid-rank percentile rank, 0–100 (see :func:`percentile_rank`).
    q1, median, q3 : ndarray of float, shape (k,)
        Quartiles of the norm group's means (R type 7, numpy "linear").
    n_organisations : int
        Organisations (rows) in the norm group.
    n_per_dimension : ndarray of int, shape (k,)
        Norm organisations with a non-missing mean on each dimension.
    """

    percentile_rank: np.ndarray
    q1: np.ndarray
    median: np.ndarray
    q3: np.ndarray
    n_organisations: int
    n_per_dimension: np.ndarray


def percentile_ranks_sorted(sorted_norm: np.ndarray, values: np.ndarray) -> np.ndarray:
    r"""Percentile ranks of ``values`` in a norm that is already sorted.

    The fast path behind :func:`percentile_rank` and :func:`benchmark`: two binary
    searches per value, O((N + V) log N) with no re-sorting, for ranking many
    values against the same norm. Formula as in :func:`percentile_rank`.

    Parameters
    ----------
    sorted_norm : ndarray, shape (N,)
        Norm values in ascending order, without ``NaN``. Not checked, for speed.
    values : ndarray, any shape
        Values to rank; ``NaN`` gives ``NaN``.

    Returns
    -------
    ndarray of float, shape of ``values``
        :math:`100\,(B + E/2)/N`; all ``NaN`` when N = 0.
    """
    norm = np.asarray(sorted_norm, dtype=np.float64)
    scores = np.asarray(values, dtype=np.float64)
    if norm.size == 0:
        return np.full(scores.shape, np.nan)
    below = np.searchsorted(norm, scores, side="left")
    at_or_below = np.searchsorted(norm, scores, side="right")
    ranks = 50.0 * (below + at_or_below) / norm.size
    return np.where(np.isnan(scores), np.nan, ranks)


def percentile_rank(values: np.ndarray, norm: np.ndarray) -> np.ndarray:
    r"""Percent of the norm below each value, counting ties as half.

    .. math:: PR = 100\,\frac{B + 0.5\,E}{N}

    with B the number of norm values strictly below the value, E the number equal
    to it and N the number of (non-missing) norm values. This is the textbook
    mid-rank percentile rank, :math:`(CF - 0.5F)/N \times 100` with CF the
    cumulative frequency up to and including the value, identical to
    ``scipy.stats.percentileofscore(norm, value, kind="mean")``.

    Parameters
    ----------
    values : ndarray, any shape
        Scores to rank; ``NaN`` gives ``NaN``.
    norm : ndarray, shape (N,)
        Norm values; ``NaN`` entries are ignored.

    Returns
    -------
    ndarray of float, shape of ``values``
        Percentile ranks in [0, 100]; ``NaN`` if the norm has no valid value.

    Raises
    ------
    ValueError
        If ``norm`` is not 1-D or a value is infinite.

    References
    ----------
    "Percentile rank", *Wikipedia* (formula :math:`PR = (CF - 0.5F)/N \times 100`).
    SciPy documentation, ``scipy.stats.percentileofscore``, ``kind="mean"``.
    """
    norm_values = np.asarray(norm, dtype=np.float64)
    if norm_values.ndim != 1:
        raise ValueError(f"norm must be 1-D, got {norm_values.ndim} dimensions.")
    scores = np.asarray(values, dtype=np.float64)
    if np.isinf(norm_values).any() or np.isinf(scores).any():
        raise ValueError("values and norm must be finite; use NaN for a missing value.")
    return percentile_ranks_sorted(np.sort(norm_values[~np.isnan(norm_values)]), scores)


def benchmark(
    org_means: np.ndarray,
    norm_means: np.ndarray,
    min_organisations: int = 5,
) -> Benchmark | None:
    r"""Percentile rank of an organisation and the norm group's quartiles, per dimension.

    For each dimension j, with :math:`x_{(1)} \le \dots \le x_{(N_j)}` the sorted
    non-missing norm means:

    * percentile rank :math:`100\,(B + 0.5E)/N_j` (:func:`percentile_rank`);
    * quartiles by Hyndman & Fan's definition 7 (R's default ``quantile(type = 7)``,
      numpy's ``method="linear"``): :math:`h = (N_j - 1)p`,
      :math:`Q(p) = x_{(\lfloor h\rfloor + 1)} + (h - \lfloor h\rfloor)
      (x_{(\lfloor h\rfloor + 2)} - x_{(\lfloor h\rfloor + 1)})`. Type 7 is chosen
      because it is what R, numpy and spreadsheet ``QUARTILE.INC`` report, so a
      reader can reproduce the figures.

    The norm must not contain the organisation itself (see the module docstring).

    Parameters
    ----------
    org_means : ndarray, shape (k,)
        The organisation's dimension means; ``NaN`` gives a ``NaN`` rank.
    norm_means : ndarray, shape (m, k)
        Dimension means of the m other organisations; ``NaN`` is ignored.
    min_organisations : int, default 5
        Smallest norm group that is reported, overall (m) and per dimension.

    Returns
    -------
    Benchmark or None
        ``None`` when m < ``min_organisations``. Dimensions with fewer valid norm
        values than ``min_organisations`` have ``NaN`` rank and quartiles.

    Raises
    ------
    ValueError
        On shapes that do not match, infinite values, or ``min_organisations < 1``.

    Notes
    -----
    Cost is one sort per dimension plus two binary searches: 10,000 organisations ×
    10 dimensions take a few milliseconds.

    References
    ----------
    Hyndman, R. J. & Fan, Y. (1996). Sample quantiles in statistical packages.
    *The American Statistician*, 50(4), 361–365.
    """
    if int(min_organisations) != min_organisations or min_organisations < 1:
        raise ValueError(
            f"min_organisations must be a positive integer, got {min_organisations!r}."
        )
    org = np.asarray(org_means, dtype=np.float64)
    norm = np.asarray(norm_means, dtype=np.float64)
    if org.ndim != 1:
        raise ValueError(f"org_means must be 1-D (one mean per dimension), got {org.ndim}-D.")
    if norm.ndim != 2 or norm.shape[1] != org.shape[0]:
        raise ValueError(
            f"norm_means must be organisations × dimensions with {org.shape[0]} columns "
            f"to match org_means, got shape {norm.shape}."
        )
    if np.isinf(org).any() or np.isinf(norm).any():
        raise ValueError("org_means and norm_means must be finite; use NaN for a missing mean.")

    m, k = norm.shape
    if m < min_organisations:
        return None

    # NaN sorts to the end of each column, so the first n_j entries are the valid ones.
    sorted_norm = np.sort(norm, axis=0)
    n_valid = (~np.isnan(norm)).sum(axis=0)
    ranks = np.full(k, np.nan)
    quartiles = np.full((len(QUARTILE_PROBABILITIES), k), np.nan)
    for j in range(k):
        n_j = int(n_valid[j])
        if n_j < min_organisations:
            continue
        column = sorted_norm[:n_j, j]
        ranks[j] = percentile_ranks_sorted(column, org[j])
        quartiles[:, j] = _quantiles_sorted(column, QUARTILE_PROBABILITIES)

    return Benchmark(
        percentile_rank=ranks,
        q1=quartiles[0],
        median=quartiles[1],
        q3=quartiles[2],
        n_organisations=int(m),
        n_per_dimension=n_valid.astype(np.int64),
    )


def _quantiles_sorted(sorted_values: np.ndarray, probabilities: tuple[float, ...]) -> np.ndarray:
    """Hyndman–Fan type 7 quantiles of an ascending, NaN-free, non-empty array."""
    n = sorted_values.size
    h = (n - 1) * np.asarray(probabilities)
    lower = np.floor(h).astype(np.intp)
    upper = np.minimum(lower + 1, n - 1)
    weight = h - lower
    return sorted_values[lower] + weight * (sorted_values[upper] - sorted_values[lower])
