"""The read-only JSON API: authentication, scope, errors, and nothing withheld leaks.

Every answer a test here gets from /api/v1 is checked against the OpenAPI document
(tests/openapi_check.py, with every object closed): status, media type and body.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import pytest

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)
from .openapi_check import OpenApiCheckedClient, check_response, document

WITHHELD_KEYS = {"code", "label", "parent", "suppressed", "reason", "rolled_up", "id"}


@pytest.fixture
def client(app):
    """A test client that checks every /api/v1 answer against the OpenAPI document."""
    app.test_client_class = OpenApiCheckedClient
    return app.test_client()


@pytest.fixture
def results(in_app, fast_password_hashes):  # noqa: F811
    with in_app() as make:
        return build_results(make)


@pytest.fixture
def token(in_app, results):
    """An API token of the Acme manager."""
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import User
    from surveyapp.services.tokens import issue_token

    with in_app():
        user = db.session.scalar(sa.select(User).filter_by(email=MANAGER[0]))
        _row, secret = issue_token(user, "tests")
        db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["status"] == status and body["error"]["detail"]
    return body


def test_without_credentials_every_endpoint_answers_401_in_json(client, results):
    for path in ("/api/v1/campaigns", "/api/v1/organisations", "/api/v1/campaigns/2/results"):
        response = client.get(path)
        assert_json_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_or_revoked_token_is_401(client, in_app, results, token):
    assert_json_error(client.get("/api/v1/campaigns", headers=bearer("sbm_nope")), 401)
    assert_json_error(client.get("/api/v1/campaigns", headers={"Authorization": token}), 401)
    from surveyapp.extensions import db
    from surveyapp.models import ApiToken
    from surveyapp.services.tokens import revoke_token

    with in_app():
        row = db.session.scalar(db.select(ApiToken))
        revoke_token(row.user, row.id)
        db.session.commit()
    assert_json_error(client.get("/api/v1/campaigns", headers=bearer(token)), 401)


def test_token_sees_its_own_organisation_only(client, results, token):
    listing = client.get("/api/v1/campaigns", headers=bearer(token)).get_json()
    assert {c["id"] for c in listing["campaigns"]} == {results.campaign_id, results.previous_id}
    organisations = client.get("/api/v1/organisations", headers=bearer(token)).get_json()
    assert [o["name"] for o in organisations["organisations"]] == ["Acme"]
    own = client.get(f"/api/v1/campaigns/{results.campaign_id}/results", headers=bearer(token))
    assert own.status_code == 200
    other = client.get(
        f"/api/v1/campaigns/{results.other_campaign_id}/results", headers=bearer(token)
    )
    assert_json_error(other, 403)
    assert_json_error(client.get("/api/v1/campaigns/999/results", headers=bearer(token)), 404)
    assert_json_error(client.get("/api/v1/nothing/here", headers=bearer(token)), 404)
    refused = client.post("/api/v1/campaigns", headers=bearer(token))
    assert_json_error(refused, 405)
    assert refused.headers["Allow"] == "GET, HEAD"


def test_session_of_a_consultant_sees_everything(client, results):
    login(client, CONSULTANT)
    listing = client.get("/api/v1/campaigns").get_json()
    assert len(listing["campaigns"]) == 3
    assert client.get(f"/api/v1/campaigns/{results.other_campaign_id}/results").status_code == 200


def test_results_are_the_analysis_json_with_an_etag(client, results, token, in_app):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.reporting import cached_campaign_report

    response = client.get(f"/api/v1/campaigns/{results.campaign_id}/results", headers=bearer(token))
    data = json.loads(response.get_data(as_text=True))
    with in_app():
        expected = cached_campaign_report(db.session.get(Campaign, results.campaign_id)).to_dict()
    for key in ("schema_version", "settings", "organisation", "dimensions", "items", "groupings"):
        assert data[key] == expected[key], key
    again = client.get(
        f"/api/v1/campaigns/{results.campaign_id}/results",
        headers={**bearer(token), "If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def test_withheld_groups_carry_no_numbers_anywhere_in_the_json(client, results, token):
    data = client.get(
        f"/api/v1/campaigns/{results.campaign_id}/results", headers=bearer(token)
    ).get_json()
    seen = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("suppressed") is True and "label" in node:
                seen.append(node["label"])
                assert set(node) <= WITHHELD_KEYS, node
                rolled = node.get("rolled_up")
                assert rolled is None or rolled.get("suppressed") or "n" in rolled
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({k: v for k, v in data.items() if k != "context"})
    assert {"HR", "COM"} <= set(seen)
    departments = {d["code"]: d for d in data["context"]["departments"]}
    for code in ("HR", "COM"):
        assert departments[code]["suppressed"] is True
        assert departments[code]["responses"] is None
        assert departments[code]["response_rate"] is None
    assert departments["IT-OPS"]["responses"] == 11


def test_openapi_document_is_public_and_describes_every_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = response.get_json()
    assert served == document() and served["openapi"].startswith("3.1")
    assert client.get("/api/v1/").get_json() == {"openapi": "http://localhost/api/v1/openapi.json"}
    routes = {
        rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}"): rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.not_found"
    }
    assert set(routes) == set(served["paths"])
    for path, rule in routes.items():
        operation = served["paths"][path]["get"]
        assert rule.methods == {"GET", "HEAD", "OPTIONS"}, path
        expected = {"200", "400", "500"}
        if operation.get("security") != []:
            expected.add("401")
        if "{campaign_id}" in path:
            expected |= {"403", "404", "409"}
        assert expected <= set(operation["responses"]), path
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert documented == set(rule.arguments), path


def test_every_answer_here_is_checked_against_the_document(client, results, token):
    client.get("/api/v1/campaigns", headers=bearer(token))
    client.get("/api/v1/organisations")
    assert client.checked == 2


def test_the_check_refuses_what_the_document_does_not_describe(app):
    def answer(body, status=200, mimetype="application/json"):
        return app.response_class(body, status=status, mimetype=mimetype)

    organisation = {"id": 1, "name": "Acme", "sector": "government", "size_band": "1-49"}
    check_response(
        "GET", "/api/v1/organisations", answer(json.dumps({"organisations": [organisation]}))
    )
    refused = {
        "an undocumented member": answer(
            json.dumps({"organisations": [{**organisation, "headcount": 12}]})
        ),
        "a member missing": answer(json.dumps({"organisations": [{"id": 1}]})),
        "an undocumented status": answer("{}", status=418),
        "a 401 without WWW-Authenticate": answer(
            json.dumps({"error": {"status": 401, "title": "Unauthorized", "detail": "Sign in."}}),
            status=401,
        ),
        "an HTML error": answer("<h1>Oops</h1>", status=500, mimetype="text/html"),
    }
    for reason, response in refused.items():
        with pytest.raises(AssertionError):
            check_response("GET", "/api/v1/organisations", response)
            pytest.fail(f"accepted {reason}")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/campaigns/99999999999999999999999",
        "/api/v1/campaigns/99999999999999999999999/results",
        "/api/v1/campaigns/99999999999999999999999/participation",
        "/api/v1/campaigns/2147483648/results",  # beyond PostgreSQL's integer ids
        "/api/v1/campaigns/9223372036854775808/results",  # beyond SQLite's
        "/api/v1/campaigns/" + "9" * 5000 + "/results",
        "/api/v1/campaigns/0/results",
        "/api/v1/campaigns/-1/results",
        "/api/v1/campaigns/007/participation",
        "/api/v1/campaigns/1e3/results",
        "/api/v1/campaigns/%E2%91%A0/results",
    ],
)
def test_ids_no_campaign_can_have_answer_a_json_404(client, results, token, path):
    assert_json_error(client.get(path, headers=bearer(token)), 404)


def test_the_organisation_filter(client, results, token):
    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/campaigns?organisation={query}", headers=bearer(token))
        assert response.status_code == 200
        return {c["id"] for c in response.get_json()["campaigns"]}

    assert ids(str(results.organisation_id)) == {results.campaign_id, results.previous_id}
    assert ids(str(results.other_organisation_id)) == set()  # not the manager's
    for beyond in ("2147483648", "9223372036854775808", "99999999999999999999999"):
        assert ids(beyond) == set()
    for bad in ("acme", "0", "-1", "1.5", "", "%E2%91%A0"):
        response = client.get(f"/api/v1/campaigns?organisation={bad}", headers=bearer(token))
        assert "whole number" in assert_json_error(response, 400)["error"]["detail"]


def test_open_and_draft_campaigns_answer_409_where_nothing_is_released(
    client, in_app, results, token
):
    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    with in_app() as make:
        acme = db.session.get(Organisation, results.organisation_id)
        today = dt.date.today()
        open_id = make.campaign(acme, name="Pulse", closes_on=today + dt.timedelta(days=9)).id
        draft_id = make.campaign(
            acme,
            status="draft",
            name="Next",
            opens_on=today + dt.timedelta(days=60),
            closes_on=today + dt.timedelta(days=90),
        ).id
    for campaign_id in (open_id, draft_id):
        refused = client.get(f"/api/v1/campaigns/{campaign_id}/results", headers=bearer(token))
        participation_url = assert_json_error(refused, 409)["error"]["participation_url"]
        assert participation_url.endswith(f"/api/v1/campaigns/{campaign_id}/participation")
    participation = client.get(f"/api/v1/campaigns/{open_id}/participation", headers=bearer(token))
    assert participation.status_code == 200
    assert participation.get_json()["status"] == "open"
    for campaign_id in (draft_id, results.campaign_id):
        response = client.get(
            f"/api/v1/campaigns/{campaign_id}/participation", headers=bearer(token)
        )
        assert_json_error(response, 409)


def test_an_unexpected_error_is_json_and_its_log_holds_no_request_data(
    client, results, token, monkeypatch, caplog
):
    quoted = "secret-" + "from-the-message"  # not in the source lines a traceback shows

    def broken(campaign_ids):
        raise RuntimeError(f"a message quoting {quoted}")

    monkeypatch.setattr("surveyapp.views.api.response_counts", broken)
    with caplog.at_level(logging.DEBUG):
        response = client.get(
            f"/api/v1/campaigns?organisation={results.organisation_id}&note=secret-from-the-query",
            headers={**bearer(token), "X-Note": "secret-from-a-header"},
        )
    body = assert_json_error(response, 500)
    assert body["error"]["title"] == "Internal Server Error"
    assert "secret" not in response.get_data(as_text=True)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "RuntimeError" in logged and "api.campaigns" in logged
    for secret in ("secret-from-the-message", "secret-from-the-query", "secret-from-a-header"):
        assert secret not in logged
    assert token not in logged
