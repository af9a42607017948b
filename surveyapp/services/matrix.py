"""Loading one campaign's answers into a respondents × items matrix, fast.

The obvious way (fetch every answer row as a Python tuple, then ``np.array(rows)``)
costs seconds per million answers. Here the database packs each answer into one
integer and concatenates them into text in C (``group_concat`` / ``string_agg``), so
Python receives a few long strings that NumPy parses in one call
(``docs/benchmarks.md`` has the measurements).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa

from ..extensions import db
from ..models import Answer, Campaign, QuestionnaireItem, Response

# Answer packing, in 64-bit arithmetic on every database:
#   code = ((response id − chunk's first id) × ITEM_SLOTS + item position) × VALUE_SLOTS + value.
# Values run 0..100 (the widest scale allowed); VALUE_SLOTS − 1 encodes "don't know".
# Response ids are global (shared by every campaign), so the packing is relative to the
# first id of each chunk: the code grows with the span of ids in one chunk, never with the
# id itself, and a chunk is cut short before its span could overflow a signed 64-bit code.
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


def load_matrix(campaign: Campaign) -> CampaignMatrix:
    """All submitted responses of a campaign as a NaN-padded matrix."""
    items = db.session.execute(
        sa.select(QuestionnaireItem.item_id, QuestionnaireItem.position)
        .where(QuestionnaireItem.questionnaire_version_id == campaign.questionnaire_version_id)
        .order_by(QuestionnaireItem.position)
    ).all()
    item_ids = tuple(item_id for item_id, _ in items)
    if len(items) > ITEM_SLOTS:
        raise ValueError(f"A questionnaire with more than {ITEM_SLOTS} items is not supported.")
    meta = db.session.execute(
        sa.select(Response.id, Response.department_id, Response.role_level)
        .where(Response.campaign_id == campaign.id)
        .order_by(Response.id)
    ).all()
    n = len(meta)
    matrix = np.full((n, len(item_ids)), np.nan)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return CampaignMatrix(item_ids, matrix, empty, empty, np.empty(0, dtype=object))
    response_ids = np.fromiter((row[0] for row in meta), dtype=np.int64, count=n)
    department_ids = np.fromiter((row[1] for row in meta), dtype=np.int64, count=n)
    role_levels = np.array([row[2] for row in meta], dtype=object)

    dialect = db.engine.dialect.name
    value = sa.func.coalesce(Answer.value, DONT_KNOW)
    for start, stop in chunk_bounds(response_ids):
        low = int(response_ids[start])
        # Pack (response id, item position, value) into one 64-bit integer; response
        # ids are turned into matrix rows afterwards with a binary search.
        offset = sa.cast(Answer.response_id, sa.BigInteger) - sa.cast(low, sa.BigInteger)
        code = (offset * ITEM_SLOTS + QuestionnaireItem.position) * VALUE_SLOTS + value
        condition = [Answer.response_id >= low]
        if stop < n:
            condition.append(Answer.response_id < int(response_ids[stop]))
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
            .where(Response.campaign_id == campaign.id, *condition)
        )
        if not packed:
            continue
        # Text-mode fromstring parses the comma-separated integers in C.
        codes = np.fromstring(packed, dtype=np.int64, sep=",")
        values = codes % VALUE_SLOTS
        rest = codes // VALUE_SLOTS
        positions = rest % ITEM_SLOTS
        rows = np.searchsorted(response_ids, rest // ITEM_SLOTS + low)
        matrix[rows, positions] = np.where(values == DONT_KNOW, np.nan, values)
    return CampaignMatrix(item_ids, matrix, response_ids, department_ids, role_levels)
