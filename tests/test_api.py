"""The read-only JSON API: authentication, scope, errors, and nothing withheld leaks."""

from __future__ import annotations

import json

import pytest

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)

WITHHELD_KEYS = {"code", "label", "parent", "suppressed", "reason", "rolled_up", "id"}


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


def test_openapi_document_is_public_and_describes_the_endpoints(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert {"/campaigns", "/campaigns/{campaign_id}/results", "/organisations"} <= set(
        document["paths"]
    )
    analysis = document["components"]["schemas"]["Analysis"]
    assert {"schema_version", "settings", "organisation", "dimensions", "items"} <= set(
        analysis["properties"]
    )
    assert "bearerToken" in document["components"]["securitySchemes"]
