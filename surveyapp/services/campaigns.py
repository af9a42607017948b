"""Campaigns: create, open (freezing the department tree and thresholds), close."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from ..extensions import db
from ..inputs import describe_control_character
from ..models import Campaign, CampaignDepartment, Draft, Invitation, Organisation, today
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
    version = ensure_questionnaire_version(questionnaire)
    campaign = Campaign(
        organisation=organisation,
        questionnaire_version=version,
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
        status="draft",
    )
    db.session.add(campaign)
    db.session.flush()
    return campaign


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
