"""Where the printed report puts a dimension's departments chart: decided here, once.

A dimension's page holds its key figures, its statements and its recommendation. The
chart of its departments fits beside them only for a small organisation; for a larger
one it would spill onto a second page that is mostly empty. Such charts are printed
together in the chapter "Departments per dimension", two or three to a page, and the
dimension's page keeps the sentences about its departments with the page of its chart.

The limits were found by rendering the demo organisations (5 to 15 departments, 4 to 6
statements per dimension) and checking which dimension pages stay one page long;
``tests/test_pdf.py`` holds that a dimension printed with its chart takes one page.
"""

from __future__ import annotations

from collections.abc import Iterable

from .view import DimensionView

#: Most rows (statements plus department rows, withheld ones included) a dimension's page
#: holds with its departments chart, at the statement texts' usual length.
ROWS_ON_DIMENSION_PAGE = 9


def departments_charted(dimension: DimensionView) -> bool:
    """Whether the dimension has a departments chart at all (some department shown)."""
    return bool(
        not dimension.suppressed
        and dimension.departments
        and any(not group.suppressed for group in dimension.departments)
    )


def departments_on_dimension_page(dimension: DimensionView) -> bool:
    """Whether the departments chart prints on the dimension's own page."""
    rows = len(dimension.items) + len(dimension.departments)
    return departments_charted(dimension) and rows <= ROWS_ON_DIMENSION_PAGE


def departments_apart(dimensions: Iterable[DimensionView]) -> list[DimensionView]:
    """The dimensions whose departments chart prints in "Departments per dimension"."""
    return [
        d for d in dimensions if departments_charted(d) and not departments_on_dimension_page(d)
    ]
