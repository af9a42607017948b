"""What a questionnaire means for the statistics engine: its design and its role grouping.

Pure (the questionnaire and NumPy in, scoring objects out, no database), so that
``surveyapp analyze`` can use it without loading the app.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..questionnaires import Questionnaire
from ..scoring import Design, Grouping

ROLE_QUESTION = "role_level"
TOP_MANAGEMENT = "top_management"


def design_for(questionnaire: Questionnaire) -> Design:
    """The scoring design of a questionnaire."""
    dimension_index = {d.id: k for k, d in enumerate(questionnaire.dimensions)}
    items = questionnaire.items
    return Design(
        item_ids=tuple(item.id for item in items),
        dimension_ids=tuple(d.id for d in questionnaire.dimensions),
        item_dimension=tuple(dimension_index[item.dimension] for item in items),
        reverse=tuple(item.reverse for item in items),
        scale_min=questionnaire.scale.min,
        scale_max=questionnaire.scale.max,
        level_min_scores=tuple(level.min_score for level in questionnaire.levels),
    )


def role_grouping(questionnaire: Questionnaire, roles: Sequence[str] | np.ndarray) -> Grouping:
    """Role levels as a grouping, in the questionnaire's option order."""
    options = [o.id for o in questionnaire.background_question(ROLE_QUESTION).options]
    index = {role: k for k, role in enumerate(options)}
    codes = np.fromiter((index.get(r, -1) for r in roles), dtype=np.int64, count=len(roles))
    return Grouping(ROLE_QUESTION, codes, tuple(options))


def top_management_of(grouping: Grouping) -> tuple[str, int] | None:
    if TOP_MANAGEMENT in grouping.labels:
        return (grouping.name, grouping.labels.index(TOP_MANAGEMENT))
    return None
