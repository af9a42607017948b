"""The audit log: who did what, to which organisation, and when.

Events are written by the same transaction as the change they describe (a view or CLI
command commits both), except failed sign-ins and throttling, which are committed on
their own because the request itself changes nothing. The log never holds respondent
data: no answers, no comments, no invitation or response ids, no client addresses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from ..extensions import db
from ..models import AuditEvent, Organisation, User, utcnow

# Every event the product writes, with a short English description for the log page.
EVENTS: dict[str, str] = {
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in failed",
    "sign_in_throttled": "Sign-in refused: too many attempts",
    "sign_out": "Signed out (all sessions)",
    "two_factor_enabled": "Two-step sign-in switched on",
    "two_factor_disabled": "Two-step sign-in switched off",
    "two_factor_failed": "Two-step code refused",
    "password_changed": "Password changed",
    "password_reset_requested": "Password reset link sent",
    "password_reset": "Password set with a reset link",
    "user_created": "Account created",
    "user_disabled": "Account disabled",
    "user_enabled": "Account enabled",
    "token_issued": "API token issued",
    "token_revoked": "API token revoked",
    "export": "Answers exported",
    "report_download": "Report downloaded",
    "results_download": "Results downloaded",
    "campaign_created": "Campaign created",
    "campaign_opened": "Campaign opened",
    "campaign_closed": "Campaign closed",
    "responses_imported": "Responses imported",
    "departments_imported": "Departments imported",
    "invitations_issued": "Invitation links issued",
    "audit_pruned": "Old audit events deleted",
}

DEFAULT_RETENTION_DAYS = 365


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
    """
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
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


@dataclass(frozen=True)
class AuditFilter:
    event: str | None = None
    organisation_id: int | None = None
    actor: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None


def events(criteria: AuditFilter, limit: int = 200, offset: int = 0) -> list[AuditEvent]:
    """Events matching ``criteria``, newest first."""
    query = sa.select(AuditEvent)
    if criteria.event:
        query = query.where(AuditEvent.event == criteria.event)
    if criteria.organisation_id is not None:
        query = query.where(AuditEvent.organisation_id == criteria.organisation_id)
    if criteria.actor:
        query = query.where(AuditEvent.actor.contains(criteria.actor.strip().lower()))
    if criteria.since:
        start = dt.datetime.combine(criteria.since, dt.time())
        query = query.where(AuditEvent.occurred_at >= start)
    if criteria.until:
        after = dt.datetime.combine(criteria.until + dt.timedelta(days=1), dt.time())
        query = query.where(AuditEvent.occurred_at < after)
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return list(db.session.scalars(query.limit(limit).offset(offset)))


def prune(retention_days: int) -> int:
    """Delete events older than ``retention_days``; return how many went."""
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    cutoff = utcnow() - dt.timedelta(days=retention_days)
    deleted = db.session.execute(sa.delete(AuditEvent).where(AuditEvent.occurred_at < cutoff))
    count = deleted.rowcount or 0
    if count:
        record("audit_pruned", detail=f"{count} events older than {retention_days} days")
    db.session.flush()
    return count
