"""The one wording of certainty: a verdict never contradicts the interval shown with it."""

from __future__ import annotations

import itertools

import pytest

from surveyapp.reporting.certainty import Certainty, certainty, words


def test_the_reported_contradiction_reads_probably():
    # +0.49 (0.07 to 0.92) with a Holm-adjusted p of 0.11 was "may be chance" beside an
    # interval that excludes zero.
    verdict = certainty((0.07, 0.92), 0.11)
    assert verdict is Certainty.PROBABLE
    assert words(verdict, 0.49, str) == "probably higher"


@pytest.mark.parametrize(
    ("ci", "p", "expected"),
    [
        ((0.1, 0.5), 0.001, Certainty.CLEAR),
        ((-0.5, -0.1), 0.049, Certainty.CLEAR),
        ((0.01, 0.5), 0.2, Certainty.PROBABLE),
        ((-0.3, 0.5), 0.9, Certainty.UNCLEAR),
        ((0.0, 0.5), 0.06, Certainty.UNCLEAR),  # touching zero is not excluding it
        (None, None, Certainty.UNCLEAR),
        ((float("nan"), 0.4), float("nan"), Certainty.UNCLEAR),
    ],
)
def test_verdicts(ci, p, expected):
    assert certainty(ci, p) is expected


def test_no_verdict_contradicts_its_interval():
    """For a Welch difference, the unadjusted interval and p-value come from one t; the
    adjusted p is never below the unadjusted one. Over a grid of such pairs, "clear" and
    "probable" always sit with an interval that excludes zero, "unclear" with one that
    includes it."""
    from scipy import stats

    for diff, se, df, factor in itertools.product(
        (-0.8, -0.3, -0.05, 0.0, 0.05, 0.3, 0.8), (0.05, 0.15, 0.4), (4, 30, 300), (1, 3, 9)
    ):
        t = diff / se
        p = 2 * stats.t.sf(abs(t), df)
        half = stats.t.ppf(0.975, df) * se
        ci = (diff - half, diff + half)
        p_adjusted = min(1.0, p * factor)  # Bonferroni or Holm step: never smaller
        verdict = certainty(ci, p_adjusted)
        excludes = ci[0] > 0 or ci[1] < 0
        assert (verdict is Certainty.UNCLEAR) == (not excludes), (diff, se, df, factor)


def test_words_follow_the_direction_and_accept_other_direction_words():
    assert words(Certainty.CLEAR, -0.4, str) == "clearly lower"
    assert words(Certainty.UNCLEAR, 0.4, str) == "no clear difference"
    assert words("clear", 0.3, str, higher="went up", lower="went down") == "clearly went up"
