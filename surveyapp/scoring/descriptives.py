"""Descriptive statistics per group, computed from value tables.

Answers and scale scores are discrete: an item takes one of at most 101 scale points and a
dimension score one of a few hundred values. Everything here is therefore computed from a
*value table*: for each group and column, how many respondents gave each distinct value.
One :func:`numpy.bincount` pass builds the table for all groups and columns at once; means,
SDs, medians, answer distributions, rank sums (Kruskal-Wallis) and the statistics of unions
of groups (the organisation, a department's subtree, "the rest of the organisation") then
follow from small array operations on the table, never from another pass over respondents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surveyapp.scoring._distributions import t_ppf

# Values handled at once when a pass goes by blocks of rows (fits the CPU cache).
_BLOCK_CELLS = 1 << 16

__all__ = [
    "Descriptives",
    "ValueTable",
    "describe",
    "describe_table",
    "favourable_threshold",
    "tabulate",
]


@dataclass(frozen=True, slots=True, eq=False)
class ValueTable:
    """Counts of each distinct value per group and column.

    Attributes
    ----------
    grid : ndarray, shape (n_columns, n_values)
        Sorted distinct values of each column, padded with NaN.
    counts : ndarray of int64, shape (n_groups, n_columns, n_values)
        ``counts[g, k, v]`` respondents of group ``g`` with value ``grid[k, v]`` in column
        ``k``.
    """

    grid: NDArray[np.float64]
    counts: NDArray[np.int64]

    def merge(self, membership: ArrayLike) -> ValueTable:
        """Table of unions of groups: ``membership[h, g] = 1`` puts group g into union h."""
        m = np.asarray(membership)
        g, k, v = self.counts.shape
        flat = self.counts.reshape(g, k * v)
        if (
            self.counts.dtype.kind in "iu"
            and m.ndim == 2
            and m.shape[1] == g
            and bool(((m == 0) | (m == 1)).all())
        ):
            # Each union is a sum of a few rows in integers: exact, and it reads only the
            # member rows (a dense product costs unions x groups x width, and the score
            # table's width is the thousands of distinct overall scores).
            merged = np.zeros((m.shape[0], k * v), dtype=np.int64)
            for h, row in enumerate(m):
                members = np.flatnonzero(row)
                if members.size == g:
                    np.sum(flat, axis=0, out=merged[h])
                elif members.size:
                    np.sum(flat[members], axis=0, out=merged[h])
            return ValueTable(grid=self.grid, counts=merged.reshape(-1, k, v))
        # Other weights: a float matrix product (BLAS); counts far below 2**53 are exact.
        merged = m.astype(np.float64) @ flat.astype(np.float64)
        return ValueTable(grid=self.grid, counts=np.rint(merged).astype(np.int64).reshape(-1, k, v))

    def select(self, groups: ArrayLike) -> ValueTable:
        """Table restricted to the given group indices (in that order)."""
        return ValueTable(grid=self.grid, counts=self.counts[np.asarray(groups, dtype=np.intp)])


@dataclass(frozen=True, slots=True, eq=False)
class Descriptives:
    """Descriptive statistics per group and column (arrays of shape (groups, columns)).

    Attributes
    ----------
    n : ndarray of int64
        Respondents with a value.
    mean, sd, median : ndarray
        Mean, sample SD (denominator n - 1; NaN for n < 2) and median (NaN for n = 0).
    ci_low, ci_high : ndarray
        t-based confidence interval of the mean (see :func:`describe_table`).
    fpc : ndarray
        Finite-population factor applied to the standard error (1.0 when no headcount).
    headcount_exceeded : ndarray of bool
        True where more respondents answered than the group's stated headcount; the
        correction was then not applied.
    distribution : ndarray of int64, shape (groups, columns, points) or None
        Answers per scale point (columns on a known scale only).
    favourable : ndarray or None
        Share of answers at or above the favourable threshold.
    """

    n: NDArray[np.int64]
    mean: NDArray[np.float64]
    sd: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    median: NDArray[np.float64]
    fpc: NDArray[np.float64]
    headcount_exceeded: NDArray[np.bool_]
    distribution: NDArray[np.int64] | None = None
    favourable: NDArray[np.float64] | None = None

    @property
    def variance(self) -> NDArray[np.float64]:
        """Sample variance (``sd ** 2``)."""
        return self.sd**2


def favourable_threshold(scale_min: float, scale_max: float) -> float:
    """Lowest favourable value: the top two scale points, or the top one on 2-3 points.

    On a 2- or 3-point scale the top two points would include the middle or even every
    answer, so only the top point counts as favourable there.
    """
    points = int(scale_max - scale_min) + 1
    return float(scale_max - 1) if points >= 4 else float(scale_max)


def _scale_grid(k: int, scale: tuple[float, float]) -> NDArray[np.float64]:
    """The scale's points as the value grid of each of ``k`` columns."""
    lo, hi = scale
    grid_row = np.arange(lo, hi + 1, dtype=np.float64)
    return np.broadcast_to(grid_row, (k, grid_row.size)).copy()


def _distinct_index(values: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Sorted distinct values per column (the grid) and the grid index of every value (-1
    for NaN)."""
    n, k = values.shape
    uniques = []
    # Column by column on a transposed copy, so each sort reads contiguous values.
    index = np.empty((k, n), dtype=np.int64)
    for col, column in enumerate(np.ascontiguousarray(values.T)):  # columns are few
        u, index[col] = _distinct_column(column)
        uniques.append(u)
    return _padded_grid(uniques), index.T


def _distinct_column(column: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Sorted distinct values of one column and each value's index among them (-1 for NaN)."""
    u, inverse = np.unique(column, return_inverse=True)
    missing = np.isnan(column)
    if missing.any():  # NaN sorts last and is one value of np.unique: drop it
        u = u[~np.isnan(u)]
        inverse[missing] = -1
    return u, inverse


def _padded_grid(uniques: list[NDArray[np.float64]]) -> NDArray[np.float64]:
    """One row per column: its distinct values, padded with NaN to the widest."""
    width = max((u.size for u in uniques), default=0) or 1
    grid = np.full((len(uniques), width), np.nan)
    for col, u in enumerate(uniques):
        grid[col, : u.size] = u
    return grid


def tabulate(
    values: ArrayLike,
    codes: ArrayLike,
    n_groups: int,
    *,
    scale: tuple[float, float] | None = None,
) -> ValueTable:
    """Count each distinct value per group and column in one pass.

    Parameters
    ----------
    values : array_like, shape (n_respondents, n_columns)
        Values with NaN for missing.
    codes : array_like of int, shape (n_respondents,)
        Group of each respondent, ``-1`` for none.
    n_groups : int
        Number of groups (codes run from 0 to n_groups - 1).
    scale : (float, float), optional
        ``(scale_min, scale_max)`` when the values are integer scale points; the grid is
        then the scale itself (needed for answer distributions). Otherwise the grid is the
        sorted distinct values of each column.

    Returns
    -------
    ValueTable
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    c = np.asarray(codes, dtype=np.int64)
    if c.shape != (x.shape[0],):
        raise ValueError(
            f"Give one group code per respondent: {x.shape[0]} rows but {c.size} codes."
        )
    if c.size and c.max() >= n_groups:
        raise ValueError(f"Group code {c.max()} is out of range for {n_groups} groups.")
    n, k = x.shape
    if scale is None:
        grid, index = _distinct_index(x)
        return _tabulate_indexed(grid, index, c, n_groups)
    grid = _scale_grid(k, scale)
    v = grid.shape[1]

    def scale_index(start: int, stop: int) -> NDArray[np.int64]:
        # Scale points: the index is the value minus the scale's start.
        block = x[start:stop]
        with np.errstate(invalid="ignore"):
            at = (block - scale[0]).astype(np.int64)  # values are whole scale points
        at[np.isnan(block)] = -1
        if (at >= v).any():
            raise ValueError("A value lies above the top of the scale.")
        return at

    return ValueTable(grid=grid, counts=_count(grid, c, n_groups, n, scale_index))


def _tabulate_indexed(
    grid: NDArray[np.float64], index: NDArray[np.int64], codes: NDArray[np.int64], n_groups: int
) -> ValueTable:
    """:func:`tabulate` from each value's index in ``grid`` (-1 for missing), found already."""
    counts = _count(grid, codes, n_groups, index.shape[0], lambda a, b: index[a:b])
    return ValueTable(grid=grid, counts=counts)


def _count(
    grid: NDArray[np.float64],
    codes: NDArray[np.int64],
    n_groups: int,
    n: int,
    block_index: Callable[[int, int], NDArray[np.int64]],
) -> NDArray[np.int64]:
    """Counts (groups, columns, values) from the grid index of each row's values."""
    k, v = grid.shape
    size = n_groups * k * v
    # key = (group * k + column) * v + value index for every cell at once; missing values
    # and respondents without a group go to one extra bin that is dropped. Built by blocks
    # of rows, whose temporaries stay in the CPU cache.
    key = np.empty((n, k), dtype=np.int64)
    columns = (np.arange(k) * v)[None, :]
    rows = max(1, _BLOCK_CELLS // max(1, k))
    for start in range(0, n, rows):
        stop = start + rows
        at = block_index(start, stop)
        group = codes[start:stop]
        out = key[start:stop]
        np.add((group * (k * v))[:, None], columns, out=out)
        out += at
        out[(at < 0) | (group < 0)[:, None]] = size
    counts = np.bincount(key.ravel(), minlength=size + 1)[:size]
    # No copy when bincount's integers are already int64 (a wide score table is tens of MB).
    return counts.reshape(n_groups, k, v).astype(np.int64, copy=False)


def describe_table(
    table: ValueTable,
    *,
    headcounts: ArrayLike | None = None,
    confidence: float = 0.95,
    scale: tuple[float, float] | None = None,
    favourable_from: float | None = None,
) -> Descriptives:
    """Descriptive statistics of every group and column of a value table.

    Parameters
    ----------
    table : ValueTable
    headcounts : array_like, shape (n_groups,), optional
        Staff headcount ``N`` of each group (NaN or <= 0 for unknown), for the
        finite-population correction.
    confidence : float, default 0.95
    scale : (float, float), optional
        When given, answer distributions and the favourable share are also returned.
    favourable_from : float, optional
        Lowest favourable value; defaults to :func:`favourable_threshold`.

    Returns
    -------
    Descriptives

    Notes
    -----
    With counts :math:`c_v` of values :math:`x_v`: :math:`n = \\sum c_v`,
    :math:`\\bar x = \\sum c_v x_v / n`, :math:`s^2 = \\sum c_v (x_v - \\bar x)^2 / (n-1)`
    (two-pass, so no cancellation). Confidence interval

    .. math:: \\bar x \\pm t_{1-\\alpha/2,\\,n-1}\\,\\frac{s}{\\sqrt n}\\,
              \\sqrt{\\frac{N-n}{N-1}}

    with the finite-population correction (Cochran 1977, eq. 2.12 and 2.46) when the
    headcount :math:`N` is known and :math:`n < N`. When :math:`n = N` the group was
    surveyed completely and the interval collapses to the mean (no sampling error; the
    answers' measurement error is not what this interval describes). When :math:`n > N`
    the headcount is out of date, so the correction is dropped (factor 1, the
    conservative infinite-population interval) and ``headcount_exceeded`` is set.
    Median: average of the order statistics at ranks :math:`\\lfloor (n+1)/2 \\rfloor` and
    :math:`\\lceil (n+1)/2 \\rceil` (the usual sample median, R ``median``).

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques* (3rd ed.). Wiley.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1; got {confidence}.")
    counts = table.counts
    grid = table.grid[None, :, :]
    filled = np.nan_to_num(grid)
    n = counts.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (counts * filled).sum(axis=2) / n
        dev = filled - mean[:, :, None]
        ss = (counts * dev * dev).sum(axis=2)
        sd = np.sqrt(ss / (n - 1))
    sd = np.where(n >= 2, sd, np.nan)
    mean = np.where(n >= 1, mean, np.nan)
    median = _median(counts, table.grid, n)

    fpc = np.ones(n.shape)
    exceeded = np.zeros(n.shape, dtype=bool)
    if headcounts is not None:
        big_n = np.asarray(headcounts, dtype=np.float64)
        if big_n.shape != (n.shape[0],):
            raise ValueError(
                f"Give one headcount per group: {n.shape[0]} groups but {big_n.size} counts."
            )
        known = (np.isfinite(big_n) & (big_n > 0))[:, None]
        big = np.broadcast_to(big_n[:, None], n.shape)
        exceeded = known & (n > big)
        apply = known & (n <= big) & (n >= 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            factor = np.sqrt(np.clip((big - n) / (big - 1), 0.0, None))
        factor = np.where(big == 1, 0.0, factor)  # N = n = 1: a census of one
        fpc = np.where(apply, factor, 1.0)
    df = np.where(n >= 2, n - 1, 1)
    t_crit = t_ppf(0.5 + confidence / 2, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = t_crit * sd / np.sqrt(n) * fpc
    # A complete census has an interval of zero width even when n = 1.
    half = np.where((fpc == 0) & (n >= 1), 0.0, half)
    distribution = favourable = None
    if scale is not None:
        distribution = counts
        threshold = (
            favourable_threshold(*scale) if favourable_from is None else float(favourable_from)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            favourable = (counts * (filled >= threshold)).sum(axis=2) / n
        favourable = np.where(n >= 1, favourable, np.nan)
    return Descriptives(
        n=n,
        mean=mean,
        sd=sd,
        ci_low=mean - half,
        ci_high=mean + half,
        median=median,
        fpc=fpc,
        headcount_exceeded=exceeded,
        distribution=distribution,
        favourable=favourable,
    )


def _median(
    counts: NDArray[np.int64], grid: NDArray[np.float64], n: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Median from value counts: mean of the order statistics at (n-1)//2 and n//2."""
    if counts.shape[2] == 0:
        return np.full(n.shape, np.nan)
    cum = np.cumsum(counts, axis=2)
    lower = (n - 1) // 2
    upper = n // 2
    # Position r (0-based) falls in the first value whose cumulative count exceeds r.
    i_lo = np.minimum((cum <= lower[:, :, None]).sum(axis=2), counts.shape[2] - 1)
    i_hi = np.minimum((cum <= upper[:, :, None]).sum(axis=2), counts.shape[2] - 1)
    g = np.broadcast_to(grid[None, :, :], counts.shape)
    lo = np.take_along_axis(g, i_lo[:, :, None], axis=2)[:, :, 0]
    hi = np.take_along_axis(g, i_hi[:, :, None], axis=2)[:, :, 0]
    return np.where(n >= 1, 0.5 * (lo + hi), np.nan)


def describe(
    values: ArrayLike,
    codes: ArrayLike,
    n_groups: int,
    *,
    scale_min: float | None = None,
    scale_max: float | None = None,
    headcounts: ArrayLike | None = None,
    confidence: float = 0.95,
    favourable_from: float | None = None,
) -> Descriptives:
    """Descriptive statistics of each column for every group, vectorised over groups.

    Parameters
    ----------
    values : array_like, shape (n_respondents, n_columns)
        Values (item answers or scale scores), NaN for missing.
    codes : array_like of int, shape (n_respondents,)
        Group of each respondent (``-1`` for none).
    n_groups : int
    scale_min, scale_max : float, optional
        Give both when the values are scale points: answer distributions and the
        favourable share are then returned too.
    headcounts : array_like, shape (n_groups,), optional
        Staff headcount per group for the finite-population correction.
    confidence : float, default 0.95
    favourable_from : float, optional
        Lowest favourable value (default: top two scale points, see
        :func:`favourable_threshold`).

    Returns
    -------
    Descriptives

    Notes
    -----
    See :func:`describe_table` for the formulas (t interval with finite-population
    correction :math:`\\sqrt{(N-n)/(N-1)}`, Cochran 1977).

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques* (3rd ed.). Wiley.
    """
    scale = None
    if scale_min is not None and scale_max is not None:
        scale = (float(scale_min), float(scale_max))
    table = tabulate(values, codes, n_groups, scale=scale)
    return describe_table(
        table,
        headcounts=headcounts,
        confidence=confidence,
        scale=scale,
        favourable_from=favourable_from,
    )
