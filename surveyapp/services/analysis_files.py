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
    labels = sorted({row.get(group_column, "") for row in parsed.meta} - {""})
    index = {label: k for k, label in enumerate(labels)}
    codes = np.fromiter(
        (index.get(row.get(group_column, ""), -1) for row in parsed.meta),
        dtype=np.int64,
        count=len(parsed.meta),
    )
    groupings = [Grouping(group_column, codes, tuple(labels))]
    top = None
    if group_column != "role_level" and any("role_level" in row for row in parsed.meta):
        roles = role_grouping(questionnaire, [row.get("role_level", "") for row in parsed.meta])
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
