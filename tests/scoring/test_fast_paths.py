"""The engine's fast paths give exactly what the straightforward computation gives.

Each test builds a small random case with ties, missing answers, reverse-keyed items
and groups under the threshold, computes the statistic the obvious way (a loop, a dense
product, one SciPy-free call per value) and asks for the same numbers, bit for bit
where the fast path promises it.
"""

from __future__ import annotations

import numpy as np
import pytest

from surveyapp.scoring import Design, Grouping, analyse
from surveyapp.scoring._studentized import qtukey, tukey_sf, tukey_sf_and_quantile
from surveyapp.scoring.descriptives import ValueTable, tabulate
from surveyapp.scoring.reliability import cronbach_alpha
from surveyapp.scoring.scales import recode, score_scales


def _answers(rng, n, k, low=1, high=5, missing=0.2):
    x = rng.integers(low, high + 1, size=(n, k)).astype(float)
    x[rng.random(x.shape) < missing] = np.nan
    return x


def test_merge_sums_member_rows_exactly_like_the_dense_product():
    rng = np.random.default_rng(1)
    counts = rng.integers(0, 50, size=(9, 4, 7))
    table = ValueTable(grid=np.zeros((4, 7)), counts=counts)
    membership = (rng.random((6, 9)) < 0.4).astype(np.int64)
    membership[0] = 0  # an empty union
    membership[1] = 1  # every group
    merged = table.merge(membership)
    dense = np.einsum("hg,gkv->hkv", membership, counts)
    assert merged.counts.dtype == np.int64
    np.testing.assert_array_equal(merged.counts, dense)


def test_merge_with_other_weights_still_multiplies():
    counts = np.arange(2 * 3 * 2).reshape(2, 3, 2)
    table = ValueTable(grid=np.zeros((3, 2)), counts=counts)
    np.testing.assert_array_equal(table.merge([[2, 1]]).counts[0], 2 * counts[0] + counts[1])


def test_scale_scores_equal_a_loop_over_respondents():
    rng = np.random.default_rng(2)
    x = _answers(rng, 60, 7)
    x[:, 3] = np.nan  # an item nobody answered
    item_dimension = [2, 0, 1, 0, 2, 1, 0]  # not in dimension order
    reverse = [True, False, False, True, False, True, False]
    scored = score_scales(
        x, item_dimension=item_dimension, reverse=reverse, scale_min=1, scale_max=5
    )
    items = np.where(reverse, 6 - x, x)
    np.testing.assert_array_equal(scored.items, items)
    for r in range(x.shape[0]):
        for d in range(3):
            values = [items[r, j] for j in range(7) if item_dimension[j] == d]
            answered = [v for v in values if not np.isnan(v)]
            need = max(int(np.ceil(0.5 * len(values) - 1e-9)), 1)
            assert scored.answered[r, d] == len(answered)
            expected = sum(answered) / len(answered) if len(answered) >= need else np.nan
            np.testing.assert_equal(scored.scores[r, d], expected)


def test_recode_names_the_first_answer_off_the_scale_row_by_row():
    x = np.ones((3, 4))
    x[1, 3] = 2.5
    x[2, 0] = 9.0
    x[0, 2] = np.nan
    with pytest.raises(ValueError, match=r"respondent 1, item 3\)"):
        recode(x, [False] * 4, scale_min=1, scale_max=5)
    x[1, 3] = -np.inf
    with pytest.raises(ValueError, match=r"-inf.*respondent 1, item 3\)"):
        recode(x, [False] * 4, scale_min=1, scale_max=5)


def test_recode_leaves_its_input_alone_and_keeps_missing_answers_missing():
    x = np.array([[1.0, np.nan, 5.0], [4.0, 2.0, np.nan]])
    before = x.copy()
    out = recode(x, [True, True, False], scale_min=1, scale_max=5)
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(out, [[5.0, np.nan, 5.0], [2.0, 4.0, np.nan]])


def test_tabulate_on_a_scale_counts_like_a_loop():
    rng = np.random.default_rng(3)
    x = _answers(rng, 80, 5, 0, 10)
    codes = rng.integers(-1, 4, size=80)
    table = tabulate(x, codes, 4, scale=(0.0, 10.0))
    expected = np.zeros((4, 5, 11), dtype=np.int64)
    for r in range(80):
        for j in range(5):
            if codes[r] >= 0 and not np.isnan(x[r, j]):
                expected[codes[r], j, int(x[r, j])] += 1
    np.testing.assert_array_equal(table.counts, expected)
    np.testing.assert_array_equal(table.grid[2], np.arange(11.0))


def test_tabulate_of_distinct_values_counts_like_a_loop():
    rng = np.random.default_rng(4)
    x = np.round(rng.normal(3, 1, size=(90, 3)), 1)  # ties
    x[rng.random(x.shape) < 0.2] = np.nan
    x[:, 2] = np.nan  # a column without values
    x[0, 0] = -0.0
    codes = rng.integers(-1, 3, size=90)
    table = tabulate(x, codes, 3)
    for j in range(3):
        present = x[~np.isnan(x[:, j]), j]
        distinct = np.unique(present)
        np.testing.assert_array_equal(table.grid[j, : distinct.size], distinct)
        assert np.isnan(table.grid[j, distinct.size :]).all()
        for g in range(3):
            values = x[(codes == g) & ~np.isnan(x[:, j]), j]
            expected = [np.count_nonzero(values == v) for v in distinct]
            np.testing.assert_array_equal(table.counts[g, j, : distinct.size], expected)
            assert table.counts[g, j, distinct.size :].sum() == 0


def test_tabulate_refuses_a_value_above_the_scale_in_any_block():
    x = np.ones((200_000, 1))
    x[-1, 0] = 6.0  # in the last block of rows
    with pytest.raises(ValueError, match="above the top of the scale"):
        tabulate(x, np.zeros(200_000, dtype=np.int64), 1, scale=(1.0, 5.0))


def test_alpha_of_a_slice_equals_alpha_of_a_contiguous_copy():
    rng = np.random.default_rng(5)
    wide = _answers(rng, 200, 8, missing=0.05)
    wide[:, 6] = np.nan  # an item nobody answered, inside the slice
    view = wide[:, 3:8]
    for items in (view, wide[:, :3]):
        fast = cronbach_alpha(items)
        plain = cronbach_alpha(np.array(items, order="C", copy=True))
        for name in ("n", "n_items", "alpha", "ci_low", "ci_high", "reason", "item_reasons"):
            assert getattr(fast, name) == getattr(plain, name) or (
                np.isnan(getattr(fast, name)) and np.isnan(getattr(plain, name))
            ), name
        np.testing.assert_array_equal(fast.item_rest_r, plain.item_rest_r)
        np.testing.assert_array_equal(fast.alpha_if_deleted, plain.alpha_if_deleted)
        np.testing.assert_array_equal(fast.used, plain.used)


def test_studentized_range_p_values_and_quantiles_together_equal_each_alone():
    rng = np.random.default_rng(6)
    df = np.concatenate([rng.uniform(1.5, 300, 40), [np.inf, 3.0, np.nan]])
    q = np.concatenate([rng.uniform(0, 6, 40), [2.0, np.nan, 1.0]])
    for k in (2, 7):
        sf, quantile = tukey_sf_and_quantile(q, 0.95, k, df)
        np.testing.assert_array_equal(sf, tukey_sf(q, k, df))
        np.testing.assert_array_equal(quantile, qtukey(0.95, k, df))


def test_analysis_counts_and_means_equal_a_direct_computation_per_group():
    rng = np.random.default_rng(7)
    n = 300
    x = _answers(rng, n, 6, missing=0.1)
    x = np.minimum(x, 3)  # heavy ties
    design = Design(
        item_ids=[f"i{j}" for j in range(6)],
        dimension_ids=["a", "b"],
        item_dimension=[0, 1, 0, 1, 0, 1],
        reverse=[False, True, False, False, True, False],
        scale_min=1,
        scale_max=5,
        level_min_scores=[1, 2, 3, 4],
    )
    # Department 3 has two respondents: under the threshold of 5.
    departments = np.repeat([0, 1, 2, 3, -1], [120, 100, 70, 2, 8])
    roles = rng.integers(0, 3, size=n)
    analysis = analyse(
        x,
        design,
        (
            Grouping("department", departments, ["A", "B", "C", "D"]),
            Grouping("role", roles, ["top", "middle", "staff"]),
        ),
        min_group_size=5,
        top_management=("role", 0),
    )
    scored = score_scales(
        x, item_dimension=design.item_dimension, reverse=design.reverse, scale_min=1, scale_max=5
    )
    result = analysis.groupings[0]
    assert not result.published[3]
    for g in range(3):
        members = departments == g
        items = scored.items[members]
        for j in range(6):
            answered = items[~np.isnan(items[:, j]), j]
            assert result.items.n[g, j] == answered.size
            expected = [np.count_nonzero(answered == v) for v in range(1, 6)]
            np.testing.assert_array_equal(result.items.distribution[g, j], expected)
        for d in range(2):
            scores = scored.scores[members, d]
            scores = scores[~np.isnan(scores)]
            assert result.dimensions.n[g, d] == scores.size
            np.testing.assert_allclose(result.dimensions.mean[g, d], scores.mean(), rtol=1e-13)
            np.testing.assert_allclose(result.dimensions.sd[g, d], scores.std(ddof=1), rtol=1e-12)


@pytest.mark.parametrize("scale", [(1, 5), (0, 10)])
def test_score_table_equals_tabulating_the_scores(scale):
    from surveyapp.scoring.analysis import _score_table

    rng = np.random.default_rng(8)
    x = _answers(rng, 400, 9, *scale, missing=0.3)
    if scale[0] == 0:  # answers of -0.0 (a file's "-0"): their sum is 0.0, as it was
        x[:5, 2:4], x[:5, 4] = -0.0, np.nan
    scored = score_scales(
        x,
        item_dimension=[0, 0, 1, 1, 1, 2, 2, 2, 2],
        reverse=[False, True, False, False, True, False, False, True, False],
        scale_min=scale[0],
        scale_max=scale[1],
    )
    if scale[0] == 0:
        assert (scored.scores[:5, 1] == 0).all()
        assert not np.signbit(scored.scores[:5, 1]).any()
    overall = np.nanmean(scored.scores, axis=1)
    columns = np.column_stack([scored.scores, overall])
    cells = rng.integers(-1, 6, size=400)
    fast = _score_table(scored, columns, cells, 6)
    plain = tabulate(columns, cells, 6)
    np.testing.assert_array_equal(fast.grid.view(np.uint64), plain.grid.view(np.uint64))
    np.testing.assert_array_equal(fast.counts, plain.counts)


def test_equal_quotients_of_different_pairs_are_one_score():
    from surveyapp.scoring.analysis import _quotient_index

    scores = np.array([2.0, 2.0, 1.5, np.nan, 3.0])
    answered = np.array([1, 2, 2, 0, 3])  # 2/1 and 4/2 are both 2.0
    distinct, inverse = _quotient_index(scores, answered, 3)
    np.testing.assert_array_equal(distinct, [1.5, 2.0, 3.0])
    np.testing.assert_array_equal(inverse, [1, 1, 0, -1, 2])
