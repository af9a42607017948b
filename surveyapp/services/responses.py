"""Drafts, submissions, imports and exports of responses."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from functools import cache
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..inputs import control_character_name
from ..models import (
    ROLE_LEVELS,
    Answer,
    Campaign,
    Draft,
    Invitation,
    QuestionnaireItem,
    Response,
    today,
)
from ..questionnaires import Questionnaire
from . import ServiceError
from .answer_files import answer_file
from .campaigns import accepts_responses, campaign_departments
from .csvfiles import CSVFileError, RowError
from .drafts import DraftContent, DraftKey, open_draft, seal_draft
from .matrix import PACKED_DONT_KNOW, PACKED_NO_ANSWER, pack_answers, pack_matrix
from .questionnaires import questionnaire_for
from .release import ensure_accepts_writes
from .response_files import ParsedResponses, parse_responses


class AlreadySubmitted(ServiceError):
    """The link has been used; the first submission stands."""


class NotAccepting(ServiceError):
    """The campaign is not open for responses now."""


# ---------------------------------------------------------------------------
# Drafts and web submissions
#
# A draft is stored sealed (see drafts.py); these functions take the key derived from
# the respondent's link and hand the views plain DraftContent.


def read_draft(invitation: Invitation, key: DraftKey) -> DraftContent | None:
    """The invitation's draft, decrypted, or None if the respondent has not started."""
    row = invitation.draft
    if row is None:
        return None
    ciphertext = row.ciphertext
    # A request reads its draft more than once (the view, then the service that saves a
    # page); it is decrypted once per request and sealed blob. The plain content is kept
    # on the row's state only, which goes with the request's database session.
    info = sa.inspect(row).info
    opened = info.get(_OPENED)
    if opened is not None and opened[0] is key and opened[1] is ciphertext:
        return opened[2]
    content = open_draft(ciphertext, key, invitation.id)
    info[_OPENED] = (key, ciphertext, content)
    return content


def save_draft(invitation: Invitation, key: DraftKey, content: DraftContent) -> DraftContent:
    """Seal ``content`` into the invitation's draft, replacing what was saved before."""
    ciphertext = seal_draft(content, key, invitation.id)
    row = invitation.draft
    if row is None:
        row = invitation.draft = Draft(ciphertext=ciphertext)
        db.session.flush()
    elif _unchanged_in_session(row):
        _store_sealed(row, ciphertext)
    else:
        row.ciphertext = ciphertext
        db.session.flush()
    sa.inspect(row).info[_OPENED] = (key, ciphertext, content)
    return content


# Where read_draft keeps (key, sealed blob, content) of the draft it opened or sealed last.
_OPENED = "surveyapp.opened_draft"


def _unchanged_in_session(row: Draft) -> bool:
    state = sa.inspect(row)
    return state.persistent and not state.modified


def _store_sealed(row: Draft, ciphertext: bytes) -> None:
    """UPDATE the draft's blob with one prepared statement instead of a unit-of-work flush.

    The unit-of-work flush of the one changed attribute took 0.22 ms, this UPDATE 0.04 ms
    (measured alone). The row in the session gets the stored values, as a flush would
    have given it; a draft that has gone (submitted meanwhile) raises StaleDataError, as
    a flush would have.
    """
    on = today()
    updated = db.session.execute(
        _draft_update(),
        {"draft_id": row.invitation_id, "sealed": ciphertext, "saved_on": on},
    ).rowcount
    if updated != 1:
        raise StaleDataError(
            f"UPDATE statement on table 'draft' expected to update 1 row(s); {updated} were "
            "matched."
        )
    set_committed_value(row, "ciphertext", ciphertext)
    set_committed_value(row, "updated_on", on)


@cache
def _draft_update() -> sa.Update:
    table = Draft.__table__
    return (
        sa.update(table)
        .where(table.c.invitation_id == sa.bindparam("draft_id"))
        .values(ciphertext=sa.bindparam("sealed"), updated_on=sa.bindparam("saved_on"))
    )


def get_or_create_draft(invitation: Invitation, key: DraftKey) -> DraftContent:
    """The invitation's draft, starting an empty one at the language step if there is none."""
    draft = read_draft(invitation, key)
    return draft if draft is not None else save_draft(invitation, key, DraftContent())


def discard_draft(invitation: Invitation) -> None:
    """Delete the invitation's draft (used when it cannot be decrypted any more)."""
    if invitation.draft is not None:
        db.session.delete(invitation.draft)
        invitation.draft = None
        db.session.flush()


def check_answers(
    questionnaire: Questionnaire, answers: Mapping[str, int | None]
) -> dict[str, int | None]:
    """Validate item ids and values against the questionnaire; return a clean copy."""
    values = {p.value for p in questionnaire.scale.points}
    clean: dict[str, int | None] = {}
    for item_id, value in answers.items():
        try:
            questionnaire.item(item_id)
        except KeyError:
            raise ServiceError(f"Unknown question {item_id!r}.") from None
        if value is None:
            if questionnaire.scale.dont_know is None:
                raise ServiceError(f"Question {item_id!r} has no 'don't know' option.")
        elif isinstance(value, bool) or not isinstance(value, int) or value not in values:
            raise ServiceError(
                f"Answer {value!r} to question {item_id!r} is outside the scale "
                f"{questionnaire.scale.min}–{questionnaire.scale.max}."
            )
        clean[item_id] = value
    return clean


def save_draft_answers(
    invitation: Invitation,
    key: DraftKey,
    questionnaire: Questionnaire,
    answers: Mapping[str, int | None],
    step: str,
) -> DraftContent:
    """Merge one page's answers into the draft and move it to ``step``."""
    draft = get_or_create_draft(invitation, key)
    merged = {**draft.answers, **check_answers(questionnaire, answers)}
    return save_draft(invitation, key, replace(draft, answers=merged, step=step))


def submit_response(invitation: Invitation, key: DraftKey, on: dt.date | None = None) -> Response:
    """Turn a draft into a response that carries no link to the invitation."""
    if invitation.used:
        raise AlreadySubmitted("These answers were already received.")
    campaign = invitation.campaign
    if not accepts_responses(campaign, on):
        raise NotAccepting(f"Campaign {campaign.id} is not accepting responses.")
    draft = read_draft(invitation, key)
    if draft is None or draft.role_level is None:
        raise ServiceError("The survey is not complete: choose your role first.")
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    answers = check_answers(questionnaire, draft.answers)
    if draft.role_level not in ROLE_LEVELS:
        raise ServiceError(f"Unknown role level {draft.role_level!r}.")
    if draft.comment and control_character_name(draft.comment):
        # Only a draft saved before the comment page refused them can still hold one.
        raise ServiceError(
            "Your comment contains an invisible control character that cannot be stored. "
            "Go back to the comment page, remove it and submit again."
        )
    # Mark the link used in the same statement-level step that guards against a
    # concurrent second submission: only one UPDATE can flip used from false to true.
    flipped = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.used.is_(False))
        .values(used=True)
    ).rowcount
    if flipped != 1:
        raise AlreadySubmitted("These answers were already received.")
    response = Response(
        campaign_id=campaign.id,
        department_id=invitation.department_id,
        questionnaire_version_id=campaign.questionnaire_version_id,
        role_level=draft.role_level,
        language=draft.language or "en",
        source="web",
        submitted_on=on or today(),
        comment=(draft.comment or "").strip() or None,
        answer_codes=pack_answers([item.id for item in questionnaire.items], answers),
    )
    db.session.add(response)
    db.session.flush()
    db.session.execute(
        sa.insert(Answer),
        [
            {
                "response_id": response.id,
                "questionnaire_version_id": campaign.questionnaire_version_id,
                "item_id": item_id,
                "value": value,
            }
            for item_id, value in answers.items()
        ],
    ) if answers else None
    db.session.delete(invitation.draft)
    db.session.flush()
    db.session.expire(invitation)
    return response


def empty_write_ahead_log() -> None:
    """Empty SQLite's write-ahead log so deleted drafts leave no old page in it.

    Call after the commit that deleted a draft. ``secure_delete`` already zeroes freed
    space in the database file, but the WAL still holds every earlier version of the
    draft's pages, keyed by invitation id, until a checkpoint resets it. TRUNCATE copies
    the log into the database file and cuts the log to zero bytes. PostgreSQL has no
    equivalent (dead tuples stay until VACUUM, WAL segments until recycled); there old
    draft versions are only ciphertext, readable by no one without the link.
    """
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        busy, _log, _copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        # Another connection kept reading an old snapshot past the busy timeout. The
        # frames stay until a later checkpoint completes (the next submission tries again).
        current_app.logger.warning(
            "the write-ahead log could not be emptied after a submission: the database was busy"
        )


# ---------------------------------------------------------------------------
# CSV: the one response format (parsed and checked in response_files.py)

# Responses checked and written per step: memory stays that of one batch however long
# the file is (about 90,000 answers of the shipped questionnaire).
IMPORT_BATCH = 2000
# A rejected file lists at most this many problems, so a wrong file of any length is
# refused in the memory of one batch too.
MAX_PROBLEMS = 1000
READ_BYTES = 1 << 20
# Every byte value at its own position: SQLite's instr() on it turns a one-byte blob into
# its number plus one (SQLite has no function that reads a byte as a number).
_ALL_BYTES = bytes(range(256))


def import_responses(campaign: Campaign, data: bytes | str | BinaryIO, name: str) -> int:
    """Store every row of a response CSV (paper surveys, another tool), or nothing at all.

    ``data`` is the file's content or an open binary file, read as a stream: rows are
    checked by ``response_files.parse_responses`` and written IMPORT_BATCH at a time, so
    memory does not grow with the file. Everything is written inside a savepoint; after a
    first problem nothing more is written, the rest of the file is still read to list
    every problem (up to MAX_PROBLEMS), the savepoint is rolled back and
    :class:`CSVFileError` is raised with all of them: nothing is stored.

    Responses get their ids from the database in the order of the file, as a survey's
    do in the order of submission; nothing in a row names an invitation. Each row's
    answers are packed once (``matrix.pack_matrix``) and the database writes the answer
    rows from that packed copy in the same transaction, so the two always agree
    (``surveyapp db check-answers``) and no answer crosses into the database twice.
    """
    ensure_accepts_writes(campaign, "take more responses")
    if campaign.status == "draft":
        raise ServiceError(
            f"Campaign {campaign.id} is still a draft; open it before importing responses."
        )
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    units = {u.code: u.department_id for u in campaign_departments(campaign)}
    problems: list[RowError] = []
    _begin_sqlite_transaction()
    savepoint = db.session.begin_nested()
    stored = 0
    try:
        for first_row, text in _record_batches(data, name):
            try:
                parsed = parse_responses(questionnaire, text, name, departments=units)
            except CSVFileError as exc:
                # A batch's header problems repeat the first batch's: listed once.
                problems.extend(_renumbered(exc.errors, first_row, header=not problems))
                if len(problems) >= MAX_PROBLEMS:
                    problems.insert(0, _stopped(problems))
                    break
                continue
            if not problems:
                stored += _store_batch(campaign, questionnaire, units, parsed)
        if problems:
            raise CSVFileError(name, problems)
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return stored


def _begin_sqlite_transaction() -> None:
    """Make sure SQLite is inside the session's transaction before a savepoint is taken.

    pysqlite begins a transaction only before a write; a SAVEPOINT outside one would
    start a transaction of its own, and releasing it would commit the import behind the
    caller's back (SQLAlchemy's pysqlite notes on savepoints). PostgreSQL always nests.
    """
    connection = db.session.connection()
    if (
        connection.dialect.name == "sqlite"
        and not connection.connection.driver_connection.in_transaction
    ):
        connection.exec_driver_sql("BEGIN")


def _stopped(problems: list[RowError]) -> RowError:
    last = max(p.row for p in problems)
    return RowError(
        0,
        "",
        f"{MAX_PROBLEMS} problems or more, so reading stopped at row {last}; "
        "the first of them follow",
    )


def _renumbered(errors: Iterable[RowError], first_row: int, *, header: bool) -> list[RowError]:
    """A batch's problems with the file's row numbers (the batch was parsed from row 2)."""
    shift = first_row - 2
    return [
        replace(e, row=e.row + shift) if e.row >= 2 else e
        for e in errors
        # The header travels with every batch: its problems are listed with the first.
        if header or e.row != 1
    ]


def _record_batches(data: bytes | str | BinaryIO, name: str) -> Iterator[tuple[int, str]]:
    """The file as texts of the header and at most IMPORT_BATCH records each.

    Yields ``(row number of the batch's first record, text)``; rows are numbered as
    ``csvfiles.read_csv`` numbers them (the header is row 1). A record ends at a line
    end outside quotes: where the file so far holds an even number of quote characters
    (a quote inside a field is doubled, so it never changes the count's parity). A batch
    of nothing but blank lines is left out, as read_csv skips blank lines.
    """
    lines = _text_lines(data, name)
    header = _next_record(lines)
    if header is None:
        yield 2, ""  # parse_responses says the file is empty
        return
    delimiter = ";" if header.count(";") > header.count(",") else ","
    row, batch, yielded = 2, [header], False
    while True:
        record = _next_record(lines)
        if record is not None:
            batch.append(record)
        if len(batch) > IMPORT_BATCH or (record is None and len(batch) > 1):
            text = "".join(batch)
            if not _blank(batch[1:], delimiter):
                yield row, text
                yielded = True
            row += len(batch) - 1
            batch = [header]
        if record is None:
            break
    if not yielded:
        yield 2, header  # parse_responses says the file has no responses


def _blank(records: list[str], delimiter: str) -> bool:
    """Whether every record is empty or blank cells (the quick test first, then csv's own)."""
    if any(record.strip(' \t\r\n,;"') for record in records):
        return False
    cells = csv.reader(io.StringIO("".join(records), newline=""), delimiter=delimiter)
    return not any(cell.strip() for row in cells for cell in row)


def _next_record(lines: Iterator[str]) -> str | None:
    parts: list[str] = []
    quotes = 0
    for line in lines:
        parts.append(line)
        quotes += line.count('"')
        if quotes % 2 == 0:
            break
    return "".join(parts) if parts else None


def _text_lines(data: bytes | str | BinaryIO, name: str) -> Iterator[str]:
    """The file's lines with their endings (``\\n``, ``\\r\\n`` or ``\\r``, as csv reads them)."""
    if isinstance(data, str):
        yield from io.StringIO(data.removeprefix("\ufeff"), newline="")
        return
    binary = io.BytesIO(data) if isinstance(data, bytes) else data
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
    try:
        yield from text
    except UnicodeDecodeError:
        raise CSVFileError(
            name,
            [
                RowError(
                    0,
                    "",
                    f"not UTF-8 text{_bad_byte(binary)}; save the file as CSV UTF-8",
                )
            ],
        ) from None
    finally:
        text.detach()


def _bad_byte(binary: BinaryIO) -> str:
    """`` (byte N)``: where the first byte that is not UTF-8 is, if the file can be reread."""
    if not binary.seekable():
        return ""
    binary.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    while block := binary.read(READ_BYTES):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            return f" (byte {offset - pending + exc.start})"
        offset += len(block)
    return ""


def _store_batch(
    campaign: Campaign,
    questionnaire: Questionnaire,
    units: Mapping[str, int],
    parsed: ParsedResponses,
) -> int:
    """Write one checked batch: its responses, then their answer rows from the packed copy."""
    version_id = campaign.questionnaire_version_id
    response_rows = [
        {
            "campaign_id": campaign.id,
            "department_id": units[info["department"]],
            "questionnaire_version_id": version_id,
            "role_level": info["role_level"],
            "language": info.get("language") or questionnaire.languages[0],
            "source": "import",
            "submitted_on": dt.date.fromisoformat(info["submitted_on"])
            if info.get("submitted_on")
            else today(),
            "comment": info.get("comment") or None,
            "answer_codes": codes,
        }
        for info, codes in zip(parsed.meta, pack_matrix(parsed.matrix), strict=True)
    ]
    # Inserted in the file's order, so the database numbers them as they come; render_nulls
    # keeps rows with and without a comment in one batched statement.
    ids = db.session.scalars(
        sa.insert(Response).returning(Response.id).execution_options(render_nulls=True),
        response_rows,
    ).all()
    db.session.execute(
        sa.insert(Answer).from_select(
            ["response_id", "item_id", "questionnaire_version_id", "value"],
            _answers_from_packed(ids),
        )
    )
    return len(ids)


def _answers_from_packed(response_ids: list[int]) -> sa.Select:
    """A SELECT of the answer rows that the packed copies of ``response_ids`` hold.

    One row per item whose byte is not "no answer"; "don't know" gives a NULL value. The
    answer table's foreign key to the scale points checks every value once more.
    """
    response = Response.__table__
    item = QuestionnaireItem.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        code = sa.func.get_byte(response.c.answer_codes, item.c.position)
    else:
        byte = sa.func.substr(response.c.answer_codes, item.c.position + 1, 1)
        code = sa.func.instr(sa.literal(_ALL_BYTES, sa.LargeBinary), byte) - 1
    return (
        sa.select(
            response.c.id,
            item.c.item_id,
            response.c.questionnaire_version_id,
            sa.func.nullif(code, PACKED_DONT_KNOW),
        )
        .join_from(
            response,
            item,
            item.c.questionnaire_version_id == response.c.questionnaire_version_id,
        )
        .where(response.c.id.in_(response_ids), code != PACKED_NO_ANSWER)
    )


def export_responses(campaign: Campaign) -> tuple[list[str], Iterable[list[object]]]:
    """Anonymised response rows in the import format, safe to hand out.

    What each row shows is the answer file's release decision
    (``release.answer_file_release``): small departments are folded into the one above,
    small role groups left empty, comments kept only for departments at the comment
    threshold (never a comment a consultant hid). Dates are left out and rows are in
    random order within a department. "Don't know" and no answer are both empty here,
    as the import format has no code for either; the consultants' answer files
    (``answer_files.py``) keep them apart.
    """
    file = answer_file(campaign, questionnaire_for(campaign.questionnaire_version).languages[0])
    header = ["department", "role_level", *file.codebook.item_ids, "comment"]

    def rows() -> Iterable[list[object]]:
        for row in file.rows():
            yield [row[0], row[1], *(v if v >= 0 else None for v in row[2:-2]), row[-2]]

    return header, rows()
