"""The demo data: varied enough for every report, loaded once, with links and logins that work."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import (
    SIZE_BANDS,
    Answer,
    Campaign,
    Department,
    Invitation,
    Organisation,
    QuestionnaireItem,
    QuestionnaireVersion,
    Response,
    User,
    today,
)
from surveyapp.services.demo import DEMO_ORGANISATION, DemoSummary, load_demo

from .conftest import prebuilt, quick_password_hashes

SCALE = 0.05  # about 800 responses: enough for the patterns, quick to load


@pytest.fixture(autouse=True)
def hash_passwords_quickly():
    """Hash the demo passwords cheaply: scrypt's deliberate slowness would dominate these tests."""
    with quick_password_hashes():
        yield


def load_small_demo(make) -> DemoSummary:
    with quick_password_hashes():
        return load_demo(scale=SCALE)


# Loaded once per run; each test starts from its own copy of the loaded database.
demo_database = prebuilt("demo_database", load_small_demo)


@pytest.fixture
def demo(demo_database, ctx) -> DemoSummary:
    """What ``load_demo`` returned, the demo loaded into this test's database."""
    return demo_database


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _table_counts() -> dict[str, int]:
    models = (Organisation, Department, Campaign, Response, Answer, User, Invitation)
    return {model.__name__: _count(model) for model in models}


def test_organisations_cover_sectors_and_size_bands(demo):
    organisations = db.session.scalars(sa.select(Organisation)).all()
    assert len(organisations) >= 12
    assert len({o.sector for o in organisations}) >= 3
    assert {o.size_band for o in organisations} == set(SIZE_BANDS)


def test_departments_form_trees_with_small_groups(demo):
    departments = db.session.scalars(sa.select(Department)).all()
    assert any(d.parent_id is not None for d in departments)
    per_department = db.session.execute(
        sa.select(Response.campaign_id, Response.department_id, sa.func.count()).group_by(
            Response.campaign_id, Response.department_id
        )
    ).all()
    assert any(n < 5 for *_, n in per_department), "no department below the anonymity threshold"


def test_one_organisation_is_measured_twice_a_year_apart(demo):
    opened: dict[int, list[dt.date]] = defaultdict(list)
    for campaign in db.session.scalars(sa.select(Campaign).filter_by(status="closed")):
        opened[campaign.organisation_id].append(campaign.opens_on)
    gaps = [
        (later - earlier).days
        for dates in opened.values()
        for earlier, later in zip(sorted(dates), sorted(dates)[1:], strict=False)
    ]
    assert any(350 <= gap <= 380 for gap in gaps), f"gaps between campaigns: {gaps}"


def test_exactly_one_campaign_accepts_responses_today(demo):
    from surveyapp.services.campaigns import accepts_responses

    accepting = [c for c in db.session.scalars(sa.select(Campaign)) if accepts_responses(c)]
    assert [c.organisation.name for c in accepting] == [DEMO_ORGANISATION]
    assert _count(sa.select(Response).filter_by(campaign_id=accepting[0].id).subquery()) > 0


def test_responses_fall_within_their_campaign(demo):
    outside = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Response)
        .join(Campaign, Campaign.id == Response.campaign_id)
        .where(
            sa.or_(
                Response.submitted_on < Campaign.opens_on,
                Response.submitted_on > Campaign.closes_on,
                Response.submitted_on > today(),
            )
        )
    )
    assert outside == 0


def test_top_management_rates_higher_than_employees(demo):
    maturity = sa.case(
        (
            QuestionnaireItem.reverse,
            QuestionnaireVersion.scale_min + QuestionnaireVersion.scale_max - Answer.value,
        ),
        else_=Answer.value,
    )
    means = dict(
        db.session.execute(
            sa.select(Response.role_level, sa.func.avg(maturity))
            .join(Answer, Answer.response_id == Response.id)
            .join(
                QuestionnaireItem,
                sa.and_(
                    QuestionnaireItem.questionnaire_version_id == Answer.questionnaire_version_id,
                    QuestionnaireItem.item_id == Answer.item_id,
                ),
            )
            .join(QuestionnaireVersion, QuestionnaireVersion.id == Answer.questionnaire_version_id)
            .group_by(Response.role_level)
        ).all()
    )
    assert float(means["top_management"]) > float(means["employee"]) + 0.2, means


def test_dont_know_is_stored_as_null(demo):
    answers = _count(Answer)
    dont_know = _count(sa.select(Answer).where(Answer.value.is_(None)).subquery())
    assert 0.01 < dont_know / answers < 0.06


def test_second_run_creates_nothing_and_prints_the_same_links(demo, client):
    before = _table_counts()
    again = load_demo(scale=SCALE)
    db.session.commit()
    assert not again.created
    assert _table_counts() == before
    assert again.links == demo.links and len(demo.links) == 5
    text = again.describe()
    for link in demo.links:
        url = f"http://127.0.0.1:5000/s/{link.token}"
        assert url in text
        response = client.get(f"/s/{link.token}")
        # The link shows the step where the respondent is, its form posting to that step.
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        assert f'action="/s/{link.token}/' in response.get_data(as_text=True)


def test_new_links_once_every_printed_one_is_used(demo, client):
    db.session.execute(sa.update(Invitation).values(used=True))
    db.session.commit()
    again = load_demo(scale=SCALE)
    db.session.commit()
    assert len(again.links) == 5
    assert not {link.token for link in again.links} & {link.token for link in demo.links}
    assert client.get(f"/s/{again.links[0].token}").status_code == 200


def test_printed_logins_authenticate(demo):
    from surveyapp.services.users import authenticate

    text = demo.describe()
    assert {login.role for login in demo.logins} == {"manager", "consultant"}
    for login in demo.logins:
        assert login.email in text and login.password in text
        user = authenticate(login.email, login.password)
        assert user is not None and user.role == login.role
    manager = authenticate("manager@demo.example", "demo-manager-2026")
    assert manager.organisation.name == DEMO_ORGANISATION


def test_demo_command_prints_links(app, runner):
    result = runner.invoke(args=["demo", "--scale", str(SCALE)])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/s/" in result.output
    assert "consultant@demo.example" in result.output
    with app.app_context():
        assert _count(Organisation) >= 12  # committed by the command
