"""Drafts, submissions, imports and exports of responses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace

import numpy as np
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..inputs import control_character_name
from ..models import (
    ROLE_LEVELS,
    Answer,
    Campaign,
    Draft,
    Invitation,
    Response,
    today,
)
from ..questionnaires import Questionnaire
from . import ServiceError
from .answer_files import answer_file
from .campaigns import accepts_responses, campaign_departments
from .drafts import DraftContent, DraftKey, open_draft, seal_draft
from .matrix import pack_answers, pack_matrix
from .questionnaires import questionnaire_for
from .release import ensure_accepts_writes
from .response_files import parse_responses


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
    if invitation.draft is None:
        return None
    return open_draft(invitation.draft.ciphertext, key, invitation.id)


def save_draft(invitation: Invitation, key: DraftKey, content: DraftContent) -> DraftContent:
    """Seal ``content`` into the invitation's draft, replacing what was saved before."""
    ciphertext = seal_draft(content, key, invitation.id)
    if invitation.draft is None:
        invitation.draft = Draft(ciphertext=ciphertext)
    else:
        invitation.draft.ciphertext = ciphertext
    db.session.flush()
    return content


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


def import_responses(campaign: Campaign, data: bytes | str, name: str) -> int:
    """Store every row of a response CSV (paper surveys, another tool), or nothing at all."""
    ensure_accepts_writes(campaign, "take more responses")
    if campaign.status == "draft":
        raise ServiceError(
            f"Campaign {campaign.id} is still a draft; open it before importing responses."
        )
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    units = {u.code: u.department_id for u in campaign_departments(campaign)}
    parsed = parse_responses(questionnaire, data, name, departments=units)
    version_id = campaign.questionnaire_version_id
    # The packed copy of each row's answers, from the same matrix as the answer rows below.
    packed = pack_matrix(parsed.matrix)
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
        for info, codes in zip(parsed.meta, packed, strict=True)
    ]
    # render_nulls keeps rows with and without a comment in one batched statement.
    ids = db.session.scalars(
        sa.insert(Response)
        .returning(Response.id, sort_by_parameter_order=True)
        .execution_options(render_nulls=True),
        response_rows,
    ).all()
    answer_rows = []
    for response_id, values in zip(ids, parsed.matrix, strict=True):
        for item_id, value in zip(parsed.item_ids, values, strict=True):
            if not np.isnan(value):
                answer_rows.append(
                    {
                        "response_id": response_id,
                        "questionnaire_version_id": version_id,
                        "item_id": item_id,
                        "value": int(value),
                    }
                )
    if answer_rows:
        db.session.execute(sa.insert(Answer), answer_rows)
    db.session.flush()
    return len(ids)


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
