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

META_COLUMNS = ("department", "role_level", "language", "submitted_on", "comment")


@dataclass(frozen=True, slots=True)
class ParsedResponses:
    """A validated response file: one row per respondent."""

    item_ids: tuple[str, ...]
    matrix: np.ndarray  # respondents × items, NaN for missing
    meta: tuple[dict[str, str], ...]  # the non-item columns per row


def parse_responses(
    questionnaire: Questionnaire,
    data: bytes | str,
    name: str,
    *,
    required_meta: Iterable[str] = ("department", "role_level"),
    allowed_meta: Iterable[str] = META_COLUMNS,
    departments: Iterable[str] | None = None,
) -> ParsedResponses:
    """Validate a response CSV completely; raise CSVFileError listing every problem."""
    item_ids = tuple(item.id for item in questionnaire.items)
    required_meta = tuple(required_meta)
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
    known_departments = set(departments) if departments is not None else None
    role_levels = {o.id for o in questionnaire.background_question("role_level").options}
    matrix = np.full((len(rows), len(item_ids)), np.nan)
    column_index = {item_id: j for j, item_id in enumerate(item_ids)}
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
        if "department" in info and known_departments is not None:
            if info["department"] not in known_departments:
                errors.append(
                    RowError(
                        number,
                        "department",
                        f"{info['department']!r} is not a department code of this campaign",
                    )
                )
        elif "department" in required_meta and not info.get("department"):
            errors.append(RowError(number, "department", "empty"))
        role = info.get("role_level")
        if role is not None and role not in role_levels and (role or "role_level" in required_meta):
            errors.append(
                RowError(
                    number,
                    "role_level",
                    f"{role!r} is not one of {', '.join(sorted(role_levels))}",
                )
            )
        if info.get("language") and info["language"] not in questionnaire.languages:
            errors.append(
                RowError(
                    number,
                    "language",
                    f"{info['language']!r} is not one of {', '.join(questionnaire.languages)}",
                )
            )
        if info.get("submitted_on"):
            try:
                dt.date.fromisoformat(info["submitted_on"])
            except ValueError:
                errors.append(
                    RowError(
                        number,
                        "submitted_on",
                        f"{info['submitted_on']!r} is not a date written as YYYY-MM-DD",
                    )
                )
        meta.append(info)
    if errors:
        raise CSVFileError(name, errors)
    return ParsedResponses(item_ids, matrix, tuple(meta))
