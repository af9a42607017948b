"""``surveyapp serve``: refuses an incomplete production setup, runs gunicorn with the
app's defaults, and logs no client address, user agent or survey link."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from surveyapp.cli_serve import (
    ACCESS_LOG_FORMAT,
    default_workers,
    gunicorn_options,
    private_logger_class,
    production_problems,
    redact,
    serve,
)

from .conftest import ROOT, _free_port

SURVEYAPP = Path(sys.executable).with_name("surveyapp")
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SECRET = "9f" * 32


def complete_production(**changes) -> dict:
    settings = {
        "ENV_NAME": "production",
        "SECRET_KEY": SECRET,
        "BASE_URL": "https://survey.example.org",
        "PROXY_HOPS": 1,
        "SESSION_COOKIE_SECURE": True,
    }
    return {**settings, **changes}


def options(**changes) -> dict:
    arguments = {
        "bind": ("127.0.0.1:8000",),
        "workers": 3,
        "threads": 1,
        "timeout": 120,
        "forwarded_allow_ips": "127.0.0.1,::1",
        "access_log": True,
    }
    return gunicorn_options(**{**arguments, **changes})


# --- Refusals ---------------------------------------------------------------------------


def test_serve_refuses_outside_production(runner):
    result = runner.invoke(serve)

    assert result.exit_code == 1
    assert "SURVEYAPP_ENV is not 'production'" in result.output
    assert "surveyapp run" in result.output


def test_serve_names_every_missing_production_setting(app, runner):
    app.config.update(ENV_NAME="production", SECRET_KEY="short", BASE_URL=None, PROXY_HOPS=0)

    result = runner.invoke(serve)

    assert result.exit_code == 1
    assert "SURVEYAPP_SECRET_KEY is shorter than 32 characters" in result.output
    assert "SURVEYAPP_BASE_URL is not set" in result.output
    assert "SURVEYAPP_PROXY_HOPS is 0" in result.output


def test_a_complete_production_configuration_has_no_problems():
    assert production_problems(complete_production()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"BASE_URL": "survey.example.org"}, "SURVEYAPP_BASE_URL is not set"),
        ({"BASE_URL": "http://survey.example.org"}, "plain HTTP"),
        ({"SECRET_KEY": "x" * 31}, "shorter than 32 characters"),
        ({"PROXY_HOPS": 0}, "SURVEYAPP_PROXY_HOPS is 0"),
    ],
)
def test_each_incomplete_setting_is_named(change, expected):
    (problem,) = production_problems(complete_production(**change))

    assert expected in problem


def test_plain_http_base_url_is_accepted_when_cookies_may_travel_over_http():
    settings = complete_production(BASE_URL="http://10.0.0.5", SESSION_COOKIE_SECURE=False)

    assert production_problems(settings) == []


def test_serve_refuses_a_database_without_the_migrations(app, runner):
    # The test database is built with create_all: tables, but no Alembic revision.
    app.config.update(complete_production())

    result = runner.invoke(serve)

    assert result.exit_code == 1
    assert "The database is at revision empty" in result.output
    assert "Run 'surveyapp db upgrade' first" in result.output


# --- gunicorn settings --------------------------------------------------------------------


@pytest.mark.parametrize(("cpus", "workers"), [(1, 2), (2, 2), (3, 3), (8, 8), (64, 8)])
def test_default_workers_are_one_per_core_from_two_to_eight(cpus, workers):
    assert default_workers(cpus) == workers


def test_every_option_is_a_gunicorn_setting_it_accepts():
    from gunicorn.config import Config

    config = Config()
    for name, value in options(threads=4).items():
        config.set(name, value)

    assert config.worker_class_str == "gthread"
    assert config.threads == 4
    assert config.timeout == 120
    assert config.preload_app is True
    assert config.control_socket_disable is True
    assert config.logger_class is private_logger_class()


def test_one_thread_is_the_sync_worker():
    assert options(threads=1)["worker_class"] == "sync"


def test_the_access_log_format_names_no_address_agent_or_referrer():
    for atom in ("%(h)s", "%(a)s", "%(f)s", "%(r)s", "%(q)s", "%({"):
        assert atom not in ACCESS_LOG_FORMAT


# --- Logs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /s/Ab3_-xYz0123456789abcdEFGH/page-2", "GET /s/<link>/page-2"),
        ("GET /s/K7QX-4MPD-2B9R", "GET /s/<link>"),
        ("/auth/reset/IjQ1Ig.Z2ZkZmRmZGZkZmRm_-aa", "/auth/reset/<token>"),
        ("Invalid request from ip=203.0.113.9: bad", "Invalid request from ip=<address>: bad"),
        ("from ip=2001:db8::1 and ip=fe80:0:0:0:1:2:3:4", "from ip=<address> and ip=<address>"),
        ("ip=::1", "ip=<address>"),
        ("worker 1046 booted at 18:30:12", "worker 1046 booted at 18:30:12"),
        ("GET /consultant/campaigns/12/results", "GET /consultant/campaigns/12/results"),
    ],
)
def test_redact_removes_links_tokens_and_addresses(text, expected):
    assert redact(text) == expected


class _Response:
    status = "200 OK"
    sent = 1234
    headers = [("Content-Type", "text/html")]


@pytest.fixture
def make_logger(tmp_path):
    """The serve command's gunicorn logger writing to files; closed after the test."""
    from gunicorn.config import Config

    made = []

    def make(access_log_format: str = ACCESS_LOG_FORMAT):
        config = Config()
        config.set("accesslog", str(tmp_path / "access.log"))
        config.set("errorlog", str(tmp_path / "error.log"))
        config.set("access_log_format", access_log_format)
        made.append(private_logger_class()(config))
        return made[-1]

    yield make
    for logger in made:
        for log in (logger.error_log, logger.access_log):
            for handler in list(log.handlers):
                log.removeHandler(handler)
                handler.close()
            for found in list(log.filters):
                log.removeFilter(found)


def test_the_access_log_holds_no_address_user_agent_or_survey_link(tmp_path, make_logger):
    # Even a format that asks for the address, the agent and the referrer gets dashes.
    logger = make_logger(ACCESS_LOG_FORMAT + ' %(h)s "%(a)s" "%(f)s" %({x-real-ip}i)s')
    token = secrets.token_urlsafe(32)
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/s/{token}/page-3?x=1",
        "PATH_INFO": f"/s/{token}/page-3",
        "QUERY_STRING": "x=1",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_USER_AGENT": "SecretAgent/1.0",
        "HTTP_REFERER": f"https://survey.example.org/s/{token}",
    }
    request_headers = [("X-REAL-IP", "198.51.100.4"), ("USER-AGENT", "SecretAgent/1.0")]

    logger.access(_Response(), request_headers, environ, dt.timedelta(milliseconds=42))

    line = (tmp_path / "access.log").read_text()
    assert '"POST /s/<link>/page-3 HTTP/1.1" 200 1234 42ms' in line
    for secret in (token, "203.0.113.9", "198.51.100.4", "SecretAgent", "x=1"):
        assert secret not in line


def test_the_error_log_holds_no_address_or_survey_link(tmp_path, make_logger):
    logger = make_logger()
    token = secrets.token_urlsafe(32)

    logger.warning("Invalid request from ip=203.0.113.9: Invalid HTTP Header: 'x'")
    logger.error("Error handling request /s/%s/review", token)

    text = (tmp_path / "error.log").read_text()
    assert "Invalid request from ip=<address>" in text
    assert "Error handling request /s/<link>/review" in text
    assert "203.0.113.9" not in text and token not in text


# --- The real server ------------------------------------------------------------------------


def _get(port: int, path: str, headers: dict[str, str] | None = None) -> int:
    return _fetch(port, path, headers)[0]


def _fetch(port: int, path: str, headers: dict[str, str] | None = None):
    """Status, the Set-Cookie header and the text of a GET with no cookie."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode()
        return response.status, response.getheader("Set-Cookie"), text
    finally:
        connection.close()


def test_serve_runs_gunicorn_and_its_logs_keep_the_anonymity_promise(tmp_path, database_backend):
    if database_backend != "sqlite":
        pytest.skip("starts its own server on SQLite; the PostgreSQL run has test_deployment")
    env = {
        **os.environ,
        "SURVEYAPP_ENV": "production",
        "SURVEYAPP_SECRET_KEY": SECRET,
        "SURVEYAPP_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SURVEYAPP_BASE_URL": "https://survey.example.org",
        "SURVEYAPP_PROXY_HOPS": "1",
        "SURVEYAPP_JOB_QUEUE": "memory",
    }
    subprocess.run(
        [str(SURVEYAPP), "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
    )
    port = _free_port()
    with (tmp_path / "out").open("wb") as out, (tmp_path / "err").open("wb") as err:
        server = subprocess.Popen(
            [str(SURVEYAPP), "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=err,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    _get(port, "/static/app.css")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("surveyapp serve did not start:\n" + _read(tmp_path / "err"))
                    time.sleep(0.2)
            token = secrets.token_urlsafe(32)
            status = _get(port, f"/s/{token}", {"User-Agent": "SecretAgent/1.0"})
            # Two visitors, one after the other on the one worker: each gets a session and
            # a CSRF token of their own (no request context is inherited from the command).
            visits = [_fetch(port, "/auth/login") for _ in range(2)]
            with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
                raw.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nBroken header\r\n\r\n")
                raw.recv(100)
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    access, errors = _read(tmp_path / "out"), _read(tmp_path / "err")
    assert status == 404
    cookies = [cookie for _, cookie, _ in visits]
    tokens = [CSRF_FIELD.search(text).group(1) for _, _, text in visits]
    assert all(cookie and cookie.startswith("session=") for cookie in cookies), cookies
    assert cookies[0] != cookies[1] and tokens[0] != tokens[1]
    assert '"GET /s/<link> HTTP/1.1" 404' in access
    assert "Using worker: gthread" in errors, "threaded workers by default"
    assert "Invalid request from ip=<address>" in errors
    for secret in (token, "SecretAgent"):
        assert secret not in access + errors
    assert "127.0.0.1" not in access
    assert "ip=127.0.0.1" not in errors


def _read(path: Path) -> str:
    return path.read_text(errors="replace")


# --- Behind the proxy -----------------------------------------------------------------------


def test_a_form_posted_over_https_without_a_referer_is_accepted(client):
    # Browsers send no Referer (the pages' Referrer-Policy is no-referrer), so over HTTPS
    # a form must be judged by its CSRF token alone.
    page = client.get("/auth/login", base_url="https://survey.example.org")
    token = CSRF_FIELD.search(page.text).group(1)

    answer = client.post(
        "/auth/login",
        base_url="https://survey.example.org",
        data={"csrf_token": token, "email": "nobody@example.org", "password": "wrong"},
    )

    assert "This form has expired" not in answer.text
    assert "The e-mail address or password is not right" in answer.text


def test_a_form_posted_over_https_without_its_token_is_refused(client):
    answer = client.post(
        "/auth/login",
        base_url="https://survey.example.org",
        data={"email": "nobody@example.org", "password": "wrong"},
    )

    assert answer.status_code == 400
    assert "This form has expired" in answer.text
