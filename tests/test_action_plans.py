"""Action plans: who may read and change them, what a form refuses, what the audit log
records, and how a plan made on one campaign appears in the next campaign's report."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import sqlalchemy as sa

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    OTHER_MANAGER,
    build_results,
    csrf_token,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)

HEAD = ("head.it@acme.example", "it-head-password-77")


@pytest.fixture
def results(in_app, fast_password_hashes):  # noqa: F811
    """Acme's campaigns last year and this year (both closed), Beta's, and the accounts:
    Acme's manager, a department head of Acme's IT, Beta's manager, a consultant."""
    from surveyapp.extensions import db
    from surveyapp.models import Organisation
    from surveyapp.services.users import create_user, find_department, set_department

    with in_app() as make:
        built = build_results(make)
        acme = db.session.get(Organisation, built.organisation_id)
        head = create_user(*HEAD, "manager", acme)
        set_department(head, find_department(acme, "IT"))
        make.commit()
    return built


def plan_url(campaign_id: int, tail: str = "") -> str:
    return f"/results/campaigns/{campaign_id}/action-plan{tail}"


def post(client, url: str, data: dict, follow: bool = False):
    """A form submission with the CSRF token of the page at ``url``."""
    page = client.get(url)
    assert page.status_code == 200, (url, page.status_code)
    token = csrf_token(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=follow)


def dimension_ids(app, campaign_id: int) -> list[str]:
    """The campaign's dimensions that have a level (those a plan may focus on), in order."""
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.action_plans import dimension_choices

    with app.app_context():
        return [c.id for c in dimension_choices(db.session.get(Campaign, campaign_id), "en")]


def action(text="Hold a monthly open meeting", owner="Head of communication", **extra):
    due = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    return {"text": text, "owner": owner, "due_on": due, "status": "planned", **extra}


def stored(app):
    """(focus dimension ids per campaign, action texts) as the database holds them."""
    from surveyapp.extensions import db
    from surveyapp.models import ActionFocus, ActionPlan, PlannedAction

    with app.app_context():
        focus = db.session.execute(
            sa.select(ActionPlan.campaign_id, ActionFocus.dimension_id)
            .join(ActionFocus)
            .order_by(ActionPlan.campaign_id, ActionFocus.position)
        ).all()
        texts = db.session.scalars(sa.select(PlannedAction.text).order_by(PlannedAction.id)).all()
    return [tuple(row) for row in focus], list(texts)


def audit_rows(app, prefix: str = "action") -> list[tuple[str, str]]:
    from surveyapp.extensions import db
    from surveyapp.models import AuditEvent

    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.event, AuditEvent.detail)
            .where(AuditEvent.event.startswith(prefix))
            .order_by(AuditEvent.id)
        ).all()
    return [tuple(row) for row in rows]


def text_of(response) -> str:
    """The page's text with tags removed and entities decoded, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body))


def make_plan(client, app, campaign_id: int, texts=("Hold a monthly open meeting",)):
    """Focus on the first two dimensions; add ``texts`` as actions of the first."""
    first, second = dimension_ids(app, campaign_id)[:2]
    response = post(client, plan_url(campaign_id, "/focus"), {"dimensions": [first, second]})
    assert response.status_code == 302, text_of(response)[:600]
    for text in texts:
        response = post(client, plan_url(campaign_id, f"/{first}/actions/new"), action(text))
        assert response.status_code == 302, text_of(response)[:600]
    return first, second


# ---------------------------------------------------------------------------------
# The proof: a plan made on one campaign appears in the next campaign's report


def test_a_plan_made_on_one_campaign_appears_in_the_next_campaigns_report(
    app, client, results, monkeypatch
):

    login(client, MANAGER)
    first, second = make_plan(client, app, results.previous_id, ["Hold a monthly open meeting"])
    _focus, texts = stored(app)
    assert texts == ["Hold a monthly open meeting"]
    action_id = _action_ids(app)[0]
    response = post(
        client,
        plan_url(results.previous_id, f"/actions/{action_id}"),
        action("Hold a monthly open meeting", status="done"),
    )
    assert response.status_code == 302

    # The next campaign's results page: the previous plan in the change section.
    page = client.get(f"/results/campaigns/{results.campaign_id}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    change = body[body.index('id="change"') : body.index('id="details"')]
    words = text_of_html(change)
    assert "What was planned after “Last year”" in words
    assert "Hold a monthly open meeting" in words
    assert "Responsible: Head of communication" in words
    assert "Done" in words
    assert "Change since then:" in words
    assert re.search(r"Change since then: [+−-]\d\.\d\d", words), words
    # The plan's own campaign shows it in its plan section, linking to the plan page.
    own = client.get(f"/results/campaigns/{results.previous_id}").get_data(as_text=True)
    section = own[own.index('id="action-plan"') :]
    assert plan_url(results.previous_id) in section
    assert "Hold a monthly open meeting" in text_of_html(section)

    # The PDF of the next campaign: the same, in the change chapter.
    rendered = {}

    def capture(html):
        rendered["html"] = html
        return b"%PDF-1.7 stub"

    monkeypatch.setattr("surveyapp.pdf.write_pdf", capture)
    assert client.get(f"/results/campaigns/{results.campaign_id}/report.pdf").status_code == 200
    printed = rendered["html"]
    chapter = printed[printed.index('id="change"') :]
    chapter = chapter[: chapter.index("</section>")]
    words = text_of_html(chapter)
    assert "What was planned after “Last year”" in words
    assert "Hold a monthly open meeting" in words and "Head of communication" in words
    assert "Done" in words
    # The PDF of the plan's own campaign: a page with the plan, listed in the contents.
    assert client.get(f"/results/campaigns/{results.previous_id}/report.pdf").status_code == 200
    printed = rendered["html"]
    assert 'href="#action-plan"' in printed
    page = printed[printed.index('id="action-plan"') :]
    assert "Hold a monthly open meeting" in text_of_html(page[: page.index("</section>")])


def text_of_html(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment)))


def _action_ids(app) -> list[int]:
    from surveyapp.extensions import db
    from surveyapp.models import PlannedAction

    with app.app_context():
        return list(db.session.scalars(sa.select(PlannedAction.id).order_by(PlannedAction.id)))


def test_the_api_gives_the_plan_and_the_previous_plan_with_its_change(app, client, results):
    login(client, MANAGER)
    first, second = make_plan(client, app, results.previous_id)
    own = client.get(f"/api/v1/campaigns/{results.previous_id}/action-plan").get_json()
    assert [f["dimension_id"] for f in own["plan"]["focus"]] == [first, second]
    assert own["plan"]["focus"][0]["actions"][0]["owner"] == "Head of communication"
    assert "change" not in own["plan"]["focus"][0]
    nxt = client.get(f"/api/v1/campaigns/{results.campaign_id}/action-plan").get_json()
    assert nxt["plan"] is None
    focus = nxt["previous_plan"]["focus"]
    assert [f["dimension_id"] for f in focus] == [first, second]
    assert focus[0]["change"]["certainty"] in ("clear", "probable", "unclear")
    # The same change as the results' own.
    results_json = client.get(f"/api/v1/campaigns/{results.campaign_id}/results").get_json()
    expected = next(d for d in results_json["dimensions"] if d["id"] == first)["change"]
    assert focus[0]["change"]["diff"] == pytest.approx(expected["diff"])


# ---------------------------------------------------------------------------------
# Who may read and change a plan


def test_a_manager_of_another_organisation_can_neither_read_nor_change(app, client, results):
    login(client, OTHER_MANAGER)
    assert client.get(plan_url(results.campaign_id)).status_code == 403
    assert client.get(plan_url(results.campaign_id, "/focus")).status_code == 403
    first = dimension_ids(app, results.campaign_id)[0]
    response = client.post(plan_url(results.campaign_id, "/focus"), data={"dimensions": first})
    assert response.status_code in (400, 403)  # no CSRF token of the page: refused either way
    assert client.get(f"/api/v1/campaigns/{results.campaign_id}/action-plan").status_code == 403
    assert stored(app) == ([], [])


def test_a_department_head_reads_the_plan_but_cannot_change_it(app, client, results):
    login(client, MANAGER)
    first, _second = make_plan(client, app, results.campaign_id)
    action_id = _action_ids(app)[0]
    head = app.test_client()
    login(head, HEAD)
    page = head.get(plan_url(results.campaign_id))
    assert page.status_code == 200
    words = text_of(page)
    assert "Hold a monthly open meeting" in words
    assert "You can read this plan" in words
    assert "Add an action" not in words and "Change the focus dimensions" not in words
    for tail in (
        "/focus",
        f"/{first}/actions/new",
        f"/actions/{action_id}",
        f"/actions/{action_id}/remove",
    ):
        assert head.get(plan_url(results.campaign_id, tail)).status_code == 403, tail
        assert head.post(plan_url(results.campaign_id, tail), data={}).status_code in (400, 403)
    # The results page shows the head the plan too.
    assert "Hold a monthly open meeting" in text_of(
        head.get(f"/results/campaigns/{results.campaign_id}")
    )
    assert stored(app)[1] == ["Hold a monthly open meeting"]


def test_a_consultant_changes_the_plan_for_the_organisation(app, client, results):
    login(client, CONSULTANT)
    first, second = make_plan(client, app, results.campaign_id, ["Ask each team for one idea"])
    assert stored(app) == (
        [(results.campaign_id, first), (results.campaign_id, second)],
        ["Ask each team for one idea"],
    )
    events = audit_rows(app)
    assert [e for e, _ in events] == ["action_plan_focus_changed", "action_added"]


def test_an_open_campaign_has_no_plan_yet(app, client, in_app, results):
    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    with in_app() as make:
        opened = make.campaign(db.session.get(Organisation, results.organisation_id), name="Next")
        opened_id = opened.id
    login(client, MANAGER)
    assert client.get(plan_url(opened_id)).status_code == 409
    assert client.get(plan_url(opened_id, "/focus")).status_code == 409
    assert client.get(f"/api/v1/campaigns/{opened_id}/action-plan").status_code == 409


# ---------------------------------------------------------------------------------
# Forms: clear messages, nothing stored on bad input


def test_the_first_action_starts_from_the_recommendation_for_the_level(app, client, results):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.action_plans import dimension_choices

    login(client, MANAGER)
    first = dimension_ids(app, results.campaign_id)[0]
    post(client, plan_url(results.campaign_id, "/focus"), {"dimensions": [first]})
    with app.app_context():
        choice = dimension_choices(db.session.get(Campaign, results.campaign_id), "en")[0]
    page = client.get(plan_url(results.campaign_id, f"/{first}/actions/new"))
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page.get_data(as_text=True), re.S)
    assert html.unescape(textarea.group(1)).strip() == choice.recommendation
    # The Dutch page starts from the Dutch recommendation.
    token = csrf_token(page.get_data(as_text=True))
    client.post("/auth/language/nl", data={"csrf_token": token, "next": "/"})
    page = client.get(plan_url(results.campaign_id, f"/{first}/actions/new"))
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page.get_data(as_text=True), re.S)
    with app.app_context():
        dutch = dimension_choices(db.session.get(Campaign, results.campaign_id), "nl")[0]
    assert html.unescape(textarea.group(1)).strip() == dutch.recommendation != choice.recommendation


def test_more_than_three_focus_dimensions_are_refused(app, client, results):
    login(client, MANAGER)
    four = dimension_ids(app, results.campaign_id)[:4]
    assert len(four) == 4
    response = post(client, plan_url(results.campaign_id, "/focus"), {"dimensions": four})
    assert response.status_code == 400
    words = text_of(response)
    assert "There is a problem" in words
    assert "Choose at most 3 dimensions: you chose 4." in words
    assert 'href="#dimensions"' in response.get_data(as_text=True)
    assert stored(app) == ([], [])
    assert audit_rows(app) == []


def test_a_tampered_dimension_is_refused_in_words(app, client, results):
    login(client, MANAGER)
    response = post(client, plan_url(results.campaign_id, "/focus"), {"dimensions": ["nonsense"]})
    assert response.status_code == 400
    assert "nonsense cannot be a focus" in text_of(response)
    assert stored(app) == ([], [])


def test_choosing_nothing_for_a_new_plan_asks_for_a_dimension(app, client, results):
    login(client, MANAGER)
    response = post(client, plan_url(results.campaign_id, "/focus"), {})
    assert response.status_code == 400
    assert "Choose at least one dimension to focus on, and at most 3." in text_of(response)
    assert stored(app) == ([], [])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("text", "  ", "Describe the action"),
        ("owner", "", "Enter the name of the person or team responsible."),
        ("owner", "x" * 121, "Use at most 120 characters."),
        ("due_on", "30-06-2027", "Enter the due date as YYYY-MM-DD"),
        ("due_on", "2000-01-01", "Choose a due date from"),
        ("status", "finished", "Not a valid choice"),
    ],
)
def test_an_action_with_a_wrong_field_is_refused_and_nothing_is_stored(
    app, client, results, field, value, message
):
    login(client, MANAGER)
    first = dimension_ids(app, results.campaign_id)[0]
    post(client, plan_url(results.campaign_id, "/focus"), {"dimensions": [first]})
    response = post(
        client,
        plan_url(results.campaign_id, f"/{first}/actions/new"),
        {**action(), field: value},
    )
    assert response.status_code == 400
    words = text_of(response)
    assert "There is a problem" in words
    assert message in words
    assert stored(app)[1] == []
    assert [e for e, _ in audit_rows(app)] == ["action_plan_focus_changed"]


def test_a_sixth_action_is_refused(app, client, results):
    login(client, MANAGER)
    texts = [f"Step {n}" for n in range(1, 6)]
    first, _second = make_plan(client, app, results.campaign_id, texts)
    response = client.get(plan_url(results.campaign_id, f"/{first}/actions/new"))
    assert response.status_code == 302
    page = client.get(plan_url(results.campaign_id))
    assert "already has 5 actions" in text_of(page)
    assert stored(app)[1] == texts


def test_dropping_a_focus_dimension_with_actions_asks_first(app, client, results):
    login(client, MANAGER)
    first, second = make_plan(client, app, results.campaign_id)
    third = dimension_ids(app, results.campaign_id)[2]
    response = post(
        client, plan_url(results.campaign_id, "/focus"), {"dimensions": [second, third]}
    )
    assert response.status_code == 200
    words = text_of(response)
    assert "Remove these actions from the plan?" in words
    assert "Hold a monthly open meeting" in words
    assert stored(app)[0] == [(results.campaign_id, first), (results.campaign_id, second)]
    token = csrf_token(response.get_data(as_text=True))
    response = client.post(
        plan_url(results.campaign_id, "/focus"),
        data={"csrf_token": token, "dimensions": [second, third], "confirmed": "yes"},
    )
    assert response.status_code == 302
    assert stored(app) == ([(results.campaign_id, second), (results.campaign_id, third)], [])
    detail = audit_rows(app)[-1]
    assert detail[0] == "action_plan_focus_changed"
    assert "1 action(s) removed" in detail[1]


def test_removing_an_action_asks_first_and_is_logged(app, client, results):
    login(client, MANAGER)
    make_plan(client, app, results.campaign_id)
    action_id = _action_ids(app)[0]
    page = client.get(plan_url(results.campaign_id, f"/actions/{action_id}/remove"))
    assert "Remove this action?" in text_of(page)
    assert stored(app)[1] == ["Hold a monthly open meeting"]
    response = post(client, plan_url(results.campaign_id, f"/actions/{action_id}/remove"), {})
    assert response.status_code == 302
    assert stored(app)[1] == []
    assert audit_rows(app)[-1] == (
        "action_removed",
        f"campaign {results.campaign_id}, {dimension_ids(app, results.campaign_id)[0]}: "
        f"action {action_id}",
    )


def test_the_audit_log_names_no_action_text_or_owner(app, client, results):
    login(client, MANAGER)
    make_plan(client, app, results.campaign_id, ["Secret plan text"])
    action_id = _action_ids(app)[0]
    post(
        client,
        plan_url(results.campaign_id, f"/actions/{action_id}"),
        action("Secret plan text, revised", owner="Jane Example", status="under_way"),
    )
    events = audit_rows(app)
    assert [e for e, _ in events] == [
        "action_plan_focus_changed",
        "action_added",
        "action_changed",
    ]
    changed = events[-1][1]
    assert "text" in changed and "owner" in changed and "status planned → under_way" in changed
    for _event, detail in events:
        assert "Secret" not in detail and "Jane" not in detail and "communication" not in detail
    # The log page describes the new events in words.
    client2 = app.test_client()
    login(client2, CONSULTANT)
    log = text_of(client2.get("/consultant/audit"))
    assert "Action plan: action changed" in log


# ---------------------------------------------------------------------------------
# The database keeps the rules too


def test_the_database_refuses_a_fourth_focus_a_repeated_dimension_and_a_wrong_status(app, results):
    from sqlalchemy.exc import IntegrityError

    from surveyapp.extensions import db
    from surveyapp.models import ActionFocus, ActionPlan, PlannedAction

    with app.app_context():
        plan = ActionPlan(campaign_id=results.campaign_id)
        db.session.add(plan)
        db.session.flush()
        for position, dimension in enumerate(("a", "b", "c"), start=1):
            db.session.add(ActionFocus(plan_id=plan.id, dimension_id=dimension, position=position))
        db.session.commit()
        plan_id = plan.id
        focus_id = plan.focus[0].id
        bad_rows = [
            ActionFocus(plan_id=plan_id, dimension_id="d", position=4),
            ActionFocus(plan_id=plan_id, dimension_id="a", position=2),
            ActionPlan(campaign_id=results.campaign_id),
            PlannedAction(
                focus_id=focus_id, text="x", owner="y", due_on=dt.date.today(), status="finished"
            ),
            PlannedAction(
                focus_id=focus_id, text="", owner="y", due_on=dt.date.today(), status="done"
            ),
        ]
        for row in bad_rows:
            db.session.add(row)
            with pytest.raises(IntegrityError):
                db.session.flush()
            db.session.rollback()


def test_the_service_refuses_a_department_head_and_writes_nothing(app, results):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign, User
    from surveyapp.services import ServiceError
    from surveyapp.services.action_plans import set_focus

    with app.app_context():
        head = db.session.scalar(sa.select(User).filter_by(email=HEAD[0]))
        campaign = db.session.get(Campaign, results.campaign_id)
        with pytest.raises(ServiceError, match="whole organisation"):
            set_focus(campaign, dimension_ids(app, results.campaign_id)[:1], head)
        db.session.rollback()
    assert stored(app) == ([], [])


# ---------------------------------------------------------------------------------
# Migration 0010


def test_migration_0010_creates_and_drops_the_plan_tables(app):
    from flask_migrate import downgrade, upgrade

    from surveyapp.extensions import db

    tables = {"action_plan", "action_focus", "planned_action"}
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:  # a shared PostgreSQL keeps it between tests
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(revision="b4d6f8a1c023")
        assert tables <= set(sa.inspect(db.engine).get_table_names())
        downgrade(revision="a3c5e7f90b12")
        assert not tables & set(sa.inspect(db.engine).get_table_names())
        upgrade()
        assert tables <= set(sa.inspect(db.engine).get_table_names())
        downgrade(revision="base")
