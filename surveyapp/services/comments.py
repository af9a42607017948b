"""Staff comments for managers: released with the results, text only, safe from differencing.

Staff may leave one free-text comment at the end of the survey. Managers read them once
the campaign has closed (the release gate of ``services/release.py``), for the whole
organisation and for each department that has enough of them:

* **Text only.** A comment is never shown next to a score, a role level or a group
  smaller than the campaign's ``min_comment_group_size`` (default 10): a list holds the
  comments of the organisation or of one department's subtree (the department and every
  department under it, as its head reads it), grouped by the dimension they speak of.
* **No order of arrival.** Within a group, comments are sorted by an HMAC of the
  response id under the app's secret key: the same order on every reload, unrelated to
  when anyone answered, so the last comment of a list is not the last person to answer.
* **No differencing.** Comments are recognisable text: a reader who has the
  organisation's list and department D's list knows the comments of everyone outside D.
  So every *remainder* a reader can form, a shown list minus the shown lists under it,
  must hold 0 comments or at least the threshold. Departments are withheld, smallest
  first, until that holds at every level (complementary suppression, as for the numbers
  in ``scoring/suppression.py``). A withheld department's comments stay in the lists
  above it.
* **Hidden comments** (a consultant hid them because they name a person) appear nowhere
  and do not count towards any threshold. Hiding must not let a reader learn more than
  before: a department is shown only if it would also be shown with no comment hidden,
  so every list ever shown is part of one that the full set of comments already allowed
  (``docs/privacy.md``, "Comments").
* **Department heads** see the organisation's list, which every manager sees, and the
  shown departments of their own subtree: a subset of what an organisation-wide manager
  holds, so no new subtraction becomes possible.

Grouping uses the keyword lists each dimension declares in the questionnaire file, in
every language of the file: a comment belongs to a dimension when one of its keywords
starts a word of the comment, compared in lower case without accents and punctuation.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Campaign, Response, User
from ..questionnaires import Questionnaire, pick_text
from . import ServiceError, audit
from .campaigns import campaign_departments
from .questionnaires import questionnaire_for
from .release import ensure_results_released

SHOWN = "shown"
TOO_FEW = "too_few"
NONE = "none"
REF_LENGTH = 16  # hex digits of a comment's reference: 64 bits, unguessable in practice


@dataclass(frozen=True, slots=True)
class CommentGroup:
    """The comments of one list that speak of one dimension (``dimension`` None: the rest)."""

    dimension: str | None
    name: str | None
    comments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommentList:
    """The comments of the organisation (``code`` None) or of one department's subtree."""

    code: str | None
    name: str
    count: int
    groups: tuple[CommentGroup, ...]


@dataclass(frozen=True, slots=True)
class CampaignComments:
    """What a reader may see of a closed campaign's comments.

    ``state`` is ``shown`` (the organisation's list, and the departments that may be
    shown), ``too_few`` (fewer than ``threshold`` comments: nothing, and no count) or
    ``none`` (no comment to show).
    """

    campaign_id: int
    threshold: int
    state: str
    organisation: CommentList | None
    departments: tuple[CommentList, ...]

    def to_dict(self) -> dict:
        """The JSON of ``GET /api/v1/campaigns/<id>/comments``."""

        def listing(entry: CommentList) -> dict:
            return {
                "comments": entry.count,
                "groups": [
                    {"dimension": group.dimension, "comments": list(group.comments)}
                    for group in entry.groups
                ],
            }

        return {
            "campaign_id": self.campaign_id,
            "status": "closed",
            "threshold": self.threshold,
            "state": self.state,
            "organisation": listing(self.organisation) if self.organisation else None,
            "departments": [
                {"code": entry.code, "name": entry.name, **listing(entry)}
                for entry in self.departments
            ],
        }


@dataclass(frozen=True, slots=True)
class ReviewedComment:
    """One comment on the consultants' review page: its reference, text and state."""

    ref: str
    text: str
    hidden: bool


# ---------------------------------------------------------------------------------
# Reading


def campaign_comments(
    campaign: Campaign,
    lang: str,
    scope: frozenset[str] | None = None,
    department: str | None = None,
) -> CampaignComments:
    """The released comments of ``campaign`` as a reader with ``scope`` may see them.

    ``scope`` is the department codes a department head may read (None: all); the
    organisation's list is shown to every reader. ``department`` keeps only that
    department's list (for its PDF report). Raises ``ResultsNotReleased`` unless the
    campaign has closed.
    """
    ensure_results_released(campaign)
    threshold = campaign.min_comment_group_size
    rows = _comment_rows(campaign)
    visible = [(response_id, unit, text) for response_id, unit, text, hidden in rows if not hidden]
    if not visible:
        return CampaignComments(campaign.id, threshold, NONE, None, ())
    if len(visible) < threshold:
        return CampaignComments(campaign.id, threshold, TOO_FEW, None, ())

    units = campaign_departments(campaign)
    parents = {u.department_id: u.parent_department_id for u in units}
    everyone = _counts(unit for _, unit, _, _ in rows)
    allowed = shown_departments(parents, everyone, threshold)
    shown = shown_departments(parents, _counts(u for _, u, _ in visible), threshold, allowed)

    questionnaire = questionnaire_for(campaign.questionnaire_version)
    matcher = _Matcher(questionnaire)
    key = _secret()
    entries = sorted(
        ((_tag(key, response_id), unit, text, matcher.dimensions(text)))
        for response_id, unit, text in visible
    )

    def build(code: str | None, name: str, members: set[int] | None) -> CommentList:
        chosen = [e for e in entries if members is None or e[1] in members]
        return CommentList(code, name, len(chosen), _grouped(chosen, questionnaire, lang))

    subtrees = _subtrees(parents)
    departments = tuple(
        build(u.code, u.name, subtrees[u.department_id])
        for u in sorted(units, key=lambda u: u.code)
        if u.department_id in shown
        and (scope is None or u.code in scope)
        and (department is None or u.code == department)
    )
    organisation = None if department is not None else build(None, "", None)
    return CampaignComments(campaign.id, threshold, SHOWN, organisation, departments)


def shown_departments(
    parents: Mapping[int, int | None],
    counts: Mapping[int, int],
    threshold: int,
    candidates: set[int] | None = None,
) -> set[int]:
    """The departments whose comment lists may be shown beside the organisation's.

    ``parents`` maps each department to its parent (None, or a department outside the
    mapping, for the top); ``counts`` holds each department's own comments. A department
    is a candidate when its subtree has at least ``threshold`` comments (and it is in
    ``candidates``, if given). Then, while some shown list minus the shown lists right
    under it (for the organisation: its total minus the top shown departments) leaves
    between 1 and ``threshold`` - 1 comments, the smallest of those shown lists is
    withheld, which adds its comments to the remainder. Each round withholds one
    department, so this ends; at the end every remainder is 0 or at least the threshold.
    Nothing is shown when the organisation has fewer than ``threshold`` comments.
    """
    subtrees = _subtrees(parents)
    size = {d: sum(counts.get(m, 0) for m in members) for d, members in subtrees.items()}
    total = sum(counts.get(d, 0) for d in parents)
    if total < threshold:
        return set()
    shown = {d for d in parents if size[d] >= threshold and (candidates is None or d in candidates)}
    while True:
        for node in [None, *sorted(shown)]:
            tops = _top_shown_below(node, parents, shown)
            remainder = (total if node is None else size[node]) - sum(size[d] for d in tops)
            if 0 < remainder < threshold:
                # tops is never empty here: a shown list on its own has >= threshold.
                shown.discard(min(tops, key=lambda d: (size[d], d)))
                break
        else:
            return shown


def _top_shown_below(node: int | None, parents: Mapping[int, int | None], shown: set[int]):
    """The shown departments under ``node`` with no shown department between them."""
    tops = []
    for department in shown:
        if department == node:
            continue
        ancestor = parents.get(department)
        while ancestor in parents and ancestor not in shown and ancestor != node:
            ancestor = parents.get(ancestor)
        if ancestor == node or (node is None and ancestor not in parents):
            tops.append(department)
    return tops


def _subtrees(parents: Mapping[int, int | None]) -> dict[int, set[int]]:
    """Each department's subtree (itself and every department under it)."""
    members: dict[int, set[int]] = {d: {d} for d in parents}
    for department in parents:
        ancestor, seen = parents.get(department), {department}
        while ancestor in parents and ancestor not in seen:
            members[ancestor].add(department)
            seen.add(ancestor)
            ancestor = parents.get(ancestor)
    return members


def _counts(units: Iterable[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for unit in units:
        counts[unit] = counts.get(unit, 0) + 1
    return counts


def _comment_rows(campaign: Campaign) -> list[tuple[int, int, str, bool]]:
    """(response id, department id, text, hidden) of every non-blank comment."""
    rows = db.session.execute(
        sa.select(
            Response.id, Response.department_id, Response.comment, Response.comment_hidden
        ).where(Response.campaign_id == campaign.id, Response.comment.is_not(None))
    ).all()
    return [
        (r.id, r.department_id, r.comment.strip(), r.comment_hidden)
        for r in rows
        if r.comment.strip()
    ]


def _grouped(
    entries: list[tuple[str, int, str, tuple[str, ...]]], questionnaire: Questionnaire, lang: str
) -> tuple[CommentGroup, ...]:
    groups = []
    for dimension in questionnaire.dimensions:
        texts = tuple(text for _, _, text, dims in entries if dimension.id in dims)
        if texts:
            groups.append(CommentGroup(dimension.id, pick_text(dimension.name, lang), texts))
    rest = tuple(text for _, _, text, dims in entries if not dims)
    if rest:
        groups.append(CommentGroup(None, None, rest))
    return tuple(groups)


def normalised(text: str) -> str:
    """Lower case, without accents; every run of other than letters and digits one space,
    with a space at both ends (so " word" finds a word's start)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c if c.isalnum() else " " for c in folded if not unicodedata.combining(c))
    return f" {' '.join(plain.split())} "


class _Matcher:
    """Which dimensions a comment speaks of, by the questionnaire's keywords."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.keywords = [
            (
                dimension.id,
                tuple(
                    " " + normalised(word).strip()
                    for words in dimension.keywords.values()
                    for word in words
                    if normalised(word).strip()
                ),
            )
            for dimension in questionnaire.dimensions
        ]

    def dimensions(self, text: str) -> tuple[str, ...]:
        plain = normalised(text)
        return tuple(dim for dim, words in self.keywords if any(w in plain for w in words))


def _secret() -> bytes:
    secret = current_app.config["SECRET_KEY"]
    return secret if isinstance(secret, bytes) else secret.encode()


def _tag(key: bytes, response_id: int) -> str:
    """A comment's order key and reference: an HMAC of its response id."""
    return hmac.new(key, f"comment\x1f{response_id}".encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------------------------
# Reviewing and hiding (consultants)


def review_comments(campaign: Campaign) -> list[ReviewedComment]:
    """Every comment of ``campaign``, hidden ones included, in the same HMAC order."""
    key = _secret()
    return sorted(
        (
            ReviewedComment(_tag(key, response_id)[:REF_LENGTH], text, hidden)
            for response_id, _, text, hidden in _comment_rows(campaign)
        ),
        key=lambda c: c.ref,
    )


def find_comment(campaign: Campaign, ref: str) -> ReviewedComment:
    """The comment with this reference; ServiceError if ``campaign`` has none."""
    for comment in review_comments(campaign):
        if hmac.compare_digest(comment.ref, ref):
            return comment
    raise ServiceError(
        "There is no comment with that reference in this campaign. Go back to the list of "
        "comments and choose the comment again."
    )


def hide_comment(campaign: Campaign, ref: str, user: User) -> ReviewedComment:
    """Hide a comment from every output and record it in the audit log (the caller commits).

    The log holds the campaign and the comment's short reference, never its text.
    Raises ServiceError for an unknown reference or a comment that is already hidden.
    """
    comment = find_comment(campaign, ref)
    if comment.hidden:
        raise ServiceError("This comment is already hidden; nothing was changed.")
    key = _secret()
    response_id = next(
        response_id
        for response_id, _, _, _ in _comment_rows(campaign)
        if _tag(key, response_id)[:REF_LENGTH] == comment.ref
    )
    db.session.execute(
        sa.update(Response).where(Response.id == response_id).values(comment_hidden=True)
    )
    audit.record(
        "comment_hidden",
        user=user,
        organisation=campaign.organisation_id,
        detail=f"campaign {campaign.id}: comment {comment.ref[:8]}",
    )
    db.session.flush()
    return ReviewedComment(comment.ref, comment.text, True)
