"""The release policy: what a reader may learn about a campaign, and when.

Every output that shows a campaign's figures (result pages, PDF reports, the results
CSV, the JSON API, consultants' lists and answer files) asks this module first, so the
policy lives in one place (``docs/privacy.md`` states it for readers):

* **draft**: nothing.
* **open**: no results at all, only *participation*: how many people have responded,
  per department and in total, rounded down to a multiple of the anonymity threshold
  and shown only from the threshold up. Results that changed while a campaign is open
  would let a reader subtract two reads around one person's submission and recover that
  person's answers, department and role; counts rounded this way change only once per
  ``threshold`` submissions and carry no answer at all.
* **closed**: the results, once, through the analysis's suppression. A closed campaign
  accepts no more responses (see :func:`ensure_accepts_writes`), so the release never
  changes afterwards and cannot be differenced against itself.

Response counts follow the same rule everywhere: an open campaign's rounded count, a
closed campaign's exact count only when it reaches the threshold, else nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import Campaign, Response
from . import ServiceError
from .campaigns import campaign_departments


class ResultsNotReleased(ServiceError):
    """The campaign's results are not released (yet)."""


@dataclass(frozen=True, slots=True)
class DepartmentParticipation:
    """One department's rounded count; ``responses`` is None below the threshold."""

    code: str
    name: str
    parent: str | None
    responses: int | None


@dataclass(frozen=True, slots=True)
class Participation:
    """An open campaign's participation, coarse enough that one submission shows nothing."""

    campaign_id: int
    threshold: int
    closes_on: str
    responses: int | None  # the organisation, rounded down; None below the threshold
    departments: tuple[DepartmentParticipation, ...]

    def to_dict(self) -> dict:
        """The JSON of ``GET /api/v1/campaigns/<id>/participation``."""
        return {
            "campaign_id": self.campaign_id,
            "status": "open",
            "results_released": False,
            "closes_on": self.closes_on,
            "rounded_down_to_multiples_of": self.threshold,
            "responses": self.responses,
            "departments": [
                {
                    "code": d.code,
                    "name": d.name,
                    "parent": d.parent,
                    "responses": d.responses,
                }
                for d in self.departments
            ],
        }


def results_released(campaign: Campaign) -> bool:
    """Results are released once, when the campaign has closed."""
    return campaign.status == "closed"


def ensure_results_released(campaign: Campaign) -> None:
    """Raise :class:`ResultsNotReleased` with a sentence a reader can act on."""
    if campaign.status == "closed":
        return
    if campaign.status == "open":
        raise ResultsNotReleased(
            f"The results of campaign {campaign.id} are released when it closes "
            f"(it closes on {campaign.closes_on.isoformat()}). While it is open only "
            "participation is shown, so that nobody's answers can be worked out by "
            "comparing the results before and after they respond."
        )
    raise ResultsNotReleased(
        f"Campaign {campaign.id} has not opened yet; there are no results to show."
    )


def ensure_accepts_writes(campaign: Campaign, action: str) -> None:
    """Refuse any change to a closed campaign's responses: its results are published."""
    if campaign.status == "closed":
        raise ServiceError(
            f"Campaign {campaign.id} is closed and its results are published, so it cannot "
            f"{action}: a change now would alter figures that readers already have, and the "
            "difference would reveal the added answers. Create a new campaign instead."
        )


def rounded_count(n: int, threshold: int) -> int | None:
    """``n`` rounded down to a multiple of ``threshold``; None below the threshold."""
    if n < threshold:
        return None
    return n - n % threshold


def visible_response_count(campaign: Campaign, n: int) -> int | None:
    """The response count a reader may see: rounded while open, exact once closed and at
    least the threshold, otherwise nothing (a small number is itself a disclosure)."""
    if campaign.status == "open":
        # The same total as the participation pages and API, which may lower it further
        # so that it cannot be set against their department rows (services/participation.py).
        from .participation import open_total

        return open_total(campaign)
    if campaign.status == "closed" and n >= campaign.min_group_size:
        return n
    return None


def response_counts(campaign_ids: list[int]) -> dict[int, int]:
    """Exact response counts of the given campaigns (for :func:`visible_response_count`)."""
    if not campaign_ids:
        return {}
    return dict(
        db.session.execute(
            sa.select(Response.campaign_id, sa.func.count(Response.id))
            .where(Response.campaign_id.in_(campaign_ids))
            .group_by(Response.campaign_id)
        ).all()
    )


def participation(campaign: Campaign) -> Participation:
    """An open campaign's rounded participation per department (rolled up over its subtree)
    and in total (the total by :func:`.participation.open_total`)."""
    from .participation import open_total

    threshold = campaign.min_group_size
    units = campaign_departments(campaign)
    own = dict(
        db.session.execute(
            sa.select(Response.department_id, sa.func.count(Response.id))
            .where(Response.campaign_id == campaign.id)
            .group_by(Response.department_id)
        ).all()
    )
    by_id = {u.department_id: u for u in units}
    children: dict[int, list[int]] = {}
    for unit in units:
        if unit.parent_department_id in by_id:
            children.setdefault(unit.parent_department_id, []).append(unit.department_id)

    def subtree(department_id: int) -> int:
        return own.get(department_id, 0) + sum(subtree(c) for c in children.get(department_id, []))

    return Participation(
        campaign_id=campaign.id,
        threshold=threshold,
        closes_on=campaign.closes_on.isoformat(),
        responses=open_total(campaign),
        departments=tuple(
            DepartmentParticipation(
                code=u.code,
                name=u.name,
                parent=by_id[u.parent_department_id].code
                if u.parent_department_id in by_id
                else None,
                responses=rounded_count(subtree(u.department_id), threshold),
            )
            for u in units
        ),
    )


# ---------------------------------------------------------------------------------
# Answer files: which department and role each response's row may show

# Why a row shows less than was recorded; the codebook words each (``services/codebook.py``).
DEPARTMENT_WITHHELD = "department_withheld"
ROLE_WITHHELD = "role_withheld"
COMMENTS_WITHHELD = "comments_withheld"


@dataclass(frozen=True, slots=True)
class AnswerFileRelease:
    """The decision for a closed campaign's answer file: what each row may show.

    A row of an answer file is one person's answers. The file is read beside the
    campaign's published results, so its groups must be the published groups
    themselves: a department cell of the file that holds a published group plus a few
    rows more (a small sub-department folded into its parent, say) gives those few rows
    away, because the published figures of the larger part single them out among the
    cell's rows (a subset search over a few dozen rows takes a moment). So:

    * a row shows its department only if the results publish that department, and the
      rows without one are all the others together (at least ``threshold``, or the
      department column is left empty in every row);
    * the role level is shown in every row or in none: in every row only when every
      department and role of the file holds no one or at least ``threshold`` people.
      Emptying only the small cells would let the published role figures of the whole
      organisation be set against the rows that still show that role.

    Every decision depends only on a response's (department, role level), and every
    reason code is one that a reader could work out from the file, the department tree
    and the published results, so the reasons say nothing more about a row than its
    visible cells do.
    """

    threshold: int
    comment_threshold: int
    shown_department: Mapping[int, int | None]  # recorded department id -> shown (None: withheld)
    rows_per_label: Mapping[int | None, int]  # rows of the file per shown department
    roles_shown: bool
    # Shown departments whose rows may carry comments: those with enough rows and no
    # department under them (a parent's comments, set against the comment list of its
    # whole subtree on the results pages, would single out the comments beneath it).
    comment_departments: frozenset[int]

    def department(self, department_id: int) -> int | None:
        """The department a row of ``department_id`` shows, or None if withheld."""
        return self.shown_department[department_id]

    def role(self, department_id: int, role_level: str) -> str | None:
        """The role a row shows, or None if withheld."""
        return role_level if self.roles_shown else None

    def comments_shown(self, department_id: int) -> bool:
        """Whether the rows of ``department_id`` carry their comments."""
        return self.shown_department[department_id] in self.comment_departments

    def reasons(self, department_id: int, role_level: str) -> tuple[str, ...]:
        """The reason codes of a row of ``department_id`` and ``role_level``."""
        codes: list[str] = []
        if self.shown_department[department_id] is None:
            codes.append(DEPARTMENT_WITHHELD)
        if not self.roles_shown:
            codes.append(ROLE_WITHHELD)
        if not self.comments_shown(department_id):
            codes.append(COMMENTS_WITHHELD)
        return tuple(codes)


def answer_file_release(campaign: Campaign) -> AnswerFileRelease:
    """Decide, for a closed campaign, which department, role and comment every answer-file
    row shows (the rules are in :class:`AnswerFileRelease`).

    Raises :class:`ServiceError` if the campaign has fewer responses than the threshold.
    """
    from .reporting import released_report

    ensure_results_released(campaign)
    threshold = campaign.min_group_size
    cells = Counter(
        {
            (department_id, role): n
            for department_id, role, n in db.session.execute(
                sa.select(Response.department_id, Response.role_level, sa.func.count())
                .where(Response.campaign_id == campaign.id)
                .group_by(Response.department_id, Response.role_level)
            )
        }
    )
    total = sum(cells.values())
    if total < threshold:
        raise ServiceError(
            f"Campaign {campaign.id} has {total} responses, fewer than its anonymity "
            f"threshold of {threshold}; there is nothing that can be exported safely."
        )
    units = campaign_departments(campaign)
    published_codes = {
        d["code"] for d in released_report(campaign).departments if not d["suppressed"]
    }
    published = {u.department_id for u in units if u.code in published_codes}
    label: dict[int | None, int | None] = {
        department_id: department_id if department_id in published else None
        for department_id, _ in cells
    }
    rows_per_label: Counter[int | None] = Counter()
    for (department_id, _), n in cells.items():
        rows_per_label[label[department_id]] += n
    if 0 < rows_per_label.get(None, 0) < threshold:
        # The published departments leave too few rows for an "other" group: the results
        # already ensure this cannot happen, but if it did, no row shows a department.
        label = dict.fromkeys(label)
        rows_per_label = Counter({None: total})
    per_cell: Counter[tuple[int | None, str]] = Counter()
    for (department_id, role), n in cells.items():
        per_cell[label[department_id], role] += n
    roles_shown = all(n >= threshold for n in per_cell.values())
    parents = {u.parent_department_id for u in units if u.parent_department_id is not None}
    comment_departments = frozenset(
        shown
        for shown, n in rows_per_label.items()
        if shown is not None and n >= campaign.min_comment_group_size and shown not in parents
    )
    return AnswerFileRelease(
        threshold=threshold,
        comment_threshold=campaign.min_comment_group_size,
        shown_department=label,
        rows_per_label=dict(rows_per_label),
        roles_shown=roles_shown,
        comment_departments=comment_departments,
    )


def opaque_tag(secret: str | bytes, *parts: object) -> str:
    """An ETag or cache key that identifies a version without saying anything about it.

    A tag built from counts or ids (``"12-48-9731"``) tells a poller how many responses
    arrived and the newest response id across every organisation; an HMAC of the same
    parts changes just as often and reveals nothing else.
    """
    key = secret if isinstance(secret, bytes) else secret.encode()
    message = "\x1f".join(str(part) for part in parts).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
