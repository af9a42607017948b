"""Reading uploaded CSV files strictly: a bad file is rejected whole, with row and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from ..text_checks import CONTROL_CHARACTERS, describe_control_character
from . import ServiceError
from .spreadsheet import safe_row, unquote_cell

# Added to every row by read_csv; a file may not bring a column of that name.
ROW_NUMBER = "__row__"


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem in a CSV file; ``row`` counts lines as a spreadsheet does (header = 1)."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "header"
        column = f", column {self.column!r}" if self.column else ""
        return f"{where}{column}: {self.reason}"


class CSVFileError(ServiceError):
    """A CSV file was rejected; nothing from it was stored."""

    def __init__(self, name: str, errors: Iterable[RowError], limit: int = 20):
        self.name = name
        self.errors = list(errors)
        shown = "\n".join(f"  {e}" for e in self.errors[:limit])
        more = len(self.errors) - limit
        extra = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{name}: rejected, nothing was stored ({len(self.errors)} problem"
            f"{'s' if len(self.errors) != 1 else ''}):\n{shown}{extra}\n"
            "Correct the file and import it again."
        )


def read_csv(data: bytes | str, name: str, required: Iterable[str] = ()) -> list[dict[str, str]]:
    """Parse a CSV file (UTF-8, comma or semicolon separated) into rows of stripped strings."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CSVFileError(
                name,
                [RowError(0, "", f"not UTF-8 text (byte {exc.start}); save the file as CSV UTF-8")],
            ) from None
    else:
        text = data.removeprefix("\ufeff")
    head = text[:4096]
    # A stray control character is named with its row and column below; many of them
    # mean a binary file (a spreadsheet saved as .xlsx, a UTF-16 export).
    if "\x00" in head[:8] or len(CONTROL_CHARACTERS.findall(head)) > max(2, len(head) // 10):
        raise CSVFileError(name, [RowError(0, "", "this is not a text (CSV) file")])
    if not text.strip():
        raise CSVFileError(name, [RowError(0, "", "the file is empty")])
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise CSVFileError(
            name, [RowError(reader.line_num, "", f"not valid CSV ({exc})")]
        ) from None
    header = [h.strip() for h in rows[0]]
    errors: list[RowError] = []
    named = [h if not CONTROL_CHARACTERS.search(h) else "" for h in header]
    for number, row in enumerate(rows, start=1):
        for position, cell in enumerate(row):
            # Checked before stripping: strip() would quietly drop some control characters.
            problem = describe_control_character(cell)
            if problem:
                column = named[position] if position < len(named) and number > 1 else ""
                where = "" if column else f"field {position + 1}: "
                errors.append(
                    RowError(number, column, f"{where}{problem}; remove it and save the file again")
                )
    if errors:
        raise CSVFileError(name, errors)
    seen: set[str] = set()
    for column in header:
        if not column:
            errors.append(RowError(1, "", "a column has no name in the header"))
        elif column == ROW_NUMBER:
            errors.append(RowError(1, column, "this column name is reserved; rename the column"))
        elif column in seen:
            errors.append(RowError(1, column, "this column appears twice"))
        seen.add(column)
    for column in required:
        if column not in seen:
            errors.append(RowError(1, column, "required column is missing"))
    result: list[dict[str, str]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(
                RowError(number, "", f"has {len(row)} fields where the header has {len(header)}")
            )
            continue
        result.append(
            {
                ROW_NUMBER: str(number),
                **{h: unquote_cell(c.strip()) for h, c in zip(header, row, strict=True)},
            }
        )
    if errors:
        raise CSVFileError(name, errors)
    return result


def write_csv(header: list[str], rows: Iterable[Iterable[object]]) -> Iterable[str]:
    """Yield CSV text line by line (for streaming responses and files).

    Every cell goes through ``spreadsheet.safe_cell``: a text that a spreadsheet would
    run as a formula is written with a leading quote; numbers stay numbers.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(safe_row(header))
    yield buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(safe_row(row))
        yield buffer.getvalue()
