"""A campaign's answers as a respondents × items matrix, read from one row per response.

Storage. The ``answer`` table (one row per answer, with foreign keys to the item, the
scale point and the response) is the source of truth. Beside it every response carries
``response.answer_codes``: the same answers packed one byte per questionnaire item, in
item position order, written by every writer in the same transaction as the answer rows
and from the same values:

* ``0``–``100``: the answer itself (no scale runs beyond 0–100);
* ``PACKED_DONT_KNOW`` (254): "don't know" (an answer row whose value is NULL);
* ``PACKED_NO_ANSWER`` (255): no answer row (the question was left open).

The copy lives on the response row rather than in a 1:1 table because every reader
wants it together with the response's department and role: one SELECT of one table,
without a join, hands NumPy a campaign (46 bytes per response of the shipped
questionnaire, stored inline by SQLite and PostgreSQL alike). Reading 4.6 million
answer rows took seconds on either database, however they were packed in SQL
(``docs/benchmarks.md``). :func:`packed_mismatches` compares both copies with the
answer table's own packing, and ``surveyapp db check-answers`` runs it for every
campaign.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import compress

import numpy as np
import sqlalchemy as sa

from ..extensions import db
from ..models import Answer, Campaign, QuestionnaireItem, Response
from . import ServiceError

MAX_PACKED_VALUE = 100
PACKED_DONT_KNOW = 254
PACKED_NO_ANSWER = 255

# Raw answers by packed code: NaN for "don't know", no answer and unused codes.
VALUE_OF_CODE = np.full(256, np.nan)
VALUE_OF_CODE[: MAX_PACKED_VALUE + 1] = np.arange(MAX_PACKED_VALUE + 1)

# The answer table packed in SQL, used to check the packed copy against it, in 64-bit
# arithmetic on every database:
#   code = ((response id − chunk's first id) × ITEM_SLOTS + item position) × VALUE_SLOTS + value.
# VALUE_SLOTS − 1 encodes "don't know". Response ids are global (shared by every
# campaign), so the packing is relative to the first id of each chunk, and a chunk is
# cut short before its span could overflow a signed 64-bit code.
VALUE_SLOTS = 128
DONT_KNOW = VALUE_SLOTS - 1
ITEM_SLOTS = 1024
MAX_SPAN = 2**63 // (ITEM_SLOTS * VALUE_SLOTS)  # 2^46 ids between a chunk's first and last
# Responses per aggregated string: keeps each string under about 100 MB.
CHUNK = 200_000


@dataclass(frozen=True, slots=True)
class CampaignMatrix:
    """A campaign's answers: ``matrix[r, j]`` is respondent r's raw answer to item j."""

    item_ids: tuple[str, ...]
    matrix: np.ndarray  # float64, NaN = not answered or "don't know"
    response_ids: np.ndarray  # int64, ascending
    department_ids: np.ndarray  # int64, per respondent
    role_levels: np.ndarray  # object (str), per respondent


# --------------------------------------------------------------------------- writing


def pack_answers(item_ids: Sequence[str], answers: Mapping[str, int | None]) -> bytes:
    """One response's answers as packed codes; ``item_ids`` in questionnaire position order.

    ``answers`` maps an item to its value, or to None for "don't know"; an item that is
    not in it was left open.
    """
    unknown = set(answers) - set(item_ids)
    if unknown:
        raise ValueError(f"Answers to questions outside the questionnaire: {sorted(unknown)}.")
    codes = bytearray(len(item_ids))
    for position, item_id in enumerate(item_ids):
        if item_id not in answers:
            codes[position] = PACKED_NO_ANSWER
        elif (value := answers[item_id]) is None:
            codes[position] = PACKED_DONT_KNOW
        elif 0 <= value <= MAX_PACKED_VALUE:
            codes[position] = value
        else:
            raise ValueError(f"Answer {value!r} to {item_id!r} is outside 0–{MAX_PACKED_VALUE}.")
    return bytes(codes)


def pack_matrix(values: np.ndarray, dont_know: np.ndarray | None = None) -> list[bytes]:
    """Packed codes of many responses: ``values`` respondents × items in position order.

    NaN in ``values`` is no answer; ``dont_know`` marks "don't know" where a value was drawn.
    """
    values = np.asarray(values, dtype=float)
    left_open = np.isnan(values)
    answered = values[~left_open]
    if answered.size and (
        answered.min() < 0 or answered.max() > MAX_PACKED_VALUE or np.any(answered % 1)
    ):
        raise ValueError(f"Answers must be whole numbers from 0 to {MAX_PACKED_VALUE}.")
    codes = np.where(left_open, PACKED_NO_ANSWER, np.nan_to_num(values)).astype(np.uint8)
    if dont_know is not None:
        codes[np.asarray(dont_know, dtype=bool) & ~left_open] = PACKED_DONT_KNOW
    return [row.tobytes() for row in codes]


# --------------------------------------------------------------------------- reading


def _item_ids(campaign: Campaign) -> tuple[str, ...]:
    return tuple(
        db.session.scalars(
            sa.select(QuestionnaireItem.item_id)
            .where(QuestionnaireItem.questionnaire_version_id == campaign.questionnaire_version_id)
            .order_by(QuestionnaireItem.position)
        )
    )


def codes_matrix(packed: Sequence[bytes], n_items: int, campaign_id: int) -> np.ndarray:
    """Responses × items ``uint8`` codes from packed rows, in their order (no copy of rows)."""
    joined = b"".join(packed)
    # Every row has n_items codes when none is shorter and together they have
    # len(packed) × n_items (min over map(len) runs in C, unlike a generator).
    if len(joined) != len(packed) * n_items or (packed and min(map(len, packed)) != n_items):
        raise ServiceError(
            f"Campaign {campaign_id} has responses whose packed answers do not have one code "
            f"for each of its {n_items} questions. Run 'surveyapp db check-answers' to list "
            "them and '--repair' to rebuild them from the answer table."
        )
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(packed), n_items)


def load_matrix(campaign: Campaign) -> CampaignMatrix:
    """All submitted responses of a campaign as a NaN-padded matrix (one SELECT of the rows)."""
    item_ids = _item_ids(campaign)
    connection = db.session.connection()
    # A Core SELECT on the session's connection, its rows taken from the driver's cursor:
    # the ORM's row processing would double the time of reading a large campaign, and
    # even Core's Row objects cost a fifth of it. The columns need no conversion (integers,
    # text and bytes on both databases).
    result = connection.execute(_rows_query(connection, campaign.id))
    # The collector would run again and again over the whole heap while a large campaign's
    # row tuples are created (a third of the time of loading 100,000 responses); they
    # hold only numbers, text and bytes, and are freed below before it runs again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            rows = result.cursor.fetchall()
        finally:
            result.close()
        ids, departments, roles, packed = zip(*rows, strict=True) if rows else ((), (), (), ())
        del rows
        codes = codes_matrix(packed, len(item_ids), campaign.id)
        loaded = CampaignMatrix(
            item_ids,
            VALUE_OF_CODE[codes],
            np.array(ids, dtype=np.int64),
            np.array(departments, dtype=np.int64),
            np.array(roles, dtype=object),
        )
        del ids, departments, roles, packed
    finally:
        if collecting:
            gc.enable()
    return loaded


def _rows_query(connection: sa.Connection, campaign_id: int) -> sa.Select:
    """The SELECT of a campaign's responses (id, department, role, packed answers) by id.

    On SQLite, through the index on ``campaign_id`` every row is looked up on its own and
    then sorted by id in a temporary B-tree (100,000 responses: 0.3-0.9 s). When the
    campaign's responses are most of the id range they span (imports and survey days
    write them together), reading that range of the primary key returns them in id order
    without either: ``campaign_id + 0`` keeps SQLite from choosing the index, and rows of
    other campaigns in the range are skipped. Otherwise (a small campaign among busy
    ones) the index is the cheaper way. PostgreSQL plans this well by itself (an index
    scan of the primary key in order), and the range form would only mislead its
    estimates, so it gets the plain query.
    """
    columns = (Response.id, Response.department_id, Response.role_level, Response.answer_codes)
    query = sa.select(*columns).order_by(Response.id)
    if connection.dialect.name == "sqlite":
        count, low, high = connection.execute(
            sa.select(
                sa.func.count(Response.id), sa.func.min(Response.id), sa.func.max(Response.id)
            ).where(Response.campaign_id == campaign_id)
        ).one()
        if count and high - low + 1 <= 2 * count:
            return query.where(
                Response.id.between(low, high), Response.campaign_id + 0 == campaign_id
            )
    return query.where(Response.campaign_id == campaign_id)


# --------------------------------------------------------------------------- checking


def concatenated(expression, dialect: str):
    """All values of ``expression`` joined by commas into one text, by the database."""
    if dialect == "postgresql":
        return sa.func.string_agg(sa.cast(expression, sa.Text), sa.literal_column("','"))
    return sa.func.group_concat(expression, sa.literal_column("','"))


def chunk_bounds(response_ids: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` row ranges of at most CHUNK responses whose ids span < MAX_SPAN."""
    bounds: list[tuple[int, int]] = []
    start, n = 0, len(response_ids)
    while start < n:
        stop = min(start + CHUNK, n)
        if int(response_ids[stop - 1]) - int(response_ids[start]) >= MAX_SPAN:
            limit = int(response_ids[start]) + MAX_SPAN
            stop = int(np.searchsorted(response_ids, limit, side="left"))
        bounds.append((start, stop))
        start = stop
    return bounds


def answer_table_codes(campaign: Campaign, response_ids: np.ndarray, n_items: int) -> np.ndarray:
    """Packed codes built from the answer table: rows follow ``response_ids`` (ascending).

    The database packs each answer row into one integer and joins them into one text per
    chunk (``group_concat`` / ``string_agg``), so Python never holds a row per answer.
    """
    codes = np.full((len(response_ids), n_items), PACKED_NO_ANSWER, dtype=np.uint8)
    if len(response_ids) == 0:
        return codes
    if n_items > ITEM_SLOTS:
        raise ValueError(f"A questionnaire with more than {ITEM_SLOTS} items is not supported.")
    dialect = db.engine.dialect.name
    value = sa.func.coalesce(Answer.value, DONT_KNOW)
    for start, stop in chunk_bounds(response_ids):
        low = int(response_ids[start])
        offset = sa.cast(Answer.response_id, sa.BigInteger) - sa.cast(low, sa.BigInteger)
        code = (offset * ITEM_SLOTS + QuestionnaireItem.position) * VALUE_SLOTS + value
        packed = db.session.scalar(
            sa.select(concatenated(code, dialect))
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id)
            .join(
                QuestionnaireItem,
                sa.and_(
                    QuestionnaireItem.questionnaire_version_id == Answer.questionnaire_version_id,
                    QuestionnaireItem.item_id == Answer.item_id,
                ),
            )
            .where(
                Response.campaign_id == campaign.id,
                Answer.response_id >= low,
                Answer.response_id <= int(response_ids[stop - 1]),
            )
        )
        if not packed:
            continue
        # Text-mode fromstring parses the comma-separated integers in C.
        numbers = np.fromstring(packed, dtype=np.int64, sep=",")
        values = numbers % VALUE_SLOTS
        rest = numbers // VALUE_SLOTS
        rows = np.searchsorted(response_ids, rest // ITEM_SLOTS + low)
        codes[rows, rest % ITEM_SLOTS] = np.where(values == DONT_KNOW, PACKED_DONT_KNOW, values)
    return codes


def _compare(campaign: Campaign) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
    """Response ids, the answer table's codes and the packed copies of a campaign."""
    n_items = len(_item_ids(campaign))
    rows = db.session.execute(
        sa.select(Response.id, Response.answer_codes)
        .where(Response.campaign_id == campaign.id)
        .order_by(Response.id)
    ).all()
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    return ids, answer_table_codes(campaign, ids, n_items), [row[1] for row in rows]


def _differing(expected: np.ndarray, packed: Sequence[bytes]) -> np.ndarray:
    """Per response, whether its packed copy differs from the answer table's codes."""
    n_items = expected.shape[1]
    fits = np.fromiter((len(row) == n_items for row in packed), dtype=bool, count=len(packed))
    differs = ~fits
    if fits.any():
        stored = np.frombuffer(b"".join(compress(packed, fits)), dtype=np.uint8)
        differs[fits] = np.any(stored.reshape(-1, n_items) != expected[fits], axis=1)
    return differs


def packed_mismatches(campaign: Campaign) -> list[int]:
    """Ids of the campaign's responses whose packed answers differ from their answer rows."""
    ids, expected, packed = _compare(campaign)
    return ids[_differing(expected, packed)].tolist()


def repack_answers(campaign: Campaign) -> int:
    """Rewrite every packed copy of the campaign that differs from its answer rows.

    The answer table is the source of truth; flushes, never commits. Returns the number
    of responses rewritten.
    """
    ids, expected, packed = _compare(campaign)
    wrong = [
        {"response_id": int(ids[r]), "codes": expected[r].tobytes()}
        for r in np.flatnonzero(_differing(expected, packed))
    ]
    if wrong:
        table = Response.__table__
        db.session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("response_id"))
            .values(answer_codes=sa.bindparam("codes")),
            wrong,
        )
        db.session.flush()
    return len(wrong)
