"""Maturity levels from lower bounds, hand-worked on a 1–5 scale with four levels."""

from __future__ import annotations

import numpy as np
import pytest

from surveyapp.scoring.maturity import Maturity, classify_maturity

# Level 1 from 1.0, level 2 from 2.0, level 3 from 3.0, level 4 from 4.0 (to 5.0).
BOUNDS = (1.0, 2.0, 3.0, 4.0)


@pytest.mark.parametrize(
    ("mean", "low", "high", "expected"),
    [
        (3.5, 3.2, 3.8, Maturity(3, 3, 3, uncertain=False)),
        (3.1, 2.8, 3.4, Maturity(3, 2, 3, uncertain=True)),
        (2.9, 1.9, 4.1, Maturity(2, 1, 4, uncertain=True)),
        (4.8, 4.5, 5.1, Maturity(4, 4, 4, uncertain=False)),
        (1.2, 0.7, 1.7, Maturity(1, 1, 1, uncertain=False)),
    ],
)
def test_level_and_interval(mean: float, low: float, high: float, expected: Maturity) -> None:
    assert classify_maturity(mean, low, high, BOUNDS) == expected


def test_a_score_on_a_bound_belongs_to_the_higher_level() -> None:
    result = classify_maturity(3.0, 3.0, 3.4, BOUNDS)
    assert result == Maturity(3, 3, 3, uncertain=False)
    # An interval that ends exactly on a bound reaches the next level.
    assert classify_maturity(2.5, 2.1, 3.0, BOUNDS).uncertain is True


def test_rounding_noise_below_a_bound_does_not_demote() -> None:
    item_means = [3.1, 3.6, 2.0, 3.5, 4.1, 2.5, 2.2]  # they add up to 21 exactly
    mean = sum(item_means) / len(item_means)
    assert mean < 3.0  # 2.9999999999999996 in floating point
    assert classify_maturity(mean, 2.5, 3.5, BOUNDS).level == 3


def test_missing_values() -> None:
    assert classify_maturity(float("nan"), float("nan"), float("nan"), BOUNDS) == Maturity(
        None, None, None, uncertain=False
    )
    # A group of one has a mean but no interval: its level is not settled.
    assert classify_maturity(3.5, float("nan"), float("nan"), BOUNDS) == Maturity(
        3, None, None, uncertain=True
    )


def test_arrays_give_one_maturity_per_element() -> None:
    means = np.array([3.5, 3.1, np.nan])
    lows = np.array([3.2, 2.8, np.nan])
    highs = np.array([3.8, 3.4, np.nan])
    results = classify_maturity(means, lows, highs, BOUNDS)
    assert results == (
        Maturity(3, 3, 3, uncertain=False),
        Maturity(3, 2, 3, uncertain=True),
        Maturity(None, None, None, uncertain=False),
    )
    assert all(type(r.level) is int for r in results[:2])
    assert type(results[0].uncertain) is bool


def test_numpy_scalar_is_a_scalar() -> None:
    result = classify_maturity(np.float64(3.5), np.float64(3.2), np.float64(3.8), BOUNDS)
    assert isinstance(result, Maturity)


def test_single_level_scale() -> None:
    assert classify_maturity(4.0, 1.0, 5.0, [1.0]) == Maturity(1, 1, 1, uncertain=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3.0, 2.0, 4.0, [1.0, 3.0, 2.0]), "strictly increasing"),
        ((3.0, 2.0, 4.0, []), "non-empty"),
        ((3.0, 2.0, 4.0, [1.0, np.inf]), "finite"),
        ((3.0, 4.0, 2.0, BOUNDS), "ci_low must not exceed ci_high"),
        ((np.ones(2), np.ones(3), np.ones(3), BOUNDS), "same length"),
        ((np.ones((2, 2)), np.ones((2, 2)), np.ones((2, 2)), BOUNDS), "1-D"),
    ],
)
def test_invalid_input_is_rejected(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        classify_maturity(*args)
