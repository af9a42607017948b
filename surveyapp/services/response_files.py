"""The response CSV: the one format for import, export and stand-alone analysis.

Parsing and checking only, with no database, so that ``surveyapp analyze`` reads a file
without loading the app; ``responses.import_responses`` stores what this returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ..questionnaires import Questionnaire
from .csvfiles import CSVFileError, RowError, read_csv
from .spreadsheet import unquote_cell

META_COLUMNS = ("department", "role_level", "language", "submitted_on", "comment")


@dataclass(frozen=True, slots=True)
class ParsedResponses:
    """A validated response file: one row per respondent."""

    item_ids: tuple[str, ...]
    matrix: np.ndarray  # respondents × items, NaN for missing
    columns: dict[str, tuple[str, ...]]  # each non-item column's cells, in file order

    @property
    def meta(self) -> tuple[dict[str, str], ...]:
        """The non-item columns per row (built on each access)."""
        names = tuple(self.columns)
        if not names:
            return tuple({} for _ in range(self.matrix.shape[0]))
        return tuple(
            dict(zip(names, row, strict=True)) for row in zip(*self.columns.values(), strict=True)
        )


def parse_responses(
    questionnaire: Questionnaire,
    data: bytes | str,
    name: str,
    *,
    required_meta: Iterable[str] = ("department", "role_level"),
    allowed_meta: Iterable[str] = META_COLUMNS,
    departments: Iterable[str] | None = None,
) -> ParsedResponses:
    """Validate a response CSV completely; raise CSVFileError listing every problem.

    A plain file (see :func:`_parse_plain`) is read column-wise with NumPy; any other
    file, and any file with a problem, is read row by row, which names every problem.
    Both give the same result for a file both accept (``tests/test_response_files.py``).
    """
    rules = _MetaRules(
        required=tuple(required_meta),
        departments=frozenset(departments) if departments is not None else None,
        role_levels=frozenset(
            o.id for o in questionnaire.background_question("role_level").options
        ),
        languages=tuple(questionnaire.languages),
    )
    fast = _parse_plain(questionnaire, data, rules, allowed_meta)
    if fast is not None:
        return fast
    return _parse_rows(questionnaire, data, name, rules, allowed_meta)


@dataclass(frozen=True, slots=True)
class _MetaRules:
    """What the non-item columns must hold."""

    required: tuple[str, ...]
    departments: frozenset[str] | None
    role_levels: frozenset[str]
    languages: tuple[str, ...]


# The columns checked, in the order their problems are listed for a row.
_CHECKED_META = ("department", "role_level", "language", "submitted_on")


def _meta_problem(column: str, value: str, rules: _MetaRules) -> str | None:
    """What is wrong with one non-item cell, or None."""
    if column == "department":
        if rules.departments is not None:
            if value not in rules.departments:
                return f"{value!r} is not a department code of this campaign"
        elif "department" in rules.required and not value:
            return "empty"
    elif column == "role_level":
        if value not in rules.role_levels and (value or "role_level" in rules.required):
            return f"{value!r} is not one of {', '.join(sorted(rules.role_levels))}"
    elif column == "language":
        if value and value not in rules.languages:
            return f"{value!r} is not one of {', '.join(rules.languages)}"
    elif column == "submitted_on" and value:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return f"{value!r} is not a date written as YYYY-MM-DD"
    return None


def _parse_rows(
    questionnaire: Questionnaire,
    data: bytes | str,
    name: str,
    rules: _MetaRules,
    allowed_meta: Iterable[str],
) -> ParsedResponses:
    """Read the file row by row with ``csvfiles.read_csv``, collecting every problem."""
    item_ids = tuple(item.id for item in questionnaire.items)
    required_meta = rules.required
    allowed = set(allowed_meta) | set(required_meta) | set(item_ids)
    rows = read_csv(data, name, required=required_meta)
    errors: list[RowError] = []
    header = [c for c in (rows[0] if rows else {}) if c != "__row__"]
    if not rows:
        raise CSVFileError(name, [RowError(2, "", "the file has a header but no responses")])
    for column in header:
        if column not in allowed:
            errors.append(
                RowError(
                    1,
                    column,
                    "unknown column: neither a question id of "
                    f"{questionnaire.id} v{questionnaire.version} nor one of "
                    f"{', '.join(sorted(set(allowed) - set(item_ids)))}",
                )
            )
    present_items = [i for i in item_ids if i in header]
    if not present_items:
        errors.append(
            RowError(1, "", f"no question columns; expected ids such as {', '.join(item_ids[:3])}")
        )
    valid = {str(p.value): p.value for p in questionnaire.scale.points}
    matrix = np.full((len(rows), len(item_ids)), np.nan)
    column_index = {item_id: j for j, item_id in enumerate(item_ids)}
    checked = [c for c in _CHECKED_META if c in header]
    meta: list[dict[str, str]] = []
    for i, row in enumerate(rows):
        number = int(row["__row__"])
        for item_id in present_items:
            raw = row[item_id]
            if raw == "":
                continue
            value = valid.get(raw.removesuffix(".0"))
            if value is None:
                errors.append(
                    RowError(
                        number,
                        item_id,
                        f"{raw!r} is not a whole number from "
                        f"{questionnaire.scale.min} to {questionnaire.scale.max} "
                        "(leave the cell empty for no answer)",
                    )
                )
                continue
            matrix[i, column_index[item_id]] = value
        info = {c: row[c] for c in header if c not in column_index}
        if "department" not in info and "department" in required_meta:
            errors.append(RowError(number, "department", "empty"))
        for column in checked:
            problem = _meta_problem(column, info[column], rules)
            if problem is not None:
                errors.append(RowError(number, column, problem))
        meta.append(info)
    if errors:
        raise CSVFileError(name, errors)
    names = [c for c in header if c not in column_index]
    return ParsedResponses(item_ids, matrix, {c: tuple(info[c] for info in meta) for c in names})


# Bytes that send a file to the row-by-row reader: C0 control characters other than tab
# and newline (the reader names them), the quote character (a quoted cell may hold a
# delimiter or a newline) and a carriage return not followed by a newline.
_NOT_PLAIN = bytes([*range(0x00, 0x09), 0x0B, 0x0C, 0x0D, *range(0x0E, 0x20), 0x22, 0x7F])
_ZERO, _NEWLINE, _DOT = ord("0"), ord("\n"), ord(".")
_LONGEST_ANSWER = 3  # scale points are 0 to 100


def _parse_plain(
    questionnaire: Questionnaire,
    data: bytes | str,
    rules: _MetaRules,
    allowed_meta: Iterable[str],
) -> ParsedResponses | None:
    """Read a plain, valid file column by column; None for any other file.

    *Plain*: UTF-8, no quote character, no control character, every line with the
    header's number of fields and none blank, every answer cell empty or a scale value
    written as ``csvfiles.read_csv`` and :func:`_parse_rows` accept it (``3``, ``3.0``),
    without surrounding blanks. Such a file is split at its delimiters and newlines with
    NumPy, and the answers are decoded as digits, all cells at once: a 200,000-row file
    in a fraction of a second instead of the row-by-row reader's several seconds. The
    non-item columns are decoded, stripped and checked once per distinct value. Anything
    else (a quoted cell, a blank line, a value off the scale, an unknown department)
    returns None, and :func:`_parse_rows` reads the file again and names each problem.
    """
    if isinstance(data, str):
        data = data.removeprefix("\ufeff").encode("utf-8", "surrogatepass")
    data = data.removeprefix(b"\xef\xbb\xbf")
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n")
    data = data.removesuffix(b"\n")
    first_newline = data.find(b"\n")
    if first_newline < 0:
        return None  # a header alone, or nothing
    if len(data.translate(None, _NOT_PLAIN)) != len(data):
        return None
    # Padded, so that reading a few bytes past the last field needs no bounds checks.
    padded = np.frombuffer(data + b"\n" * (_LONGEST_ANSWER + 2), dtype=np.uint8)
    buf = padded[: len(data)]
    # C1 control characters (U+0080 to U+009F) are the two bytes C2 80 to C2 9F in UTF-8.
    lead = np.flatnonzero(buf[:-1] == 0xC2)
    if lead.size and ((buf[lead + 1] >= 0x80) & (buf[lead + 1] <= 0x9F)).any():
        return None
    try:
        first_line = data[:first_newline].decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not first_line.strip() or first_line != first_line.splitlines()[0]:
        return None  # a line separator that str.splitlines sees and the CSV reader does not
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    header = [h.strip() for h in first_line.split(delimiter)]
    item_ids = tuple(item.id for item in questionnaire.items)
    allowed = set(allowed_meta) | set(rules.required) | set(item_ids)
    if (
        len(set(header)) != len(header)
        or not set(header) <= allowed
        or not set(rules.required) <= set(header)
        or not set(header) & set(item_ids)
    ):
        return None  # (an empty or reserved column name is not in ``allowed`` either)

    # Every field ends at a delimiter or a newline; a line of the right length has
    # exactly len(header) of them, the last a newline (or the end of the file).
    width = len(header)
    body = buf[first_newline + 1 :]
    body_padded = padded[first_newline + 1 :]
    # The padding's first newline ends the last field: no copy to append it.
    searched = body_padded[: body.size + 1]
    ends = np.flatnonzero((searched == ord(delimiter)) | (searched == _NEWLINE))
    if ends.size % width:
        return None
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    ends, starts = ends.reshape(-1, width), starts.reshape(-1, width)
    n_rows = ends.shape[0]
    if data.count(b"\n") != n_rows or not (body[ends[:-1, -1]] == _NEWLINE).all():
        return None
    lengths = ends - starts

    column_index = {item_id: j for j, item_id in enumerate(item_ids)}
    positions = [p for p, column in enumerate(header) if column in column_index]
    # Item columns side by side (the usual layout) are a view, not a copy.
    side_by_side = positions == list(range(positions[0], positions[-1] + 1))
    where = slice(positions[0], positions[-1] + 1) if side_by_side else positions
    values = _plain_answers(body_padded, starts[:, where], lengths[:, where], questionnaire)
    if values is None:
        return None
    order = [column_index[header[p]] for p in positions]
    if order == list(range(len(item_ids))):
        matrix = values
    else:
        matrix = np.full((n_rows, len(item_ids)), np.nan)
        matrix[:, order] = values

    columns: dict[str, tuple[str, ...]] = {}
    blank = np.isnan(values).all(axis=1)  # rows without answers
    for p, column in enumerate(header):
        if column in column_index:
            continue
        cells, inverse = _distinct_cells(body, body_padded, starts[:, p], lengths[:, p])
        texts: list[str] = []
        for cell in cells:
            try:
                text = unquote_cell(cell.decode("utf-8").strip())
            except UnicodeDecodeError:
                return None
            if column in _CHECKED_META and _meta_problem(column, text, rules) is not None:
                return None
            texts.append(text)
        columns[column] = tuple(np.array(texts, dtype=object)[inverse].tolist())
        blank &= np.array([not cell.strip() for cell in cells], dtype=bool)[inverse]
    if blank.any():
        return None  # a line of empty cells, which the row-by-row reader skips
    return ParsedResponses(item_ids, matrix, columns)


# Cells of a non-item column at most this long are compared as fixed-width byte strings
# (rows × width bytes); a column with a longer cell is cut out cell by cell.
_WIDEST_FIXED_CELL = 64


def _distinct_cells(
    body: np.ndarray, padded: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> tuple[list[bytes], np.ndarray]:
    """A column's distinct cells (raw bytes) and, per row, the index of its cell among them.

    Department and role columns hold a few distinct values in many rows: the cells are
    laid side by side as fixed-width byte strings, zero-filled past each cell's end, and
    sorted once by NumPy, instead of cutting 200,000 small byte strings in Python.
    """
    width = int(lengths.max()) if lengths.size else 0
    if width > _WIDEST_FIXED_CELL:
        raw = bytes(body)
        cut = [raw[a : a + n] for a, n in zip(starts.tolist(), lengths.tolist(), strict=True)]
        distinct = sorted(set(cut))
        position = {cell: k for k, cell in enumerate(distinct)}
        return distinct, np.fromiter((position[c] for c in cut), dtype=np.intp, count=len(cut))
    if width == 0:
        return [b""], np.zeros(lengths.shape, dtype=np.intp)
    columns = np.arange(width)
    # ``padded`` is ``body`` and a few newlines: a read past the end is clipped to it,
    # and every byte past a cell's own end is masked to zero below.
    at = np.minimum(starts[:, None] + columns, padded.size - 1)
    chars = padded[at]
    chars[columns >= lengths[:, None]] = 0
    # A fixed-width byte string drops trailing zero bytes, so each value is the cell
    # itself (a cell never holds a zero byte: such a file is not plain).
    fixed = np.ascontiguousarray(chars).view(f"S{width}").ravel()
    distinct, inverse = np.unique(fixed, return_inverse=True)
    return [bytes(cell) for cell in distinct.tolist()], inverse.ravel()


def _plain_answers(
    body: np.ndarray, starts: np.ndarray, lengths: np.ndarray, questionnaire: Questionnaire
) -> np.ndarray | None:
    """Answer cells as scale values (NaN for empty); None if any cell is not one.

    ``body`` runs a few bytes past the last field (padding), so no read is clipped;
    what is read beyond a cell is masked by its length.

    Accepted, as by :func:`_parse_rows`: the decimal digits of a scale point without a
    leading zero, optionally followed by ``.0``; an empty cell is no answer.
    """
    if not lengths.size:
        return np.empty(lengths.shape)
    known = np.zeros(10**_LONGEST_ANSWER, dtype=bool)
    known[[p.value for p in questionnaire.scale.points]] = True
    answered = lengths > 0
    if int(lengths.max()) == 1:  # single-digit scales written plainly: the common case
        digit = body[starts] - np.uint8(_ZERO)  # wraps above 9 for anything but a digit
        if (answered & ~known[digit]).any():
            return None
        return np.where(answered, digit, np.nan)
    digits = lengths
    suffix = lengths >= 3
    if suffix.any():
        at = starts + lengths - 1
        suffix &= (body[at] == _ZERO) & (body[at - 1] == _DOT)
        digits = lengths - 2 * suffix
    longest = int(digits.max())
    if longest > _LONGEST_ANSWER:
        return None
    number = np.zeros(lengths.shape, dtype=np.int16)
    for k in range(longest):
        inside = digits > k
        digit = body[starts + k].astype(np.int16) - _ZERO
        if (inside & ((digit < 0) | (digit > 9))).any():
            return None
        if k == 0 and (inside & (digits > 1) & (digit == 0)).any():
            return None  # a leading zero: "05" is not how a scale point is written
        number = np.where(inside, number * 10 + digit, number)
    answered = digits > 0
    if (answered & ~known[number]).any():
        return None
    return np.where(answered, number, np.nan)
