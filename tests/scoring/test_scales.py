"""Scale scoring: recoding, the answered-share rule and scale validation.

Expected values are worked out by hand from the definition in the docstring of
``score_scales`` (no published example exists for this bookkeeping).
"""

from __future__ import annotations

import numpy as np
import pytest

from surveyapp.scoring.scales import check_scale, recode, score_scales

NAN = np.nan


def test_reverse_keyed_items_are_recoded_min_plus_max_minus_x():
    raw = np.array([[1.0, 5.0], [2.0, NAN]])
    np.testing.assert_array_equal(
        recode(raw, [False, True], scale_min=1, scale_max=5), [[1.0, 1.0], [2.0, NAN]]
    )
    np.testing.assert_array_equal(
        recode([[0.0, 10.0, 3.0]], [True, True, False], scale_min=0, scale_max=10),
        [[10.0, 0.0, 3.0]],
    )


def test_score_is_mean_of_answered_items_when_at_least_half_answered():
    # 4 items in dimension 0 (need 2), 1 item in dimension 1 (need 1)
    raw = np.array(
        [
            [5, 4, NAN, NAN, 3],  # 2 of 4 -> mean(5, 4 recoded to 2) ; item 1 is reversed
            [5, NAN, NAN, NAN, NAN],  # 1 of 4 -> missing; single item missing
            [1, 1, 1, 1, 2],
        ]
    )
    s = score_scales(
        raw,
        item_dimension=[0, 0, 0, 0, 1],
        reverse=[False, True, False, False, False],
        scale_min=1,
        scale_max=5,
    )
    np.testing.assert_array_equal(s.min_answered, [2, 1])
    np.testing.assert_array_equal(s.answered, [[2, 1], [1, 0], [4, 1]])
    np.testing.assert_allclose(s.scores, [[3.5, 3.0], [NAN, NAN], [2.0, 2.0]])


def test_share_rule_is_configurable():
    raw = np.array([[4, NAN, NAN]])
    kw = {"item_dimension": [0, 0, 0], "reverse": [False] * 3, "scale_min": 1, "scale_max": 5}
    assert np.isnan(score_scales(raw, **kw).scores[0, 0])  # 1 of 3 < ceil(1.5)
    assert score_scales(raw, min_answered_share=0.3, **kw).scores[0, 0] == 4.0
    assert score_scales(raw, min_answered_share=0.0, **kw).scores[0, 0] == 4.0


def test_all_answers_missing_gives_missing_scores():
    s = score_scales(
        np.full((3, 2), NAN),
        item_dimension=[0, 0],
        reverse=[False, False],
        scale_min=0,
        scale_max=100,
    )
    assert np.isnan(s.scores).all()


@pytest.mark.parametrize(("lo", "hi", "points"), [(1, 2, 2), (1, 5, 5), (0, 10, 11), (0, 100, 101)])
def test_valid_scales(lo, hi, points):
    assert check_scale(lo, hi) == points


@pytest.mark.parametrize(("lo", "hi"), [(2, 6), (1, 1), (0, 101), (1, 4.5)])
def test_invalid_scales_are_rejected(lo, hi):
    with pytest.raises(ValueError, match="scale"):
        check_scale(lo, hi)


def test_off_scale_answer_names_respondent_and_item():
    with pytest.raises(ValueError, match=r"respondent 1, item 0"):
        recode([[1.0], [6.0]], [False], scale_min=1, scale_max=5)
    with pytest.raises(ValueError, match="not a point"):
        recode([[2.5]], [False], scale_min=1, scale_max=5)
