"""The audit log: who did what, to which organisation, and when.

Events are written by the same transaction as the change they describe (a view or CLI
command commits both), except failed sign-ins and throttling, which are committed on
their own because the request itself changes nothing, and downloads, whose request
otherwise writes nothing. The log never holds respondent data: no answers, no
comments, no invitation or response ids, no client addresses.

Retention: events are kept for ``AUDIT_RETENTION_DAYS`` days (default 365). Pruning
happens by itself: ``record`` deletes the expired events, in the same transaction,
once the oldest event has been expired for a day, so at most about once a day and
only while events are being recorded. ``surveyapp audit prune`` does the same on
demand (for example from cron on a server that records few events); a prune that
deletes anything records itself as ``audit_pruned``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import AuditEvent, Organisation, User, utcnow

# Every event the product writes, with a short description for the log page (lazy, so
# it is translated when shown, in the reader's language).
EVENTS: dict[str, LazyString] = {
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Sign-in failed"),
    "sign_in_throttled": _l("Sign-in refused: too many attempts"),
    "sign_out": _l("Signed out (all sessions)"),
    "two_factor_enabled": _l("Two-step sign-in switched on"),
    "two_factor_disabled": _l("Two-step sign-in switched off"),
    "two_factor_failed": _l("Two-step code refused"),
    "password_changed": _l("Password changed"),
    "password_reset_requested": _l("Password reset link sent"),
    "password_reset": _l("Password set with a reset link"),
    "user_created": _l("Account created"),
    "user_disabled": _l("Account disabled"),
    "user_enabled": _l("Account enabled"),
    "user_scope": _l("What a manager may see changed"),
    "token_issued": _l("API token issued"),
    "token_revoked": _l("API token revoked"),
    "export": _l("Answers exported"),
    "report_download": _l("Report downloaded"),
    "comparison_download": _l("Comparison report downloaded"),
    "results_download": _l("Results downloaded"),
    "organisation_created": _l("Organisation created"),
    "organisation_changed": _l("Organisation changed"),
    "department_changed": _l("Department changed"),
    "campaign_created": _l("Campaign created"),
    "campaign_changed": _l("Campaign settings changed"),
    "campaign_extended": _l("Campaign extended"),
    "campaign_opened": _l("Campaign opened"),
    "campaign_closed": _l("Campaign closed"),
    "responses_imported": _l("Responses imported"),
    "departments_imported": _l("Departments imported"),
    "invitations_issued": _l("Invitation links issued"),
    "slips_printed": _l("Paper invitation slips printed"),
    "comment_hidden": _l("Staff comment hidden"),
    "action_plan_focus_changed": _l("Action plan: focus dimensions changed"),
    "action_added": _l("Action plan: action added"),
    "action_changed": _l("Action plan: action changed"),
    "action_removed": _l("Action plan: action removed"),
    "audit_pruned": _l("Old audit events deleted"),
}

DEFAULT_RETENTION_DAYS = 365


def describe(event: str) -> str:
    """The event's description in the current language (its name if it is not known)."""
    description = EVENTS.get(event)
    return str(description) if description is not None else event


def retention_days() -> int:
    """How many days events are kept (``AUDIT_RETENTION_DAYS``)."""
    return int(current_app.config.get("AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def record(
    event: str,
    *,
    user: User | None = None,
    actor: str | None = None,
    organisation: Organisation | int | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add one event to the session (the caller commits).

    ``actor`` names who acted when there is no user: "cli", or the e-mail address a
    failed sign-in was tried for (only if that account exists; otherwise "unknown
    account", so the log does not collect mistyped or guessed addresses).
    Expired events are pruned first when they are due (see the module docstring).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    _prune_when_due()
    return _add(event, user=user, actor=actor, organisation=organisation, detail=detail)


def _add(
    event: str,
    *,
    user: User | None = None,
    actor: str | None = None,
    organisation: Organisation | int | None = None,
    detail: str = "",
) -> AuditEvent:
    organisation_id = organisation.id if isinstance(organisation, Organisation) else organisation
    if organisation_id is None and user is not None:
        organisation_id = user.organisation_id
    entry = AuditEvent(
        occurred_at=utcnow(),
        user_id=user.id if user is not None else None,
        actor=(actor or (user.email if user is not None else "cli"))[:254],
        organisation_id=organisation_id,
        event=event,
        detail=detail[:500],
    )
    db.session.add(entry)
    return entry


def _prune_when_due() -> None:
    """Prune once the oldest event has been past the retention period for a whole day.

    One indexed look-up per recorded event; after a prune the oldest event is within the
    period again, so the next prune is at least a day later.
    """
    days = retention_days()
    # No autoflush: the caller's pending changes are flushed when the caller decides.
    with db.session.no_autoflush:
        oldest = db.session.scalar(sa.select(sa.func.min(AuditEvent.occurred_at)))
        if oldest is not None and oldest < utcnow() - dt.timedelta(days=days + 1):
            prune(days, actor="system")


@dataclass(frozen=True)
class AuditFilter:
    event: str | None = None
    organisation_id: int | None = None
    actor: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


def _matching(query: sa.Select, criteria: AuditFilter) -> sa.Select:
    if criteria.event:
        query = query.where(AuditEvent.event == criteria.event)
    if criteria.organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == criteria.organisation_id)
    if criteria.actor and criteria.actor.strip():
        # Case-insensitive on every database; % and _ in the search are literal.
        text = criteria.actor.strip().lower()
        query = query.where(sa.func.lower(AuditEvent.actor).contains(text, autoescape=True))
    if criteria.since:
        start = dt.datetime.combine(criteria.since, dt.time())
        query = query.where(AuditEvent.occurred_at >= start)
    if criteria.until:
        after = dt.datetime.combine(criteria.until + dt.timedelta(days=1), dt.time())
        query = query.where(AuditEvent.occurred_at < after)
    return query


def events(criteria: AuditFilter, limit: int = 200, offset: int = 0) -> list[AuditEvent]:
    """Events matching ``criteria``, newest first."""
    query = _matching(sa.select(AuditEvent), criteria)
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return list(db.session.scalars(query.limit(limit).offset(offset)))


def count_events(criteria: AuditFilter) -> int:
    """How many events match ``criteria``."""
    query = _matching(sa.select(sa.func.count()).select_from(AuditEvent), criteria)
    return db.session.scalar(query) or 0


def prune(retention_days: int, *, actor: str = "cli") -> int:
    """Delete events older than ``retention_days``; return how many went.

    A prune that deletes anything records itself, by ``actor`` ("cli", or "system" when
    ``record`` pruned on its own).
    """
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    deleted = db.session.execute(sa.delete(AuditEvent).where(AuditEvent.occurred_at < cutoff))
    count = deleted.rowcount or 0
    if count:
        _add(
            "audit_pruned",
            actor=actor,
            detail=f"{count} events older than {retention_days} days",
        )
    return count
