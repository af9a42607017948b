"""How narrowly can a reader bound a withheld small group? An interval (LP) audit.

Cells and sets are those of :mod:`~.suppression`: a cell is a group of respondents
with its count, a set says that a total cell is the sum of its member cells. A reader
who sees the published cells (and knows which cells are empty) knows that the counts
``x`` of the other cells satisfy every set equation and ``x >= 0``. Exact recovery
(a cell fixed by the equations) is what complementary suppression prevents; this
module goes further and computes, for every *protected* cell (withheld, with
``0 < count < threshold``), the interval ``[lo, hi]`` of counts that are consistent
with what is published: the minimum and maximum of ``x_cell`` over that polyhedron,
the "interval attack" of Hundepool et al. (2012, ch. 4–5).

Protection rule
---------------
*Counts.* A protected cell passes if ``lo = 0`` or ``hi - lo >= threshold``.

In the terms of τ-ARGUS and sdcTable (Hundepool et al., 2012, ch. 4; Fischetti &
Salazar-González, 1999), with no a-priori knowledge about a count beyond ``x >= 0``,
the cell needs either a lower protection level equal to its count or a *sliding*
protection level (a required interval width) equal to the threshold. The threshold
is the only parameter, so the audit adds no setting to the publication policy. Why
this rule:

* ``lo = 0``: the published figures leave room for every one of the cell's
  respondents to be in other withheld cells, so none of them is pinned to the group.
  (A reader does know that a withheld cell is not empty, since empty ones are shown
  as "no responses"; what ``lo = 0`` rules out is a guaranteed core of respondents.)
* otherwise the reader knows the group is non-empty, and the interval must be at
  least one publishable group wide: the uncertainty about the group's size is then
  no smaller than that about a group the policy would show.
* it does not ask the upper bound to reach the threshold: that a withheld cell is
  small is public anyway (it is withheld).

A stricter variant counts non-emptiness as a-priori knowledge (``x >= 1`` for every
withheld cell) and asks for ``hi - lo >= threshold`` always. It would make two small
withheld departments that add up to a publishable total (2 + 3 of 5, see
``test_two_small_departments_protect_each_other``) need a third, and in small
organisations cost whole departments for little gain; the sum rule below is the
sharper tool for what the counts carry.

*Sums* (optional). Counts are published with additive statistics (per dimension a
mean, i.e. a sum; per item the count of each answer value). For a statistic whose
value per respondent lies in ``[a, b]``, the shifted sum ``s = sum - a * n`` of a cell
lies in ``[0, n * (b - a)]`` and satisfies the same set equations. A protected cell
passes if its interval of ``s`` is at least ``protection * n * (b - a)`` wide, or at
least as wide as what the smallest published group containing it reveals on its own
(``[max(0, s_G - (u_G - u)), min(u, s_G)]`` with ``u = n * (b - a)``). The default
protection of 0.25 is one step of a five-point scale: the reader cannot place the
group's mean within less than one answer category. The exemption is the threshold
policy itself: a published group of at least ``threshold`` people in which everyone
answered alike reveals every subgroup's answers, and no suppression can prevent that.
Comparing releases over time (differencing) is not covered.

Method
------
Published and empty cells are substituted, so the equations split into independent
blocks of unknown cells (connected through shared sets); only blocks that hold a
protected cell are bounded. Within a block, the true counts are a feasible point, so a
bound is the true count moved by the largest circulation the block allows.

* When every unknown cell lies in at most two sets of the block and the signs can be
  made "one +1, one -1" per cell by negating some equations, the block is a network
  (a department tree with its sub-departments, role levels and a department x role
  crossing is one). Its matrix is totally unimodular, so the LP bounds are integers
  and equal the bounds over integer tables. The count of cell ``u -> v`` can fall by
  the maximum flow from ``u`` to ``v`` in the residual network without the cell
  (other cells can grow without limit and shrink to zero) and rise by the maximum
  flow back. Where only the rule matters, augmenting paths (breadth-first) stop as
  soon as it is settled, after at most ``threshold`` of them; an exact upper bound
  comes from :func:`scipy.sparse.csgraph.maximum_flow`.
* Otherwise (a cell in three or more sets), ``scipy.optimize.linprog`` with HiGHS
  solves the minimum and the maximum for each cell. The LP bound can then be wider
  than the bound over integer tables: the audit is of the relaxation (Limits).
* Sums always use ``linprog`` (their bounds are real numbers).

Before bounding cells one by one, a screen finds feasible tables in which most
protected cells are zero (``lo = 0``), which settles the rule for them at once: in a
network block, maximum flows with those cells removed (a cell that one table uses is
tried again in another); otherwise a single LP minimising the sum of the protected
counts. Any such screen is sound and the cells it leaves are bounded exactly, so the
intervals do not depend on it.

Limits
------
The audit bounds each cell on its own. It does not bound sums of several withheld
cells (a set's unknown remainder is checked by :mod:`~.suppression`), and it uses the
LP relaxation: outside network blocks an integer-aware reader may do slightly better.
Sum bounds are computed with one LP per cell and bound, which is fine for the tables of
one organisation but slow for thousands of protected cells.

References
----------
Cox, L. H. (1980). Suppression methodology and statistical disclosure control.
*Journal of the American Statistical Association*, 75(370), 377–385.
Cox, L. H. (1995). Network models for complementary cell suppression. *Journal of the
American Statistical Association*, 90(432), 1453–1462.
Dobra, A. & Fienberg, S. E. (2000). Bounds for cell entries in contingency tables
given marginal totals and decomposable graphs. *PNAS*, 97(22), 11885–11892.
Fischetti, M. & Salazar-González, J. J. (1999). Models and algorithms for the
2-dimensional cell suppression problem in statistical disclosure control.
*Mathematical Programming*, 84, 283–312.
Hundepool, A., Domingo-Ferrer, J., Franconi, L., Giessing, S., Nordholt, E. S.,
Spicer, K. & de Wolf, P.-P. (2012). *Statistical Disclosure Control*. Wiley, ch. 4
(magnitude tables: protection levels, the interval attack) and ch. 5 (frequency
tables).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_array, csr_array

# scipy.sparse.csgraph (which loads scipy.sparse.linalg and scipy.linalg) is imported by
# the functions that use it: most analyses never need a block or a flow, and a stand-alone
# `surveyapp analyze` starts faster without it.

__all__ = [
    "REASON_PINNED",
    "REASON_SUM_PINNED",
    "SUM_PROTECTION",
    "CellInterval",
    "DisclosureAudit",
    "audit_disclosure",
]

REASON_PINNED = "pinned"
REASON_SUM_PINNED = "sum_pinned"
SUM_PROTECTION = 0.25

# LP optima are rational with small denominators; HiGHS returns them to about 1e-9.
_TOLERANCE = 1e-7
# A block with more protected cells than this is first screened with one LP.
_SCREEN_AT = 8
# Block structures kept per system (a table meets few distinct blocks).
_KEPT_STRUCTURES = 64
# Minimum cuts tried by the flow screen before it leaves the block to the LP screen.
_MAX_CUT_ROUNDS = 20
# maximum_flow works in 32-bit integers.
_INT32_MAX = 2**31 - 1

Sets = Sequence[tuple[int, Sequence[int]]]


@dataclass(frozen=True, slots=True)
class CellInterval:
    """What a reader can work out about one protected cell.

    Attributes
    ----------
    cell : int
        Index of the cell.
    value : float
        The true count (or shifted sum ``sum - a * count``).
    lo, hi : float
        Smallest and largest value consistent with the published figures (``hi`` may
        be ``inf``).
    required : float
        Width the rule asks for: for counts the threshold (a cell with ``lo = 0``
        passes whatever its width); for sums the smaller of ``protection * n (b - a)``
        and what the smallest published group holding the cell reveals alone.
    passes : bool
        Whether the cell is protected under the rule.
    reason : str or None
        ``"pinned"`` (count) or ``"sum_pinned"`` when it is not, else ``None``.
    """

    cell: int
    value: float
    lo: float
    hi: float
    required: float
    passes: bool
    reason: str | None


@dataclass(frozen=True, slots=True)
class DisclosureAudit:
    """Intervals of every protected cell, for counts and for each sum column.

    Attributes
    ----------
    threshold : int
        Smallest group that may be shown.
    protection : float
        Share of a cell's range its sum interval must span (sum rule).
    counts : tuple of CellInterval
        One per protected cell, by cell index.
    sums : tuple of tuple of CellInterval
        Per sum column, the same cells (empty without sums).
    """

    threshold: int
    protection: float
    counts: tuple[CellInterval, ...]
    sums: tuple[tuple[CellInterval, ...], ...]

    @property
    def passes(self) -> bool:
        """True when every protected cell passes for counts and for every sum."""
        return not self.failing

    @property
    def failing(self) -> tuple[int, ...]:
        """Cells that fail the count rule or the sum rule in some column, in order."""
        cells = {c.cell for c in self.counts if not c.passes}
        cells.update(c.cell for column in self.sums for c in column if not c.passes)
        return tuple(sorted(cells))


def audit_disclosure(
    counts: Sequence[int],
    sets: Sets,
    published: Sequence[bool],
    threshold: int,
    *,
    sums: Sequence[Sequence[float]] | None = None,
    value_range: tuple[float, float] | None = None,
    protection: float = SUM_PROTECTION,
) -> DisclosureAudit:
    """Bound every protected cell over what is published and apply the protection rule.

    A protected cell is one that is not published with ``0 < count < threshold``
    (hidden cells included); a small cell that is published is not audited (it is
    shown already). With ``x`` the counts of the unpublished non-empty cells,
    the reader's interval for cell ``j`` is

    .. math:: [\\min x_j, \\max x_j] \\quad \\text{s.t.} \\quad A x = b,\\; x \\ge 0,

    where each row of ``A x = b`` is a set equation with published and empty cells
    substituted. The count rule passes when ``lo = 0`` or ``hi - lo >= threshold``;
    the sum rule (with ``sums``) when the interval of the cell's shifted sum, with
    ``0 <= s <= n (b - a)`` per cell, is at least ``protection * n * (b - a)`` wide or
    no narrower than the smallest published group containing the cell reveals alone.
    The module docstring says why.

    Parameters
    ----------
    counts : sequence of int
        Respondents per cell.
    sets : sequence of (int, sequence of int)
        ``(total_cell, member_cells)``, as for :func:`~.suppression.suppress`.
    published : sequence of bool
        True for every cell that is shown (with its count and statistics).
    threshold : int
        Smallest group that may be shown.
    sums : array_like, shape (cells,) or (cells, statistics), optional
        Per cell, the sum of each statistic over its respondents (for example each
        dimension's score sum); additive over the sets like the counts.
    value_range : (float, float), optional
        Smallest and largest value of one respondent's statistic; required with
        ``sums``.
    protection : float, default 0.25
        Share of ``n * (b - a)`` the sum interval must span.

    Returns
    -------
    DisclosureAudit

    Raises
    ------
    ValueError
        If the table is invalid (as for :func:`~.suppression.suppress`), ``published``
        has the wrong length, or the sums do not fit the counts, the range or the sets.

    Notes
    -----
    Network blocks are bounded with maximum flows, other blocks and all sums with
    ``scipy.optimize.linprog`` (HiGHS); see the module docstring.

    References
    ----------
    Hundepool et al. (2012), *Statistical Disclosure Control*, ch. 4–5; Fischetti &
    Salazar-González (1999); Dobra & Fienberg (2000) for the Fréchet bounds of a
    two-way table, ``max(0, r_i + c_j - N) <= x_ij <= min(r_i, c_j)``.
    """
    values, checked, shown = _validate(counts, sets, threshold, published, "published")
    threshold = int(threshold)
    small = (values > 0) & (values < threshold)
    if not 0 <= protection <= 1:
        raise ValueError(f"protection must be between 0 and 1, got {protection!r}.")
    unknown = ~shown & (values > 0)
    protected = np.flatnonzero(unknown & small)
    blocks = _System(values.size, checked).blocks(values, unknown, protected)
    count_intervals = _count_intervals(blocks, values, threshold)
    sum_intervals = []
    if sums is not None:
        shifted, capacity = _validate_sums(sums, values, checked, value_range)
        for column in shifted.T:
            reference = _reference_widths(checked, shown, values, column, capacity, protected)
            required = {c: min(protection * capacity[c], reference[c]) for c in reference}
            sum_intervals.append(_sum_intervals(blocks, column, capacity, required))
    return DisclosureAudit(
        threshold=threshold,
        protection=float(protection),
        counts=count_intervals,
        sums=tuple(sum_intervals),
    )


def _count_intervals(
    blocks: list[tuple[_Block, np.ndarray]], counts: np.ndarray, threshold: int
) -> tuple[CellInterval, ...]:
    """Exact count interval and the count rule for the protected cells of each block."""
    out = []
    for block, cells in blocks:
        bounds = block.count_bounds(cells.tolist(), None)
        for cell, (lo, hi) in zip(cells.tolist(), bounds, strict=True):
            passes = _count_passes(lo, hi, threshold)
            out.append(
                CellInterval(
                    cell=cell,
                    value=float(counts[cell]),
                    lo=lo,
                    hi=hi,
                    required=float(threshold),
                    passes=passes,
                    reason=None if passes else REASON_PINNED,
                )
            )
    return tuple(sorted(out, key=lambda c: c.cell))


def _sum_intervals(
    blocks: list[tuple[_Block, np.ndarray]],
    shifted: np.ndarray,
    capacity: np.ndarray,
    required: dict[int, float],
) -> tuple[CellInterval, ...]:
    """Interval of each protected cell's shifted sum, and the sum rule."""
    out = []
    for block, cells in blocks:
        bounds = block.sum_bounds(cells.tolist(), shifted[block.cells], capacity[block.cells])
        for cell, (lo, hi) in zip(cells.tolist(), bounds, strict=True):
            passes = hi - lo >= required[cell] - _TOLERANCE
            out.append(
                CellInterval(
                    cell=cell,
                    value=float(shifted[cell]),
                    lo=lo,
                    hi=hi,
                    required=float(required[cell]),
                    passes=bool(passes),
                    reason=None if passes else REASON_SUM_PINNED,
                )
            )
    return tuple(sorted(out, key=lambda c: c.cell))


# ----------------------------------------------------------------------------- checks


def _validate(
    counts: Sequence[int],
    sets: Sets,
    threshold: int,
    mask: Sequence[bool] | None,
    mask_name: str,
) -> tuple[np.ndarray, list[tuple[int, tuple[int, ...]]], np.ndarray]:
    """Counts as int64, sets as tuples, and a per-cell flag array; sentences on error."""
    values = _validate_counts(counts, threshold)
    n = values.size

    def check_cell(cell: int, where: str) -> int:
        if isinstance(cell, bool) or int(cell) != cell or not 0 <= cell < n:
            raise ValueError(f"{where}: {cell!r} is not a cell index (0 to {n - 1}).")
        return int(cell)

    checked: list[tuple[int, tuple[int, ...]]] = []
    for index, entry in enumerate(sets):
        try:
            raw_total, raw_members = entry
        except (TypeError, ValueError) as error:
            raise ValueError(f"set {index} must be a pair (total_cell, member_cells).") from error
        total = check_cell(raw_total, f"set {index} total")
        members = tuple(check_cell(m, f"set {index} member") for m in raw_members)
        if not members:
            raise ValueError(f"set {index} has no member cells.")
        if len(set(members)) != len(members) or total in members:
            raise ValueError(f"set {index} repeats a cell; members must partition the total.")
        member_sum = int(values[list(members)].sum())
        if member_sum != values[total]:
            raise ValueError(
                f"set {index}: member counts add up to {member_sum} but the total cell "
                f"{total} has {int(values[total])}; members must partition the total."
            )
        checked.append((total, members))
    return values, checked, _validate_mask(mask, n, mask_name)


def _validate_counts(counts: Sequence[int], threshold: int) -> np.ndarray:
    """Counts as int64 after checking them and the threshold; sentences on error."""
    values = np.asarray(counts)
    if values.ndim != 1:
        raise ValueError("counts must be a flat sequence of respondent counts.")
    if values.size and not np.issubdtype(values.dtype, np.integer):
        as_float = values.astype(np.float64)
        if not (np.isfinite(as_float).all() and (as_float == np.round(as_float)).all()):
            raise ValueError("counts must be whole numbers of respondents.")
    values = values.astype(np.int64)
    if (values < 0).any():
        raise ValueError("counts must not be negative.")
    if isinstance(threshold, bool) or int(threshold) != threshold or threshold < 1:
        raise ValueError(f"threshold must be a positive whole number, got {threshold!r}.")
    return values


def _validate_mask(mask: Sequence[bool] | None, n: int, mask_name: str) -> np.ndarray:
    """A per-cell flag array (all False without ``mask``)."""
    if mask is None:
        return np.zeros(n, dtype=bool)
    flags = np.asarray(mask, dtype=bool)
    if flags.shape != (n,):
        raise ValueError(f"{mask_name} must have one flag per cell ({n}), got {len(mask)}.")
    return flags


def _validate_sums(
    sums: Sequence[Sequence[float]],
    counts: np.ndarray,
    sets: list[tuple[int, tuple[int, ...]]],
    value_range: tuple[float, float] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Shifted sums ``sum - a n`` (cells x columns) and capacities ``n (b - a)``."""
    if value_range is None:
        raise ValueError(
            "value_range (smallest, largest value per respondent) is needed with sums."
        )
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise ValueError(f"value_range must be (smallest, largest), got {value_range!r}.")
    table = np.asarray(sums, dtype=np.float64)
    if table.ndim == 1:
        table = table[:, None]
    if table.shape[0] != counts.size or not np.isfinite(table).all():
        raise ValueError(f"sums must be finite, one row per cell ({counts.size}).")
    shifted = table - low * counts[:, None]
    capacity = counts * (high - low)
    slack = 1e-9 * max(1.0, float(capacity.max(initial=0.0)))
    outside = ((shifted < -slack) | (shifted > capacity[:, None] + slack)).any(axis=1)
    if outside.any():
        cell = int(np.flatnonzero(outside)[0])
        raise ValueError(
            f"cell {cell}: its sum is outside count x value_range {value_range!r}; sums must "
            "be of values in that range."
        )
    for index, (total, members) in enumerate(sets):
        gap = np.abs(table[total] - table[list(members)].sum(axis=0))
        if (gap > 1e-6 * max(1.0, float(np.abs(table[total]).max()))).any():
            raise ValueError(f"set {index}: member sums do not add up to the total's sum.")
    return np.clip(shifted, 0.0, capacity[:, None]), capacity.astype(np.float64)


# ----------------------------------------------------------------------------- engine


class _System:
    """Cells and set equations, split into blocks of unknown cells on demand.

    The structure does not depend on the counts, so one system serves every count
    vector of a table; each block's equations (and whether it is a network) are kept
    by its set of cells, as successive calls mostly meet the same blocks.
    """

    def __init__(self, n_cells: int, sets: list[tuple[int, tuple[int, ...]]]) -> None:
        self.n_cells = n_cells
        # Equation s: total - sum(members) = 0; its (cell, coefficient) pairs and back.
        self.equation_cells: list[list[tuple[int, int]]] = []
        self.cell_equations: list[list[int]] = [[] for _ in range(n_cells)]
        rows, cols, signs = [], [], []
        for index, (total, members) in enumerate(sets):
            self.equation_cells.append([(total, 1)] + [(m, -1) for m in members])
            self.cell_equations[total].append(index)
            for member in members:
                self.cell_equations[member].append(index)
            rows += [index] * (len(members) + 1)
            cols += [total, *members]
            signs += [1] + [-1] * len(members)
        self.n_equations = len(sets)
        self.incidence = csr_array(
            (np.array(signs, dtype=np.int64), (np.array(rows, dtype=np.int64), cols)),
            shape=(self.n_equations, n_cells),
        )
        self.incidence.sort_indices()
        self._cell_of_entry = self.incidence.indices
        self._equation_of_entry = np.repeat(
            np.arange(self.n_equations), np.diff(self.incidence.indptr)
        )
        self._structures: dict[bytes, tuple] = {}

    def blocks(
        self, counts: np.ndarray, unknown: np.ndarray, wanted: np.ndarray
    ) -> list[tuple[_Block, np.ndarray]]:
        """Connected blocks of unknown cells that hold a wanted cell, with those cells.

        Two unknown cells are connected when they share a set; published and empty
        cells are constants, so blocks are independent of one another. Blocks come in
        the order of their first wanted cell, cells and equations in index order.
        """
        wanted_list = wanted.tolist()
        if not wanted_list:
            return []
        n = self.n_cells
        keep = unknown[self._cell_of_entry]
        # Cells 0..n-1 and equations n..n+m-1 as nodes; an entry links its cell and equation.
        graph = coo_array(
            (
                np.ones(int(keep.sum()), dtype=np.int8),
                (self._cell_of_entry[keep], self._equation_of_entry[keep] + n),
            ),
            shape=(n + self.n_equations,) * 2,
        )
        from scipy.sparse.csgraph import connected_components

        _, label = connected_components(graph, directed=False)
        order: dict[int, list[int]] = {}
        for cell in wanted_list:
            order.setdefault(int(label[cell]), []).append(cell)
        out = []
        for component, targets in order.items():
            members = np.flatnonzero(label == component)
            cells = members[members < n]
            equations = members[members >= n] - n
            out.append((self._block(counts, cells, equations), np.array(targets, dtype=np.int64)))
        return out

    def _block(self, counts: np.ndarray, cells: np.ndarray, equations: np.ndarray) -> _Block:
        key = cells.tobytes()
        structure = self._structures.get(key)
        if structure is None:
            position = {cell: i for i, cell in enumerate(cells.tolist())}
            local = np.full(self.n_cells, -1, dtype=np.int64)
            local[cells] = np.arange(cells.size)
            sub = self.incidence[equations]
            entry_cols = local[sub.indices]
            inside = entry_cols >= 0
            entry_rows = np.repeat(np.arange(equations.size), np.diff(sub.indptr))
            entries = (entry_rows[inside], entry_cols[inside], sub.data[inside].astype(np.int64))
            n_rows = int(equations.size)
            arcs = None if n_rows == 0 else _arcs(*entries, n_rows, cells.size)
            structure = (position, entries, n_rows, arcs)
            if len(self._structures) >= _KEPT_STRUCTURES:
                self._structures.pop(next(iter(self._structures)))
            self._structures[key] = structure
        position, entries, n_rows, arcs = structure
        return _Block(cells, position, entries, n_rows, counts[cells], arcs)


class _Block:
    """Unknown cells connected through shared sets, their equations and true counts."""

    def __init__(
        self,
        cells: np.ndarray,
        position: dict[int, int],
        entries: tuple[np.ndarray, np.ndarray, np.ndarray],
        n_rows: int,
        counts: np.ndarray,
        arcs: tuple[list[int], list[int], int] | None,
    ) -> None:
        self.cells = cells
        self.position = position
        self.counts = counts
        self.entries = entries
        self.n_rows = n_rows
        # A cell in no set at all is bounded by nothing but its own range.
        self.unconstrained = n_rows == 0
        self.network = None if arcs is None else _Network(*arcs, counts)
        self._matrix: csr_array | None = None

    @property
    def matrix(self) -> csr_array:
        """The block's equations over its cells, for ``linprog``."""
        if self._matrix is None:
            rows, cols, signs = self.entries
            self._matrix = csr_array((signs, (rows, cols)), shape=(self.n_rows, self.cells.size))
        return self._matrix

    def count_bounds(
        self, cells: Sequence[int], threshold: int | None
    ) -> list[tuple[float, float]]:
        """Count interval of each cell, exact; with ``threshold``, only as far as the rule needs.

        With ``threshold``, ``hi`` is ``nan`` where ``lo`` is 0 (the cell passes), and
        where it is not, ``hi`` is exact or already far enough above ``lo`` to pass.
        """
        if self.unconstrained:
            return [(0.0, float("inf"))] * len(cells)
        positions = np.array([self.position[cell] for cell in cells], dtype=np.int64)
        values = self.counts.astype(np.float64)
        if positions.size > _SCREEN_AT:
            can_be_zero = None if self.network is None else self.network.zeros(positions)
            if can_be_zero is None:
                can_be_zero = _screen(self.matrix, values, positions)
        else:
            can_be_zero = np.zeros(positions.size, dtype=bool)
        out = []
        for pos, zero in zip(positions.tolist(), can_be_zero.tolist(), strict=True):
            if zero:
                lo = 0.0
            elif self.network is not None:
                lo = self.network.lower(pos)
            else:
                lo = _lp_bound(self.matrix, values, None, pos, 1)
            if threshold is not None and lo <= _TOLERANCE:
                hi = float("nan")
            elif self.network is not None:
                hi = self.network.upper(pos, None if threshold is None else lo + threshold)
            else:
                hi = _lp_bound(self.matrix, values, None, pos, -1)
            out.append((lo, hi))
        return out

    def sum_bounds(
        self, cells: Sequence[int], values: np.ndarray, capacity: np.ndarray
    ) -> list[tuple[float, float]]:
        """Interval of each cell's shifted sum, each cell's sum within its capacity."""
        if self.unconstrained:
            return [(0.0, float(capacity[self.position[cell]])) for cell in cells]
        out = []
        for cell in cells:
            pos = self.position[cell]
            lo = _lp_bound(self.matrix, values, capacity, pos, 1)
            hi = _lp_bound(self.matrix, values, capacity, pos, -1)
            out.append((lo, hi))
        return out


def _arcs(
    rows: np.ndarray, cols: np.ndarray, signs: np.ndarray, n_rows: int, n_cols: int
) -> tuple[list[int], list[int], int] | None:
    """Tail and head of each cell when the block is a network, else None.

    A cell in two equations is an arc between them, a cell in one an arc to or from a
    ground node. Equations are negated (a 2-colouring by depth-first search) so that
    each arc has +1 at its tail and -1 at its head; if that is impossible, or a cell
    is in three or more equations, the block is not a network.
    """
    per_col = np.bincount(cols, minlength=n_cols)
    if (per_col > 2).any():
        return None
    ground = n_rows
    order = np.argsort(cols, kind="stable")
    starts = np.concatenate([[0], np.cumsum(per_col)[:-1]])
    first = rows[order[starts]].astype(np.int64)
    first_sign = signs[order[starts]].astype(np.int64)
    two = per_col == 2
    second = np.full(n_cols, ground, dtype=np.int64)
    second_sign = np.zeros(n_cols, dtype=np.int64)
    second[two] = rows[order[starts[two] + 1]]
    second_sign[two] = signs[order[starts[two] + 1]]
    # An arc between e and f needs flip_f * sign_f = -(flip_e * sign_e).
    neighbours: list[list[tuple[int, int]]] = [[] for _ in range(n_rows)]
    for e, f, product in zip(
        first[two].tolist(),
        second[two].tolist(),
        (first_sign[two] * second_sign[two]).tolist(),
        strict=True,
    ):
        neighbours[e].append((f, product))
        neighbours[f].append((e, product))
    flip = [0] * n_rows
    for start in range(n_rows):
        if flip[start]:
            continue
        flip[start] = 1
        stack = [start]
        while stack:
            e = stack.pop()
            for f, product in neighbours[e]:
                wanted = -flip[e] * product
                if not flip[f]:
                    flip[f] = wanted
                    stack.append(f)
                elif flip[f] != wanted:
                    return None
    first_out = np.array(flip, dtype=np.int64)[first] * first_sign == 1
    tails = np.where(first_out, first, second)
    heads = np.where(first_out, second, first)
    return tails.tolist(), heads.tolist(), n_rows + 1


class _Network:
    """Residual network of a network block at the true counts.

    Cell a is an arc from its tail to its head. Its count can grow without limit and
    shrink to zero: in the residual network the arc forward has unlimited capacity
    and the arc backward has the cell's count. Flows that only need to reach a small
    limit (the rule's) are found by augmenting paths (breadth-first search, stopping
    at the limit); an exact maximum uses :func:`scipy.sparse.csgraph.maximum_flow`.
    """

    def __init__(self, tails: list[int], heads: list[int], n_nodes: int, counts: np.ndarray):
        self.tails, self.heads = tails, heads
        self.counts = counts.astype(np.int64).tolist()
        self.n_nodes = n_nodes
        self.incident: list[list[int]] = [[] for _ in range(n_nodes)]
        for arc, (tail, head) in enumerate(zip(tails, heads, strict=True)):
            self.incident[tail].append(arc)
            self.incident[head].append(arc)
        self._graph: tuple[np.ndarray, ...] | None = None

    def zeros(self, arcs: np.ndarray) -> np.ndarray | None:
        """Which of ``arcs`` some feasible table has at 0 (None: left to the LP screen).

        A table is a flow with the true node balances, so each cell that is 0 in some
        table has ``lo = 0``. :meth:`_table_zeros` finds a table with few of the given
        arcs in use; the arcs it uses are tried again on their own, while that helps.
        """
        zero = np.zeros(arcs.size, dtype=bool)
        open_ = np.arange(arcs.size)
        while open_.size:
            found = self._table_zeros(arcs[open_])
            if found is None:
                return None if not zero.any() else zero
            if not found.any():
                break
            zero[open_[found]] = True
            open_ = open_[~found]
        return zero

    def _table_zeros(self, arcs: np.ndarray) -> np.ndarray | None:
        """Which of ``arcs`` one feasible table has at 0, found with maximum flows.

        The maximum flow from the surplus nodes to the deficit nodes, with the arcs of a
        set Z removed and every other arc unlimited, carries every surplus exactly when
        a table with Z at zero exists. Z starts as all of ``arcs``; while the flow falls
        short, the arcs of Z that cross its minimum cut are put back (some must carry
        flow: the true counts do). The first flow that carries everything is a table.
        """
        tails = np.array(self.tails, dtype=np.int64)
        heads = np.array(self.heads, dtype=np.int64)
        counts = np.array(self.counts, dtype=np.int64)
        n = self.n_nodes
        balance = np.bincount(tails, counts, n) - np.bincount(heads, counts, n)
        balance = np.rint(balance).astype(np.int64)
        supply = int(balance[balance > 0].sum())
        if supply == 0:
            return np.ones(arcs.size, dtype=bool)
        big = supply + 1
        if big > _INT32_MAX:  # pragma: no cover - 2e9 respondents
            return None
        source, sink = n, n + 1
        surplus = np.flatnonzero(balance > 0)
        deficit = np.flatnonzero(balance < 0)
        removed = np.zeros(tails.size, dtype=bool)
        removed[arcs] = True
        watched = removed.copy()
        for _ in range(_MAX_CUT_ROUNDS):
            # Put-back arcs of ``arcs`` run through a node of their own, so that the flow
            # on each can be read (parallel arcs would be merged otherwise).
            plain = ~removed & ~watched
            through = np.flatnonzero(~removed & watched)
            middle = n + 2 + np.arange(through.size)
            rows = np.concatenate(
                [tails[plain], tails[through], middle, np.full(surplus.size, source), deficit]
            )
            cols = np.concatenate(
                [heads[plain], middle, heads[through], surplus, np.full(deficit.size, sink)]
            )
            caps = np.concatenate(
                [
                    np.full(int(plain.sum()) + 2 * through.size, big),
                    balance[surplus],
                    -balance[deficit],
                ]
            )
            size = n + 2 + through.size
            capacity = coo_array((caps.astype(np.int32), (rows, cols)), shape=(size, size)).tocsr()
            capacity.sum_duplicates()
            from scipy.sparse.csgraph import breadth_first_order, maximum_flow

            result = maximum_flow(capacity, source, sink)
            if result.flow_value == supply:
                carried = np.zeros(tails.size, dtype=bool)
                if through.size:
                    flow = result.flow.tocsr()
                    carried[through] = np.asarray(flow[tails[through], middle]).ravel() > 0
                return ~carried[arcs]
            residual = (capacity - result.flow).tocsr()
            residual.data = (residual.data > 0).astype(np.int8)
            residual.eliminate_zeros()
            reached = np.zeros(size, dtype=bool)
            reached[breadth_first_order(residual, source, return_predecessors=False)] = True
            crossing = removed & reached[tails] & ~reached[heads]
            if not crossing.any():  # pragma: no cover - the true counts are feasible
                return None
            removed &= ~crossing
        return None

    def lower(self, arc: int) -> float:
        """Smallest count of ``arc``: its count less the flow that can bypass it."""
        count = self.counts[arc]
        return float(count - self._augment(arc, self.tails[arc], self.heads[arc], count))

    def upper(self, arc: int, enough: float | None = None) -> float:
        """Largest count of ``arc``, or a value of at least ``enough`` if it is that large."""
        count = self.counts[arc]
        if enough is None:
            flow = self._maximum(arc, self.heads[arc], self.tails[arc])
            return float("inf") if flow is None else float(count + flow)
        limit = max(0, int(np.ceil(enough)) - count)
        return float(count + self._augment(arc, self.heads[arc], self.tails[arc], limit))

    def _augment(self, skip: int, source: int, sink: int, limit: int) -> int:
        """Flow from ``source`` to ``sink`` without arc ``skip``, up to ``limit``."""
        tails, heads, counts, incident = self.tails, self.heads, self.counts, self.incident
        change: dict[int, int] = {}
        flow = 0
        while flow < limit:
            parent: dict[int, tuple[int, int]] = {source: (-1, -1)}
            queue = [source]
            for node in queue:
                for arc in incident[node]:
                    if arc == skip:
                        continue
                    if tails[arc] == node:
                        other = heads[arc]
                    elif counts[arc] + change.get(arc, 0) > 0:
                        other = tails[arc]
                    else:
                        continue
                    if other not in parent:
                        parent[other] = (node, arc)
                        queue.append(other)
                if sink in parent:
                    break
            if sink not in parent:
                return flow
            path = []
            push = limit - flow
            node = sink
            while node != source:
                previous, arc = parent[node]
                forward = tails[arc] == previous
                if not forward:
                    push = min(push, counts[arc] + change.get(arc, 0))
                path.append((arc, forward))
                node = previous
            for arc, forward in path:
                change[arc] = change.get(arc, 0) + (push if forward else -push)
            flow += push
        return flow

    def _maximum(self, skip: int, source: int, sink: int) -> int | None:
        """Maximum flow from ``source`` to ``sink`` without arc ``skip`` (None: unlimited)."""
        if self._graph is None:
            tails, heads = np.array(self.tails), np.array(self.heads)
            counts = np.array(self.counts, dtype=np.int64)
            big = int(counts.sum()) + 1  # more than any flow through backward arcs alone
            caps = np.concatenate([np.full(tails.size, big, dtype=np.int64), counts])
            graph = coo_array(
                (caps, (np.concatenate([tails, heads]), np.concatenate([heads, tails]))),
                shape=(self.n_nodes,) * 2,
            ).tocsr()
            graph.sum_duplicates()
            graph.sort_indices()
            if graph.data.max(initial=0) > _INT32_MAX:  # pragma: no cover - 2e9 respondents
                raise OverflowError("counts too large for scipy's 32-bit maximum_flow")
            forward_at = _positions(graph, tails, heads)
            backward_at = _positions(graph, heads, tails)
            self._graph = (graph.data.astype(np.int32), graph.indices, graph.indptr)
            self._at = (forward_at, backward_at, big)
        data, indices, indptr = self._graph
        forward_at, backward_at, big = self._at
        data = data.copy()
        data[forward_at[skip]] -= big
        data[backward_at[skip]] -= self.counts[skip]
        graph = csr_array((data, indices, indptr), shape=(self.n_nodes,) * 2)
        from scipy.sparse.csgraph import maximum_flow

        flow = int(maximum_flow(graph, int(source), int(sink)).flow_value)
        return None if flow >= big else flow


def _positions(graph: csr_array, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Index into a sorted CSR matrix's ``data`` of each (row, col) entry."""
    out = np.empty(rows.size, dtype=np.int64)
    for i, (row, col) in enumerate(zip(rows.tolist(), cols.tolist(), strict=True)):
        start, stop = graph.indptr[row], graph.indptr[row + 1]
        out[i] = start + int(np.searchsorted(graph.indices[start:stop], col))
    return out


def _lp_bound(
    matrix: csr_array, values: np.ndarray, capacity: np.ndarray | None, index: int, sense: int
) -> float:
    """Minimum (``sense`` 1) or maximum (-1) of variable ``index``.

    Over ``matrix @ x = matrix @ values`` and ``0 <= x <= capacity`` (no upper bound
    without ``capacity``): the true values are a feasible point.
    """
    from scipy.optimize import linprog  # imported here: most analyses never need an LP

    objective = np.zeros(values.size)
    objective[index] = sense
    bounds = (0.0, None) if capacity is None else np.column_stack([0.0 * capacity, capacity])
    result = linprog(objective, A_eq=matrix, b_eq=matrix @ values, bounds=bounds, method="highs")
    if result.status == 3:  # unbounded: only a maximum can be
        return float("inf")
    if result.status != 0:  # pragma: no cover - the true values are always feasible
        raise RuntimeError(f"linear program failed: {result.message}")
    return _clean(sense * result.fun)


def _clean(value: float) -> float:
    """An LP optimum without solver noise: counts have integer optima."""
    nearest = round(value)
    return float(nearest) if abs(value - nearest) <= _TOLERANCE else float(value)


def _screen(matrix: csr_array, values: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Which cells (positions) one LP, minimising their total, shows can be 0."""
    from scipy.optimize import linprog

    objective = np.zeros(values.size)
    objective[positions] = 1.0
    result = linprog(
        objective, A_eq=matrix, b_eq=matrix @ values, bounds=(0.0, None), method="highs"
    )
    if result.status != 0:  # pragma: no cover - bounded below and feasible
        return np.zeros(positions.size, dtype=bool)
    return result.x[positions] <= _TOLERANCE


def _count_passes(lo: float, hi: float, threshold: int) -> bool:
    return lo <= _TOLERANCE or hi - lo >= threshold - _TOLERANCE


def _reference_widths(
    sets: list[tuple[int, tuple[int, ...]]],
    shown: np.ndarray,
    counts: np.ndarray,
    shifted: np.ndarray,
    capacity: np.ndarray,
    cells: np.ndarray,
) -> dict[int, float]:
    """Width of what the smallest published group containing each cell reveals alone.

    A published group G with shifted sum s_G and capacity u_G holding cell j (capacity
    u_j) gives s_j in [max(0, s_G - (u_G - u_j)), min(u_j, s_G)]. Without a published
    container the width is u_j (nothing is revealed).
    """
    containers: list[list[int]] = [[] for _ in range(counts.size)]
    for total, members in sets:
        for member in members:
            containers[member].append(total)
    out = {}
    for cell in cells.tolist():
        seen = {cell}
        stack = [cell]
        best: int | None = None
        while stack:
            for total in containers[stack.pop()]:
                if total in seen:
                    continue
                seen.add(total)
                stack.append(total)
                smaller = best is None or (counts[total], total) < (counts[best], best)
                if shown[total] and counts[total] > 0 and smaller:
                    best = total
        u = capacity[cell]
        if best is None:
            out[cell] = float(u)
        else:
            s_g, u_g = shifted[best], capacity[best]
            out[cell] = float(max(0.0, min(u, s_g) - max(0.0, s_g - (u_g - u))))
    return out


class _Auditor:
    """The count rule for :func:`~.suppression.suppress`, remembering cells that passed.

    Within one suppression run cells are only ever withheld, never published again, so
    the reader's polyhedron only grows: a cell that passed keeps passing.
    """

    def __init__(self, system: _System, counts: np.ndarray, threshold: int) -> None:
        self.system = system
        self.counts = counts
        self.threshold = threshold
        self.passed: set[int] = set()

    def failing(self, unpublished: np.ndarray) -> list[int]:
        """Protected cells that fail the count rule, smallest count first."""
        unknown = unpublished & (self.counts > 0)
        protected = np.array(
            [
                c
                for c in np.flatnonzero(unknown & (self.counts < self.threshold)).tolist()
                if c not in self.passed
            ],
            dtype=np.int64,
        )
        failing = []
        for block, cells in self.system.blocks(self.counts, unknown, protected):
            bounds = block.count_bounds(cells.tolist(), self.threshold)
            for cell, (lo, hi) in zip(cells.tolist(), bounds, strict=True):
                if _count_passes(lo, hi, self.threshold):
                    self.passed.add(cell)
                else:
                    failing.append(cell)
        return sorted(failing, key=lambda c: (int(self.counts[c]), c))

    def passes_with(self, cell: int, unpublished: np.ndarray, extra: int) -> bool:
        """Whether ``cell`` would pass once ``extra`` is withheld too."""
        unknown = unpublished & (self.counts > 0)
        unknown[extra] = True
        [(block, _)] = self.system.blocks(self.counts, unknown, np.array([cell]))
        [(lo, hi)] = block.count_bounds([cell], self.threshold)
        return _count_passes(lo, hi, self.threshold)
