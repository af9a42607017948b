"""Compact letter display (surveyapp.reporting.letters) against published examples and
the properties that define it."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.reporting.letters import compact_letters, letter_names

# The examples of R's multcompView::multcompLetters help page (multcompView 0.1-10,
# "Examples" with the printed results of its pkgdown reference page), kept as data:
# groups in the order multcompView lists them, the pairs it is told differ, its letters.
MULTCOMPVIEW_EXAMPLES = {
    # dif3 <- c(FALSE, FALSE, TRUE); names(dif3) <- c("A-B", "A-C", "B-C")
    "dif3": (("A", "B", "C"), [("B", "C")], ("ab", "a", "b")),
    # dif4 <- c(.01, .02, .03, 1); names(dif4) <- c("a-b", "a-c", "b-d", "a-d")
    "dif4": (("a", "b", "c", "d"), [("a", "b"), ("a", "c"), ("b", "d")], ("a", "b", "bc", "ac")),
}


@pytest.mark.parametrize("sweep", [True, False])
@pytest.mark.parametrize("example", sorted(MULTCOMPVIEW_EXAMPLES))
def test_letters_of_the_multcompview_examples(example, sweep):
    names, pairs, expected = MULTCOMPVIEW_EXAMPLES[example]
    index = {name: k for k, name in enumerate(names)}
    display = compact_letters(len(names), [(index[a], index[b]) for a, b in pairs], sweep=sweep)
    assert display.letters == expected


def test_letters_may_be_any_strings_as_in_multcompview():
    # multcompLetters(dif4, Letters = c("*", ".")) prints "*", ".*", ".*..*", "*..*".
    display = compact_letters(4, [(0, 1), (0, 2), (1, 3)], letters=("*", "."))
    assert display.letters == ("*", ".*", ".*..*", "*..*")


def test_letter_names_go_on_past_z_as_multcompview_describes():
    # "if 53 distinct connection columns are required, they will be a, …, z, A, …, Z, and
    # .a. If 54 are required, the last one will be .b."
    assert letter_names(53)[-1] == ".a"
    assert letter_names(54)[-1] == ".b"
    assert letter_names(52) == [*"abcdefghijklmnopqrstuvwxyz", *"ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def test_no_difference_gives_every_group_the_same_letter():
    assert compact_letters(4, []).letters == ("a", "a", "a", "a")


def test_all_differences_give_every_group_its_own_letter():
    pairs = list(itertools.combinations(range(4), 2))
    assert compact_letters(4, pairs).letters == ("a", "b", "c", "d")


def test_a_chain_of_overlapping_groups():
    # Five groups in order of their means, each differing only from those two or more
    # places away: the classic staircase a, ab, bc, cd, d.
    pairs = [(i, j) for i, j in itertools.combinations(range(5), 2) if j - i >= 2]
    assert compact_letters(5, pairs).letters == ("a", "ab", "bc", "cd", "d")


def test_sweeping_removes_letters_that_connect_nothing_new():
    # Two separate differences among five groups: insert-and-absorb gives the first group
    # four letters, though two of them already connect it with every other group.
    pairs = [(1, 2), (3, 4)]
    unswept = compact_letters(5, pairs, sweep=False)
    swept = compact_letters(5, pairs, sweep=True)
    assert len(unswept.letters[0]) == 4
    assert len(swept.letters[0]) == 2
    assert sum(map(len, swept.letters)) < sum(map(len, unswept.letters))
    for display in (swept, unswept):
        _assert_represents(display, 5, pairs)


def test_bad_pairs_are_refused():
    with pytest.raises(ValueError, match="outside"):
        compact_letters(3, [(0, 3)])
    with pytest.raises(ValueError, match="itself"):
        compact_letters(3, [(1, 1)])
    assert compact_letters(0, []).letters == ()
    assert compact_letters(1, []).letters == ("a",)


def _assert_represents(display, groups, pairs):
    differ = {frozenset(p) for p in pairs}
    for i, j in itertools.combinations(range(groups), 2):
        if frozenset((i, j)) in differ:
            assert not display.share_a_letter(i, j), (i, j, display.letters)
            assert not set(display.letters[i]) & set(display.letters[j]), (i, j)
        else:
            assert display.share_a_letter(i, j), (i, j, display.letters)
    assert all(display.letters), display.letters  # every group has a letter


@st.composite
def comparisons(draw):
    groups = draw(st.integers(min_value=1, max_value=9))
    every = list(itertools.combinations(range(groups), 2))
    chosen = draw(st.lists(st.sampled_from(every), unique=True) if every else st.just([]))
    flipped = [(j, i) if draw(st.booleans()) else (i, j) for i, j in chosen]
    return groups, flipped


@settings(max_examples=400, deadline=None)
@given(comparisons(), st.booleans())
def test_letters_represent_exactly_the_differences(comparison, sweep):
    groups, pairs = comparison
    display = compact_letters(groups, pairs, sweep=sweep)
    _assert_represents(display, groups, pairs)
    # No letter is redundant: none is carried by a set of groups inside another letter's.
    columns = [
        frozenset(g for g in range(groups) if display.matrix[g][k])
        for k in range(len(display.names))
    ]
    for a, b in itertools.permutations(columns, 2):
        assert not a <= b, (a, b)
