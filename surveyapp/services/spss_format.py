"""A writer of SPSS system files (``.sav``) in the standard library and NumPy.

Follows the PSPP developers' guide, chapter "System File Format" (GNU PSPP,
``doc/dev/system-file-format.texi``): the records written, in the order the format
requires, are

- the file header (``$FL2``, bytecode compression, the number of cases, the file label);
- one variable record per 8 bytes of every variable (type 2), with its variable label and
  up to three discrete missing values;
- value labels of numeric and short string variables (types 3 and 4);
- a document (type 6): lines of text that ``DISPLAY DOCUMENTS`` shows;
- extension records (type 7) in ascending subtype: machine integer info (3), machine
  floating-point info (4), measurement level, display width and alignment (11), long
  variable names (13), very long strings (14), character encoding ``UTF-8`` (20) and
  value labels of strings longer than 8 bytes (21);
- the dictionary termination (999), then the cases.

Strings wider than 255 bytes ("very long strings", up to 32,767 bytes) are written the
way the format prescribes: as segments of 255 bytes, each a variable of its own, joined
again by the reader from the very long string record.

Cases are compressed with the format's bytecode: every 8-byte element becomes one code
byte (a whole number from -99 to 151, eight spaces, or system-missing) or the code 253
followed by the 8 bytes themselves. The writer is a generator: the header and the
dictionary first, then each batch of rows as it comes, so memory holds one batch
whatever the number of cases. Integers and floats are little-endian, as the machine
integer info record says.

Nothing here imports the app: it is a format, given plain values.
"""

from __future__ import annotations

import datetime as dt
import re
import struct
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

MAX_STRING_BYTES = 32767  # the widest string variable SPSS knows
SEGMENT_BYTES = 255  # a very long string is stored in segments of this many bytes
SEGMENT_WIDTH = 252  # ... each of which stands for this much of its width
LONG_NAME_BYTES = 64
LABEL_BYTES = 256  # variable labels, as SPSS writes them at most
VALUE_LABEL_BYTES = 120
FILE_LABEL_BYTES = 64
DOCUMENT_LINE_BYTES = 80
BIAS = 100.0  # compressed numbers are whole numbers from 1 - BIAS to 251 - BIAS
SYSMIS = -sys.float_info.max
HIGHEST = sys.float_info.max
LOWEST = float(np.nextafter(-sys.float_info.max, 0.0))
MEASURES = {"nominal": 1, "ordinal": 2, "scale": 3}
RESERVED = frozenset(
    ["ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"]
)
NAME = re.compile(r"[A-Za-z@][A-Za-z0-9_.@#$]*")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PRODUCT = "@(#) SPSS DATA FILE surveyapp"
BLOCK_BYTES = 4 * 1024 * 1024  # the cases encoded in one step, about this many bytes

# Bytecodes of compressed data.
CODE_PADDING, CODE_END, CODE_RAW, CODE_SPACES, CODE_SYSMIS = 0, 252, 253, 254, 255
SPACES = int.from_bytes(b" " * 8, "little")


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` bytes of UTF-8 without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


@dataclass(frozen=True, slots=True)
class SavVariable:
    """One variable: numeric when ``width`` is 0, otherwise a string of ``width`` bytes.

    ``value_labels`` pairs a value (a number, or a text for a string) with its label;
    ``missing`` holds up to three numbers that SPSS treats as user-missing.
    """

    name: str
    label: str = ""
    width: int = 0
    measure: str = "nominal"
    value_labels: tuple[tuple[float | str, str], ...] = ()
    missing: tuple[float, ...] = ()

    @property
    def numeric(self) -> bool:
        return self.width == 0


@dataclass(frozen=True, slots=True)
class _Segment:
    short_name: str
    width: int  # 0 for a number
    offset: int  # the first of its 8-byte elements in a case

    @property
    def elements(self) -> int:
        return 1 if self.width == 0 else -(-self.width // 8)


def segment_widths(width: int) -> list[int]:
    """The widths of the segments a string of ``width`` bytes is stored in."""
    if width <= SEGMENT_BYTES:
        return [width]
    count = (width + SEGMENT_WIDTH - 1) // SEGMENT_WIDTH
    return [SEGMENT_BYTES] * (count - 1) + [width - (count - 1) * SEGMENT_WIDTH]


class SavLayout:
    """Where each variable's segments and bytes lie in a case, and their short names."""

    def __init__(self, variables: Sequence[SavVariable]):
        _check(variables)
        self.variables = tuple(variables)
        self.segments: list[list[_Segment]] = []
        taken = set(RESERVED)
        offset = 0
        for variable in self.variables:
            segments = []
            for i, width in enumerate(segment_widths(variable.width)):
                name = _short_name(variable.name, i, taken)
                segments.append(_Segment(name, width, offset))
                offset += segments[-1].elements
            self.segments.append(segments)
        self.elements = offset  # the header's nominal case size
        self.numeric_elements = np.array(
            [s[0].offset for v, s in zip(self.variables, self.segments, strict=True) if v.numeric],
            dtype=np.int64,
        )
        self.string_elements = np.ones(self.elements, dtype=bool)
        self.string_elements[self.numeric_elements] = False

    def dictionary_index(self, position: int) -> int:
        """The 1-based index of a variable's first variable record."""
        return self.segments[position][0].offset + 1


def _check(variables: Sequence[SavVariable]) -> None:
    names: set[str] = set()
    for v in variables:
        if not v.name or len(v.name.encode("utf-8")) > LONG_NAME_BYTES:
            raise ValueError(f"Variable name {v.name!r} must have 1 to 64 bytes.")
        if not NAME.fullmatch(v.name) or v.name.endswith(".") or v.name.upper() in RESERVED:
            raise ValueError(
                f"Variable name {v.name!r} is not one SPSS accepts: a letter, then letters, "
                "digits or _ . @ # $, not ending in a full stop, and not a reserved word."
            )
        if v.name.lower() in names:
            raise ValueError(f"Variable name {v.name!r} is used twice.")
        names.add(v.name.lower())
        if not 0 <= v.width <= MAX_STRING_BYTES:
            raise ValueError(f"{v.name}: a string has 1 to {MAX_STRING_BYTES} bytes.")
        if v.measure not in MEASURES:
            raise ValueError(f"{v.name}: measure {v.measure!r} is not one of {list(MEASURES)}.")
        if v.missing and (not v.numeric or len(v.missing) > 3):
            raise ValueError(f"{v.name}: up to three missing values, for numbers only.")
        for value, _ in v.value_labels:
            if v.numeric != isinstance(value, int | float):
                raise ValueError(f"{v.name}: value {value!r} is not of the variable's type.")
            if not v.numeric and len(str(value).encode("utf-8")) > v.width:
                raise ValueError(f"{v.name}: value {value!r} is wider than the variable.")


def _short_name(name: str, segment: int, taken: set[str]) -> str:
    """A unique name of at most 8 bytes (letters, digits, ``_``) for a variable record.

    The long variable names record gives every variable its real name back; short
    names only need to be unique, start with a letter and be upper case.
    """
    stem = re.sub(r"[^A-Z0-9_]", "", name.upper()) or "V"
    if not stem[0].isalpha():
        stem = "V" + stem
    candidate = stem[:8] if segment == 0 else ""
    number = segment
    while not candidate or candidate in taken:
        suffix = str(number)
        candidate = stem[: 8 - len(suffix)] + suffix
        number += 1
    taken.add(candidate)
    return candidate


def write_sav(
    variables: Sequence[SavVariable],
    batches: Iterable[Sequence[Sequence[object]]],
    *,
    cases: int,
    label: str = "",
    documents: Sequence[str] = (),
    created: dt.datetime | None = None,
) -> Iterator[bytes]:
    """The system file of ``cases`` rows, from the header to the last case, in chunks.

    Each batch holds rows with one value per variable: a number (``None`` or NaN for
    system-missing) or a text no wider than its variable in UTF-8. ``documents`` are
    paragraphs shown by ``DISPLAY DOCUMENTS``. Raises :class:`ValueError` for a bad
    dictionary before anything is written, and for a row that does not fit its
    variables, or a number of rows other than ``cases``, as soon as it is met.
    """
    layout = SavLayout(variables)
    if not 0 <= cases < 2**31:
        raise ValueError("The number of cases must fit a 32-bit integer.")
    return _chunks(layout, batches, cases, label, documents, created or dt.datetime.now())


def _chunks(layout, batches, cases, label, documents, created) -> Iterator[bytes]:
    yield _dictionary(layout, cases, label, documents, created)
    compressor = _Compressor()
    rows_per_block = max(1, BLOCK_BYTES // (8 * layout.elements))
    written = 0
    for batch in batches:
        for start in range(0, len(batch), rows_per_block):
            rows = batch[start : start + rows_per_block]
            written += len(rows)
            if written > cases:
                raise ValueError(f"More rows than the {cases} cases announced.")
            codes, raw = _encode(layout, rows)
            chunk = compressor.feed(codes, raw)
            if chunk:
                yield chunk
    if written != cases:
        raise ValueError(f"{written} rows written where {cases} cases were announced.")
    yield compressor.finish()


# The dictionary ---------------------------------------------------------------------


def _int32(*values: int) -> bytes:
    return struct.pack(f"<{len(values)}i", *values)


def _text(value: str, size: int) -> bytes:
    """``value`` in UTF-8, cut to ``size`` bytes and padded with spaces."""
    return fit(value, size).encode("utf-8").ljust(size, b" ")


def _extension(subtype: int, size: int, data: bytes) -> bytes:
    return _int32(7, subtype, size, len(data) // size) + data


def _dictionary(layout: SavLayout, cases: int, label: str, documents, created) -> bytes:
    parts = [_header(layout, cases, label, created)]
    for variable, segments in zip(layout.variables, layout.segments, strict=True):
        parts.append(_variable_records(variable, segments))
    parts.append(_value_labels(layout))
    lines = [line for paragraph in documents for line in _wrap(paragraph)]
    if lines:
        parts.append(_int32(6, len(lines)) + b"".join(_text(x, 80) for x in lines))
    # Version 0.1.0 of the writer, machine code -1 (unspecified), IEEE 754 floats,
    # compression code 1, little-endian (2), UTF-8 (code page 65001).
    parts.append(_extension(3, 4, _int32(0, 1, 0, -1, 1, 1, 2, 65001)))
    parts.append(_extension(4, 8, struct.pack("<3d", SYSMIS, HIGHEST, LOWEST)))
    parts.append(_extension(11, 4, _display(layout)))
    names = b"\t".join(
        f"{segments[0].short_name}={v.name}".encode()
        for v, segments in zip(layout.variables, layout.segments, strict=True)
    )
    parts.append(_extension(13, 1, names))
    very_long = b"".join(
        f"{segments[0].short_name}={v.width:05d}".encode() + b"\x00\t"
        for v, segments in zip(layout.variables, layout.segments, strict=True)
        if v.width > SEGMENT_BYTES
    )
    if very_long:
        parts.append(_extension(14, 1, very_long))
    parts.append(_extension(20, 1, b"UTF-8"))
    long_labels = _long_string_value_labels(layout)
    if long_labels:
        parts.append(_extension(21, 1, long_labels))
    parts.append(_int32(999, 0))
    return b"".join(parts)


def _header(layout: SavLayout, cases: int, label: str, created: dt.datetime) -> bytes:
    date = f"{created.day:02d} {MONTHS[created.month - 1]} {created.year % 100:02d}"
    return b"".join(
        [
            b"$FL2",
            _text(PRODUCT, 60),
            _int32(2, layout.elements, 1, 0, cases),  # layout, case size, bytecode, no weight
            struct.pack("<d", BIAS),
            date.encode("ascii"),
            created.strftime("%H:%M:%S").encode("ascii"),
            _text(label, FILE_LABEL_BYTES),
            b"\x00" * 3,
        ]
    )


def _format(width: int) -> int:
    """A print and write format: F8.0 for numbers, A<width> for strings."""
    return (5 << 16) | (8 << 8) if width == 0 else (1 << 16) | (width << 8)


def _variable_records(variable: SavVariable, segments: list[_Segment]) -> bytes:
    records = []
    for i, segment in enumerate(segments):
        has_label = i == 0 and bool(variable.label)
        missing = variable.missing if i == 0 else ()
        record = _int32(2, segment.width, int(has_label), len(missing))
        record += _int32(_format(segment.width), _format(segment.width))
        record += segment.short_name.encode("ascii").ljust(8, b" ")
        if has_label:
            text = fit(variable.label, LABEL_BYTES).encode("utf-8")
            record += _int32(len(text)) + text.ljust(-(-len(text) // 4) * 4, b" ")
        record += struct.pack(f"<{len(missing)}d", *missing)
        records.append(record)
        # Each further 8 bytes of a string: a continuation record.
        records += [_int32(2, -1, 0, 0, 0, 0) + b" " * 8] * (segment.elements - 1)
    return b"".join(records)


def _value_labels(layout: SavLayout) -> bytes:
    """Records 3 and 4: one pair per distinct set of labels of numbers or short strings."""
    groups: dict[tuple, list[int]] = {}
    for position, variable in enumerate(layout.variables):
        if variable.value_labels and variable.width <= 8:
            key = (variable.numeric, variable.value_labels)
            groups.setdefault(key, []).append(layout.dictionary_index(position))
    records = []
    for (numeric, labels), indexes in groups.items():
        record = _int32(3, len(labels))
        for value, text in labels:
            raw = struct.pack("<d", value) if numeric else _text(str(value), 8)
            label = fit(text, VALUE_LABEL_BYTES).encode("utf-8")
            entry = bytes([len(label)]) + label
            record += raw + entry.ljust(-(-len(entry) // 8) * 8, b" ")
        records.append(record + _int32(4, len(indexes), *indexes))
    return b"".join(records)


def _long_string_value_labels(layout: SavLayout) -> bytes:
    """Subtype 21: value labels of strings wider than 8 bytes, each value at full width."""
    data = []
    for variable in layout.variables:
        if not variable.value_labels or variable.width <= 8:
            continue
        name = variable.name.encode("utf-8")
        data.append(_int32(len(name)) + name + _int32(variable.width, len(variable.value_labels)))
        for value, text in variable.value_labels:
            label = fit(text, VALUE_LABEL_BYTES).encode("utf-8")
            data.append(_int32(variable.width) + _text(str(value), variable.width))
            data.append(_int32(len(label)) + label)
    return b"".join(data)


def _display(layout: SavLayout) -> bytes:
    """Subtype 11: measurement level, column width and alignment of every segment."""
    values = []
    for variable, segments in zip(layout.variables, layout.segments, strict=True):
        for segment in segments:
            width = 8 if variable.numeric else min(max(segment.width, 1), 40)
            values += [MEASURES[variable.measure], width, 1 if variable.numeric else 0]
    return _int32(*values)


def _wrap(paragraph: str) -> list[str]:
    """A paragraph as lines of at most 80 bytes, broken between words where it can."""
    lines: list[str] = []
    line = ""
    for word in paragraph.split():
        while len(word.encode("utf-8")) > DOCUMENT_LINE_BYTES:  # a word longer than a line
            head = fit(word, DOCUMENT_LINE_BYTES)
            if line:
                lines.append(line)
                line = ""
            lines.append(head)
            word = word[len(head) :]
        joined = f"{line} {word}" if line else word
        if len(joined.encode("utf-8")) <= DOCUMENT_LINE_BYTES:
            line = joined
        else:
            lines.append(line)
            line = word
    if line or not lines:
        lines.append(line)
    return lines


# The cases --------------------------------------------------------------------------


def _encode(layout: SavLayout, rows: Sequence[Sequence[object]]) -> tuple[np.ndarray, np.ndarray]:
    """The rows' bytecodes (one per 8-byte element, row after row) and raw elements."""
    case = np.full((len(rows), 8 * layout.elements), ord(" "), dtype=np.uint8)
    numbers = case.view("<f8")
    elements = case.view("<u8")
    codes = np.full(elements.shape, CODE_RAW, dtype=np.uint8)
    numeric = [p for p, v in enumerate(layout.variables) if v.numeric]
    if numeric:
        values = np.array([[row[p] for p in numeric] for row in rows], dtype=np.float64)
        if values.shape != (len(rows), len(numeric)):
            raise ValueError("Every row needs one value per variable.")
        missing = np.isnan(values)
        filled = np.where(missing, 0.0, values)
        small = (filled == np.round(filled)) & (filled >= 1 - BIAS) & (filled <= 251 - BIAS)
        numbers[:, layout.numeric_elements] = np.where(missing, SYSMIS, values)
        codes[:, layout.numeric_elements] = np.where(
            missing, CODE_SYSMIS, np.where(small, filled + BIAS, CODE_RAW)
        ).astype(np.uint8)
    for position, variable in enumerate(layout.variables):
        if variable.numeric:
            continue
        segments = layout.segments[position]
        for r, row in enumerate(rows):
            value = row[position]
            if not value:
                continue
            data = str(value).encode("utf-8")
            if len(data) > variable.width:
                raise ValueError(
                    f"{variable.name}: a value of {len(data)} bytes is wider than the "
                    f"variable's {variable.width}."
                )
            for i, segment in enumerate(segments):
                piece = data[i * SEGMENT_BYTES : (i + 1) * SEGMENT_BYTES]
                if not piece:
                    break
                start = 8 * segment.offset
                case[r, start : start + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
    strings = layout.string_elements
    codes[:, strings] = np.where(elements[:, strings] == SPACES, CODE_SPACES, CODE_RAW)
    return codes.ravel(), elements[codes == CODE_RAW]


class _Compressor:
    """Bytecode blocks: eight codes, then the raw elements that codes 253 point to.

    Blocks run on across cases and batches; the codes of a block not yet full wait for
    the next batch, and the last block ends with code 252 and padding.
    """

    def __init__(self) -> None:
        self.codes = np.empty(0, dtype=np.uint8)
        self.raw = np.empty(0, dtype="<u8")

    def feed(self, codes: np.ndarray, raw: np.ndarray) -> bytes:
        codes = np.concatenate([self.codes, codes])
        raw = np.concatenate([self.raw, raw])
        full = len(codes) // 8 * 8
        waiting = int(np.count_nonzero(codes[full:] == CODE_RAW))
        self.codes, self.raw = codes[full:], raw[len(raw) - waiting :]
        return _blocks(codes[:full], raw[: len(raw) - waiting])

    def finish(self) -> bytes:
        codes = np.concatenate([self.codes, np.array([CODE_END], dtype=np.uint8)])
        codes = np.concatenate([codes, np.full(-len(codes) % 8, CODE_PADDING, dtype=np.uint8)])
        return _blocks(codes, self.raw)


def _blocks(codes: np.ndarray, raw: np.ndarray) -> bytes:
    """Whole blocks of ``codes`` (a multiple of 8), each followed by its raw elements."""
    groups = codes.reshape(-1, 8)
    if not len(groups):
        return b""
    per_group = np.count_nonzero(groups == CODE_RAW, axis=1)
    slots = 1 + per_group
    starts = np.cumsum(slots) - slots
    out = np.empty(int(slots.sum()), dtype="<u8")
    out[starts] = np.ascontiguousarray(groups).view("<u8").ravel()
    group_of_raw = np.repeat(np.arange(len(groups)), per_group)
    rank = np.arange(len(raw)) - np.repeat(np.cumsum(per_group) - per_group, per_group)
    out[starts[group_of_raw] + 1 + rank] = raw
    return out.tobytes()


def string_width(values: Iterable[str]) -> int:
    """The width (at least 1 byte) that holds every one of ``values`` in UTF-8."""
    return max((len(v.encode("utf-8")) for v in values), default=0) or 1
