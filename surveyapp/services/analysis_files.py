"""Analysing a response CSV without the database (``surveyapp analyze``).

Imports only pure modules (the questionnaire, the CSV reader, the engine): neither
Flask nor SQLAlchemy is loaded, so the command starts in about a second.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..questionnaires import Questionnaire
from ..scoring import Grouping, analyse
from .designs import design_for, role_grouping, top_management_of
from .response_files import META_COLUMNS, parse_responses


def analyse_file(
    questionnaire: Questionnaire, data: bytes | str, name: str, group_column: str, threshold: int
) -> dict[str, Any]:
    """Validate the file completely, analyse it, and return the documented JSON."""
    parsed = parse_responses(
        questionnaire,
        data,
        name,
        required_meta=(group_column,),
        allowed_meta=(*META_COLUMNS, group_column),
    )
    empty = ("",) * parsed.matrix.shape[0]
    column = parsed.columns.get(group_column, empty)
    labels = sorted(set(column) - {""})
    index = {label: k for k, label in enumerate(labels)}
    codes = np.fromiter((index.get(v, -1) for v in column), dtype=np.int64, count=len(column))
    groupings = [Grouping(group_column, codes, tuple(labels))]
    top = None
    if group_column != "role_level" and "role_level" in parsed.columns:
        roles = role_grouping(questionnaire, parsed.columns["role_level"])
        groupings.append(roles)
        top = top_management_of(roles)
    result = analyse(
        parsed.matrix,
        design_for(questionnaire),
        groupings,
        min_group_size=threshold,
        top_management=top,
    )
    return result.to_dict()
