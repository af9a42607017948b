"""Client set-up in the browser: organisations, department files, campaigns from draft
to closed, all as a consultant, none of it for managers."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    csrf_token,
    fast_password_hashes,  # noqa: F401 (fixture)
    login,
)

GOOD_CSV = (
    "code,name,parent_code,headcount\nHQ,Head office,,4\nOPS,Operations,HQ,30\nSUP,Support,OPS,6\n"
)
# Row 2: no name; row 3: headcount not a number; row 4: its parent is nowhere.
BAD_CSV = "code,name,parent_code,headcount\nHQ,,,4\nOPS,Operations,HQ,many\nSUP,Support,XX,6\n"


@pytest.fixture
def people(in_app, fast_password_hashes):  # noqa: F811
    """A consultant, and a manager of an organisation "Acme" with the factory's departments."""
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


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST with the session's CSRF token (read from any page that has one)."""
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)


def upload(client, organisation_id: int, text: str, name: str = "departments.csv"):
    return post(
        client,
        f"/consultant/setup/organisations/{organisation_id}/departments/upload",
        {"file": (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
    )


def audit_events(in_app, event: str) -> list[str]:
    from surveyapp.extensions import db
    from surveyapp.models import AuditEvent

    with in_app():
        return list(
            db.session.scalars(sa.select(AuditEvent.detail).where(AuditEvent.event == event))
        )


def department_names(in_app, organisation_id: int) -> dict[str, tuple[str, int | None, str | None]]:
    from surveyapp.extensions import db
    from surveyapp.models import Department

    with in_app():
        departments = db.session.scalars(
            sa.select(Department).filter_by(organisation_id=organisation_id)
        ).all()
        return {
            d.code: (d.name, d.headcount, d.parent.code if d.parent else None) for d in departments
        }


def new_campaign_form(**overrides) -> dict:
    today = dt.date.today()
    form = {
        "name": "Spring",
        "questionnaire": "social-business-maturity:1",
        "opens_on": today.isoformat(),
        "closes_on": (today + dt.timedelta(days=21)).isoformat(),
        "min_group_size": "5",
        "min_comment_group_size": "10",
        "controller": "Acme HR",
        "controller_contact": "privacy@acme.example",
        "retention_months": "24",
        "results_on": (today + dt.timedelta(days=40)).isoformat(),
        "max_reminders": "2",
    }
    form.update(overrides)
    return form


def make_campaign(in_app, organisation_id: int, status: str = "draft") -> int:
    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    with in_app() as make:
        organisation = db.session.get(Organisation, organisation_id)
        return make.campaign(organisation, status=status).id


# Access ---------------------------------------------------------------------------------


def pages(organisation_id: int, campaign_id: int) -> list[str]:
    base = "/consultant/setup"
    return [
        f"{base}/",
        f"{base}/organisations/new",
        f"{base}/organisations/{organisation_id}",
        f"{base}/organisations/{organisation_id}/edit",
        f"{base}/organisations/{organisation_id}/departments/upload",
        f"{base}/organisations/{organisation_id}/departments/IT",
        f"{base}/organisations/{organisation_id}/campaigns/new",
        f"{base}/campaigns/{campaign_id}",
        f"{base}/campaigns/{campaign_id}/open",
    ]


def test_every_page_works_for_a_consultant(consultant, people, in_app):
    campaign_id = make_campaign(in_app, people)
    for path in pages(people, campaign_id):
        response = consultant.get(path)
        assert response.status_code == 200, path
    opened = make_campaign(in_app, people, status="open")
    for path in (f"/consultant/setup/campaigns/{opened}/{page}" for page in ("extend", "close")):
        assert consultant.get(path).status_code == 200, path
    assert 'href="/consultant/setup/"' in consultant.get("/consultant/").get_data(as_text=True)


def test_managers_are_refused_every_page(client, people, in_app):
    campaign_id = make_campaign(in_app, people, status="open")
    login(client, MANAGER)
    for path in [
        *pages(people, campaign_id),
        f"/consultant/setup/campaigns/{campaign_id}/extend",
        f"/consultant/setup/campaigns/{campaign_id}/close",
    ]:
        assert client.get(path).status_code == 403, path
    response = post(client, f"/consultant/setup/campaigns/{campaign_id}/close")
    assert response.status_code == 403
    response = post(client, "/consultant/setup/organisations/new", {"name": "Sneaky"})
    assert response.status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, people):
    response = client.get("/consultant/setup/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# Organisations ---------------------------------------------------------------------------


def test_create_an_organisation(consultant, in_app):
    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    response = post(
        consultant,
        "/consultant/setup/organisations/new",
        {"name": "  Gemeente Voorbeeld ", "sector": "government", "size_band": "250-999"},
    )
    assert response.status_code == 302
    with in_app():
        org = db.session.scalar(sa.select(Organisation).filter_by(name="Gemeente Voorbeeld"))
        assert (org.sector, org.size_band) == ("government", "250-999")
        assert response.headers["Location"].endswith(f"/consultant/setup/organisations/{org.id}")
    assert audit_events(in_app, "organisation_created") == [
        "Gemeente Voorbeeld (government, 250-999)"
    ]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "sector": "government", "size_band": "1-49"}, "Enter the name"),
        ({"name": "New", "sector": "goverment", "size_band": "1-49"}, "Not a valid choice"),
        ({"name": "New", "size_band": "1-49"}, "Choose the sector"),
        ({"name": "New", "sector": "retail"}, "Choose how many people"),
        ({"name": "Acme", "sector": "retail", "size_band": "1-49"}, "already has this name"),
    ],
)
def test_organisation_form_errors_are_shown_and_nothing_is_stored(consultant, count, form, message):
    from surveyapp.models import Organisation

    before = count(Organisation)
    response = post(consultant, "/consultant/setup/organisations/new", form)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error-summary"' in html and message in html
    assert count(Organisation) == before


def test_the_service_refuses_a_sector_outside_the_list(ctx):
    from surveyapp.services import ServiceError
    from surveyapp.services.organisations import SECTORS, create_organisation

    with pytest.raises(ServiceError, match="Sector 'goverment' is not known"):
        create_organisation("Typo", "goverment", "1-49")
    assert create_organisation("Cased", "Healthcare", "1-49").sector == "healthcare"
    assert {"government", "healthcare", "retail", "finance", "education"} <= set(SECTORS)


def test_edit_an_organisation_records_what_changed(consultant, people, in_app):
    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    url = f"/consultant/setup/organisations/{people}/edit"
    assert 'value="Acme"' in consultant.get(url).get_data(as_text=True)
    response = post(consultant, url, {"name": "Acme", "sector": "retail", "size_band": "250-999"})
    assert response.status_code == 302
    with in_app():
        assert db.session.get(Organisation, people).sector == "retail"
    assert audit_events(in_app, "organisation_changed") == ["sector: government → retail"]


# Departments ----------------------------------------------------------------------------


def test_a_bad_file_shows_every_problem_and_stores_nothing(consultant, people, in_app):
    before = department_names(in_app, people)
    response = upload(consultant, people, BAD_CSV)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The file cannot be used" in html and "3 problems" in html
    assert '<td class="num">2</td><td>name</td>' in html
    assert '<td class="num">3</td><td>headcount</td>' in html
    assert '<td class="num">4</td><td>parent_code</td>' in html
    assert "Store these departments" not in html
    assert department_names(in_app, people) == before
    assert audit_events(in_app, "departments_imported") == []


def test_a_good_preview_shows_the_tree_then_confirm_stores_it(consultant, people, in_app):
    before = department_names(in_app, people)
    response = upload(consultant, people, GOOD_CSV + "IT,IT department,,25\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Check the departments" in html
    assert "4 rows: 3 new departments, 1 changed." in html
    # Indented: Support sits in a list inside Operations, inside Head office.
    head = html.index("Head office")
    assert head < html.index("Operations") < html.index("Support")
    assert html.count("<ul>", head, html.index("Support")) == 2
    # Nothing is stored by the preview.
    assert department_names(in_app, people) == before

    token = csrf_token(html)
    signed = html.split('name="token" type="hidden" value="')[1].split('"')[0]
    response = consultant.post(
        f"/consultant/setup/organisations/{people}/departments/confirm",
        data={"csrf_token": token, "token": signed},
    )
    assert response.status_code == 302
    after = department_names(in_app, people)
    assert after["SUP"] == ("Support", 6, "OPS") and after["OPS"] == ("Operations", 30, "HQ")
    assert after["IT"] == ("IT department", 25, None)
    assert audit_events(in_app, "departments_imported") == ["4 departments from departments.csv"]


def test_confirm_refuses_a_forged_or_foreign_preview(consultant, people, in_app):
    from itsdangerous import URLSafeTimedSerializer

    before = department_names(in_app, people)
    url = f"/consultant/setup/organisations/{people}/departments/confirm"
    forged = URLSafeTimedSerializer("not-the-key", salt="setup.departments").dumps(
        {"organisation": people, "name": "x.csv", "data": GOOD_CSV}
    )
    for token in (forged, "garbage", ""):
        response = post(consultant, url, {"token": token})
        assert response.status_code == 302 and response.headers["Location"].endswith("/upload")
    with in_app():
        from flask import current_app

        other = URLSafeTimedSerializer(current_app.secret_key, salt="setup.departments").dumps(
            {"organisation": people + 1, "name": "x.csv", "data": GOOD_CSV}
        )
    assert post(consultant, url, {"token": other}).status_code == 302
    assert department_names(in_app, people) == before


def test_edit_a_department(consultant, people, in_app):
    url = f"/consultant/setup/organisations/{people}/departments/HR"
    response = post(consultant, url, {"name": "People and culture", "headcount": "9"})
    assert response.status_code == 302
    assert department_names(in_app, people)["HR"] == ("People and culture", 9, None)
    assert audit_events(in_app, "department_changed") == ["HR: name, headcount"]
    response = post(consultant, url, {"name": "People", "headcount": "-1"})
    assert "0 or more" in response.get_data(as_text=True)
    assert (
        consultant.get(f"/consultant/setup/organisations/{people}/departments/NOPE").status_code
        == 404
    )


def test_departments_cannot_change_while_a_campaign_is_open(consultant, people, in_app):
    make_campaign(in_app, people, status="open")
    before = department_names(in_app, people)
    url = f"/consultant/setup/organisations/{people}/departments/HR"
    page = consultant.get(url).get_data(as_text=True)
    assert "is open, so the departments cannot change" in page and "Save changes" not in page
    response = post(consultant, url, {"name": "Renamed", "headcount": "1"})
    assert response.status_code == 409
    assert department_names(in_app, people) == before
    overview = consultant.get(f"/consultant/setup/organisations/{people}").get_data(as_text=True)
    assert "Upload departments" not in overview
    assert f"/organisations/{people}/departments/HR" not in overview


def test_the_service_refuses_a_department_change_while_a_campaign_is_open(factory):
    from surveyapp.services import ServiceError
    from surveyapp.services.organisations import update_department

    campaign = factory.campaign(status="open")
    department = campaign.organisation.departments[0]
    with pytest.raises(ServiceError, match="is open"):
        update_department(department, "New name", 3)


# Campaigns ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "Enter a name for the campaign"),
        ({"opens_on": "1 March"}, "Enter a date as YYYY-MM-DD"),
        ({"closes_on": dt.date.today().isoformat()}, "closing date must be after the opening"),
        ({"min_group_size": "2"}, "at least 3 respondents"),
        ({"min_group_size": "8", "min_comment_group_size": "6"}, "at least the threshold for"),
        ({"min_group_size": "five"}, "Enter a whole number"),
        ({"retention_months": "200"}, "from 1 to 120"),
        ({"max_reminders": "9"}, "from 0 to 5"),
        ({"results_on": dt.date.today().isoformat()}, "on or after the closing date"),
        ({"questionnaire": "nope:1"}, "Not a valid choice"),
    ],
)
def test_create_campaign_validation_errors(consultant, people, count, overrides, message):
    from surveyapp.models import Campaign

    response = post(
        consultant,
        f"/consultant/setup/organisations/{people}/campaigns/new",
        new_campaign_form(**overrides),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="error-summary"' in html and message in html
    assert count(Campaign) == 0


def test_create_check_and_open_a_campaign(consultant, people, in_app):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign

    response = post(
        consultant, f"/consultant/setup/organisations/{people}/campaigns/new", new_campaign_form()
    )
    assert response.status_code == 302
    with in_app():
        campaign = db.session.scalar(sa.select(Campaign))
        assert campaign.status == "draft"
        assert (campaign.controller, campaign.controller_contact) == (
            "Acme HR",
            "privacy@acme.example",
        )
        assert (campaign.retention_months, campaign.max_reminders) == (24, 2)
        campaign_id = campaign.id
    assert response.headers["Location"].endswith(f"/consultant/setup/campaigns/{campaign_id}")
    draft = consultant.get(f"/consultant/setup/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Check and open" in draft

    check = consultant.get(f"/consultant/setup/campaigns/{campaign_id}/open").get_data(as_text=True)
    assert "Check the campaign before it opens" in check
    assert "Opening fixes the departments and the anonymity thresholds" in check
    assert "privacy@acme.example" in check and "IT operations" in check

    response = post(consultant, f"/consultant/setup/campaigns/{campaign_id}/open")
    assert response.status_code == 302
    with in_app():
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.status == "open" and len(campaign.units) == 4
    page = consultant.get(f"/consultant/setup/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Close the campaign" in page and "Extend the closing date" in page
    assert audit_events(in_app, "campaign_created")[0].startswith(f"campaign {campaign_id} (")
    assert audit_events(in_app, "campaign_opened") == [f"campaign {campaign_id}: 4 departments"]
    # Opening twice is not possible: the page sends the consultant back.
    assert post(consultant, f"/consultant/setup/campaigns/{campaign_id}/open").status_code == 302
    assert len(audit_events(in_app, "campaign_opened")) == 1


def test_a_campaign_without_departments_cannot_open(consultant, in_app):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.organisations import create_organisation

    with in_app() as make:
        empty = create_organisation("Empty", "retail", "1-49")
        make.commit()
        campaign_id = make.campaign(empty, status="draft").id
    response = post(consultant, f"/consultant/setup/campaigns/{campaign_id}/open")
    assert "has no departments yet" in response.get_data(as_text=True)
    with in_app():
        assert db.session.get(Campaign, campaign_id).status == "draft"


def test_extend_an_open_campaign_to_a_later_date_only(consultant, people, in_app):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign

    campaign_id = make_campaign(in_app, people, status="open")
    with in_app():
        closes = db.session.get(Campaign, campaign_id).closes_on
    url = f"/consultant/setup/campaigns/{campaign_id}/extend"
    response = post(consultant, url, {"closes_on": closes.isoformat()})
    assert "Choose a date after the current closing date" in response.get_data(as_text=True)
    later = closes + dt.timedelta(days=7)
    assert post(consultant, url, {"closes_on": later.isoformat()}).status_code == 302
    with in_app():
        assert db.session.get(Campaign, campaign_id).closes_on == later
    assert audit_events(in_app, "campaign_extended") == [
        f"campaign {campaign_id}: closes on {later} instead of {closes}"
    ]


def test_extend_campaign_service_refuses_earlier_dates_and_drafts(factory):
    from surveyapp.services import ServiceError
    from surveyapp.services.campaigns import extend_campaign

    opened = factory.campaign(status="open")
    with pytest.raises(ServiceError, match="must come after the current one"):
        extend_campaign(opened, opened.closes_on - dt.timedelta(days=1))
    draft = factory.campaign(opened.organisation, status="draft", name="Draft")
    with pytest.raises(ServiceError, match="only an open campaign"):
        extend_campaign(draft, draft.closes_on + dt.timedelta(days=1))


def test_close_a_campaign_after_a_confirmation_page(consultant, people, in_app):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign

    campaign_id = make_campaign(in_app, people, status="open")
    url = f"/consultant/setup/campaigns/{campaign_id}/close"
    page = consultant.get(url).get_data(as_text=True)
    assert "released to the organisation's managers, once" in page
    assert "e-mail addresses the invitations were sent to are deleted" in page
    assert post(consultant, url).status_code == 302
    with in_app():
        closed_campaign = db.session.get(Campaign, campaign_id)
        assert closed_campaign.status == "closed"
        # Closed before its planned day: the day it really closed is kept beside it.
        assert closed_campaign.closed_on == dt.date.today() < closed_campaign.closes_on
    assert audit_events(in_app, "campaign_closed") == [f"campaign {campaign_id}"]
    closed = consultant.get(f"/consultant/setup/campaigns/{campaign_id}").get_data(as_text=True)
    assert "See the results" in closed
    # A closed campaign cannot be closed or extended again.
    assert post(consultant, url).status_code == 302
    assert len(audit_events(in_app, "campaign_closed")) == 1
    extend = post(consultant, f"/consultant/setup/campaigns/{campaign_id}/extend")
    assert extend.status_code == 302


def test_new_event_names_are_described(app):
    from surveyapp.services.audit import EVENTS, describe

    with app.test_request_context():
        for name in ("organisation_created", "organisation_changed", "department_changed"):
            assert name in EVENTS and describe(name) != name
        assert describe("campaign_extended") == "Campaign extended"
