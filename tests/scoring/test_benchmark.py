"""Percentile ranks and norm-group quartiles against published values."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from surveyapp.scoring.benchmark import (
    Benchmark,
    benchmark,
    percentile_rank,
    percentile_ranks_sorted,
)

REFERENCE = Path(__file__).parent / "reference"


def load(name: str) -> dict:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


RANKS = load("benchmark_percentile_rank.json")
QUANTILES = load("benchmark_quantile_r.json")


def test_percentile_rank_matches_scipy_documented_example() -> None:
    mean_kind = RANKS["scipy_percentileofscore_mean"][0]
    assert percentile_rank(np.array(mean_kind["value"]), np.array(mean_kind["norm"])) == 60.0


def test_mid_rank_is_the_average_of_strict_and_weak() -> None:
    strict, weak = RANKS["scipy_percentileofscore_mean"][1:]
    rank = percentile_rank(np.array(3.0), np.array(strict["norm"]))
    assert rank == (strict["expected"] + weak["expected"]) / 2


def test_percentile_rank_worked_example_is_vectorised() -> None:
    example = RANKS["worked_example_five_scores"]
    scores = np.array(example["scores"], dtype=float)
    assert percentile_rank(scores, scores).tolist() == example["expected"]


def test_percentile_rank_keeps_shape_and_ignores_nan_in_norm() -> None:
    norm = np.array([1.0, np.nan, 2.0, 3.0, 3.0, 4.0])
    values = np.array([[3.0, 0.0], [5.0, np.nan]])
    ranks = percentile_rank(values, norm)
    assert ranks.shape == (2, 2)
    assert ranks[0].tolist() == [60.0, 0.0]
    assert ranks[1, 0] == 100.0 and np.isnan(ranks[1, 1])
    assert np.isnan(percentile_rank(np.array([1.0]), np.array([np.nan]))).all()


def test_sorted_helper_equals_the_general_function() -> None:
    rng = np.random.default_rng(3)
    norm = rng.integers(1, 6, size=200).astype(float)
    values = rng.integers(0, 7, size=50).astype(float)
    assert percentile_ranks_sorted(np.sort(norm), values) == pytest.approx(
        percentile_rank(values, norm)
    )


def test_benchmark_quartiles_match_r_quantile() -> None:
    ref = QUANTILES["mtcars_wt"]
    wt = np.array(ref["values"])
    # Two dimensions: the first is mtcars$wt, the second its reverse order (same values).
    norm = np.column_stack([wt, wt[::-1]])
    result = benchmark(np.array([3.44, 1.0]), norm)
    assert isinstance(result, Benchmark)
    _, q1, median, q3, _ = ref["expected"]
    assert result.q1 == pytest.approx([q1, q1], abs=5e-6)
    assert result.median == pytest.approx([median, median], abs=5e-6)
    assert result.q3 == pytest.approx([q3, q3], abs=5e-6)
    # 3.44: 17 of 32 below and 3 equal -> 100 (17 + 1.5) / 32.
    assert result.percentile_rank.tolist() == [100 * 18.5 / 32, 0.0]
    assert result.n_organisations == 32
    assert result.n_per_dimension.tolist() == [32, 32]


def test_quartiles_of_one_to_nine_match_r() -> None:
    ref = QUANTILES["one_to_nine"]
    expected = dict(zip(ref["probs"], ref["expected"], strict=True))
    result = benchmark(np.array([5.0]), np.array(ref["values"], float)[:, None])
    assert result is not None
    assert [result.q1[0], result.median[0], result.q3[0]] == [
        expected[0.25],
        expected[0.5],
        expected[0.75],
    ]


def test_too_small_a_norm_group_is_withheld() -> None:
    assert benchmark(np.array([3.0]), np.ones((4, 1))) is None
    assert benchmark(np.array([3.0]), np.ones((4, 1)), min_organisations=4) is not None


def test_dimension_with_too_few_valid_means_gets_nan() -> None:
    norm = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, np.nan], [4.0, 5.0], [5.0, np.nan]])
    result = benchmark(np.array([3.0, 4.0]), norm)
    assert result is not None
    assert result.n_per_dimension.tolist() == [5, 2]
    assert result.median[0] == 3.0 and result.percentile_rank[0] == 50.0
    assert np.isnan([result.percentile_rank[1], result.q1[1], result.median[1]]).all()


def test_missing_organisation_mean_gives_nan_rank_only() -> None:
    result = benchmark(np.array([np.nan]), np.arange(10.0)[:, None])
    assert result is not None
    assert np.isnan(result.percentile_rank[0]) and result.median[0] == 4.5


def test_ten_thousand_organisations_are_fast_and_agree_with_scipy() -> None:
    rng = np.random.default_rng(11)
    norm = np.round(rng.normal(3.2, 0.5, size=(10_000, 10)), 2)
    norm[rng.random(norm.shape) < 0.01] = np.nan
    org = np.round(rng.normal(3.2, 0.5, size=10), 2)
    benchmark(org, norm)  # warm-up, so the timing excludes first-call overhead
    start = time.perf_counter()
    result = benchmark(org, norm)
    elapsed = time.perf_counter() - start
    assert elapsed < 0.1, f"benchmark took {elapsed * 1000:.0f} ms"
    assert result is not None
    for j in range(10):
        column = norm[:, j][~np.isnan(norm[:, j])]
        expected = stats.percentileofscore(column, org[j], kind="mean")
        assert result.percentile_rank[j] == pytest.approx(expected, abs=1e-9)
        assert result.q3[j] == pytest.approx(np.quantile(column, 0.75), abs=1e-12)


@pytest.mark.parametrize(
    ("org", "norm", "kwargs", "message"),
    [
        (np.ones(2), np.ones((6, 3)), {}, "3 columns|match"),
        (np.ones((2, 2)), np.ones((6, 2)), {}, "1-D"),
        (np.ones(1), np.full((6, 1), np.inf), {}, "finite"),
        (np.ones(1), np.ones((6, 1)), {"min_organisations": 0}, "positive"),
    ],
)
def test_invalid_input_is_rejected(
    org: np.ndarray, norm: np.ndarray, kwargs: dict, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        benchmark(org, norm, **kwargs)
