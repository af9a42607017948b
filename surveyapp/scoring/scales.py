"""Scale scores: reverse-keyed items recoded, dimension score = mean of answered items."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["ScaleScores", "check_scale", "recode", "score_scales"]

_MIN_POINTS = 2
_MAX_POINTS = 101


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
    answered = ~np.isnan(x)
    values = x[answered]
    off = (values < scale_min) | (values > scale_max) | (values != np.round(values))
    if off.any():
        rows, cols = np.nonzero(answered)
        first = np.flatnonzero(off)[0]
        raise ValueError(
            f"Answer {values[first]!r} (respondent {rows[first]}, item {cols[first]}) is not a "
            f"point of the {scale_min:g}-{scale_max:g} scale; fix the data or the scale."
        )
    if flags.any():
        x[:, flags] = (scale_min + scale_max) - x[:, flags]
    return x


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
    indicator = np.zeros((items.shape[1], n_dims))
    indicator[np.arange(items.shape[1]), dims] = 1.0
    n_items = indicator.sum(axis=0).astype(np.int64)
    if (n_items == 0).any():
        empty = int(np.flatnonzero(n_items == 0)[0])
        raise ValueError(f"Dimension {empty} has no items; every dimension needs one.")
    answered_mask = ~np.isnan(items)
    # Matrix products count and sum the answered items of each dimension for all
    # respondents at once.
    answered = (answered_mask.astype(np.float64) @ indicator).astype(np.int64)
    sums = np.where(answered_mask, items, 0.0) @ indicator
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
