"""Answer files for consultants: every respondent's answers, de-identified, with a codebook.

One :class:`AnswerFile` describes a closed campaign's file in one language: the
codebook (``codebook.py``), the release decision that says what each row may show
(``release.answer_file_release``), the rows' order and every answer as a one-byte code
(1 MB per million answers), read with one SELECT of the responses' packed answers
(``matrix.py``). Rows are written in batches: a CSV or Excel download holds one batch of
rows as text besides the codes, however large the campaign, and sends each batch as it
is made; the SPSS file (``spss.py``) is the one format built whole.

Every text cell passes through ``spreadsheet.safe_cell`` (CSV) or ``XlsxStream`` (Excel),
so no comment or department name runs as a formula.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from ..extensions import db
from ..models import Campaign, Response
from . import ServiceError
from .campaigns import campaign_departments
from .codebook import DONT_KNOW, NO_ANSWER, Codebook, build_codebook
from .matrix import MAX_PACKED_VALUE, PACKED_DONT_KNOW, PACKED_NO_ANSWER, codes_matrix
from .questionnaires import questionnaire_for
from .release import AnswerFileRelease, answer_file_release
from .spreadsheet import XlsxStream, safe_cell, safe_row

BOM = "\ufeff"
BATCH = 2000  # rows written per step
FORMATS = ("csv", "xlsx", "sav", "codebook")

# The file's code of each packed code: answers as themselves, the codebook's two
# missing codes for "don't know" and no answer.
FILE_CODE = np.full(256, NO_ANSWER, dtype=np.int8)
FILE_CODE[: MAX_PACKED_VALUE + 1] = np.arange(MAX_PACKED_VALUE + 1)
FILE_CODE[PACKED_DONT_KNOW] = DONT_KNOW
FILE_CODE[PACKED_NO_ANSWER] = NO_ANSWER


@dataclass(frozen=True, slots=True)
class Dialect:
    """How a CSV file separates fields and writes decimals."""

    key: str
    delimiter: str
    decimal: str


DIALECTS = {
    "comma": Dialect("comma", ",", "."),
    "semicolon": Dialect("semicolon", ";", ","),
}


class ChoiceError(ServiceError):
    """A download was asked for with a format, language or CSV style that does not exist."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__(" ".join(self.errors.values()))


@dataclass(frozen=True, slots=True)
class Choice:
    """A valid choice of answer file."""

    format: str
    lang: str
    dialect: Dialect


def read_choice(
    args: Mapping[str, str],
    languages: tuple[str, ...],
    *,
    default_lang: str,
    file_format: str | None = None,
) -> Choice:
    """Check the ``format``, ``lang`` and ``dialect`` of a request; raise :class:`ChoiceError`.

    ``file_format`` fixes the format (a download URL names it); missing values take
    their defaults: the reader's language and comma-separated CSV.
    """
    errors: dict[str, str] = {}
    chosen = file_format or args.get("format", "")
    if chosen not in FORMATS:
        errors["format"] = "Choose the kind of file: CSV, Excel, SPSS or the codebook on its own."
    lang = args.get("lang") or default_lang
    if lang not in languages:
        errors["lang"] = (
            f"{lang!r} is not a language of this questionnaire; choose one of "
            f"{', '.join(languages)}."
        )
    dialect = args.get("dialect") or "comma"
    if dialect not in DIALECTS:
        errors["dialect"] = (
            f"{dialect!r} is not a CSV style; choose 'comma' (comma and decimal point) "
            "or 'semicolon' (semicolon and decimal comma, for Dutch Excel)."
        )
    if errors:
        raise ChoiceError(errors)
    return Choice(chosen, lang, DIALECTS[dialect])


@dataclass(frozen=True, slots=True)
class AnswerFile:
    """A closed campaign's answer file in one language: codebook, decisions and row order."""

    campaign_id: int
    version_id: int
    codebook: Codebook
    release: AnswerFileRelease
    response_ids: np.ndarray  # int64, in the file's order
    cells: tuple[tuple[int, str], ...]  # (recorded department id, role level) per row
    codes: np.ndarray  # int8 answer codes, rows in the file's order, columns as the items
    department_codes: Mapping[int, str]
    # Responses with a comment that is not hidden (ids only: the texts are read per batch).
    commented: frozenset[int] = frozenset()

    def __len__(self) -> int:
        return len(self.response_ids)

    def batches(self, size: int = BATCH) -> Iterator[list[list[object]]]:
        """The rows in the order of the file, ``size`` responses at a time."""
        shown: dict[tuple[int, str], tuple[str, str, str, bool]] = {}
        for start in range(0, len(self.response_ids), size):
            ids = self.response_ids[start : start + size]
            cells = self.cells[start : start + size]
            block = self.codes[start : start + size].tolist()
            comments = self._comments(ids, cells)
            rows: list[list[object]] = []
            for i, cell in enumerate(cells):
                if cell not in shown:
                    shown[cell] = self._shown(*cell)
                department, role, reason, with_comment = shown[cell]
                comment = comments.get(int(ids[i]), "") if with_comment else ""
                rows.append([department, role, *block[i], safe_cell(comment), reason])
            yield rows

    def rows(self) -> Iterator[list[object]]:
        """The rows one by one (see :meth:`batches`)."""
        for batch in self.batches():
            yield from batch

    def _shown(self, department_id: int, role_level: str) -> tuple[str, str, str, bool]:
        release = self.release
        label = release.department(department_id)
        department = "" if label is None else safe_cell(self.department_codes.get(label, ""))
        role = release.role(department_id, role_level) or ""
        reason = self.codebook.reason_text(release.reasons(department_id, role_level))
        return department, safe_cell(role), reason, release.comments_shown(department_id)

    def _comments(self, ids: np.ndarray, cells) -> dict[int, str]:
        """Comments of the rows whose department shows them; hidden ones left out."""
        wanted = [
            int(i)
            for i, (department_id, _) in zip(ids, cells, strict=True)
            if int(i) in self.commented and self.release.comments_shown(department_id)
        ]
        if not wanted:
            return {}
        return {
            response_id: comment.strip()
            for response_id, comment in db.session.execute(
                sa.select(Response.id, Response.comment).where(
                    Response.id.in_(wanted),
                    Response.comment.is_not(None),
                    Response.comment_hidden.is_(False),
                )
            )
        }


def answer_file(campaign: Campaign, lang: str) -> AnswerFile:
    """Prepare ``campaign``'s answer file in ``lang``; raises before any row is written.

    Raises :class:`release.ResultsNotReleased` for a campaign that has not closed and
    :class:`ServiceError` for one with fewer responses than its threshold.
    """
    release = answer_file_release(campaign)
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    codebook = build_codebook(campaign, questionnaire, release, lang)
    codes = {u.department_id: u.code for u in campaign_departments(campaign)}
    # One SELECT: each response's id, department, role and packed answers (no answer
    # rows); read by position below, which is quicker than by name on 50,000 rows.
    meta = (
        db.session.connection()
        .execute(
            sa.select(
                Response.id, Response.department_id, Response.role_level, Response.answer_codes
            ).where(Response.campaign_id == campaign.id)
        )
        .all()
    )
    # Rows are grouped by the department they show and shuffled within it, so their
    # order says nothing about when anyone responded. The shuffling keys come from the
    # operating system's random source, as random.SystemRandom's do, drawn in one call.
    sort_key = {
        department_id: codes.get(release.department(department_id) or -1, "")
        for department_id in {r[1] for r in meta}
    }
    _, shown_department = np.unique(
        np.array([sort_key[r[1]] for r in meta], dtype=str), return_inverse=True
    )
    shuffle = np.frombuffer(os.urandom(8 * len(meta)), dtype=np.uint64)
    ordered = [meta[i] for i in np.lexsort((shuffle, shown_department))]
    response_ids = np.array([r[0] for r in ordered], dtype=np.int64)
    packed = codes_matrix([r[3] for r in ordered], len(questionnaire.items), campaign.id)
    position = {item.id: p for p, item in enumerate(questionnaire.items)}
    columns = [position[item_id] for item_id in codebook.item_ids]
    answers = FILE_CODE[packed]
    if columns != list(range(len(position))):
        answers = answers[:, columns]
    return AnswerFile(
        campaign_id=campaign.id,
        version_id=campaign.questionnaire_version_id,
        codebook=codebook,
        release=release,
        response_ids=response_ids,
        cells=tuple([(r[1], r[2]) for r in ordered]),
        codes=answers,
        department_codes=codes,
        commented=frozenset(
            db.session.scalars(
                sa.select(Response.id).where(
                    Response.campaign_id == campaign.id,
                    Response.comment.is_not(None),
                    Response.comment_hidden.is_(False),
                )
            )
        ),
    )


def _writer(dialect: Dialect) -> tuple[io.StringIO, csv.writer]:  # type: ignore[valid-type]
    buffer = io.StringIO()
    return buffer, csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")


def _decimal(value: object, dialect: Dialect) -> object:
    """A fraction written with the dialect's decimal mark; whole numbers and text unchanged."""
    if isinstance(value, float) and dialect.decimal != ".":
        return repr(value).replace(".", dialect.decimal)
    return value


def answers_csv(file: AnswerFile, dialect: Dialect) -> Iterator[str]:
    """The answer file as CSV text with a byte-order mark, one batch of rows per chunk.

    Answers are whole numbers, so the decimal mark of the dialect never shows in them;
    the separator is what Dutch Excel needs to split the columns.
    """
    buffer, writer = _writer(dialect)
    buffer.write(BOM)
    writer.writerow(file.codebook.names)
    for batch in file.batches():
        writer.writerows(batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def codebook_csv(codebook: Codebook, dialect: Dialect) -> Iterator[str]:
    """The codebook as CSV text with a byte-order mark (see ``Codebook.rows``)."""
    buffer, writer = _writer(dialect)
    buffer.write(BOM)
    writer.writerow(safe_row(codebook.header()))
    for row in codebook.rows():
        writer.writerow(safe_row(_decimal(value, dialect) for value in row))
    yield buffer.getvalue()


def answers_xlsx(file: AnswerFile) -> Iterator[bytes]:
    """The answer file as an Excel workbook: answers, codebook and what was withheld.

    Written as it is sent (``spreadsheet.XlsxStream``): the first bytes leave with the
    header row, then one batch of rows at a time, so memory stays that of one batch.
    """
    codebook = file.codebook
    titles = _sheet_titles(codebook)

    def chunks() -> Iterator[bytes]:
        book = XlsxStream()
        with book.sheet(titles["answers"], freeze_header=True) as data:
            data.append(codebook.names)
            yield book.take()
            for batch in file.batches():
                data.extend(batch)
                # Empty while the compressor gathers a block: nothing to send yet.
                if chunk := book.take():
                    yield chunk
            data.auto_filter(len(codebook.names))
        with book.sheet(
            titles["codebook"], freeze_header=True, widths={"A": 34, "B": 60, "H": 40}
        ) as sheet:
            sheet.append(codebook.header())
            sheet.extend(codebook.rows())
        with book.sheet(titles["withheld"], widths={"A": 110}) as notes:
            notes.extend([line] for line in (titles["heading"], "", *codebook.notes))
            notes.append([])
            for reason in codebook.reasons:
                notes.extend([[reason.text], [reason.explanation]])
        yield book.close()

    return chunks()


def _sheet_titles(codebook: Codebook) -> dict[str, str]:
    from flask_babel import force_locale
    from flask_babel import gettext as _

    with force_locale(codebook.lang):
        return {
            "answers": _("Answers")[:31],
            "codebook": _("Codebook")[:31],
            "withheld": _("What is withheld")[:31],
            "heading": _(
                "How this file protects the people who answered (%(organisation)s, %(campaign)s)",
                organisation=codebook.organisation,
                campaign=codebook.campaign,
            ),
        }
