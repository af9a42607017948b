"""Schemathesis fuzzes the JSON API against its OpenAPI document, in process (WSGI).

The data is the demo (``load_demo``, small scale): closed campaigns in a dozen
organisations, one open campaign, plus a draft. The authenticated run sends a real API
token of the demo consultant (and, for some cases, of the demo manager, so that 403 comes
up too); the other run sends no credentials, a token nobody issued, an expired or revoked
one, or another scheme. Every answer must pass the checks not_a_server_error,
response_schema_conformance, status_code_conformance and content_type_conformance.

Schemathesis skips ``/openapi.json`` itself (the operation that serves the document);
tests/test_api.py checks it. Hypothesis runs derandomised, so the same cases run every
time and a failure reproduces; the requests actually sent are counted and the count is
asserted, so the run cannot shrink unnoticed.
"""

from __future__ import annotations

import collections
import datetime as dt

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .openapi_check import check_response

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
POSITIVE, NEGATIVE = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
# Examples per operation and generation mode: (positive, negative). Negative cases cost
# about twice as much to generate. Hypothesis stops early where the operation has fewer
# distinct inputs, hence the count of requests actually sent.
AUTHENTICATED = {
    "GET /": (5, 0),  # no parameters: nothing to make negative
    "GET /organisations": (60, 30),
    "GET /campaigns": (220, 60),
    "GET /campaigns/{campaign_id}/results": (270, 60),
    "GET /campaigns/{campaign_id}/participation": (270, 60),
    "GET /campaigns/{campaign_id}/comments": (150, 40),
    "GET /campaigns/{campaign_id}/action-plan": (150, 40),
}
MIN_AUTHENTICATED_REQUESTS = 1000
REFUSED = {
    "GET /": (5, 0),
    "GET /organisations": (40, 0),
    "GET /campaigns": (50, 0),
    "GET /campaigns/{campaign_id}/results": (60, 0),
    "GET /campaigns/{campaign_id}/participation": (40, 0),
    "GET /campaigns/{campaign_id}/comments": (30, 0),
    "GET /campaigns/{campaign_id}/action-plan": (30, 0),
}
MIN_REFUSED_REQUESTS = 150
PUBLIC = {"GET /"}


@pytest.fixture(scope="module")
def database_url(database_backend, tmp_path_factory, request) -> str:
    if database_backend == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'demo.sqlite3'}"


@pytest.fixture(scope="module")
def app(database_url):
    """One app and database for the module (conftest's has one per test): the demo's
    fifteen closed campaigns then have their reports computed once, not once per test."""
    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.services import reporting

    from .conftest import app_config

    app = create_app(app_config(database_url))
    # Another module's database had the same campaign ids: start with an empty cache.
    reporting._CACHE.clear()
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    reporting._CACHE.clear()
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture(scope="module")
def demo_api(app):
    """The demo data, a draft campaign, and the credentials the runs send."""
    from werkzeug.security import generate_password_hash

    from surveyapp.extensions import db
    from surveyapp.models import ApiToken, Campaign, Organisation, User
    from surveyapp.services.campaigns import create_campaign
    from surveyapp.services.demo import (
        CONSULTANT_EMAIL,
        DEMO_ORGANISATION,
        MANAGER_EMAIL,
        load_demo,
    )
    from surveyapp.services.questionnaires import latest_questionnaire
    from surveyapp.services.tokens import issue_token, revoke_token

    with pytest.MonkeyPatch.context() as patch, app.app_context():
        # scrypt's deliberate slowness would dominate the set-up.
        patch.setattr(
            "surveyapp.services.users.generate_password_hash",
            lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
        )
        load_demo(scale=0.05)
        organisation = db.session.scalar(sa.select(Organisation).filter_by(name=DEMO_ORGANISATION))
        today = dt.date.today()
        create_campaign(
            organisation,
            latest_questionnaire("social-business-maturity"),
            "Next year",
            today + dt.timedelta(days=300),
            today + dt.timedelta(days=330),
        )
        consultant = db.session.scalar(sa.select(User).filter_by(email=CONSULTANT_EMAIL))
        manager = db.session.scalar(sa.select(User).filter_by(email=MANAGER_EMAIL))
        _, consultant_token = issue_token(consultant, "fuzz")
        _, manager_token = issue_token(manager, "fuzz")
        expired, expired_token = issue_token(consultant, "expired", 1)
        expired.expires_on = today
        revoked, revoked_token = issue_token(consultant, "revoked")
        revoke_token(consultant, revoked.id)
        db.session.commit()
        statuses = dict(db.session.execute(sa.select(Campaign.id, Campaign.status)).all())
        assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 3
    assert set(statuses.values()) == {"draft", "open", "closed"}
    return {
        "schema": schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app),
        "campaign_ids": sorted(statuses),
        "consultant": f"Bearer {consultant_token}",
        "manager": f"Bearer {manager_token}",
        "refused": [
            None,
            "Bearer sbm_" + "x" * 43,
            f"Bearer {expired_token}",
            f"Bearer {revoked_token}",
            f"Basic {consultant_token}",
            "Bearer",
        ],
    }


def fuzz(schema, budget, credentials, campaign_ids) -> collections.Counter:
    """Run every operation in ``budget``; return the requests sent by (operation, status)."""
    sent: collections.Counter = collections.Counter()
    operations = {result.ok().label: result.ok() for result in schema.get_all_operations()}
    assert set(operations) == set(budget), "the document's operations changed: update the budget"
    for label, examples in budget.items():
        for mode, count in zip((POSITIVE, NEGATIVE), examples, strict=True):
            if count:
                fuzz_operation(operations[label], mode, count, credentials, campaign_ids, sent)
    return sent


def fuzz_operation(operation, mode, count, credentials, campaign_ids, sent) -> None:
    """Send ``count`` generated requests to one operation, counting them in ``sent``.

    In positive cases half the campaign ids are replaced by real ones: a generated whole
    number is seldom a campaign, and the answers most worth checking are the campaigns'.
    """
    real_ids = st.one_of(st.none(), st.sampled_from(campaign_ids))

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        authorization=credentials,
        real_id=real_ids if mode is POSITIVE else st.none(),
    )
    def run(case, authorization, real_id):
        if real_id is not None and "campaign_id" in (case.path_parameters or {}):
            case.path_parameters["campaign_id"] = real_id
        headers = {} if authorization is None else {"Authorization": authorization}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        sent[operation.label, response.status_code] += 1

    run()


def test_fuzz_with_a_consultants_token(demo_api):
    consultant, manager = demo_api["consultant"], demo_api["manager"]
    credentials = st.sampled_from([consultant, consultant, consultant, manager])
    sent = fuzz(demo_api["schema"], AUTHENTICATED, credentials, demo_api["campaign_ids"])
    total = sum(sent.values())
    assert total >= MIN_AUTHENTICATED_REQUESTS, sent
    seen = {(label, status) for label, status in sent}
    results = "GET /campaigns/{campaign_id}/results"
    participation = "GET /campaigns/{campaign_id}/participation"
    # The runs reached the data, not only the errors.
    for expected in (
        ("GET /campaigns", 200),
        ("GET /campaigns", 400),
        ("GET /organisations", 200),
        (results, 200),
        (results, 403),
        (results, 404),
        (results, 409),
        (participation, 200),
        (participation, 409),
        ("GET /campaigns/{campaign_id}/comments", 200),
        ("GET /campaigns/{campaign_id}/comments", 409),
        ("GET /campaigns/{campaign_id}/action-plan", 200),
        ("GET /campaigns/{campaign_id}/action-plan", 409),
    ):
        assert expected in seen, (expected, sent)
    assert not any(status >= 500 for _label, status in sent)


def test_fuzz_without_valid_credentials(demo_api):
    refused = st.sampled_from(demo_api["refused"])
    sent = fuzz(demo_api["schema"], REFUSED, refused, demo_api["campaign_ids"])
    assert sum(sent.values()) >= MIN_REFUSED_REQUESTS, sent
    for (label, status), _count in sent.items():
        if label in PUBLIC:
            assert status == 200, (label, status)
        else:
            # 400 for an address the request guards refuse before anyone is asked to sign in.
            assert status in (400, 401), (label, status)
    assert sum(n for (label, status), n in sent.items() if status == 401) >= 100


def test_every_demo_answer_matches_the_closed_document(app, demo_api):
    """Every campaign's results and participation, checked with every object closed."""
    client = app.test_client()
    headers = {"Authorization": demo_api["consultant"]}
    campaigns = client.get("/api/v1/campaigns", headers=headers)
    check_response("GET", "/api/v1/campaigns", campaigns)
    ids = [c["id"] for c in campaigns.get_json()["campaigns"]]
    assert len(ids) >= 15
    for campaign_id in ids:
        for what in ("results", "participation", "comments", "action-plan"):
            path = f"/api/v1/campaigns/{campaign_id}/{what}"
            check_response("GET", path, client.get(path, headers=headers))
