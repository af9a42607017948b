"""API tokens: a chosen lifetime, refusal once expired or disabled, listing and revocation
on the page and in the CLI, and an audit event for every issue and revocation."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from .dashboard_data import csrf_token, fast_password_hashes, login  # noqa: F401 (fixture)

PASSWORD = "plum-velvet-harbour-ninety-kites"
CONSULTANT = ("analyst@example.org", PASSWORD)
OTHER = ("other@example.org", PASSWORD)


@pytest.fixture
def accounts(in_app, fast_password_hashes):  # noqa: F811
    """Two consultants; returns their ids."""
    from surveyapp.services.users import create_user

    with in_app() as make:
        ids = [
            create_user(email, password, "consultant").id for email, password in (CONSULTANT, OTHER)
        ]
        make.commit()
    return ids


@pytest.fixture
def issue(in_app, accounts):
    """Issue a token for an account (the first by default); returns (token id, secret)."""

    def issuer(name="script", days=None, account=0, **changes):
        from surveyapp.extensions import db
        from surveyapp.models import User
        from surveyapp.services.tokens import issue_token

        with in_app():
            token, secret = issue_token(db.session.get(User, accounts[account]), name, days)
            for key, value in changes.items():
                setattr(token, key, value)
            db.session.commit()
            return token.id, secret

    return issuer


def token_row(in_app, token_id):
    from surveyapp.extensions import db
    from surveyapp.models import ApiToken

    with in_app():
        row = db.session.get(ApiToken, token_id)
        if row is not None:
            db.session.expunge(row)
        return row


def audit_events(in_app, event):
    from surveyapp.extensions import db
    from surveyapp.models import AuditEvent

    with in_app():
        rows = db.session.scalars(sa.select(AuditEvent).filter_by(event=event))
        return [(row.actor, row.user_id, row.detail) for row in rows]


def api(client, secret):
    return client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {secret}"})


def today():
    from surveyapp.models import today

    return today()


# --- lifetime ---------------------------------------------------------------------


def test_a_token_works_for_the_configured_days_unless_told_otherwise(app, in_app, issue):
    app.config["API_TOKEN_DAYS"] = 30
    default, _ = issue("default")
    assert token_row(in_app, default).expires_on == today() + dt.timedelta(days=30)
    for days in (1, 365):
        chosen, _ = issue(f"{days} days", days)
        assert token_row(in_app, chosen).expires_on == today() + dt.timedelta(days=days)


@pytest.mark.parametrize("days", [0, -5, 366])
def test_a_lifetime_outside_1_to_365_days_is_refused(issue, days):
    from surveyapp.services import ServiceError

    with pytest.raises(ServiceError, match="1 to 365 days"):
        issue(days=days)


def test_an_expired_token_is_refused_with_the_day_and_how_to_get_a_new_one(client, in_app, issue):
    token_id, secret = issue(expires_on=today())
    response = api(client, secret)
    assert response.status_code == 401 and response.mimetype == "application/json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    detail = response.get_json()["error"]["detail"]
    assert f"expired on {today().isoformat()}" in detail
    assert "API tokens" in detail and "surveyapp user token" in detail
    assert token_row(in_app, token_id).last_used_on is None


def test_a_token_works_on_its_last_day(client, issue):
    _, secret = issue(expires_on=today() + dt.timedelta(days=1))
    assert api(client, secret).status_code == 200


def test_the_tokens_of_a_disabled_account_stop_working(client, in_app, accounts, issue):
    from surveyapp.extensions import db
    from surveyapp.models import User
    from surveyapp.services import ServiceError

    _, secret = issue()
    assert api(client, secret).status_code == 200
    with in_app():
        db.session.get(User, accounts[0]).disabled = True
        db.session.commit()
    response = api(client, secret)
    assert response.status_code == 401
    assert "disabled" in response.get_json()["error"]["detail"]
    with pytest.raises(ServiceError, match="disabled"):
        issue("another")


def test_use_is_recorded_to_the_day(client, in_app, issue):
    token_id, secret = issue()
    assert token_row(in_app, token_id).last_used_on is None
    assert api(client, secret).status_code == 200
    assert token_row(in_app, token_id).last_used_on == today()


def test_issue_and_revocation_are_audited(in_app, accounts, issue):
    from surveyapp.extensions import db
    from surveyapp.models import User
    from surveyapp.services.tokens import revoke_token

    token_id, _ = issue("nightly export")
    assert audit_events(in_app, "token_issued") == [(CONSULTANT[0], accounts[0], "nightly export")]
    with in_app():
        assert revoke_token(db.session.get(User, accounts[0]), token_id) == "nightly export"
        db.session.commit()
    assert audit_events(in_app, "token_revoked") == [(CONSULTANT[0], accounts[0], "nightly export")]
    assert token_row(in_app, token_id) is None


# --- the page ---------------------------------------------------------------------


def page_post(client, **fields):
    page = client.get("/results/api-tokens")
    data = {"csrf_token": csrf_token(page.get_data(as_text=True)), **fields}
    return client.post("/results/api-tokens", data=data, follow_redirects=True)


def test_the_page_creates_a_token_with_a_lifetime_and_lists_them_all(client, in_app, issue):
    issue("old script", expires_on=today() - dt.timedelta(days=3))
    login(client, CONSULTANT)
    response = page_post(client, action="create", name="Power BI", days="30")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    secret = re.search(r'<code class="secret">(sbm_[^<]+)</code>', html).group(1)
    assert api(client, secret).status_code == 200
    html = client.get("/results/api-tokens").get_data(as_text=True)
    assert secret not in html  # shown once
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</tr>", html, re.S)
    assert len(rows) == 2
    # Per row: the name, then the days (expires, last used, created) as <time datetime>.
    days = [re.findall(r'datetime="([0-9-]+)"', row) for row in rows]
    day, in_30 = today().isoformat(), (today() + dt.timedelta(days=30)).isoformat()
    assert rows[0].startswith("Power BI") and days[0] == [in_30, day, day]  # used just now
    expired = (today() - dt.timedelta(days=3)).isoformat()
    assert rows[1].startswith("old script") and days[1] == [expired, day]
    assert "expired on" in rows[1] and "never" in rows[1]
    assert 'name="days"' in html and 'value="90"' in html  # the default for the next one


@pytest.mark.parametrize(
    ("name", "days", "fields"),
    [
        ("", "30", {"token-name"}),
        ("x" * 101, "30", {"token-name"}),
        ("script", "0", {"token-days"}),
        ("script", "366", {"token-days"}),
        ("script", "ninety", {"token-days"}),
        ("", "", {"token-name", "token-days"}),
    ],
)
def test_the_page_says_which_field_is_wrong(client, accounts, count, name, days, fields):
    from surveyapp.models import ApiToken

    login(client, CONSULTANT)
    response = page_post(client, action="create", name=name, days=days)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    summary = html.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert set(re.findall(r'href="#([a-z-]+)"', summary)) == fields
    assert html.count('class="error-message"') == len(fields)
    assert count(ApiToken) == 0


def test_the_page_revokes_the_users_own_tokens_only(client, in_app, issue):
    own, secret = issue("mine")
    others, _ = issue("theirs", account=1)
    login(client, CONSULTANT)
    refused = page_post(client, action="revoke", token_id=str(others))
    assert "is not yours" in refused.get_data(as_text=True)
    assert token_row(in_app, others) is not None
    for token_id in ("", "x", "2147483648", "99999999999999999999999"):
        assert page_post(client, action="revoke", token_id=token_id).status_code == 200
    revoked = page_post(client, action="revoke", token_id=str(own))
    assert "“mine” was revoked" in revoked.get_data(as_text=True)
    assert token_row(in_app, own) is None
    assert api(client, secret).status_code == 401
    assert [e[2] for e in audit_events(in_app, "token_revoked")] == ["mine"]


# --- the CLI ----------------------------------------------------------------------


def test_the_cli_issues_a_token_for_the_days_asked(runner, app, in_app, accounts):
    with app.app_context():
        result = runner.invoke(args=["user", "token", CONSULTANT[0], "BI export", "--days", "30"])
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    expires = (today() + dt.timedelta(days=30)).isoformat()
    assert secret.startswith("sbm_") and f"stops working on {expires}" in result.stderr
    assert api(app.test_client(), secret).status_code == 200
    assert audit_events(in_app, "token_issued") == [("cli", None, f"BI export ({CONSULTANT[0]})")]
    with app.app_context():
        # The options of earlier versions still work, and the service's limits apply.
        old_style = runner.invoke(args=["user", "token", "--email", OTHER[0], "--name", "bi"])
        too_long = runner.invoke(args=["user", "token", CONSULTANT[0], "bi", "--days", "400"])
        nobody = runner.invoke(args=["user", "token", "nobody@example.org", "bi"])
        no_name = runner.invoke(args=["user", "token", CONSULTANT[0]])
    assert old_style.exit_code == 0, old_style.output
    assert too_long.exit_code == 1 and "1 to 365 days" in too_long.output
    assert nobody.exit_code == 1 and "No account" in nobody.output
    assert no_name.exit_code == 2 and "surveyapp user token EMAIL NAME" in no_name.output


def test_the_cli_lists_and_revokes_tokens(runner, app, in_app, issue):
    fresh, _ = issue("fresh", 10)
    stale, _ = issue("stale", expires_on=today(), last_used_on=today() - dt.timedelta(days=2))
    issue("someone else's", account=1)
    with app.app_context():
        listing = runner.invoke(args=["user", "tokens", CONSULTANT[0]])
    assert listing.exit_code == 0, listing.output
    lines = [line.split("\t") for line in listing.stdout.strip().splitlines()]
    assert lines[0] == ["id", "name", "created", "expires", "last_used", "state"]
    day = today().isoformat()
    assert lines[1:] == [
        [str(stale), "stale", day, day, (today() - dt.timedelta(days=2)).isoformat(), "expired"],
        [
            str(fresh),
            "fresh",
            day,
            (today() + dt.timedelta(days=10)).isoformat(),
            "never",
            "active",
        ],
    ]
    with app.app_context():
        revoked = runner.invoke(args=["user", "revoke-token", CONSULTANT[0], str(fresh)])
        again = runner.invoke(args=["user", "revoke-token", CONSULTANT[0], str(fresh)])
        not_theirs = runner.invoke(args=["user", "revoke-token", OTHER[0], str(stale)])
        nobody = runner.invoke(args=["user", "tokens", "nobody@example.org"])
    assert revoked.exit_code == 0 and "Revoked token" in revoked.output
    assert again.exit_code == 1 and "does not exist" in again.output
    assert not_theirs.exit_code == 1 and token_row(in_app, stale) is not None
    assert nobody.exit_code == 1 and "No account" in nobody.output
    assert audit_events(in_app, "token_revoked") == [("cli", None, f"fresh ({CONSULTANT[0]})")]
