"""Database models (typed SQLAlchemy 2.0). Constraints live in the database."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

ROLE_LEVELS = ("top_management", "middle_management", "employee", "conversation_team")
CAMPAIGN_STATUSES = ("draft", "open", "closed")
SIZE_BANDS = ("1-49", "50-249", "250-999", "1000+")
USER_ROLES = ("consultant", "manager")
RESPONSE_SOURCES = ("web", "import")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def today() -> dt.date:
    """Today's date in UTC: the only time resolution stored with a response."""
    return dt.datetime.now(dt.UTC).date()


def utcnow() -> dt.datetime:
    """Now in UTC, without a time zone (stored so on both databases).

    Used for accounts and the audit log only, never for anything about a response.
    """
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class QuestionnaireVersion(db.Model):
    """A published instrument version, mirrored from its file so answers can reference it."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (
        sa.UniqueConstraint("key", "version"),
        sa.CheckConstraint("scale_max > scale_min", name="scale_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(80))
    version: Mapped[int]
    checksum: Mapped[str] = mapped_column(sa.String(64))
    scale_min: Mapped[int]
    scale_max: Mapped[int]

    items: Mapped[list[QuestionnaireItem]] = relationship(
        back_populates="questionnaire_version", order_by="QuestionnaireItem.position"
    )


class QuestionnaireItem(db.Model):
    __tablename__ = "questionnaire_item"

    questionnaire_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaire_version.id"), primary_key=True
    )
    item_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    dimension_id: Mapped[str] = mapped_column(sa.String(80))
    reverse: Mapped[bool]
    position: Mapped[int]

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship(back_populates="items")


class ScalePoint(db.Model):
    """The values an answer may take; answers reference it, so the database enforces the range."""

    __tablename__ = "scale_point"

    questionnaire_version_id: Mapped[int] = mapped_column(
        sa.ForeignKey("questionnaire_version.id"), primary_key=True
    )
    value: Mapped[int] = mapped_column(primary_key=True)


class Organisation(db.Model):
    __tablename__ = "organisation"
    __table_args__ = (sa.CheckConstraint(_in("size_band", SIZE_BANDS), name="size_band"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    sector: Mapped[str] = mapped_column(sa.String(80))
    size_band: Mapped[str] = mapped_column(sa.String(16))
    created_on: Mapped[dt.date] = mapped_column(default=today)

    departments: Mapped[list[Department]] = relationship(
        back_populates="organisation", order_by="Department.code"
    )
    campaigns: Mapped[list[Campaign]] = relationship(
        back_populates="organisation", order_by="Campaign.opens_on"
    )


class Department(db.Model):
    """A unit of an organisation; ``parent_id`` makes the departments a tree."""

    __tablename__ = "department"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "code"),
        sa.CheckConstraint("headcount IS NULL OR headcount >= 0", name="headcount"),
        sa.CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    headcount: Mapped[int | None]

    organisation: Mapped[Organisation] = relationship(back_populates="departments")
    parent: Mapped[Department | None] = relationship(remote_side=[id])


class Campaign(db.Model):
    """One run of a questionnaire in one organisation."""

    __tablename__ = "campaign"
    __table_args__ = (
        sa.CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="status"),
        sa.CheckConstraint("closes_on > opens_on", name="dates"),
        sa.CheckConstraint("min_group_size >= 3", name="min_group_size"),
        sa.CheckConstraint("min_comment_group_size >= min_group_size", name="comment_threshold"),
        sa.CheckConstraint(
            "retention_months IS NULL OR retention_months BETWEEN 1 AND 120", name="retention"
        ),
        sa.CheckConstraint("max_reminders BETWEEN 0 AND 5", name="max_reminders"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_version.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    opens_on: Mapped[dt.date]
    closes_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(sa.String(10), default="draft")
    min_group_size: Mapped[int] = mapped_column(default=5)
    min_comment_group_size: Mapped[int] = mapped_column(default=10)
    frozen_on: Mapped[dt.date | None]
    # The day the campaign was closed: its planned closing day, or earlier if closed early.
    closed_on: Mapped[dt.date | None]
    # Shown to respondents in the privacy statement: who is responsible for the data,
    # how to reach them, and how long the answers are kept.
    controller: Mapped[str | None] = mapped_column(sa.String(200))
    controller_contact: Mapped[str | None] = mapped_column(sa.String(254))
    retention_months: Mapped[int | None]
    # When staff will hear the results (the thank-you page says so).
    results_on: Mapped[dt.date | None]
    # At most this many reminders may be sent to those who have not answered.
    max_reminders: Mapped[int] = mapped_column(default=2, server_default="2")
    # The benchmark of this campaign's report, chosen by its consultant: "sector", "size",
    # "sector_size", or None for all organisations on the same questionnaire version.
    norm_group: Mapped[str | None] = mapped_column(sa.String(20))

    organisation: Mapped[Organisation] = relationship(back_populates="campaigns")
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    units: Mapped[list[CampaignDepartment]] = relationship(
        back_populates="campaign", order_by="CampaignDepartment.code"
    )


class CampaignDepartment(db.Model):
    """The department tree as it stood when the campaign opened (frozen)."""

    __tablename__ = "campaign_department"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"), primary_key=True)
    parent_department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    code: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(200))
    headcount: Mapped[int | None]

    campaign: Mapped[Campaign] = relationship(back_populates="units")


class Invitation(db.Model):
    """A single-use survey link. Only the SHA-256 of its token is stored."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"), index=True)
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Whether the link has been used; deliberately no timestamp, which could be
    # matched against a response's submission.
    used: Mapped[bool] = mapped_column(default=False)

    campaign: Mapped[Campaign] = relationship()
    department: Mapped[Department] = relationship()
    draft: Mapped[Draft | None] = relationship(
        back_populates="invitation", cascade="all, delete-orphan"
    )


class Draft(db.Model):
    """Unsubmitted answers, encrypted with a key from their link; deleted on submit."""

    __tablename__ = "draft"

    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitation.id", ondelete="CASCADE"), primary_key=True
    )
    # Language, role level, answers, comment and step, sealed by services/drafts.py under
    # a key derived from the link's token: the database alone cannot read them back.
    ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)
    updated_on: Mapped[dt.date] = mapped_column(default=today, onupdate=today)

    invitation: Mapped[Invitation] = relationship(back_populates="draft")


class Response(db.Model):
    """A submitted questionnaire. Nothing here links it to the invitation it came from."""

    __tablename__ = "response"
    __table_args__ = (
        sa.CheckConstraint(_in("role_level", ROLE_LEVELS), name="role_level"),
        sa.CheckConstraint(_in("source", RESPONSE_SOURCES), name="source"),
        # Lets answers reference (response, questionnaire version) together.
        sa.UniqueConstraint("id", "questionnaire_version_id"),
        sa.Index("ix_response_campaign_department", "campaign_id", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaign.id"))
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))
    questionnaire_version_id: Mapped[int] = mapped_column(sa.ForeignKey("questionnaire_version.id"))
    role_level: Mapped[str] = mapped_column(sa.String(40))
    language: Mapped[str] = mapped_column(sa.String(5))
    source: Mapped[str] = mapped_column(sa.String(10), default="web")
    submitted_on: Mapped[dt.date] = mapped_column(default=today)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    # Set by a consultant when the comment names a person: it then appears nowhere.
    comment_hidden: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The answers again, one byte per questionnaire item in position order, written with
    # the answer rows in the same transaction: reports and answer files read a campaign
    # from these (codes and why they live here: services/matrix.py).
    answer_codes: Mapped[bytes] = mapped_column(sa.LargeBinary)

    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class Answer(db.Model):
    """One answer; ``value`` NULL means "don't know" (stored as missing).

    The source of truth for every answer; ``Response.answer_codes`` is a packed copy.
    """

    __tablename__ = "answer"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["response_id", "questionnaire_version_id"],
            ["response.id", "response.questionnaire_version_id"],
            ondelete="CASCADE",
            name="fk_answer_response",
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id", "item_id"],
            ["questionnaire_item.questionnaire_version_id", "questionnaire_item.item_id"],
            name="fk_answer_item",
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id", "value"],
            ["scale_point.questionnaire_version_id", "scale_point.value"],
            name="fk_answer_scale_point",
        ),
    )

    response_id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    questionnaire_version_id: Mapped[int]
    value: Mapped[int | None]

    response: Mapped[Response] = relationship(back_populates="answers")


class User(db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint(_in("role", USER_ROLES), name="role"),
        sa.CheckConstraint(
            "(role = 'consultant' AND organisation_id IS NULL)"
            " OR (role = 'manager' AND organisation_id IS NOT NULL)",
            name="manager_scope",
        ),
        sa.CheckConstraint("department_id IS NULL OR role = 'manager'", name="department_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(20))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation.id"))
    # A disabled account cannot sign in, and its sessions and API tokens stop working.
    disabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # Every session cookie carries the generation it was issued under; signing out,
    # changing the password or disabling the account increments it, which ends every
    # session of the user on every device at once.
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    # A manager limited to one department and the departments under it (a department
    # head); NULL sees the whole organisation.
    department_id: Mapped[int | None] = mapped_column(sa.ForeignKey("department.id"))
    # Base32 TOTP secret (RFC 6238) once two-step sign-in is confirmed, else NULL.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    # The last 30-second step whose code was accepted: a code works once.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    organisation: Mapped[Organisation | None] = relationship()
    department: Mapped[Department | None] = relationship()


class SignInThrottle(db.Model):
    """Failed sign-in attempts per account and per client, shared by every worker and host.

    ``key`` is an HMAC of "account:<e-mail>" or "client:<address>" under the app's
    secret, so the table holds neither addresses nor the e-mail addresses that were tried.
    """

    __tablename__ = "sign_in_throttle"
    __table_args__ = (sa.CheckConstraint("failures >= 0", name="failures"),)

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[dt.datetime]
    blocked_until: Mapped[dt.datetime | None]


class PasswordReset(db.Model):
    """A single-use, short-lived link to set a new password. Only its SHA-256 is stored."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    used: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship()


class AuditEvent(db.Model):
    """Who did what to which organisation, and when. Never respondent data."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_occurred_at", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[dt.datetime]
    # NULL for events without a signed-in user (a failed sign-in, a CLI command).
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # Kept as text so the log still reads after the account is deleted.
    actor: Mapped[str] = mapped_column(sa.String(254))
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    event: Mapped[str] = mapped_column(sa.String(60), index=True)
    # A short description: a campaign id, a file type, a token name. No answers, no comments.
    detail: Mapped[str] = mapped_column(sa.String(500), default="")


class CampaignScore(db.Model):
    """Organisation-level dimension scores of a closed campaign, kept for benchmarks.

    Written when a campaign closes, so a norm group of thousands of organisations is read
    from a few rows each instead of recomputed from raw answers.
    """

    __tablename__ = "campaign_score"
    __table_args__ = (sa.CheckConstraint("n >= 0", name="n"),)

    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True
    )
    dimension_id: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    n: Mapped[int]
    mean: Mapped[float | None]
    sd: Mapped[float | None]


class StoredResult(db.Model):
    """A computed result of a closed campaign, stored once for every process and host.

    ``kind`` is "report" (the campaign's analysis with its context, see
    ``services/stored_results.py``) or "pdf" (a rendered PDF). ``key`` is the SHA-256 of
    everything the result depends on: the campaign's version and the code's for a report,
    the exact HTML for a PDF. ``signature`` is an HMAC of kind, key and payload under the
    app's secret key: a payload is read back only when it verifies.
    """

    __tablename__ = "stored_result"
    __table_args__ = (
        sa.UniqueConstraint("campaign_id", "kind", "key"),
        sa.CheckConstraint(_in("kind", ("report", "pdf")), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(10))
    key: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary)
    signature: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApiToken(db.Model):
    """A read-only API token of one user. Only the SHA-256 of the token is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_on: Mapped[dt.date] = mapped_column(default=today)
    # The first day the token no longer works.
    expires_on: Mapped[dt.date]
    # To the day only, like everything else we store about use.
    last_used_on: Mapped[dt.date | None]

    user: Mapped[User] = relationship()


MAILING_KINDS = ("invitation", "reminder")
MAILING_STATUSES = ("scheduled", "sending", "done", "cancelled")
OUTGOING_STATUSES = ("pending", "sending", "sent", "failed")


class Recipient(db.Model):
    """An e-mail address that receives one campaign's invitation and reminders.

    Exists only to deliver them: kept apart from responses, never shown with results,
    and deleted (with its sealed link) when the campaign closes. ``sealed_link`` is the
    invitation's token encrypted under a key from the app's secret, so reminders can
    repeat the same link; the database alone cannot read it. A response has no
    reference to its invitation, so none to its recipient either.
    """

    __tablename__ = "recipient"
    __table_args__ = (sa.UniqueConstraint("campaign_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    department_id: Mapped[int] = mapped_column(sa.ForeignKey("department.id"))
    email: Mapped[str] = mapped_column(sa.String(254))
    invitation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("invitation.id", ondelete="SET NULL"), unique=True
    )
    sealed_link: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    invitation: Mapped[Invitation | None] = relationship()


class Mailing(db.Model):
    """One sending of a campaign's invitation or a reminder, on a chosen day."""

    __tablename__ = "mailing"
    __table_args__ = (
        sa.CheckConstraint(_in("kind", MAILING_KINDS), name="kind"),
        sa.CheckConstraint(_in("status", MAILING_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    send_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(sa.String(20), default="scheduled")
    created_on: Mapped[dt.date] = mapped_column(default=today)


class OutgoingMail(db.Model):
    """One message of a mailing to one recipient; its status makes sending idempotent.

    A worker claims a pending message (pending -> sending) in its own transaction,
    sends it, and marks it sent; a job that runs twice finds it sent and skips it.
    """

    __tablename__ = "outgoing_mail"
    __table_args__ = (
        sa.UniqueConstraint("mailing_id", "recipient_id"),
        sa.CheckConstraint(_in("status", OUTGOING_STATUSES), name="status"),
        sa.CheckConstraint("attempts >= 0", name="attempts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mailing.id", ondelete="CASCADE"), index=True
    )
    recipient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("recipient.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # Why the last attempt failed (the SMTP server's answer), never the message.
    last_error: Mapped[str | None] = mapped_column(sa.String(300))


ACTION_STATUSES = ("planned", "under_way", "done", "dropped")
# A plan that focuses on more than three dimensions focuses on none.
MAX_FOCUS_DIMENSIONS = 3


class ActionPlan(db.Model):
    """What an organisation decided to do about the results of one closed campaign."""

    __tablename__ = "action_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        sa.ForeignKey("campaign.id", ondelete="CASCADE"), unique=True
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    focus: Mapped[list[ActionFocus]] = relationship(
        back_populates="plan",
        order_by="ActionFocus.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class ActionFocus(db.Model):
    """A dimension the plan focuses on; ``position`` 1 to 3 caps a plan at three."""

    __tablename__ = "action_focus"
    __table_args__ = (
        sa.UniqueConstraint("plan_id", "dimension_id"),
        sa.UniqueConstraint("plan_id", "position"),
        sa.CheckConstraint(f"position BETWEEN 1 AND {MAX_FOCUS_DIMENSIONS}", name="position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("action_plan.id", ondelete="CASCADE"), index=True
    )
    dimension_id: Mapped[str] = mapped_column(sa.String(80))
    position: Mapped[int]

    plan: Mapped[ActionPlan] = relationship(back_populates="focus")
    actions: Mapped[list[PlannedAction]] = relationship(
        back_populates="focus",
        order_by="PlannedAction.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class PlannedAction(db.Model):
    """One action for a focus dimension: what, who (a name typed by the manager), by when."""

    __tablename__ = "planned_action"
    __table_args__ = (
        sa.CheckConstraint(_in("status", ACTION_STATUSES), name="status"),
        sa.CheckConstraint("text <> ''", name="text"),
        sa.CheckConstraint("owner <> ''", name="owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    focus_id: Mapped[int] = mapped_column(
        sa.ForeignKey("action_focus.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(sa.String(1000))
    owner: Mapped[str] = mapped_column(sa.String(120))
    due_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(sa.String(20), default="planned")

    focus: Mapped[ActionFocus] = relationship(back_populates="actions")
