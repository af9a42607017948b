"""Campaigns: create, change while a draft, open (freezing the department tree and
thresholds), extend, close."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from ..extensions import db
from ..inputs import describe_control_character
from ..models import (
    Campaign,
    CampaignDepartment,
    Draft,
    Invitation,
    Mailing,
    Organisation,
    today,
)
from ..questionnaires import Questionnaire
from . import ServiceError
from .questionnaires import ensure_questionnaire_version

# Limits of the privacy settings, as the database checks them.
RETENTION_MONTHS_MAX = 120
MAX_REMINDERS = 5
CONTROLLER_MAX = 200  # Campaign.controller
CONTACT_MAX = 254  # Campaign.controller_contact: the longest e-mail address
_CONTACT = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+|https?://[^\s/]+\.[^\s]+")


def _optional_text(value: str | None, label: str, longest: int) -> str | None:
    """A tidied optional text setting (None when empty), or a ServiceError saying why not."""
    value = (value or "").strip()
    if not value:
        return None
    if len(value) > longest:
        raise ServiceError(f"The {label} is longer than {longest} characters.")
    problem = describe_control_character(value)
    if problem:
        raise ServiceError(f"The {label} {problem}; remove it.")
    return value


@dataclass(frozen=True)
class CampaignSettings:
    """A campaign's settings, checked and tidied: what a draft may be created or changed to."""

    name: str
    opens_on: dt.date
    closes_on: dt.date
    min_group_size: int
    min_comment_group_size: int
    controller: str | None
    controller_contact: str | None
    retention_months: int | None
    results_on: dt.date | None
    max_reminders: int


def _checked_settings(
    name: str,
    opens_on: dt.date,
    closes_on: dt.date,
    min_group_size: int,
    min_comment_group_size: int,
    controller: str | None,
    controller_contact: str | None,
    retention_months: int | None,
    results_on: dt.date | None,
    max_reminders: int,
) -> CampaignSettings:
    """The settings tidied, or a ServiceError naming the first one that is wrong."""
    name = _optional_text(name, "campaign's name", 200) or ""
    if not name:
        raise ServiceError("A campaign needs a name.")
    if closes_on <= opens_on:
        raise ServiceError(
            f"The closing date ({closes_on}) must come after the opening date ({opens_on})."
        )
    if min_group_size < 3:
        raise ServiceError(
            "The anonymity threshold must be at least 3 respondents; 5 is the usual minimum."
        )
    if min_comment_group_size < min_group_size:
        raise ServiceError(
            "The threshold for comments must be at least the threshold for scores "
            f"({min_group_size})."
        )
    controller = _optional_text(controller, "data controller", CONTROLLER_MAX)
    controller_contact = _optional_text(controller_contact, "contact address", CONTACT_MAX)
    if controller_contact is not None and not _CONTACT.fullmatch(controller_contact):
        raise ServiceError(
            f"The contact {controller_contact!r} is neither an e-mail address nor a web "
            "address (https://...)."
        )
    if retention_months is not None and not 1 <= retention_months <= RETENTION_MONTHS_MAX:
        raise ServiceError(
            f"Answers are kept from 1 to {RETENTION_MONTHS_MAX} months, not {retention_months}."
        )
    if results_on is not None and results_on < closes_on:
        raise ServiceError(
            f"The results date ({results_on}) must not come before the closing date "
            f"({closes_on}): results are released when the campaign closes."
        )
    if not 0 <= max_reminders <= MAX_REMINDERS:
        raise ServiceError(
            f"The number of reminders must be from 0 to {MAX_REMINDERS}, not {max_reminders}."
        )
    return CampaignSettings(
        name=name,
        opens_on=opens_on,
        closes_on=closes_on,
        min_group_size=min_group_size,
        min_comment_group_size=min_comment_group_size,
        controller=controller,
        controller_contact=controller_contact,
        retention_months=retention_months,
        results_on=results_on,
        max_reminders=max_reminders,
    )


def create_campaign(
    organisation: Organisation,
    questionnaire: Questionnaire,
    name: str,
    opens_on: dt.date,
    closes_on: dt.date,
    min_group_size: int = 5,
    min_comment_group_size: int = 10,
    *,
    controller: str | None = None,
    controller_contact: str | None = None,
    retention_months: int | None = None,
    results_on: dt.date | None = None,
    max_reminders: int = 2,
) -> Campaign:
    """Add a draft campaign, with the privacy settings its respondents are told about."""
    settings = _checked_settings(
        name,
        opens_on,
        closes_on,
        min_group_size,
        min_comment_group_size,
        controller,
        controller_contact,
        retention_months,
        results_on,
        max_reminders,
    )
    version = ensure_questionnaire_version(questionnaire)
    campaign = Campaign(
        organisation=organisation,
        questionnaire_version=version,
        status="draft",
        **asdict(settings),
    )
    db.session.add(campaign)
    db.session.flush()
    return campaign


class MailingAfterClosing(ServiceError):
    """A scheduled mailing would be sent after the campaign's new closing date."""

    def __init__(self, kind: str, send_on: dt.date, closes_on: dt.date):
        super().__init__(
            f"The {kind} e-mail is scheduled for {send_on}, after the new closing date "
            f"({closes_on}); choose a closing date on or after {send_on}."
        )
        self.kind, self.send_on, self.closes_on = kind, send_on, closes_on


@dataclass(frozen=True)
class CampaignChanges:
    """What ``update_campaign`` changed: each setting's old and new value, and mailings."""

    settings: dict[str, tuple[object, object]] = field(default_factory=dict)
    # Scheduled mailings moved to the new opening day.
    moved_mailings: int = 0


def update_campaign(
    campaign: Campaign,
    questionnaire: Questionnaire,
    name: str,
    opens_on: dt.date,
    closes_on: dt.date,
    min_group_size: int,
    min_comment_group_size: int,
    *,
    controller: str | None = None,
    controller_contact: str | None = None,
    retention_months: int | None = None,
    results_on: dt.date | None = None,
    max_reminders: int = 2,
) -> CampaignChanges:
    """Change a draft campaign's settings, checked as ``create_campaign`` checks them.

    Only a draft: once open, staff have been told the dates and the privacy terms and
    the thresholds count every answer the same way (``extend_campaign`` moves the
    closing date). Scheduled e-mails keep in step with the dates: one scheduled for the
    old opening day, or before the new one (a link does not work before the campaign
    opens), goes out on the new opening day; one after the new closing date is refused
    with :class:`MailingAfterClosing`, as nobody could use its link. Flushes, no commit;
    on a ServiceError nothing has changed.
    """
    if campaign.status != "draft":
        raise ServiceError(
            f"Campaign {campaign.id} is {campaign.status}; only a draft's settings can change."
        )
    settings = _checked_settings(
        name,
        opens_on,
        closes_on,
        min_group_size,
        min_comment_group_size,
        controller,
        controller_contact,
        retention_months,
        results_on,
        max_reminders,
    )
    mailings = db.session.scalars(
        sa.select(Mailing)
        .where(Mailing.campaign_id == campaign.id, Mailing.status == "scheduled")
        .order_by(Mailing.send_on, Mailing.id)
    ).all()
    late = next((m for m in reversed(mailings) if m.send_on > settings.closes_on), None)
    if late is not None:
        raise MailingAfterClosing(late.kind, late.send_on, settings.closes_on)
    to_move = [
        m
        for m in mailings
        if m.send_on != settings.opens_on
        and (m.send_on == campaign.opens_on or m.send_on < settings.opens_on)
    ]
    version = ensure_questionnaire_version(questionnaire)
    changed: dict[str, tuple[object, object]] = {}
    if version.id != campaign.questionnaire_version_id:
        before = campaign.questionnaire_version
        changed["questionnaire"] = (
            f"{before.key} v{before.version}",
            f"{version.key} v{version.version}",
        )
        campaign.questionnaire_version = version
    for setting, value in asdict(settings).items():
        if getattr(campaign, setting) != value:
            changed[setting] = (getattr(campaign, setting), value)
            setattr(campaign, setting, value)
    for mailing in to_move:
        mailing.send_on = settings.opens_on
    db.session.flush()
    return CampaignChanges(settings=changed, moved_mailings=len(to_move))


def find_campaign(campaign_id: int) -> Campaign:
    from ..inputs import largest_integer_id

    # A number beyond the id column's range cannot name a campaign (and would make the
    # database raise instead of answering "none").
    too_large = campaign_id > largest_integer_id(db.engine.dialect.name)
    campaign = None if too_large or campaign_id < 1 else db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise ServiceError(f"No campaign with id {campaign_id}.")
    return campaign


def open_campaign(campaign: Campaign) -> Campaign:
    """Open a draft campaign; its department tree and thresholds are frozen from now on."""
    if campaign.status != "draft":
        raise ServiceError(f"Campaign {campaign.id} is {campaign.status}; only a draft can open.")
    departments = campaign.organisation.departments
    if not departments:
        raise ServiceError(
            f"{campaign.organisation.name} has no departments yet; import them before opening."
        )
    db.session.add_all(
        CampaignDepartment(
            campaign=campaign,
            department_id=d.id,
            parent_department_id=d.parent_id,
            code=d.code,
            name=d.name,
            headcount=d.headcount,
        )
        for d in departments
    )
    campaign.status = "open"
    campaign.frozen_on = today()
    db.session.flush()
    return campaign


def close_campaign(campaign: Campaign) -> Campaign:
    if campaign.status != "open":
        raise ServiceError(f"Campaign {campaign.id} is {campaign.status}; only an open one closes.")
    campaign.status = "closed"
    campaign.closed_on = min(today(), campaign.closes_on)
    # Unfinished answers can no longer be submitted; they are kept with a link, so they go.
    db.session.execute(
        sa.delete(Draft).where(
            Draft.invitation_id.in_(
                sa.select(Invitation.id).where(Invitation.campaign_id == campaign.id)
            )
        )
    )
    db.session.flush()
    # E-mail addresses exist only to deliver the invitations; they go with the campaign.
    from .mailings import delete_recipients

    delete_recipients(campaign)
    # Keep the organisation-level scores for benchmarks. Imported here because it pulls
    # in SciPy, which every web worker and CLI command would otherwise load at start-up.
    from .aggregates import store_campaign_scores

    store_campaign_scores(campaign)
    return campaign


def choose_norm_group(campaign: Campaign, norm_group: str | None) -> tuple[str, str] | None:
    """Set the norm group of the campaign's report (None or "all": all organisations);
    return (old, new) if it changed.

    A report setting, so any status: staff are told nothing about it, and a closed
    campaign's reports follow at once (the report cache keys on it). A group that is not
    offered now (``aggregates.check_norm_group``) is refused; keeping the current choice
    is always allowed, as the report falls back to all organisations where it must.
    Flushes, no commit; on a ServiceError nothing has changed.
    """
    from .aggregates import campaign_norm_options, check_norm_group

    old = campaign.norm_group or "all"
    new = norm_group or "all"
    if new == old:
        return None
    campaign.norm_group = check_norm_group(new, campaign_norm_options(campaign))
    db.session.flush()
    return old, new


def accepts_responses(campaign: Campaign, on: dt.date | None = None) -> bool:
    """Open, and today within its dates."""
    on = on or today()
    return campaign.status == "open" and campaign.opens_on <= on <= campaign.closes_on


def campaign_departments(campaign: Campaign) -> list[CampaignDepartment]:
    """The frozen tree for an opened campaign, the live one (unsaved) for a draft."""
    if campaign.status != "draft":
        return list(campaign.units)
    return [
        CampaignDepartment(
            department_id=d.id,
            parent_department_id=d.parent_id,
            code=d.code,
            name=d.name,
            headcount=d.headcount,
        )
        for d in campaign.organisation.departments
    ]


def previous_campaign(campaign: Campaign) -> Campaign | None:
    """The organisation's latest earlier closed campaign on the same questionnaire, if any.

    Only a closed one: an open campaign's figures are not released, so comparing with
    them would publish them by the back door.
    """
    return db.session.scalar(
        sa.select(Campaign)
        .where(
            Campaign.organisation_id == campaign.organisation_id,
            Campaign.questionnaire_version_id == campaign.questionnaire_version_id,
            Campaign.opens_on < campaign.opens_on,
            Campaign.status == "closed",
        )
        .order_by(Campaign.opens_on.desc())
        .limit(1)
    )


def extend_campaign(campaign: Campaign, closes_on: dt.date) -> dt.date:
    """Move an open campaign's closing date later; return the date it had before.

    Only later: staff have been told the date, and an earlier close could cut off someone
    halfway through. Thresholds and departments stay frozen.
    """
    if campaign.status != "open":
        raise ServiceError(
            f"Campaign {campaign.id} is {campaign.status}; only an open campaign can be extended."
        )
    if closes_on <= campaign.closes_on:
        raise ServiceError(
            f"The new closing date ({closes_on}) must come after the current one "
            f"({campaign.closes_on})."
        )
    previous = campaign.closes_on
    campaign.closes_on = closes_on
    db.session.flush()
    return previous
