"""Scale scores: reverse-keyed items recoded, dimension score = mean of answered items."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ScaleScores", "check_scale", "recode", "score_scales"]

_MIN_POINTS = 2
_MAX_POINTS = 101
_BLOCK_CELLS = 1 << 16  # answers per block of rows checked at once (fits the CPU cache)


@dataclass(frozen=True, slots=True, eq=False)
class ScaleScores:
    """Respondent-level scores.

    Attributes
    ----------
    items : ndarray, shape (n_respondents, n_items)
        Answers with reverse-keyed items recoded (``min + max - x``); NaN = not answered.
    scores : ndarray, shape (n_respondents, n_dimensions)
        Mean of the answered items of each dimension, NaN when fewer than the required
        share of the dimension's items were answered.
    answered : ndarray of int, shape (n_respondents, n_dimensions)
        Number of items of each dimension the respondent answered.
    n_items : ndarray of int, shape (n_dimensions,)
        Number of items per dimension.
    min_answered : ndarray of int, shape (n_dimensions,)
        Items a respondent must answer for the dimension score to exist.
    """

    items: NDArray[np.float64]
    scores: NDArray[np.float64]
    answered: NDArray[np.int64]
    n_items: NDArray[np.int64]
    min_answered: NDArray[np.int64]


def check_scale(scale_min: float, scale_max: float) -> int:
    """Validate a response scale and return its number of points.

    Scales of 2 to 101 integer points starting at 0 or 1 are valid (for example 1-5, 1-7,
    0-10, 0-100).
    """
    if scale_min not in (0, 1) or int(scale_max) != scale_max:
        raise ValueError(
            f"A response scale must start at 0 or 1 and end at an integer; "
            f"got {scale_min}-{scale_max}."
        )
    points = int(scale_max) - int(scale_min) + 1
    if not _MIN_POINTS <= points <= _MAX_POINTS:
        raise ValueError(
            f"A response scale needs 2 to 101 points; {scale_min}-{scale_max} has {points}."
        )
    return points


def recode(
    matrix: ArrayLike, reverse: ArrayLike, *, scale_min: float, scale_max: float
) -> NDArray[np.float64]:
    """Recode reverse-keyed items: ``x' = min + max - x`` (NaN stays NaN).

    Parameters
    ----------
    matrix : array_like, shape (n_respondents, n_items)
        Raw answers on the scale, NaN for missing.
    reverse : array_like of bool, shape (n_items,)
        True for reverse-keyed items.
    scale_min, scale_max : float
        First and last point of the response scale.

    Returns
    -------
    ndarray
        A new float64 array; the input is not modified.

    Raises
    ------
    ValueError
        If an answer lies off the scale or between two scale points.
    """
    x = np.array(matrix, dtype=np.float64, copy=True)
    if x.ndim != 2:
        raise ValueError(f"The answer matrix must be 2-D (respondents x items); got {x.ndim}-D.")
    check_scale(scale_min, scale_max)
    flags = np.asarray(reverse, dtype=bool)
    if flags.shape != (x.shape[1],):
        raise ValueError(
            f"Give one reverse flag per item: {x.shape[1]} items but {flags.size} flags."
        )
    first = _first_off_scale(x, scale_min, scale_max)
    if first is not None:
        row, col = divmod(first, x.shape[1])
        raise ValueError(
            f"Answer {x[row, col]!r} (respondent {row}, item {col}) is not a "
            f"point of the {scale_min:g}-{scale_max:g} scale; fix the data or the scale."
        )
    if flags.any():
        # In place, column by flag (the same subtraction as gathering the reversed columns
        # and writing them back, without the two copies).
        np.subtract(scale_min + scale_max, x, out=x, where=flags[None, :])
    return x


def _first_off_scale(x: NDArray[np.float64], scale_min: float, scale_max: float) -> int | None:
    """Flat index of the first answer (row by row) that is not a point of the scale."""
    # Blocks of rows keep the temporaries in the CPU cache: four passes over a
    # 100,000 x 46 matrix otherwise each read and write tens of megabytes.
    rows = max(1, _BLOCK_CELLS // max(1, x.shape[1]))
    for start in range(0, x.shape[0], rows):
        block = x[start : start + rows]
        with np.errstate(invalid="ignore"):
            off = (block < scale_min) | (block > scale_max) | (np.rint(block) != block)
        off &= ~np.isnan(block)  # NaN is no answer, not an answer off the scale
        if off.any():
            return start * x.shape[1] + int(np.flatnonzero(off)[0])
    return None


def score_scales(
    matrix: ArrayLike,
    *,
    item_dimension: ArrayLike,
    reverse: ArrayLike,
    scale_min: float,
    scale_max: float,
    min_answered_share: float = 0.5,
    n_dimensions: int | None = None,
) -> ScaleScores:
    """Score every respondent on every dimension.

    Parameters
    ----------
    matrix : array_like, shape (n_respondents, n_items)
        Raw answers, NaN for missing.
    item_dimension : array_like of int, shape (n_items,)
        Dimension index (0-based) of each item.
    reverse : array_like of bool, shape (n_items,)
        Reverse-keyed items.
    scale_min, scale_max : float
        Response scale (2 to 101 points, starting at 0 or 1).
    min_answered_share : float, default 0.5
        Share of a dimension's items a respondent must answer for a score; the required
        count is ``ceil(share * J)`` items, and at least one.
    n_dimensions : int, optional
        Number of dimensions; defaults to ``max(item_dimension) + 1``.

    Returns
    -------
    ScaleScores

    Notes
    -----
    Item recoding: :math:`x'_{ij} = a + b - x_{ij}` for reverse-keyed items on an
    ``a..b`` scale. Dimension score of respondent :math:`i` on dimension :math:`d` with
    item set :math:`J_d`:

    .. math:: S_{id} = \\frac{1}{|A_{id}|} \\sum_{j \\in A_{id}} x'_{ij}, \\qquad
              A_{id} = \\{j \\in J_d : x_{ij} \\text{ answered}\\},

    defined when :math:`|A_{id}| \\ge \\lceil s |J_d| \\rceil` (person-mean imputation
    with a completeness rule; Schafer & Graham 2002, who discuss its use when most items
    of a short scale are present).

    References
    ----------
    Schafer, J. L., & Graham, J. W. (2002). Missing data: Our view of the state of the
    art. *Psychological Methods*, 7(2), 147-177.
    """
    if not 0.0 <= min_answered_share <= 1.0:
        raise ValueError(f"min_answered_share must lie between 0 and 1; got {min_answered_share}.")
    items = recode(matrix, reverse, scale_min=scale_min, scale_max=scale_max)
    dims = np.asarray(item_dimension)
    if dims.shape != (items.shape[1],) or (dims.size and dims.min() < 0):
        raise ValueError("item_dimension needs one non-negative dimension index per item.")
    n_dims = int(dims.max()) + 1 if n_dimensions is None else int(n_dimensions)
    if dims.size and dims.max() >= n_dims:
        raise ValueError(f"item_dimension refers to dimension {dims.max()} of {n_dims}.")
    n_items = np.bincount(dims.astype(np.intp), minlength=n_dims).astype(np.int64)
    if (n_items == 0).any():
        empty = int(np.flatnonzero(n_items == 0)[0])
        raise ValueError(f"Dimension {empty} has no items; every dimension needs one.")
    answered_mask = ~np.isnan(items)
    answered, sums = _sum_by_dimension(answered_mask, items, dims, n_dims)
    # ceil(share * J) with a tolerance so that 0.5 * 4 requires 2, not 3.
    min_answered = np.maximum(np.ceil(min_answered_share * n_items - 1e-9), 1).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(answered >= min_answered, sums / answered, np.nan)
    return ScaleScores(
        items=items,
        scores=scores,
        answered=answered,
        n_items=n_items,
        min_answered=min_answered,
    )


def _sum_by_dimension(
    answered_mask: NDArray[np.bool_],
    items: NDArray[np.float64],
    dims: NDArray,
    n_dims: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Per respondent and dimension: answered items (int64) and the sum of their answers.

    Answers are whole scale points, so the float sums are exact whatever the order of
    addition: adding each dimension's adjacent columns (``np.add.reduceat``) gives the
    same numbers as a matrix product with a 0/1 item-dimension indicator, several times
    faster on a tall matrix (a zero sum included: 0.0, never -0.0).
    """
    n = items.shape[0]
    if n_dims == 0 or items.shape[1] == 0:
        return np.zeros((n, n_dims), dtype=np.int64), np.zeros((n, n_dims))
    order = np.argsort(dims, kind="stable")
    sorted_dims = dims[order]
    starts = np.flatnonzero(np.r_[True, sorted_dims[1:] != sorted_dims[:-1]])
    filled = np.where(answered_mask, items, 0.0)
    flags = answered_mask.view(np.int8)
    if not np.array_equal(order, np.arange(order.size)):
        filled, flags = filled[:, order], flags[:, order]
    answered = np.add.reduceat(flags, starts, axis=1, dtype=np.int64)
    # + 0.0 turns a sum of negative zeros into 0.0, as the matrix product's sums were.
    sums = np.add.reduceat(filled, starts, axis=1) + 0.0
    return answered, sums
