"""Action plans: what an organisation decided to do about a closed campaign's results.

After a campaign closes, its organisation-wide managers and the consultants choose up to
three focus dimensions and record actions for each (what, who, by when, how far along).
A focus dimension starts from the questionnaire's recommendation for the level it
reached. The plan appears on the campaign's results page and in its PDF; the next
campaign's change section puts each focus dimension's change beside its actions.

Department heads read the plan but do not change it: it is the organisation's plan.

Functions here add and flush, write the audit event, and never commit (the view owns
the transaction), so a refused change leaves nothing behind. The audit log names the
campaign, the dimension and the action's number, never the action's text or its owner.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..extensions import db
from ..models import (
    ACTION_STATUSES,
    MAX_FOCUS_DIMENSIONS,
    ActionFocus,
    ActionPlan,
    Campaign,
    PlannedAction,
    User,
    utcnow,
)
from ..questionnaires import Questionnaire, pick_text
from ..reporting.certainty import certainty
from . import ServiceError, audit
from .campaigns import previous_campaign
from .questionnaires import questionnaire_for
from .release import ensure_results_released

TEXT_MAX = 1000
OWNER_MAX = 120
# Actions per focus dimension: the plan is one printed page.
MAX_ACTIONS = 5
# A due date from the day the campaign closed up to this many years later.
DUE_YEARS = 5


# ---------------------------------------------------------------------------------
# Who may do what


def may_read(user: User | None, campaign: Campaign) -> bool:
    """Consultants, and every manager of the campaign's organisation (department heads too)."""
    if user is None:
        return False
    return user.role == "consultant" or (
        user.role == "manager" and user.organisation_id == campaign.organisation_id
    )


def may_edit(user: User | None, campaign: Campaign) -> bool:
    """Consultants, and the organisation's managers who see the whole organisation."""
    return may_read(user, campaign) and (user.role == "consultant" or user.department_id is None)


# ---------------------------------------------------------------------------------
# Plain data for pages, the PDF and the API


@dataclass(frozen=True)
class Level:
    number: int
    name: str


@dataclass(frozen=True)
class Change:
    """A focus dimension's change since the plan's campaign (this campaign minus that)."""

    diff: float
    ci: tuple[float, float] | None
    certainty: str  # "clear", "probable" or "unclear" (reporting/certainty.py)


@dataclass(frozen=True)
class ActionEntry:
    id: int
    text: str
    owner: str
    due_on: dt.date
    status: str


@dataclass(frozen=True)
class FocusEntry:
    """A focus dimension with its level and recommendation when the plan's campaign closed."""

    dimension_id: str
    name: str
    mean: float | None
    level: Level | None
    recommendation: str | None
    actions: tuple[ActionEntry, ...]
    # Only in a follow-up: the change since the plan's campaign; None if not shown (too
    # few responses then or now), with ``change_missing`` saying so.
    change: Change | None = None
    change_missing: bool = False

    def status_counts(self) -> dict[str, int]:
        """How many actions have each status."""
        return {s: sum(1 for a in self.actions if a.status == s) for s in ACTION_STATUSES}


@dataclass(frozen=True)
class PlanSummary:
    """A campaign's action plan as plain data (no database objects)."""

    campaign_id: int
    campaign_name: str
    updated_on: dt.date
    focus: tuple[FocusEntry, ...]

    @property
    def action_count(self) -> int:
        return sum(len(f.actions) for f in self.focus)

    def to_dict(self) -> dict[str, Any]:
        """The API's shape: ids and codes, no words in a language."""
        return {
            "campaign_id": self.campaign_id,
            "updated_on": self.updated_on.isoformat(),
            "focus": [
                {
                    "dimension_id": f.dimension_id,
                    "level": f.level.number if f.level else None,
                    "actions": [
                        {
                            "id": a.id,
                            "text": a.text,
                            "owner": a.owner,
                            "due_on": a.due_on.isoformat(),
                            "status": a.status,
                        }
                        for a in f.actions
                    ],
                    **(
                        {
                            "change": None
                            if f.change is None
                            else {
                                "diff": f.change.diff,
                                "ci95": list(f.change.ci) if f.change.ci else None,
                                "certainty": f.change.certainty,
                            }
                        }
                        if f.change is not None or f.change_missing
                        else {}
                    ),
                }
                for f in self.focus
            ],
        }


@dataclass(frozen=True)
class DimensionChoice:
    """A dimension that can be a focus: shown, with a level and its recommendation."""

    id: str
    name: str
    mean: float
    level: Level
    recommendation: str


def _analysis_dimensions(campaign: Campaign) -> dict[str, dict[str, Any]]:
    """The organisation-level dimension entries of the campaign's released analysis."""
    from .reporting import memoised, released_report

    report = released_report(campaign)
    data = memoised(report, ("action_plan_dimensions",), lambda: report.analysis.to_dict())
    return {d["id"]: d for d in data.get("dimensions", [])}


def _level(questionnaire: Questionnaire, number: int | None, lang: str) -> Level | None:
    for level in questionnaire.levels:
        if level.number == number:
            return Level(number, pick_text(level.name, lang))
    return None


def dimension_choices(campaign: Campaign, lang: str) -> list[DimensionChoice]:
    """The dimensions a plan may focus on, in questionnaire order: those with a level.

    Empty when the campaign's results are withheld (too few responses).
    """
    ensure_results_released(campaign)
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    entries = _analysis_dimensions(campaign)
    choices = []
    for dimension in questionnaire.dimensions:
        entry = entries.get(dimension.id) or {}
        number = (entry.get("maturity") or {}).get("level")
        level = _level(questionnaire, number, lang)
        if entry.get("suppressed", True) or level is None or entry.get("mean") is None:
            continue
        choices.append(
            DimensionChoice(
                dimension.id,
                pick_text(dimension.name, lang),
                float(entry["mean"]),
                level,
                questionnaire.recommendation(dimension.id, level.number, lang),
            )
        )
    return choices


def plan_of(campaign: Campaign) -> ActionPlan | None:
    """The campaign's plan, if one was started."""
    return db.session.scalar(sa.select(ActionPlan).where(ActionPlan.campaign_id == campaign.id))


def plan_summary(campaign: Campaign, lang: str) -> PlanSummary | None:
    """The campaign's plan in ``lang``, or None if it has no focus dimension yet."""
    plan = plan_of(campaign)
    if plan is None or not plan.focus:
        return None
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    choices = {c.id: c for c in dimension_choices(campaign, lang)}
    focus = []
    for row in plan.focus:
        choice = choices.get(row.dimension_id)
        try:
            name = pick_text(questionnaire.dimension(row.dimension_id).name, lang)
        except KeyError:
            name = row.dimension_id
        focus.append(
            FocusEntry(
                dimension_id=row.dimension_id,
                name=name,
                mean=choice.mean if choice else None,
                level=choice.level if choice else None,
                recommendation=choice.recommendation if choice else None,
                actions=tuple(
                    ActionEntry(a.id, a.text, a.owner, a.due_on, a.status) for a in row.actions
                ),
            )
        )
    return PlanSummary(campaign.id, campaign.name, plan.updated_at.date(), tuple(focus))


def follow_up(campaign: Campaign, lang: str) -> PlanSummary | None:
    """The previous campaign's plan, each focus dimension with its change since then.

    None when there is no earlier closed campaign on the same questionnaire, or it has no
    plan. The change is the one the campaign's own report shows (this minus previous).
    """
    previous = previous_campaign(campaign)
    if previous is None:
        return None
    summary = plan_summary(previous, lang)
    if summary is None:
        return None
    entries = _analysis_dimensions(campaign)
    focus = []
    for entry in summary.focus:
        data = (entries.get(entry.dimension_id) or {}).get("change") or {}
        change = None
        if not data.get("suppressed", True) and data.get("diff") is not None:
            ci = data.get("ci95")
            change = Change(
                float(data["diff"]),
                (float(ci[0]), float(ci[1])) if ci and None not in ci else None,
                certainty(ci, data.get("p_holm")).value,
            )
        focus.append(
            FocusEntry(
                entry.dimension_id,
                entry.name,
                entry.mean,
                entry.level,
                entry.recommendation,
                entry.actions,
                change=change,
                change_missing=change is None,
            )
        )
    return PlanSummary(summary.campaign_id, summary.campaign_name, summary.updated_on, tuple(focus))


# ---------------------------------------------------------------------------------
# Changes


@dataclass(frozen=True)
class FocusChange:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    # Actions deleted with the focus dimensions that were dropped.
    removed_actions: int


def _editable(campaign: Campaign, user: User) -> None:
    if campaign.status != "closed":
        raise ServiceError(
            "An action plan is made once the campaign has closed and its results are out; "
            f"campaign {campaign.id} has not closed yet."
        )
    if not may_edit(user, campaign):
        raise ServiceError(
            "Only consultants and the organisation's managers who see the whole "
            "organisation can change its action plan."
        )


def _touch(plan: ActionPlan) -> None:
    plan.updated_at = utcnow()


def actions_lost(campaign: Campaign, dimension_ids: Sequence[str]) -> dict[str, int]:
    """Per focus dimension that ``dimension_ids`` leaves out: how many actions it has."""
    plan = plan_of(campaign)
    if plan is None:
        return {}
    keep = set(dimension_ids)
    return {f.dimension_id: len(f.actions) for f in plan.focus if f.dimension_id not in keep}


def set_focus(campaign: Campaign, dimension_ids: Sequence[str], user: User) -> FocusChange:
    """Make ``dimension_ids`` the plan's focus dimensions (the plan is created if needed).

    Kept dimensions keep their actions and their order; new ones follow in the order
    given; dropped ones are deleted with their actions. Raises ServiceError for more than
    three, a repeated or unknown dimension, or one without a level.
    """
    _editable(campaign, user)
    wanted = list(dimension_ids)
    if len(set(wanted)) != len(wanted):
        raise ServiceError("Choose each dimension once.")
    if len(wanted) > MAX_FOCUS_DIMENSIONS:
        raise ServiceError(
            f"Choose at most {MAX_FOCUS_DIMENSIONS} dimensions to focus on; "
            f"{len(wanted)} were chosen."
        )
    known = {c.id for c in dimension_choices(campaign, "en")}
    unknown = [d for d in wanted if d not in known]
    if unknown:
        raise ServiceError(
            f"{', '.join(unknown)} cannot be a focus: it is not a dimension of this "
            "campaign with a level to start from."
        )
    plan = plan_of(campaign)
    if plan is None:
        plan = ActionPlan(campaign_id=campaign.id)
        db.session.add(plan)
        db.session.flush()
    current = list(plan.focus)
    dropped = [f for f in current if f.dimension_id not in wanted]
    kept = [f for f in current if f.dimension_id in wanted]
    removed_actions = sum(len(f.actions) for f in dropped)
    for row in dropped:
        plan.focus.remove(row)
    db.session.flush()
    # One row at a time, each to a position no higher than its own: positions are unique
    # per plan, and the database checks that after every row.
    for position, row in enumerate(sorted(kept, key=lambda f: f.position), start=1):
        if row.position != position:
            row.position = position
            db.session.flush()
    have = {f.dimension_id for f in kept}
    added = [d for d in wanted if d not in have]
    for position, dimension_id in enumerate(added, start=len(kept) + 1):
        plan.focus.append(ActionFocus(dimension_id=dimension_id, position=position))
    _touch(plan)
    db.session.flush()
    change = FocusChange(
        tuple(added), tuple(f.dimension_id for f in dropped), removed_actions=removed_actions
    )
    if change.added or change.removed:
        detail = f"campaign {campaign.id}: focus {', '.join(wanted) or 'none'}"
        if change.removed_actions:
            detail += f"; {change.removed_actions} action(s) removed with the dropped dimensions"
        audit.record(
            "action_plan_focus_changed",
            user=user,
            organisation=campaign.organisation_id,
            detail=detail,
        )
    return change


def _focus(campaign: Campaign, dimension_id: str) -> ActionFocus:
    plan = plan_of(campaign)
    row = next((f for f in plan.focus if f.dimension_id == dimension_id), None) if plan else None
    if row is None:
        raise ServiceError(
            f"{dimension_id} is not a focus dimension of this plan. Choose it as a focus first."
        )
    return row


def find_action(campaign: Campaign, action_id: int) -> PlannedAction:
    """The action of this campaign's plan with this id; ServiceError if it has none."""
    action = db.session.scalar(
        sa.select(PlannedAction)
        .join(ActionFocus)
        .join(ActionPlan)
        .where(PlannedAction.id == action_id, ActionPlan.campaign_id == campaign.id)
    )
    if action is None:
        raise ServiceError("This plan has no such action; it may have been removed already.")
    return action


def check_action(campaign: Campaign, text: str, owner: str, due_on: dt.date, status: str) -> None:
    """Raise ServiceError unless the action's fields are acceptable (the forms say it first)."""
    closed = campaign.closed_on or campaign.closes_on
    if not text.strip() or len(text) > TEXT_MAX:
        raise ServiceError(f"Describe the action in 1 to {TEXT_MAX} characters.")
    if not owner.strip() or len(owner) > OWNER_MAX:
        raise ServiceError(f"Name who is responsible in 1 to {OWNER_MAX} characters.")
    if not closed <= due_on <= latest_due(campaign):
        raise ServiceError(
            f"The due date must lie between {closed.isoformat()} (the day the campaign "
            f"closed) and {latest_due(campaign).isoformat()}."
        )
    if status not in ACTION_STATUSES:
        raise ServiceError(f"The status must be one of {', '.join(ACTION_STATUSES)}.")


def latest_due(campaign: Campaign) -> dt.date:
    """The latest due date an action of this campaign's plan may have."""
    closed = campaign.closed_on or campaign.closes_on
    try:
        return closed.replace(year=closed.year + DUE_YEARS)
    except ValueError:  # 29 February
        return closed.replace(year=closed.year + DUE_YEARS, day=28)


def add_action(
    campaign: Campaign,
    dimension_id: str,
    text: str,
    owner: str,
    due_on: dt.date,
    status: str,
    user: User,
) -> PlannedAction:
    """Add an action to a focus dimension of the campaign's plan."""
    _editable(campaign, user)
    focus = _focus(campaign, dimension_id)
    if len(focus.actions) >= MAX_ACTIONS:
        raise ServiceError(
            f"A focus dimension has at most {MAX_ACTIONS} actions. Remove or merge one first."
        )
    text, owner = text.strip(), owner.strip()
    check_action(campaign, text, owner, due_on, status)
    action = PlannedAction(text=text, owner=owner, due_on=due_on, status=status)
    focus.actions.append(action)
    _touch(focus.plan)
    db.session.flush()
    audit.record(
        "action_added",
        user=user,
        organisation=campaign.organisation_id,
        detail=f"campaign {campaign.id}, {dimension_id}: action {action.id} ({status})",
    )
    return action


def update_action(
    campaign: Campaign,
    action_id: int,
    text: str,
    owner: str,
    due_on: dt.date,
    status: str,
    user: User,
) -> list[str]:
    """Change an action; return the names of the fields that changed (none: no event)."""
    _editable(campaign, user)
    action = find_action(campaign, action_id)
    text, owner = text.strip(), owner.strip()
    check_action(campaign, text, owner, due_on, status)
    changed = []
    if action.text != text:
        changed.append("text")
    if action.owner != owner:
        changed.append("owner")
    if action.due_on != due_on:
        changed.append(f"due {action.due_on.isoformat()} → {due_on.isoformat()}")
    if action.status != status:
        changed.append(f"status {action.status} → {status}")
    if not changed:
        return []
    action.text, action.owner, action.due_on, action.status = text, owner, due_on, status
    _touch(action.focus.plan)
    db.session.flush()
    audit.record(
        "action_changed",
        user=user,
        organisation=campaign.organisation_id,
        detail=f"campaign {campaign.id}, {action.focus.dimension_id}: action {action.id}: "
        + "; ".join(changed),
    )
    return changed


def remove_action(campaign: Campaign, action_id: int, user: User) -> None:
    """Delete an action from the campaign's plan."""
    _editable(campaign, user)
    action = find_action(campaign, action_id)
    focus = action.focus
    focus.actions.remove(action)
    _touch(focus.plan)
    db.session.flush()
    audit.record(
        "action_removed",
        user=user,
        organisation=campaign.organisation_id,
        detail=f"campaign {campaign.id}, {focus.dimension_id}: action {action_id}",
    )
