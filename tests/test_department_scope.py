"""Department heads: a manager limited to one department subtree reads that subtree only,
on every output (pages, PDF, results CSV, JSON API, participation), and only figures an
organisation-wide manager already has."""

from __future__ import annotations

import csv
import io
import json
import subprocess

import pytest
import sqlalchemy as sa

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    build_results,
    csrf_token,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)

HEAD = ("head.it@acme.example", "it-head-password-77")
# Acme's tree: COM, HR (3 responses: withheld), IT with IT-OPS under it.
IN_SCOPE = {"IT", "IT-OPS"}
OUT_OF_SCOPE = {"COM", "HR"}
OUT_NAMES = ("Communication", "Human resources")


@pytest.fixture
def results(in_app, fast_password_hashes):  # noqa: F811
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


@pytest.fixture
def head(client, results):
    login(client, HEAD)
    return client


def _labels(groups) -> set[str]:
    return {g["label"] for g in groups}


def test_pages_show_the_subtree_and_the_organisation_only(head, results):
    page = head.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    assert "IT operations" in page
    for name in OUT_NAMES:
        assert name not in page
    base = f"/results/campaigns/{results.campaign_id}"
    assert head.get(f"{base}/departments/IT-OPS").status_code == 200
    assert head.get(f"{base}/departments/COM").status_code == 404
    dimension = head.get(f"/results/campaigns/{results.campaign_id}/dimensions/open_culture")
    assert dimension.status_code == 200
    text = dimension.get_data(as_text=True)
    assert "IT operations" in text
    assert "Communication" not in text


def test_an_organisation_wide_manager_still_sees_every_department(client, results):
    login(client, MANAGER)
    page = client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    assert "Communication" in page and "IT operations" in page


def test_the_api_holds_only_the_subtree_and_nothing_the_full_release_lacks(
    head, client, results, app
):
    scoped = head.get(f"/api/v1/campaigns/{results.campaign_id}/results").get_json()
    with app.app_context():
        from surveyapp.extensions import db
        from surveyapp.models import Campaign
        from surveyapp.services.reporting import released_report

        full = released_report(db.session.get(Campaign, results.campaign_id)).to_dict()

    department_grouping = next(g for g in scoped["groupings"] if g["name"] == "department")
    assert _labels(department_grouping["groups"]) <= IN_SCOPE
    assert {d["code"] for d in scoped["context"]["departments"]} == IN_SCOPE
    assert scoped["organisation"] == full["organisation"]
    full_dimensions = {d["id"]: d for d in full["dimensions"]}
    for dimension in scoped["dimensions"]:
        entry = dimension.get("groupings", {}).get("department")
        if not entry:
            continue
        full_entry = full_dimensions[dimension["id"]]["groupings"]["department"]
        assert _labels(entry["groups"]) <= IN_SCOPE
        # Every group shown is exactly the released group (a subset, never a new figure).
        full_groups = {g["label"]: g for g in full_entry["groups"]}
        for group in entry["groups"]:
            expected = dict(full_groups[group["label"]])
            expected["parent"] = group["parent"]  # a parent outside the scope is hidden
            assert group == expected
        indices = {g["code"] for g in entry["groups"]}
        for pair in entry.get("games_howell", []):
            assert pair["a"] in indices and pair["b"] in indices
        assert all(pair in full_entry["games_howell"] for pair in entry.get("games_howell", []))
    for item in scoped["items"]:
        groups = item.get("groupings", {}).get("department", {}).get("groups", [])
        assert _labels(groups) <= IN_SCOPE
    text = json.dumps(scoped)
    for code in OUT_OF_SCOPE:
        assert f'"{code}"' not in text


def test_the_results_csv_has_no_other_department(head, results):
    response = head.get(f"/results/campaigns/{results.campaign_id}/results.csv")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    flat = {cell for row in rows for cell in row}
    assert "IT operations" in flat or "IT-OPS" in flat
    for name in (*OUT_NAMES, *OUT_OF_SCOPE):
        assert name not in flat


def _pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def test_the_pdf_is_the_heads_own_department_report_without_other_departments(head, results):
    response = head.get(f"/results/campaigns/{results.campaign_id}/report.pdf")
    assert response.status_code == 200
    text = _pdf_text(response.data)
    assert "IT operations" in text
    for name in OUT_NAMES:
        assert name not in text
    refused = head.get(f"/results/campaigns/{results.campaign_id}/report.pdf?department=COM")
    assert refused.status_code == 404


def test_participation_of_an_open_campaign_is_scoped_too(client, in_app, results, app):
    from surveyapp.extensions import db
    from surveyapp.models import Organisation
    from surveyapp.services.responses import import_responses

    from .dashboard_data import responses_csv

    with in_app() as make:
        acme = db.session.get(Organisation, results.organisation_id)
        running = make.campaign(acme, name="Running")
        import_responses(
            running,
            responses_csv(make.questionnaire(), {"COM": 10, "IT": 5, "IT-OPS": 5}, seed=9),
            "open.csv",
        )
        make.commit()
        running_id = running.id
    login(client, HEAD)
    data = client.get(f"/api/v1/campaigns/{running_id}/participation").get_json()
    assert {d["code"] for d in data["departments"]} == IN_SCOPE
    assert data["responses"] == 20  # the organisation's rounded total stays
    page = client.get(f"/results/campaigns/{running_id}").get_data(as_text=True)
    assert "Communication" not in page


def test_a_department_that_joined_after_the_campaign_sees_no_department(
    client, in_app, results, app
):
    from surveyapp.extensions import db
    from surveyapp.models import Organisation, User
    from surveyapp.services.organisations import import_departments
    from surveyapp.services.users import find_department, set_department

    with in_app() as make:
        acme = db.session.get(Organisation, results.organisation_id)
        import_departments(acme, "code,name,parent_code,headcount\nNEW,New team,,4\n", "more.csv")
        head = db.session.scalar(sa.select(User).filter_by(email=HEAD[0]))
        set_department(head, find_department(acme, "NEW"))
        make.commit()
    login(client, HEAD)
    scoped = client.get(f"/api/v1/campaigns/{results.campaign_id}/results").get_json()
    assert scoped["context"]["departments"] == []
    department_grouping = next(g for g in scoped["groupings"] if g["name"] == "department")
    assert department_grouping["groups"] == []


def post(client, url: str, data: dict):
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def test_a_consultant_invites_a_head_and_changes_the_scope(client, results, app, count):
    from surveyapp.extensions import db
    from surveyapp.models import AuditEvent, User

    login(client, CONSULTANT)
    url = f"/consultant/setup/organisations/{results.organisation_id}/people"
    page = client.get(url).get_data(as_text=True)
    assert "IT operations and the departments under it" in page

    before = count(User)
    refused = post(client, url, {"email": "someone@acme.example", "department": "NOPE"})
    assert refused.status_code == 400
    assert "has no department" in refused.get_data(as_text=True)
    assert count(User) == before

    invited = post(client, url, {"email": "head.com@acme.example", "department": "COM"})
    assert invited.status_code in (200, 302)
    with app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(email="head.com@acme.example"))
        assert user.department.code == "COM"
        user_id = user.id

    scope_url = f"/consultant/setup/organisations/{results.organisation_id}/people/{user_id}/scope"
    assert client.get(scope_url).status_code == 200
    changed = post(client, scope_url, {"department": ""})
    assert changed.status_code == 302
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user.department_id is None
        events = db.session.scalars(
            sa.select(AuditEvent.detail).filter_by(event="user_scope")
        ).all()
        assert any("head.com@acme.example: whole organisation" in e for e in events)


def test_managers_cannot_change_scopes(client, results, app):
    from surveyapp.extensions import db
    from surveyapp.models import User

    with app.app_context():
        head_id = db.session.scalar(sa.select(User.id).filter_by(email=HEAD[0]))
    login(client, MANAGER)
    url = f"/consultant/setup/organisations/{results.organisation_id}/people/{head_id}/scope"
    assert client.get(url).status_code == 403
    assert post(client, url, {"department": ""}).status_code == 403


def test_a_scope_from_another_organisation_is_refused(in_app, results):
    from surveyapp.extensions import db
    from surveyapp.models import Organisation, User
    from surveyapp.services import ServiceError
    from surveyapp.services.users import find_department, set_department

    with in_app():
        beta = db.session.get(Organisation, results.other_organisation_id)
        head = db.session.scalar(sa.select(User).filter_by(email=HEAD[0]))
        with pytest.raises(ServiceError, match="another organisation"):
            set_department(head, find_department(beta, "COM"))


def test_the_command_line_invites_lists_and_rescopes(runner, results, app):
    invited = runner.invoke(
        args=[
            "user",
            "invite",
            "cli.head@acme.example",
            "--org",
            "Acme",
            "--department",
            "IT",
            "--base-url",
            "https://survey.example.org",
        ]
    )
    assert invited.exit_code == 0, invited.output
    listed = runner.invoke(args=["user", "list"])
    line = next(x for x in listed.output.splitlines() if x.startswith("cli.head@"))
    assert line.split("\t")[3] == "IT"
    rescoped = runner.invoke(args=["user", "scope", "cli.head@acme.example"])
    assert rescoped.exit_code == 0, rescoped.output
    assert "whole organisation" in rescoped.output
    wrong = runner.invoke(args=["user", "scope", "cli.head@acme.example", "--department", "NOPE"])
    assert wrong.exit_code != 0
    assert "has no department 'NOPE'" in wrong.output
