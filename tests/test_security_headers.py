"""Security headers and caching on every kind of response (surveyapp/security.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from surveyapp.security import CONTENT_SECURITY_POLICY

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    OTHER_MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)

PACKAGE = Path(__file__).resolve().parent.parent / "surveyapp"

EXPECTED = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")
COMMENT = "Fewer meetings, more conversations."


@pytest.fixture
def results(in_app, fast_password_hashes):  # noqa: F811
    with in_app() as make:
        return build_results(make)


@pytest.fixture
def review_link(in_app, results) -> str:
    """A survey link whose respondent has answered everything and reached the review page."""
    from surveyapp.models import Organisation
    from surveyapp.services.drafts import DraftContent, draft_key
    from surveyapp.services.invitations import find_invitation
    from surveyapp.services.responses import save_draft

    with in_app() as make:
        from surveyapp.extensions import db

        campaign = make.campaign(db.session.get(Organisation, results.organisation_id))
        token = make.link(campaign)
        questionnaire = make.questionnaire()
        draft = DraftContent(
            language="en",
            role_level="employee",
            answers={item.id: 4 for item in questionnaire.items},
            comment=COMMENT,
            step="review",
        )
        save_draft(find_invitation(token), draft_key(token), draft)
        make.commit()
    return token


@pytest.fixture
def samples(app, client, results, review_link, monkeypatch):
    """One response of every kind, by name: pages, survey, static, errors, API, downloads."""
    monkeypatch.setattr("surveyapp.pdf.create_pdf", lambda view, **kwargs: b"%PDF-1.7 stub")
    monkeypatch.setattr("surveyapp.pdf.write_pdf", lambda html: b"%PDF-1.7 stub")

    def boom():
        raise RuntimeError("a bug")

    app.add_url_rule("/boom", "boom", boom)
    token = _api_token(app)
    campaign, other = results.campaign_id, results.other_campaign_id
    responses = {}

    def take(name, path, status, **kwargs):
        response = client.get(path, **kwargs)
        response.get_data()  # read a streamed body while its request is alive
        response.close()
        assert response.status_code == status, f"{name}: {path} answered {response.status_code}"
        responses[name] = response

    take("redirect", "/", 302)
    take("sign-in page", "/auth/login", 200)
    take("static file", "/static/app.css", 200)
    take("survey review", f"/s/{review_link}/review", 200)
    take("survey done", "/s/done", 200)
    take("not found", "/no-such-page", 404)
    take("method not allowed", "/auth/logout", 405)
    take("server error", "/boom", 500)
    take("api without credentials", "/api/v1/campaigns", 401)
    take("api description", "/api/v1/openapi.json", 200)
    take("api results", f"/api/v1/campaigns/{campaign}/results", 200, headers=_bearer(token))
    login(client, OTHER_MANAGER)
    take("forbidden", f"/results/campaigns/{campaign}", 403)
    login(client, MANAGER)
    take("dashboard page", f"/results/campaigns/{campaign}", 200)
    take("api results in the browser", f"/api/v1/campaigns/{campaign}/results", 200)
    take("pdf", f"/results/campaigns/{campaign}/report.pdf", 200)
    take("results csv", f"/results/campaigns/{campaign}/results.csv", 200)
    login(client, CONSULTANT)
    take("consultant page", "/consultant/", 200)
    take("answers csv", f"/results/campaigns/{other}/responses.csv", 200)
    return responses


def _api_token(app) -> str:
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import User
    from surveyapp.services.tokens import issue_token

    with app.app_context():
        user = db.session.scalar(sa.select(User).filter_by(email=MANAGER[0]))
        _row, secret = issue_token(user, "headers test")
        db.session.commit()
    return secret


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_kind_of_response_carries_the_security_headers(samples):
    wrong = {}
    for name, response in samples.items():
        for header, value in EXPECTED.items():
            if response.headers.get(header) != value:
                wrong[f"{name} {header}"] = response.headers.get(header)
        policy = response.headers.get("Permissions-Policy", "")
        for feature in DENIED_FEATURES:
            if f"{feature}=()" not in policy:
                wrong[f"{name} Permissions-Policy {feature}"] = policy
        if "Strict-Transport-Security" in response.headers:
            wrong[f"{name} Strict-Transport-Security outside production"] = "sent"
    assert not wrong, wrong


def test_the_policy_allows_nothing_inline():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_only_static_files_may_be_cached(samples):
    stored = {
        name: response.headers.get("Cache-Control")
        for name, response in samples.items()
        if name != "static file" and "no-store" not in response.headers.get("Cache-Control", "")
    }
    assert not stored, f"responses that a browser or proxy may keep: {stored}"
    # The review page lists every answer; it must not outlive the visit in any cache.
    assert COMMENT in samples["survey review"].get_data(as_text=True)
    static = samples["static file"].headers
    assert "no-store" not in static.get("Cache-Control", "") and static.get("ETag")


def test_a_static_files_error_page_is_not_stored(client):
    # Error pages show the signed-in user's address in the header, like every page.
    response = client.get("/static/no-such-file.css")
    assert response.status_code == 404
    assert "no-store" in response.headers["Cache-Control"]


def test_strict_transport_security_only_in_production(app, client):
    from surveyapp import create_app

    assert "Strict-Transport-Security" not in client.get("/auth/login").headers
    settings = ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "QUESTIONNAIRE_DIR", "LANGUAGES")
    settings += ("BABEL_DEFAULT_LOCALE", "BABEL_TRANSLATION_DIRECTORIES")
    config = {name: app.config[name] for name in settings}
    production = create_app({**config, "ENV_NAME": "production"})
    client = production.test_client()
    for path in ("/auth/login", "/static/app.css", "/no-such-page"):
        with client.get(path) as response:
            value = response.headers.get("Strict-Transport-Security")
        assert value == "max-age=31536000; includeSubDomains", path
    with production.app_context():
        from surveyapp.extensions import db

        db.engine.dispose()


# Presentation attributes such as font-style= are allowed by the policy; style= is not.
# A script loaded from the app's own static files (<script src>) is allowed (script-src
# 'self'); a script written into the page is not.
INLINE_STYLE = re.compile(
    r"""(?<![\w-])style=["']|<style\b|<script\b(?![^>]*\ssrc=)|\son[a-z]+=["']""", re.I
)


@pytest.mark.parametrize(
    "path",
    [*sorted((PACKAGE / "templates").rglob("*.html")), *sorted((PACKAGE / "charts").glob("*.py"))],
    ids=lambda path: str(path.relative_to(PACKAGE)),
)
def test_pages_have_no_inline_style_or_script(path):
    found = [
        f"line {number}: {line.strip()}"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if INLINE_STYLE.search(line)
    ]
    assert not found, f"the Content-Security-Policy would block: {found}"


def test_rendered_pages_have_no_inline_style_or_script(samples):
    found = {
        name: INLINE_STYLE.findall(response.get_data(as_text=True))
        for name, response in samples.items()
        if response.mimetype == "text/html"
    }
    assert not any(found.values()), found
