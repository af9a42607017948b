"""Questionnaire files as the app sees them: a registry, mirrored into the database."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import QuestionnaireItem, QuestionnaireVersion, ScalePoint
from ..questionnaires import Questionnaire, load_directory
from . import ServiceError


@lru_cache(maxsize=8)
def _registry(directory: str) -> dict[tuple[str, int], Questionnaire]:
    return load_directory(directory)


def available_questionnaires() -> dict[tuple[str, int], Questionnaire]:
    """Every questionnaire file in the configured directory, keyed by (id, version)."""
    return _registry(current_app.config["QUESTIONNAIRE_DIR"])


def get_questionnaire(key: str, version: int) -> Questionnaire:
    """The questionnaire with this id and version, or a ServiceError naming what exists."""
    registry = available_questionnaires()
    try:
        return registry[(key, version)]
    except KeyError:
        known = ", ".join(f"{k} v{v}" for k, v in sorted(registry)) or "none"
        raise ServiceError(
            f"There is no questionnaire {key!r} version {version}. Available: {known}."
        ) from None


def questionnaire_for(version_row: QuestionnaireVersion) -> Questionnaire:
    """The questionnaire file behind a stored version row."""
    return get_questionnaire(version_row.key, version_row.version)


def latest_questionnaire(key: str) -> Questionnaire:
    versions = [q for (k, _), q in available_questionnaires().items() if k == key]
    if not versions:
        raise ServiceError(f"There is no questionnaire {key!r} in the questionnaire folder.")
    return max(versions, key=lambda q: q.version)


def ensure_questionnaire_version(questionnaire: Questionnaire) -> QuestionnaireVersion:
    """Mirror a questionnaire's items and scale into the database (once per version)."""
    row = db.session.scalar(
        sa.select(QuestionnaireVersion).filter_by(
            key=questionnaire.id, version=questionnaire.version
        )
    )
    if row is not None:
        if row.checksum != questionnaire.checksum:
            raise ServiceError(
                f"{questionnaire.source}: questionnaire {questionnaire.id!r} version "
                f"{questionnaire.version} differs from the copy already used by campaigns. "
                "A published version must not change: save your edits as a new version "
                "(increase 'version' in a new file)."
            )
        return row
    row = QuestionnaireVersion(
        key=questionnaire.id,
        version=questionnaire.version,
        checksum=questionnaire.checksum,
        scale_min=questionnaire.scale.min,
        scale_max=questionnaire.scale.max,
    )
    db.session.add(row)
    db.session.flush()
    db.session.add_all(
        QuestionnaireItem(
            questionnaire_version_id=row.id,
            item_id=item.id,
            dimension_id=item.dimension,
            reverse=item.reverse,
            position=position,
        )
        for position, item in enumerate(questionnaire.items)
    )
    db.session.add_all(
        ScalePoint(questionnaire_version_id=row.id, value=point.value)
        for point in questionnaire.scale.points
    )
    db.session.flush()
    return row
