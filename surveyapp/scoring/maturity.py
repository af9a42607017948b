"""Maturity level of a score, and whether its confidence interval settles the level.

A questionnaire defines L maturity levels by their lower bounds on the score scale
(``level_min_scores``): the first bound is the scale minimum, each next bound is
where the next level starts. A score exactly on a bound belongs to the higher
level. Reporting a level without its uncertainty overstates what a sample of staff
can show, so each classification says whether the confidence interval of the mean
lies within one level or straddles a bound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

__all__ = ["BOUND_TOLERANCE", "Maturity", "classify_maturity"]

# Means of item scores are sums divided by counts; a mean that is mathematically on a
# bound can land a few ulps below it (3.4999999999999996). Within this tolerance a
# score counts as reaching the bound, so rounding noise never demotes a level.
BOUND_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Maturity:
    """Maturity classification of one score.

    Attributes
    ----------
    level : int or None
        1-based level of the mean; ``None`` when the mean is missing.
    level_low, level_high : int or None
        Levels of the lower and upper confidence limits; ``None`` when that limit
        is missing (for example a group of one).
    uncertain : bool
        True when the interval straddles at least one level bound
        (``level_low != level_high``) or when the mean has a level but the interval
        is missing, since nothing then shows the level is settled. False for a
        missing mean.
    """

    level: int | None
    level_low: int | None
    level_high: int | None
    uncertain: bool


def _bounds(level_min_scores: Sequence[float]) -> np.ndarray:
    bounds = np.asarray(level_min_scores, dtype=np.float64)
    if bounds.ndim != 1 or bounds.size == 0:
        raise ValueError("level_min_scores must be a non-empty sequence of level lower bounds.")
    if not np.isfinite(bounds).all():
        raise ValueError("level_min_scores must be finite numbers.")
    if (np.diff(bounds) <= 0).any():
        raise ValueError(
            f"level_min_scores must be strictly increasing, got {bounds.tolist()}; "
            "list the lower bound of level 1 (the scale minimum) first."
        )
    return bounds


def _levels(scores: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """1-based levels, 0 for NaN; scores below the first bound count as level 1."""
    levels = np.searchsorted(bounds - BOUND_TOLERANCE, scores, side="right")
    levels = np.maximum(levels, 1)
    return np.where(np.isnan(scores), 0, levels)


@overload
def classify_maturity(
    mean: float,
    ci_low: float,
    ci_high: float,
    level_min_scores: Sequence[float],
) -> Maturity: ...


@overload
def classify_maturity(
    mean: np.ndarray,
    ci_low: np.ndarray,
    ci_high: np.ndarray,
    level_min_scores: Sequence[float],
) -> tuple[Maturity, ...]: ...


def classify_maturity(
    mean: float | np.ndarray,
    ci_low: float | np.ndarray,
    ci_high: float | np.ndarray,
    level_min_scores: Sequence[float],
) -> Maturity | tuple[Maturity, ...]:
    r"""Classify a mean into a maturity level and say whether its interval settles it.

    With lower bounds :math:`b_1 < b_2 < \dots < b_L` (``b_1`` the scale minimum),

    .. math:: \text{level}(x) = \max\{\, l : x \ge b_l \,\}

    so a score exactly on :math:`b_l` is in level l (the higher one), and a score
    within ``BOUND_TOLERANCE`` (1e-9) below a bound counts as on it. A confidence
    limit below :math:`b_1` (possible near the floor of the scale) is level 1. The
    classification is *uncertain* when
    :math:`\text{level}(\text{ci\_low}) \ne \text{level}(\text{ci\_high})`.

    Parameters
    ----------
    mean, ci_low, ci_high : float or ndarray
        Mean score and its confidence limits; ``NaN`` for missing. Arrays must be
        1-D and broadcast together.
    level_min_scores : sequence of float
        Lower bounds of levels 1..L, strictly increasing.

    Returns
    -------
    Maturity or tuple of Maturity
        One :class:`Maturity` for scalar input; for 1-D arrays, a tuple with one
        :class:`Maturity` per element (plain ints, ``None`` and bools, ready for
        JSON and templates).

    Raises
    ------
    ValueError
        If the bounds are not finite and strictly increasing, the inputs are more
        than 1-D or do not broadcast, or a lower limit exceeds its upper limit.

    References
    ----------
    Cumming, G. & Finch, S. (2005). Inference by eye: confidence intervals and how
    to read pictures of data. *American Psychologist*, 60(2), 170–180 (why an
    estimate is read together with its interval).
    """
    bounds = _bounds(level_min_scores)
    scalar = all(np.ndim(x) == 0 for x in (mean, ci_low, ci_high))
    try:
        means, lows, highs = np.broadcast_arrays(
            np.atleast_1d(np.asarray(mean, dtype=np.float64)),
            np.atleast_1d(np.asarray(ci_low, dtype=np.float64)),
            np.atleast_1d(np.asarray(ci_high, dtype=np.float64)),
        )
    except ValueError as error:
        raise ValueError(
            "mean, ci_low and ci_high must have the same length (or be scalars)."
        ) from error
    if means.ndim != 1:
        raise ValueError(f"mean, ci_low and ci_high must be scalars or 1-D, got {means.ndim}-D.")
    both = ~np.isnan(lows) & ~np.isnan(highs)
    if (lows[both] > highs[both]).any():
        raise ValueError("ci_low must not exceed ci_high.")

    level = _levels(means, bounds)
    level_low = _levels(lows, bounds)
    level_high = _levels(highs, bounds)
    has_level = level > 0
    uncertain = has_level & (~both | (level_low != level_high))

    def optional(value: np.integer) -> int | None:
        return int(value) if value > 0 else None

    results = tuple(
        Maturity(
            level=optional(level[i]),
            level_low=optional(level_low[i]),
            level_high=optional(level_high[i]),
            uncertain=bool(uncertain[i]),
        )
        for i in range(means.size)
    )
    return results[0] if scalar else results
