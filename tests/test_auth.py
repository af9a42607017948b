"""Sign-in, sessions, passwords, two-step codes and resets, tried as an attacker would."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
import sqlalchemy as sa

from .dashboard_data import csrf_token, fast_password_hashes  # noqa: F401 (fixture)

MANAGER = ("head@acme.example", "orange-violin-meadow-7")
CONSULTANT = ("advisor@example.org", "quiet-harbour-lantern-42")


@pytest.fixture
def accounts(in_app, fast_password_hashes):  # noqa: F811
    from surveyapp.services.users import create_user

    with in_app() as make:
        organisation = make.organisation("Acme")
        create_user(*MANAGER, "manager", organisation)
        create_user(*CONSULTANT, "consultant")
        make.commit()
        return organisation.id


def post_login(client, email, password, next_url=None, headers=None):
    page = client.get("/auth/login")
    url = "/auth/login" + (f"?next={next_url}" if next_url is not None else "")
    return client.post(
        url,
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
        headers=headers or {},
    )


def sign_in(client, account=MANAGER):
    response = post_login(client, *account)
    assert response.status_code == 302, response.text[:400]
    return response


def post_form(client, url, data):
    page = client.get(url)
    response = client.post(url, data={**data, "csrf_token": csrf_token(page.text)})
    # As a WSGI server does once the answer is sent (runs call_on_close work).
    response.close()
    return response


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def audit_events(app, event=None):
    from surveyapp.extensions import db
    from surveyapp.models import AuditEvent

    with app.app_context():
        query = sa.select(AuditEvent.event, AuditEvent.actor).order_by(AuditEvent.id)
        if event:
            query = query.where(AuditEvent.event == event)
        return list(db.session.execute(query).all())


def move_throttle_back(app, minutes):
    """Pretend ``minutes`` passed for every throttle row."""
    from surveyapp.extensions import db
    from surveyapp.models import SignInThrottle

    with app.app_context():
        for row in db.session.scalars(sa.select(SignInThrottle)):
            row.first_failure_at -= dt.timedelta(minutes=minutes)
            if row.blocked_until:
                row.blocked_until -= dt.timedelta(minutes=minutes)
        db.session.commit()


# Throttling ----------------------------------------------------------------------------


def test_fifth_wrong_password_pauses_the_account_even_for_the_right_one(app, client, accounts):
    for _ in range(4):
        assert post_login(client, MANAGER[0], "wrong-password-xyz").status_code == 400
    paused = post_login(client, MANAGER[0], "wrong-password-xyz")
    assert paused.status_code == 429
    assert "sign-in is paused for 1 min." in paused.text
    assert 0 < int(paused.headers["Retry-After"]) <= 60
    right = post_login(client, *MANAGER)
    assert right.status_code == 429, "the right password must not work while paused"
    assert client.get("/organisations").status_code == 302
    assert [e for e, _ in audit_events(app, "sign_in_throttled")]


def test_pause_grows_and_ends_and_success_clears_the_count(app, client, accounts):
    for _ in range(5):
        post_login(client, MANAGER[0], "wrong-password-xyz")
    move_throttle_back(app, 2)
    # The pause is over; one more failure pauses again, now for two minutes.
    again = post_login(client, MANAGER[0], "wrong-password-xyz")
    assert again.status_code == 429
    assert 60 < int(again.headers["Retry-After"]) <= 120
    move_throttle_back(app, 3)
    sign_in(client)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/auth/account").text)})
    # After a success the account starts from zero: four failures are heard again.
    for _ in range(4):
        assert post_login(client, MANAGER[0], "wrong-password-xyz").status_code == 400


def test_unknown_accounts_are_throttled_the_same_way(client, accounts):
    codes = [
        post_login(client, "nobody@acme.example", "wrong-password-xyz").status_code
        for _ in range(6)
    ]
    assert codes == [400, 400, 400, 400, 429, 429]


def test_one_client_spraying_many_accounts_is_paused(client, accounts):
    codes = [
        post_login(client, f"user{i}@acme.example", "Winter2026!!").status_code for i in range(20)
    ]
    assert codes[:19] == [400] * 19 and codes[19] == 429
    # Every account is now refused from this address, even with the right password.
    assert post_login(client, *MANAGER).status_code == 429


def test_spray_pause_is_per_client_address(app, accounts):
    def attempt(address, email, password):
        client = app.test_client()
        page = client.get("/auth/login", environ_base={"REMOTE_ADDR": address})
        return client.post(
            "/auth/login",
            data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
            environ_base={"REMOTE_ADDR": address},
        ).status_code

    for i in range(20):
        attempt("198.51.100.7", f"user{i}@acme.example", "Winter2026!!")
    assert attempt("198.51.100.7", *MANAGER) == 429
    assert attempt("203.0.113.9", *MANAGER) == 302


def test_throttle_is_shared_by_separate_app_processes(app, accounts, database_url):
    """Two app instances on one database (two workers or hosts) count together."""
    from surveyapp import create_app

    second = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": database_url})
    clients = [app.test_client(), second.test_client()]
    codes = [
        post_login(clients[i % 2], MANAGER[0], "wrong-password-xyz").status_code for i in range(5)
    ]
    assert codes == [400, 400, 400, 400, 429]
    assert post_login(clients[0], *MANAGER).status_code == 429
    with second.app_context():
        from surveyapp.extensions import db

        db.engine.dispose()


def test_throttle_table_holds_no_address_or_email(app, client, accounts):
    from surveyapp.extensions import db
    from surveyapp.models import SignInThrottle

    post_login(client, MANAGER[0], "wrong-password-xyz")
    with app.app_context():
        keys = list(db.session.scalars(sa.select(SignInThrottle.key)))
    assert len(keys) == 2
    assert all(re.fullmatch(r"[0-9a-f]{64}", key) for key in keys)


# Constant time for unknown accounts ----------------------------------------------------


def test_unknown_account_costs_one_hash_check_of_the_same_kind(app, accounts, monkeypatch):
    from werkzeug import security

    from surveyapp.services import users

    checked: list[str] = []

    def spy(pwhash, password):
        checked.append(pwhash.split("$", 1)[0])
        return security.check_password_hash(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", spy)
    users._dummy_hash.cache_clear()
    with app.app_context():
        assert users.authenticate("nobody@acme.example", "anything-at-all") is None
        assert users.authenticate(MANAGER[0], "anything-at-all") is None
        assert users.authenticate(MANAGER[0], MANAGER[1]) is not None
    assert len(checked) == 3
    assert checked[0] == checked[1] == checked[2], "the dummy hash must use the same method"
    users._dummy_hash.cache_clear()


def test_disabled_account_cannot_sign_in_and_gets_the_same_message(app, client, accounts):
    from surveyapp.extensions import db
    from surveyapp.services.users import disable_user, find_user

    with app.app_context():
        disable_user(find_user(MANAGER[0]))
        db.session.commit()
    response = post_login(client, *MANAGER)
    assert response.status_code == 400
    assert "e-mail address or password is not right" in response.text


# Password policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "short-one",
        "Password2026!",
        "Summer2024!!",
        "P@ssw0rd12345",
        "qwertyuiop123",
        "head@acme.example1",
    ],
)
def test_common_and_guessable_passwords_are_refused(ctx, password):
    from surveyapp.services.passwords import WeakPassword, check_password

    with pytest.raises(WeakPassword):
        check_password(password, MANAGER[0])


@pytest.mark.parametrize(
    "password", ["orange-violin-meadow-7", "tafel lamp fiets regen", "Kx9#mQ2!vL7@pW"]
)
def test_long_unrelated_passwords_are_accepted(ctx, password):
    from surveyapp.services.passwords import check_password

    check_password(password, MANAGER[0])


def test_cli_refuses_a_weak_password_and_creates_nothing(runner, ctx, count):
    from surveyapp.models import User

    result = runner.invoke(
        args=["user", "create", "--email", "c@example.org", "--role", "consultant"],
        input="Welcome123!!\nWelcome123!!\n",
    )
    assert result.exit_code == 1
    assert "too easy to guess" in result.output
    assert count(User) == 0


# Sessions -----------------------------------------------------------------------------


def test_cookie_copied_before_sign_out_no_longer_works(app, client, accounts):
    sign_in(client)
    stolen = session_cookie(client)
    assert client.get("/organisations").status_code == 302  # to the dashboard
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/auth/account").text)})
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get(f"/results/organisations/{accounts}")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    api = thief.get("/api/v1/campaigns")
    assert api.status_code == 401
    assert [e for e, _ in audit_events(app, "sign_out")]


def test_sign_out_ends_sessions_on_other_devices(app, accounts):
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop)
    sign_in(phone)
    laptop.post("/auth/logout", data={"csrf_token": csrf_token(laptop.get("/auth/account").text)})
    assert phone.get(f"/results/organisations/{accounts}").status_code == 302


def test_password_change_keeps_this_session_and_ends_the_others(app, accounts):
    here, there = app.test_client(), app.test_client()
    sign_in(here)
    sign_in(there)
    response = post_form(
        here,
        "/auth/account",
        {
            "current": MANAGER[1],
            "password": "lantern-copper-river-9",
            "confirm": "lantern-copper-river-9",
        },
    )
    assert response.status_code == 302, response.text[:500]
    assert here.get(f"/results/organisations/{accounts}").status_code == 200
    assert there.get(f"/results/organisations/{accounts}").status_code == 302
    assert post_login(app.test_client(), *MANAGER).status_code == 400
    assert post_login(app.test_client(), MANAGER[0], "lantern-copper-river-9").status_code == 302


def test_password_change_refuses_weak_or_wrong_and_changes_nothing(app, client, accounts):
    sign_in(client)
    weak = post_form(
        client,
        "/auth/account",
        {"current": MANAGER[1], "password": "Password2026!", "confirm": "Password2026!"},
    )
    assert weak.status_code == 400 and "too easy to guess" in weak.text
    wrong = post_form(
        client,
        "/auth/account",
        {
            "current": "not-my-password",
            "password": "lantern-copper-river-9",
            "confirm": "lantern-copper-river-9",
        },
    )
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    assert post_login(app.test_client(), *MANAGER).status_code == 302


def test_disabling_an_account_ends_its_sessions(app, client, accounts, runner):
    sign_in(client)
    assert client.get(f"/results/organisations/{accounts}").status_code == 200
    result = runner.invoke(args=["user", "disable", MANAGER[0]])
    assert result.exit_code == 0, result.output
    assert client.get(f"/results/organisations/{accounts}").status_code == 302
    assert post_login(app.test_client(), *MANAGER).status_code == 400
    assert runner.invoke(args=["user", "enable", MANAGER[0]]).exit_code == 0
    assert post_login(app.test_client(), *MANAGER).status_code == 302


@pytest.mark.parametrize(("field", "seconds"), [("seen", 61 * 60), ("since", 12 * 3600 + 1)])
def test_idle_and_absolute_timeouts_end_the_session(client, accounts, field, seconds):
    sign_in(client)
    with client.session_transaction() as session:
        session[field] = int(time.time()) - seconds
        if field == "since":
            session["seen"] = int(time.time())
    response = client.get(f"/results/organisations/{accounts}")
    assert response.status_code == 302
    login_page = client.get(response.headers["Location"])
    assert "Your session has ended" in login_page.text


def test_session_cookie_is_renewed_at_sign_in(client, accounts):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client)
    with client.session_transaction() as session:
        assert "planted" not in session


# Redirects after sign-in ---------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/%09/evil.example",
        "/%0a",
        "/%0d/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "http:/evil.example",
        "javascript:alert(1)",
        "%2F%2Fevil.example",
        "evil.example",
    ],
)
def test_malformed_or_foreign_next_falls_back_to_home(client, accounts, target):
    response = post_login(client, *MANAGER, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/organisations"


def test_nul_in_next_is_refused_before_sign_in(client, accounts):
    response = post_login(client, *MANAGER, next_url="/%00")
    assert response.status_code == 400
    assert client.get("/organisations").status_code == 302


def test_local_next_is_followed(client, accounts):
    response = post_login(client, *MANAGER, next_url=f"/results/organisations/{accounts}?tab=1")
    assert response.headers["Location"] == f"/results/organisations/{accounts}?tab=1"


def test_language_switch_only_returns_to_local_paths(client, accounts):
    page = client.get("/auth/login")
    response = client.post(
        "/auth/language/nl", data={"next": "/\t/evil.example", "csrf_token": csrf_token(page.text)}
    )
    assert response.headers["Location"] == "/"


# Two-step sign-in -----------------------------------------------------------------------


def enable_two_step(client) -> str:
    import pyotp

    page = client.get("/auth/two-step/setup")
    assert page.status_code == 200
    assert "<svg" in page.text
    secret = (
        re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.text).group(1).replace(" ", "")
    )
    code = pyotp.TOTP(secret).now()
    response = client.post(
        "/auth/two-step/setup", data={"code": code, "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 302, response.text[:500]
    return secret


def test_two_step_sign_in_asks_for_a_code_that_works_once(app, client, accounts):
    import pyotp

    sign_in(client, CONSULTANT)
    secret = enable_two_step(client)
    fresh = app.test_client()
    first = post_login(fresh, *CONSULTANT)
    assert first.status_code == 302 and "/auth/two-step" in first.headers["Location"]
    # Not signed in yet.
    assert fresh.get("/consultant/").status_code == 302
    totp = pyotp.TOTP(secret)
    # A fresh code of the next step (the setup used this step's code).
    code = totp.at(time.time() + 30)
    page = fresh.get(first.headers["Location"])
    wrong = fresh.post(
        first.headers["Location"], data={"code": "000000", "csrf_token": csrf_token(page.text)}
    )
    assert wrong.status_code == 400
    ok = fresh.post(
        first.headers["Location"], data={"code": code, "csrf_token": csrf_token(page.text)}
    )
    assert ok.status_code == 302, ok.text[:300]
    assert fresh.get("/consultant/").status_code == 200
    # The same code again, on another device, is refused (replay).
    other = app.test_client()
    step = post_login(other, *CONSULTANT)
    page = other.get(step.headers["Location"])
    replay = other.post(
        step.headers["Location"], data={"code": code, "csrf_token": csrf_token(page.text)}
    )
    assert replay.status_code == 400
    assert [e for e, _ in audit_events(app, "two_factor_failed")]


def test_wrong_codes_are_throttled(app, client, accounts):
    sign_in(client, CONSULTANT)
    enable_two_step(client)
    fresh = app.test_client()
    step = post_login(fresh, *CONSULTANT)
    page = fresh.get(step.headers["Location"])
    codes = [
        fresh.post(
            step.headers["Location"], data={"code": f"{i:06d}", "csrf_token": csrf_token(page.text)}
        ).status_code
        for i in range(5)
    ]
    assert codes[-1] == 429


def test_second_step_expires(app, client, accounts):
    sign_in(client, CONSULTANT)
    enable_two_step(client)
    fresh = app.test_client()
    step = post_login(fresh, *CONSULTANT)
    with fresh.session_transaction() as session:
        session["pending"]["at"] -= 301
        session.modified = True
    response = fresh.get(step.headers["Location"])
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_two_step_off_needs_password_and_code(app, client, accounts, runner):
    import pyotp

    sign_in(client, CONSULTANT)
    secret = enable_two_step(client)
    refused = post_form(client, "/auth/two-step/off", {"password": CONSULTANT[1], "code": "123456"})
    assert refused.status_code == 400
    done = post_form(
        client,
        "/auth/two-step/off",
        {"password": CONSULTANT[1], "code": pyotp.TOTP(secret).at(time.time() + 30)},
    )
    assert done.status_code == 302
    assert post_login(app.test_client(), *CONSULTANT).headers["Location"] == "/organisations"
    # A consultant can switch it off from the CLI for someone who lost a phone.
    enable_two_step(client)
    assert runner.invoke(args=["user", "two-step-off", CONSULTANT[0]]).exit_code == 0
    assert post_login(app.test_client(), *CONSULTANT).headers["Location"] == "/organisations"


# Password reset ------------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, handler.messages
    finally:
        controller.stop()


@pytest.fixture
def mail_app(app, smtp_server):
    port, messages = smtp_server
    app.config.update(
        MAIL_SMTP_HOST="127.0.0.1",
        MAIL_SMTP_PORT=port,
        MAIL_FROM="surveys@survey.example.org",
        BASE_URL="https://survey.example.org",
    )
    return app, messages


def wait_for(messages, n, timeout=5.0):
    deadline = time.time() + timeout
    while len(messages) < n and time.time() < deadline:
        time.sleep(0.02)
    return messages


def body_of(envelope) -> str:
    import email
    from email import policy

    return email.message_from_bytes(envelope.content, policy=policy.default).get_content()


def reset_path(messages) -> str:
    body = body_of(messages[-1])
    link = re.search(r"https://survey\.example\.org(/auth/reset/[A-Za-z0-9_-]+)", body)
    assert link, body
    return link.group(1)


def test_reset_by_email_works_once_and_ends_sessions(mail_app, accounts):
    app, messages = mail_app
    signed_in = app.test_client()
    sign_in(signed_in)
    client = app.test_client()
    response = post_form(
        client,
        "/auth/reset",
        {"email": MANAGER[0]},
    )
    assert response.status_code == 302
    assert "Check your e-mail" in client.get(response.headers["Location"]).text
    wait_for(messages, 1)
    assert len(messages) == 1 and messages[0].rcpt_tos == [MANAGER[0]]
    path = reset_path(messages)
    done = post_form(
        client, path, {"password": "copper-lantern-river-8", "confirm": "copper-lantern-river-8"}
    )
    assert done.status_code == 302
    assert post_login(app.test_client(), MANAGER[0], "copper-lantern-river-8").status_code == 302
    assert signed_in.get(f"/results/organisations/{accounts}").status_code == 302
    again = client.get(path)
    assert again.status_code == 404 and "no longer works" in again.text
    assert [e for e, _ in audit_events(app, "password_reset")]


def test_reset_for_unknown_address_looks_the_same_and_sends_nothing(mail_app, accounts):
    app, messages = mail_app
    client = app.test_client()
    unknown = post_form(client, "/auth/reset", {"email": "nobody@acme.example"})
    known = post_form(client, "/auth/reset", {"email": MANAGER[0]})
    assert unknown.status_code == known.status_code == 302
    assert unknown.headers["Location"] == known.headers["Location"]
    wait_for(messages, 1)
    time.sleep(0.2)
    assert [m.rcpt_tos for m in messages] == [[MANAGER[0]]]


def test_reset_link_ignores_a_forged_host_header(mail_app, accounts):
    app, messages = mail_app
    app.config["WTF_CSRF_ENABLED"] = False  # the forged host gets no session cookie
    client = app.test_client()
    response = client.post(
        "/auth/reset", data={"email": MANAGER[0]}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 302
    response.close()
    wait_for(messages, 1)
    body = body_of(messages[0])
    assert "evil.example" not in body and "https://survey.example.org/auth/reset/" in body


def test_expired_reset_link_is_refused(mail_app, accounts):
    from surveyapp.extensions import db
    from surveyapp.models import PasswordReset

    app, messages = mail_app
    client = app.test_client()
    post_form(client, "/auth/reset", {"email": MANAGER[0]})
    wait_for(messages, 1)
    with app.app_context():
        for reset in db.session.scalars(sa.select(PasswordReset)):
            reset.expires_at -= dt.timedelta(minutes=31)
        db.session.commit()
    assert client.get(reset_path(messages)).status_code == 404


def test_newer_reset_link_cancels_the_older_one(mail_app, accounts):
    app, messages = mail_app
    client = app.test_client()
    post_form(client, "/auth/reset", {"email": MANAGER[0]})
    wait_for(messages, 1)
    first = reset_path(messages)
    post_form(client, "/auth/reset", {"email": MANAGER[0]})
    wait_for(messages, 2)
    assert client.get(first).status_code == 404
    assert client.get(reset_path(messages)).status_code == 200


def test_reset_requests_are_throttled_without_locking_sign_in(mail_app, accounts):
    app, messages = mail_app
    client = app.test_client()
    codes = [post_form(client, "/auth/reset", {"email": MANAGER[0]}).status_code for _ in range(6)]
    assert codes[-1] == 429
    assert post_login(app.test_client(), *MANAGER).status_code == 302


def test_production_without_mail_says_to_ask_a_consultant(app, client, accounts):
    app.config.update(ENV_NAME="production", MAIL_SMTP_HOST=None, MAIL_OUTBOX=None)
    page = client.get("/auth/reset")
    assert "cannot send e-mail" in page.text


def test_cli_reset_prints_a_single_use_link(app, runner, accounts):
    result = runner.invoke(
        args=["user", "reset", MANAGER[0], "--base-url", "https://survey.example.org"]
    )
    assert result.exit_code == 0, result.output
    link = re.search(r"https://survey\.example\.org(/auth/reset/\S+)", result.output).group(1)
    client = app.test_client()
    assert (
        post_form(
            client,
            link,
            {"password": "copper-lantern-river-8", "confirm": "copper-lantern-river-8"},
        ).status_code
        == 302
    )
    assert client.get(link).status_code == 404
    missing = runner.invoke(args=["user", "reset", MANAGER[0]])
    assert missing.exit_code != 0 and "--base-url" in missing.output


def test_cli_reset_can_send_by_mail(mail_app, runner, accounts):
    _app, messages = mail_app
    result = runner.invoke(args=["user", "reset", MANAGER[0], "--send"])
    assert result.exit_code == 0, result.output
    assert len(messages) == 1 and "/auth/reset/" in body_of(messages[0])


def test_development_writes_mail_to_the_outbox(app, client, accounts, tmp_path):
    app.config.update(MAIL_SMTP_HOST=None, MAIL_OUTBOX=str(tmp_path / "outbox"), BASE_URL=None)
    post_form(client, "/auth/reset", {"email": MANAGER[0]})
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1
    assert "/auth/reset/" in files[0].read_text()


# CLI and audit -------------------------------------------------------------------------


def test_user_list_shows_state_without_secrets(runner, accounts):
    runner.invoke(args=["user", "disable", MANAGER[0]])
    result = runner.invoke(args=["user", "list"])
    assert result.exit_code == 0
    lines = {line.split("\t")[0]: line.split("\t") for line in result.output.splitlines()[1:]}
    # email, role, organisation, department (- for the whole organisation), state, two-step
    assert lines[MANAGER[0]][1:5] == ["manager", "Acme", "-", "disabled"]
    assert lines[CONSULTANT[0]][4:6] == ["active", "off"]
    assert "scrypt" not in result.output and "pbkdf2" not in result.output


def test_sign_ins_and_failures_are_audited(app, client, accounts):
    post_login(client, MANAGER[0], "wrong-password-xyz")
    post_login(client, "nobody@acme.example", "wrong-password-xyz")
    sign_in(client)
    events = audit_events(app)
    assert ("sign_in_failed", MANAGER[0]) in events
    assert ("sign_in_failed", "unknown account") in events
    assert ("sign_in", MANAGER[0]) in events
    assert not any("nobody@acme.example" in actor for _, actor in events)


def test_behind_a_proxy_the_forwarded_client_is_throttled(database_url, accounts, app):
    """With PROXY_HOPS=1 (nginx in front) the spray pause is per real client, not per proxy."""
    from surveyapp import create_app

    proxied = create_app({**app.config, "PROXY_HOPS": 1})

    def attempt(forwarded_for, email, password):
        client = proxied.test_client()
        headers = {"X-Forwarded-For": forwarded_for}
        page = client.get("/auth/login", headers=headers)
        return client.post(
            "/auth/login",
            data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
            headers=headers,
        ).status_code

    for i in range(20):
        attempt("198.51.100.7", f"user{i}@acme.example", "Winter2026!!")
    assert attempt("198.51.100.7", *MANAGER) == 429
    assert attempt("203.0.113.9", *MANAGER) == 302
    with proxied.app_context():
        from surveyapp.extensions import db

        db.engine.dispose()


def test_settings_are_checked_at_start(monkeypatch, tmp_path):
    from surveyapp.config import ConfigError, load_config

    monkeypatch.setenv("SURVEYAPP_ENV", "development")
    monkeypatch.setenv("SURVEYAPP_SESSION_IDLE_MINUTES", "soon")
    with pytest.raises(ConfigError, match="SESSION_IDLE_MINUTES is 'soon'"):
        load_config(str(tmp_path))
    monkeypatch.setenv("SURVEYAPP_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("SURVEYAPP_MAIL_SMTP_SECURITY", "tls")
    with pytest.raises(ConfigError, match="MAIL_SMTP_SECURITY"):
        load_config(str(tmp_path))
    monkeypatch.setenv("SURVEYAPP_MAIL_SMTP_SECURITY", "starttls")
    config = load_config(str(tmp_path))
    assert config["SESSION_IDLE_MINUTES"] == 15
    assert config["MAIL_OUTBOX"] == str(tmp_path / "outbox")
