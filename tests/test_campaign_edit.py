"""Changing a draft campaign's settings in the browser, and sector names shown in the
reader's language on the consultant pages."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    fast_password_hashes,  # noqa: F401 (fixture)
    login,
    responses_csv,
)
from .test_setup import audit_events, make_campaign, new_campaign_form, post

TODAY = dt.date.today()
SETTINGS = (
    "name",
    "opens_on",
    "closes_on",
    "min_group_size",
    "min_comment_group_size",
    "controller",
    "controller_contact",
    "retention_months",
    "results_on",
    "max_reminders",
    "questionnaire_version_id",
    "status",
)


@pytest.fixture
def people(in_app, fast_password_hashes):  # noqa: F811
    """A consultant, and a manager of "Acme" (the factory's organisation and departments)."""
    from surveyapp.services.users import create_user

    with in_app() as make:
        acme = make.organisation("Acme")
        create_user(*MANAGER, "manager", acme)
        create_user(*CONSULTANT, "consultant")
        make.commit()
        return acme.id


@pytest.fixture
def consultant(client, people):
    login(client, CONSULTANT)
    return client


@pytest.fixture
def draft(in_app, people) -> int:
    """A draft campaign of Acme opening in a week, with the create form's settings."""
    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    with in_app() as make:
        return make.campaign(
            db.session.get(Organisation, people),
            status="draft",
            name="Spring",
            opens_on=TODAY + dt.timedelta(days=7),
            closes_on=TODAY + dt.timedelta(days=28),
            min_group_size=5,
            min_comment_group_size=10,
            controller="Acme HR",
            controller_contact="privacy@acme.example",
            retention_months=24,
            results_on=TODAY + dt.timedelta(days=40),
            max_reminders=2,
        ).id


def edit_url(campaign_id: int) -> str:
    return f"/consultant/setup/campaigns/{campaign_id}/edit"


def draft_form(**overrides) -> dict:
    """The draft's own settings as the edit form posts them, with ``overrides``."""
    dates = {
        "opens_on": (TODAY + dt.timedelta(days=7)).isoformat(),
        "closes_on": (TODAY + dt.timedelta(days=28)).isoformat(),
    }
    return new_campaign_form(**{**dates, **overrides})


def settings_of(in_app, campaign_id: int) -> dict:
    from surveyapp.extensions import db
    from surveyapp.models import Campaign

    with in_app():
        campaign = db.session.get(Campaign, campaign_id)
        return {name: getattr(campaign, name) for name in SETTINGS}


def mailing_days(in_app, campaign_id: int) -> list[dt.date]:
    from surveyapp.extensions import db
    from surveyapp.models import Mailing

    with in_app():
        return list(
            db.session.scalars(
                sa.select(Mailing.send_on)
                .where(Mailing.campaign_id == campaign_id)
                .order_by(Mailing.id)
            )
        )


def schedule_mailing(in_app, campaign_id: int, on: dt.date | None = None) -> None:
    """An invitation mailing of the campaign, scheduled ``on`` that day (its opening day)."""
    from surveyapp.extensions import db
    from surveyapp.models import Campaign, Mailing

    with in_app() as make:
        campaign = db.session.get(Campaign, campaign_id)
        db.session.add(
            Mailing(campaign_id=campaign.id, kind="invitation", send_on=on or campaign.opens_on)
        )
        make.commit()


# Editing a draft -------------------------------------------------------------------------


def test_the_form_is_prefilled_with_the_draft_settings(consultant, draft):
    html = consultant.get(edit_url(draft)).get_data(as_text=True)
    assert re.search(r"<h1>Change the campaign(&#39;|')s settings</h1>", html)
    assert 'value="Spring"' in html and 'value="privacy@acme.example"' in html
    assert f'value="{(TODAY + dt.timedelta(days=7)).isoformat()}"' in html
    assert re.search(r'<input checked[^>]*value="social-business-maturity:1"', html)
    assert re.search(r'id="min_comment_group_size"[^>]*value="10"', html)
    assert "Save the changes" in html


def test_a_draft_campaign_page_links_to_change_settings(consultant, draft, in_app, people):
    page = consultant.get(f"/consultant/setup/campaigns/{draft}").get_data(as_text=True)
    assert f'href="{edit_url(draft)}">Change settings' in page
    opened = make_campaign(in_app, people, status="open")
    page = consultant.get(f"/consultant/setup/campaigns/{opened}").get_data(as_text=True)
    assert "Change settings" not in page


def test_edit_a_draft_saves_every_setting_and_records_what_changed(consultant, draft, in_app):
    before = settings_of(in_app, draft)
    opens, closes = TODAY + dt.timedelta(days=14), TODAY + dt.timedelta(days=35)
    form = draft_form(
        name="Spring 2027",
        opens_on=opens.isoformat(),
        closes_on=closes.isoformat(),
        min_group_size="7",
        min_comment_group_size="12",
        controller="Acme Legal",
        controller_contact="https://acme.example/privacy",
        retention_months="12",
        results_on=(TODAY + dt.timedelta(days=50)).isoformat(),
        max_reminders="3",
    )
    response = post(consultant, edit_url(draft), form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/consultant/setup/campaigns/{draft}")
    after = settings_of(in_app, draft)
    assert after == {
        **before,
        "name": "Spring 2027",
        "opens_on": opens,
        "closes_on": closes,
        "min_group_size": 7,
        "min_comment_group_size": 12,
        "controller": "Acme Legal",
        "controller_contact": "https://acme.example/privacy",
        "retention_months": 12,
        "results_on": TODAY + dt.timedelta(days=50),
        "max_reminders": 3,
    }
    assert audit_events(in_app, "campaign_changed") == [
        f"campaign {draft}: name; opens_on: {before['opens_on']} → {opens}; "
        f"closes_on: {before['closes_on']} → {closes}; min_group_size: 5 → 7; "
        "min_comment_group_size: 10 → 12; controller; controller_contact; "
        f"retention_months: 24 → 12; results_on: {before['results_on']} → "
        f"{TODAY + dt.timedelta(days=50)}; max_reminders: 2 → 3"
    ]
    page = consultant.get(f"/consultant/setup/campaigns/{draft}").get_data(as_text=True)
    assert "The changes to the campaign are saved. It is still a draft." in page


def test_saving_the_same_settings_records_nothing(consultant, draft, in_app):
    before = settings_of(in_app, draft)
    response = post(consultant, edit_url(draft), draft_form(), follow_redirects=True)
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert settings_of(in_app, draft) == before
    assert audit_events(in_app, "campaign_changed") == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "Enter a name for the campaign"),
        ({"opens_on": "next monday"}, "Enter a date as YYYY-MM-DD"),
        ({"closes_on": (TODAY + dt.timedelta(days=7)).isoformat()}, "closing date must be after"),
        ({"min_group_size": "2", "min_comment_group_size": "2"}, "at least 3 respondents"),
        ({"min_group_size": "8", "min_comment_group_size": "6"}, "at least the threshold for"),
        ({"min_comment_group_size": ""}, "Enter a whole number"),
        ({"retention_months": "0"}, "from 1 to 120"),
        ({"max_reminders": "6"}, "from 0 to 5"),
        ({"results_on": TODAY.isoformat()}, "on or after the closing date"),
        ({"questionnaire": "social-business-maturity:99"}, "Not a valid choice"),
        ({"controller_contact": "call Anna"}, "neither an e-mail address nor a web address"),
    ],
)
def test_invalid_input_is_explained_and_changes_nothing(
    consultant, draft, in_app, overrides, message
):
    before = settings_of(in_app, draft)
    # Every other setting changes too: none of them may be saved alone.
    form = draft_form(name="Renamed", max_reminders="4", retention_months="36")
    response = post(consultant, edit_url(draft), {**form, **overrides})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'class="error-summary"' in html and message in html
    assert settings_of(in_app, draft) == before
    assert audit_events(in_app, "campaign_changed") == []


def test_the_error_summary_links_to_the_threshold_in_error(consultant, draft):
    response = post(
        consultant,
        edit_url(draft),
        draft_form(min_group_size="6", min_comment_group_size="4"),
    )
    html = response.get_data(as_text=True)
    assert re.search(
        r'<a href="#min_comment_group_size">The threshold for comments must be at least '
        r"the threshold for scores \(6\)",
        html,
    )


def test_an_open_campaign_offers_extending_instead(consultant, in_app, people):
    opened = make_campaign(in_app, people, status="open")
    before = settings_of(in_app, opened)
    page = consultant.get(edit_url(opened))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "The settings of an open campaign are fixed" in html
    assert f'href="/consultant/setup/campaigns/{opened}/extend"' in html
    response = post(consultant, edit_url(opened), new_campaign_form(name="Renamed"))
    assert response.status_code == 409
    assert "none of its settings can change while it is open" in response.get_data(as_text=True)
    assert settings_of(in_app, opened) == before
    assert audit_events(in_app, "campaign_changed") == []


def test_a_closed_campaign_is_refused_with_a_sentence(consultant, in_app, people):
    closed = make_campaign(in_app, people, status="closed")
    before = settings_of(in_app, closed)
    response = post(consultant, edit_url(closed), new_campaign_form(name="Renamed"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/consultant/setup/campaigns/{closed}")
    page = consultant.get(response.headers["Location"]).get_data(as_text=True)
    assert "This campaign is closed: its settings can no longer change." in page
    assert consultant.get(edit_url(closed)).status_code == 302
    assert settings_of(in_app, closed) == before
    assert audit_events(in_app, "campaign_changed") == []


def test_managers_are_refused(client, draft, in_app):
    before = settings_of(in_app, draft)
    login(client, MANAGER)
    assert client.get(edit_url(draft)).status_code == 403
    assert post(client, edit_url(draft), draft_form(name="Mine")).status_code == 403
    assert settings_of(in_app, draft) == before


def test_the_route_is_declared_for_consultants_only():
    from .test_route_matrix import RULES

    assert RULES["setup.edit_campaign"] == "consultant"


# Scheduled e-mail follows the opening date ---------------------------------------------


def test_a_mailing_on_the_opening_day_moves_with_it(consultant, draft, in_app):
    schedule_mailing(in_app, draft)
    assert mailing_days(in_app, draft) == [TODAY + dt.timedelta(days=7)]
    later = TODAY + dt.timedelta(days=10)
    response = post(consultant, edit_url(draft), draft_form(opens_on=later.isoformat()))
    assert response.status_code == 302
    assert mailing_days(in_app, draft) == [later]
    page = consultant.get(response.headers["Location"]).get_data(as_text=True)
    assert "now goes out on the new opening day" in page
    assert audit_events(in_app, "campaign_changed") == [
        f"campaign {draft}: opens_on: {TODAY + dt.timedelta(days=7)} → {later}; "
        f"1 scheduled mailing(s) moved to {later}"
    ]


def test_a_mailing_after_the_new_closing_date_is_refused_on_the_closing_date(
    consultant, draft, in_app
):
    day = TODAY + dt.timedelta(days=20)
    schedule_mailing(in_app, draft, on=day)
    before = settings_of(in_app, draft)
    earlier = TODAY + dt.timedelta(days=14)
    response = post(
        consultant,
        edit_url(draft),
        draft_form(name="Short", closes_on=earlier.isoformat(), results_on=""),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'<a href="#closes_on">E-mail to staff is scheduled for', html)
    assert "Choose a closing date on or after that day" in html
    assert settings_of(in_app, draft) == before
    assert mailing_days(in_app, draft) == [day]


def test_update_campaign_moves_only_mailings_the_new_dates_leave_behind(factory):
    from surveyapp.extensions import db
    from surveyapp.models import Mailing
    from surveyapp.services.campaigns import update_campaign

    opens = TODAY + dt.timedelta(days=7)
    campaign = factory.campaign(status="draft", opens_on=opens, closes_on=opens + dt.timedelta(30))
    days = [opens, opens + dt.timedelta(days=2), opens + dt.timedelta(days=9)]
    mailings = [Mailing(campaign_id=campaign.id, kind="invitation", send_on=d) for d in days]
    db.session.add_all(mailings)
    db.session.flush()
    new_opening = opens + dt.timedelta(days=5)
    changes = update_campaign(
        campaign,
        factory.questionnaire(),
        campaign.name,
        new_opening,
        campaign.closes_on,
        5,
        10,
    )
    assert changes.settings == {"opens_on": (opens, new_opening)}
    assert changes.moved_mailings == 2
    # The opening day's and one before the new opening day move; a later one stays.
    assert [m.send_on for m in mailings] == [new_opening, new_opening, days[2]]


def test_update_campaign_refuses_anything_but_a_draft_and_changes_nothing(factory):
    from surveyapp.services import ServiceError
    from surveyapp.services.campaigns import update_campaign

    opened = factory.campaign(status="open")
    with pytest.raises(ServiceError, match="only a draft's settings can change"):
        update_campaign(
            opened,
            factory.questionnaire(),
            "Renamed",
            opened.opens_on,
            opened.closes_on,
            5,
            10,
        )
    assert opened.name == "Spring survey"


@pytest.mark.parametrize(
    ("scores", "comments", "message"),
    [(2, 10, "at least 3 respondents"), (6, 5, "at least the threshold for scores \\(6\\)")],
)
def test_update_campaign_checks_the_thresholds(factory, scores, comments, message):
    from surveyapp.services import ServiceError
    from surveyapp.services.campaigns import update_campaign

    draft = factory.campaign(status="draft")
    with pytest.raises(ServiceError, match=message):
        update_campaign(
            draft,
            factory.questionnaire(),
            "Renamed",
            draft.opens_on,
            draft.closes_on,
            scores,
            comments,
        )
    assert (draft.name, draft.min_group_size, draft.min_comment_group_size) == (
        "Spring survey",
        5,
        10,
    )


def test_the_new_event_is_described(app):
    from surveyapp.services.audit import describe

    with app.test_request_context():
        assert describe("campaign_changed") == "Campaign settings changed"


# Sector names ----------------------------------------------------------------------------


@pytest.fixture
def two_sectors(in_app, people) -> None:
    """Acme (government) and a hospital (healthcare), each with a closed campaign."""
    from surveyapp.extensions import db
    from surveyapp.models import Organisation
    from surveyapp.services import aggregates
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.organisations import update_organisation
    from surveyapp.services.responses import import_responses

    # The norm table is cached per process by campaign ids, which repeat between tests.
    aggregates._NORM_TABLES.clear()
    counts = {"COM": 6, "HR": 6, "IT": 6, "IT-OPS": 6}
    with in_app() as make:
        hospital = make.organisation("Ziekenhuis Noord")
        update_organisation(hospital, hospital.name, "healthcare", "250-999")
        for seed, organisation in enumerate((db.session.get(Organisation, people), hospital)):
            campaign = make.campaign(organisation)
            import_responses(
                campaign, responses_csv(make.questionnaire(), counts, seed), "answers.csv"
            )
            close_campaign(campaign)
        make.commit()
    yield
    aggregates._NORM_TABLES.clear()


def in_dutch(client) -> None:
    response = post(client, "/auth/language/nl", {"next": "/consultant/"})
    assert response.status_code == 302


@pytest.mark.parametrize("path", ["/consultant/", "/consultant/norms"])
def test_consultant_pages_name_sectors_in_english_and_dutch(consultant, two_sectors, path):
    english = consultant.get(path).get_data(as_text=True)
    assert "Government" in english and "Healthcare" in english
    assert not re.search(r">\s*(government|healthcare)\b", english)
    in_dutch(consultant)
    dutch = consultant.get(path).get_data(as_text=True)
    assert "Overheid" in dutch and "Zorg" in dutch
    assert "Government" not in dutch and "Healthcare" not in dutch
    assert not re.search(r">\s*(government|healthcare)\b", dutch)


def test_norm_groups_count_one_organisation_in_the_singular(consultant, two_sectors):
    english = consultant.get("/consultant/norms").get_data(as_text=True)
    assert "1 organisation<" in english and "1 organisations" not in english
    in_dutch(consultant)
    dutch = consultant.get("/consultant/norms").get_data(as_text=True)
    assert "1 organisatie<" in dutch and "1 organisaties" not in dutch
