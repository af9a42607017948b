r"""Compact letter display of all-pairwise comparisons.

Groups that share a letter do not differ; groups with no letter in common do. The
letters are built with Piepho's insert-and-absorb algorithm:

1. Start with one column (letter) that holds every group.
2. *Insert*: for each pair (i, j) that differs, every column holding both i and j is
   split in two: a copy without i and the original without j.
3. *Absorb*: after each insertion, a column whose groups are all in another column
   says nothing new and is dropped.
4. *Sweep*: a group's letter is removed where every group it connects that group with
   shares another letter with it too (a group always keeps at least one letter);
   columns left redundant are absorbed again.

The columns are then ordered by the first group they hold (ties broken by the next
group, a column ending earlier going last), so with groups listed from the highest mean
down the letters run from "a" at the top, as in R's ``multcompView``. Letters are
``a``–``z``, then ``A``–``Z``; beyond 52 columns the last one is used as a prefix
(``.a``, ``.b`` …), again as in ``multcompView``.

References
----------
Piepho, H.-P. (2004). An algorithm for a letter-based representation of all-pairwise
comparisons. *Journal of Computational and Graphical Statistics*, 13(2), 456–466.

Graves, S., Piepho, H.-P., Selzer, L. & Dorai-Raj, S. ``multcompView``:
``multcompLetters`` (R package), whose documented examples the tests reproduce.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_LETTERS", "LetterDisplay", "compact_letters", "letter_names"]

#: The letters used, in order; the last one prefixes a second round when more are needed.
DEFAULT_LETTERS: tuple[str, ...] = (*string.ascii_lowercase, *string.ascii_uppercase, ".")


@dataclass(frozen=True, slots=True)
class LetterDisplay:
    """The letters of each group, in the order the groups were given."""

    letters: tuple[str, ...]
    #: groups × columns: whether group i carries the letter of column k.
    matrix: tuple[tuple[bool, ...], ...]
    names: tuple[str, ...]  # the letter of each column

    def share_a_letter(self, i: int, j: int) -> bool:
        """Whether groups ``i`` and ``j`` carry a common letter (do not differ)."""
        return any(a and b for a, b in zip(self.matrix[i], self.matrix[j], strict=True))


def letter_names(count: int, letters: Sequence[str] = DEFAULT_LETTERS) -> list[str]:
    """``count`` distinct letters; past the end, the last letter prefixes the others."""
    if count < len(letters):
        return list(letters[:count])
    again = [letters[-1] + letter for letter in letters[:-1]] + [letters[-1]]
    return list(letters[:-1]) + letter_names(count - len(letters) + 1, again)


def _absorb(columns: list[set[int]]) -> list[set[int]]:
    """Drop every column whose groups all lie in another column (keeping the earlier of
    two equal ones)."""
    kept: list[set[int]] = []
    for k, column in enumerate(columns):
        redundant = any(
            column < other or (column == other and m < k)
            for m, other in enumerate(columns)
            if m != k
        )
        if not redundant:
            kept.append(column)
    return kept


def _sweep(columns: list[set[int]]) -> list[set[int]]:
    """Remove letters that connect a group with nothing it is not connected with already."""
    columns = [set(column) for column in columns]
    for column in columns:
        for group in sorted(column):
            others = column - {group}
            elsewhere = [c for c in columns if c is not column and group in c]
            if not elsewhere:
                continue  # its only letter: every group keeps at least one
            if all(any(other in c for c in elsewhere) for other in others):
                column.discard(group)
    return _absorb([c for c in columns if c])


def _column_key(column: set[int], groups: int) -> tuple[int, ...]:
    # multcompView's order: by first group; a column that ends sorts after one that goes on.
    return (*sorted(column), groups)


def compact_letters(
    groups: int,
    differing: Iterable[tuple[int, int]],
    *,
    letters: Sequence[str] = DEFAULT_LETTERS,
    sweep: bool = True,
) -> LetterDisplay:
    """Letters for ``groups`` groups such that two groups share a letter exactly when the
    pair is not in ``differing``.

    Parameters
    ----------
    groups : int
        Number of groups, numbered 0 … groups − 1 (list them from the highest mean down
        for letters that read from "a" at the top).
    differing : iterable of (int, int)
        The pairs that differ (for instance, whose adjusted p-value is below α); the
        order within a pair does not matter. Insertions follow this order.
    letters : sequence of str
        The letters to use, as ``multcompView``'s ``Letters``.
    sweep : bool
        Apply Piepho's sweeping step (``multcompView`` does not; for the documented
        examples both give the same letters).

    Returns
    -------
    LetterDisplay

    Raises
    ------
    ValueError
        For a group number out of range or a group paired with itself.
    """
    if groups < 0:
        raise ValueError("The number of groups cannot be negative.")
    pairs = []
    for i, j in differing:
        if not (0 <= i < groups and 0 <= j < groups):
            raise ValueError(f"Pair ({i}, {j}) names a group outside 0…{groups - 1}.")
        if i == j:
            raise ValueError(f"Group {i} cannot differ from itself.")
        pairs.append((i, j))
    if groups == 0:
        return LetterDisplay((), (), ())
    columns: list[set[int]] = [set(range(groups))]
    for i, j in dict.fromkeys(pairs):
        split = [column for column in columns if i in column and j in column]
        if not split:
            continue
        for column in split:
            columns.append(column - {i})
            column.discard(j)
        columns = _absorb(columns)
    if sweep:
        columns = _sweep(columns)
    columns.sort(key=lambda column: _column_key(column, groups))
    names = letter_names(len(columns), letters)
    matrix = tuple(tuple(g in column for column in columns) for g in range(groups))
    shown = tuple(
        "".join(name for name, has in zip(names, row, strict=True) if has) for row in matrix
    )
    return LetterDisplay(shown, matrix, tuple(names))
