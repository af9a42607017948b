"""The deployment of docs/deployment.md, for real on one machine: nginx with the
configuration printed there (HTTPS, its own ports, certificate and log file) in front of
two ``surveyapp serve`` instances on different ports, sharing one PostgreSQL database.

A survey started on one instance is continued and finished on the other and through
nginx, and stored once; a sign-in made on one instance works on the other; a closed
campaign's results are computed once for both; nginx passes the scheme and host the
browser used; no log holds a survey link or a client address.

Runs in the PostgreSQL run of ``make test`` (it uses the PostgreSQL server that
tests/conftest.py starts); the SQLite run skips it.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from .conftest import ROOT, _free_port

pytestmark = pytest.mark.postgres

SURVEYAPP = Path(sys.executable).with_name("surveyapp")
GUIDE = ROOT / "docs" / "deployment.md"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
ITEM = re.compile(r'name="(item-[a-z0-9_]+)"[^>]* type="radio"')
STEP_FORM = re.compile(r'<form method="post" action="(/s/[^"?]+)" novalidate>')
START_SECONDS = 60


def _nginx() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        pytest.fail("nginx is not installed; run make install-test (it installs it).")
    return found


@dataclass
class Deployment:
    """Where everything runs: the two instances, nginx, the database, the log files."""

    work: Path
    database: str  # a psycopg connection string
    instances: dict[str, int]  # "A" and "B": their ports
    https_port: int
    http_port: int
    context: ssl.SSLContext
    links: list[str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def sql(self, query: str, **params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database) as connection:
            return connection.execute(query, params).fetchall()

    def sql_write(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.database, autocommit=True) as connection:
            connection.execute(statement)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.work.glob("*.log")))


def nginx_block(replacements: dict[str, str]) -> str:
    """The nginx configuration in docs/deployment.md, with this machine's values."""
    (block,) = re.findall(r"```nginx\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)
    for old, new in replacements.items():
        # The guide and this test must not drift apart: every line the test replaces
        # is still there, as often as the test expects.
        assert old in block, f"docs/deployment.md's nginx block no longer has {old!r}"
        block = block.replace(old, new)
    return block


def _start(command: list[str], env: dict, log: Path, **kwargs) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, **kwargs
        )


def _wait_for(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("HEAD", "/static/app.css")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"port {port} did not answer:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)


def _stop(processes: list[subprocess.Popen], how: int = signal.SIGTERM) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(how)
    for process in processes:
        try:
            process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def deployment(database_backend, tmp_path_factory, request):
    if database_backend != "postgresql":
        pytest.skip("the deployment runs on PostgreSQL: SURVEYAPP_TEST_DATABASE=postgresql")
    import psycopg

    nginx = _nginx()
    # Asked for only now, so that the SQLite run does not start a PostgreSQL server.
    server_url = request.getfixturevalue("postgres_url")
    work = tmp_path_factory.mktemp("deployment")
    name = f"deployment_{secrets.token_hex(4)}"
    plain = server_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    database = plain.rsplit("/", 1)[0] + f"/{name}"
    ports = {"A": _free_port(), "B": _free_port()}
    https_port, http_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "SURVEYAPP_ENV": "production",
        "SURVEYAPP_SECRET_KEY": secrets.token_hex(32),
        "SURVEYAPP_DATABASE_URL": database,
        "SURVEYAPP_BASE_URL": f"https://localhost:{https_port}",
        "SURVEYAPP_PROXY_HOPS": "1",
    }
    processes: list[subprocess.Popen] = []
    try:
        upgrade = subprocess.run(
            [str(SURVEYAPP), "db", "upgrade"], env=env, cwd=ROOT, capture_output=True, text=True
        )
        assert upgrade.returncode == 0, upgrade.stderr
        # Instance A has sync workers, B threaded ones: both kinds share the database.
        for label, threads in (("A", "1"), ("B", "2")):
            command = [str(SURVEYAPP), "serve", "--bind", f"127.0.0.1:{ports[label]}"]
            command += ["--workers", "2", "--threads", threads]
            processes.append(_start(command, env, work / f"instance-{label}.log"))
        # The demo's organisations, accounts and links, loaded while the instances start.
        demo = subprocess.run(
            [str(SURVEYAPP), "demo", "--scale", "0.05"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert demo.returncode == 0, demo.stderr
        links = re.findall(rf"https://localhost:{https_port}/s/([A-Za-z0-9_-]+)", demo.stdout)
        assert len(links) >= 3, demo.stdout

        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
            + ["-keyout", str(work / "key.pem"), "-out", str(work / "cert.pem")]
            + ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
            check=True,
            capture_output=True,
        )
        block = nginx_block(
            {
                "server 10.0.0.11:8000 ": f"server 127.0.0.1:{ports['A']} ",
                "server 10.0.0.12:8000 ": f"server 127.0.0.1:{ports['B']} ",
                "listen 80;": f"listen 127.0.0.1:{http_port};",
                "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
                "server_name survey.example.org;": "server_name localhost;",
                "/etc/letsencrypt/live/survey.example.org/fullchain.pem": str(work / "cert.pem"),
                "/etc/letsencrypt/live/survey.example.org/privkey.pem": str(work / "key.pem"),
                "/var/log/nginx/surveyapp.access.log": str(work / "nginx-access.log"),
                "/var/log/nginx/surveyapp.error.log": str(work / "nginx-error.log"),
            }
        )
        temp = work / "nginx-temp"
        temp.mkdir()
        temp_paths = "\n".join(
            f"    {kind}_temp_path {temp / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # One process as this user: no workers switching to another user, no root paths.
        (work / "nginx.conf").write_text(
            f"daemon off;\nmaster_process off;\npid {work / 'nginx.pid'};\n"
            f"error_log {work / 'nginx-error.log'} warn;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n{temp_paths}\n{block}\n}}\n"
        )
        command = [nginx, "-p", str(work), "-e", str(work / "nginx-error.log")]
        processes.append(
            _start([*command, "-c", str(work / "nginx.conf")], env, work / "nginx-error.log")
        )
        for label, port in ports.items():
            _wait_for(port, processes[0 if label == "A" else 1], work / f"instance-{label}.log")
        _wait_for(http_port, processes[2], work / "nginx-error.log")

        context = ssl.create_default_context(cafile=str(work / "cert.pem"))
        yield Deployment(work, database, ports, https_port, http_port, context, links, processes)
    finally:
        # nginx first, so that no kept-alive connection holds a worker of A or B.
        _stop(processes[2:])
        _stop(processes[:2], signal.SIGINT)  # gunicorn's quick shutdown: nothing is left to serve
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Browser:
    """One browser without JavaScript: its cookies, sent to whichever server it asks."""

    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    def connection(self, target: str) -> http.client.HTTPConnection:
        if target == "nginx":
            return http.client.HTTPSConnection(
                "localhost", self.deployment.https_port, timeout=60, context=self.deployment.context
            )
        return http.client.HTTPConnection(
            "127.0.0.1", self.deployment.instances[target], timeout=60
        )

    def request(self, target: str, method: str, path: str, form: dict | None = None):
        """Status, headers and text of one request; cookies kept as a browser would."""
        connection = self.connection(target)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            self.set_cookie_headers.append(cookie)
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if "Max-Age=0" in cookie or "1970" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response.status, response.headers, text

    def page(self, targets, method: str, path: str, form: dict | None = None):
        """Follow redirects, each request to the next target; the final path and page."""
        for _ in range(5):
            status, headers, text = self.request(next(targets), method, path, form)
            if status not in (301, 302, 303):
                assert status == 200, f"{method} {_safe(path)}: {status}"
                return path, text
            path = urlsplit(urljoin(path, headers["Location"])).path
            method, form = "GET", None
        raise AssertionError("too many redirects")


def _without_tokens(page: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", page)


def _safe(path: str) -> str:
    return re.sub(r"/s/[^/]+", "/s/<link>", path)


def _csrf(page: str) -> str:
    match = CSRF.search(page)
    assert match, "a form without a CSRF token"
    return match.group(1)


def complete_survey(browser: Browser, token: str, targets) -> tuple[str, dict]:
    """Answer every page of the survey, each request to the next target; the thank-you
    page and the last form sent (to try sending it again)."""
    path, page = browser.page(targets, "GET", f"/s/{token}")
    form: dict = {}
    for _ in range(40):
        if "Thank you" in page:
            return page, form
        # A step's POST answers with the next page: the form says where it goes.
        action = STEP_FORM.search(page)
        assert action, f"no step form after {_safe(path)}"
        path = action.group(1)
        step = path.rsplit("/", 1)[-1]
        form = {"csrf_token": _csrf(page), "action": "submit" if step == "review" else "next"}
        if step == "language":
            form["language"] = "en"
        elif step == "about":
            form["role_level"] = "employee"
        elif step == "comment":
            form["comment"] = ""
        for number, item in enumerate(dict.fromkeys(ITEM.findall(page))):
            form[item] = str(1 + number % 5)
        path, page = browser.page(targets, "POST", path, form)
    raise AssertionError(f"the survey did not end; last step {step}")


def test_a_survey_moves_between_instances_and_is_stored_once(deployment):
    token = deployment.links[0]
    count = (
        "SELECT (SELECT count(*) FROM response), "
        "(SELECT count(*) FROM invitation WHERE used), "
        "(SELECT count(*) FROM draft d JOIN invitation i ON i.id = d.invitation_id WHERE i.used)"
    )
    (before,) = deployment.sql(count)
    browser = Browser(deployment)

    # Every request goes to the next of A, B and nginx (which itself picks A or B): the
    # draft one instance writes, the next one reads.
    page, last_form = complete_survey(browser, token, itertools.cycle(["A", "B", "nginx"]))

    assert "Thank you" in page
    (after,) = deployment.sql(count)
    assert after[0] == before[0] + 1, "one response more"
    assert after[1] == before[1] + 1, "one more link used"
    assert after[2] == 0, "no draft left for a used link"
    # The same submission again, on the other instance: still one response.
    status, _, _ = browser.request("A", "POST", f"/s/{token}/review", last_form)
    status_b, _, _ = browser.request("B", "POST", f"/s/{token}/review", last_form)
    assert status < 500 and status_b < 500
    (again,) = deployment.sql(count)
    assert again == after


def test_a_survey_through_nginx_alone_is_stored_once(deployment):
    (before,) = deployment.sql("SELECT count(*) FROM response")
    page, _ = complete_survey(Browser(deployment), deployment.links[1], itertools.repeat("nginx"))

    assert "Thank you" in page
    assert deployment.sql("SELECT count(*) FROM response") == [(before[0] + 1,)]


def sign_in(browser: Browser, get_from: str, post_to: str) -> str:
    """Sign in as the demo's manager; the path the sign-in sends them to."""
    _, page = browser.page(iter([get_from] * 5), "GET", "/auth/login")
    form = {
        "csrf_token": _csrf(page),
        "email": "manager@demo.example",
        "password": "demo-manager-2026",
    }
    status, headers, _ = browser.request(post_to, "POST", "/auth/login", form)
    assert status in (302, 303), f"sign-in on {post_to}: {status}"
    return urlsplit(headers["Location"]).path


def test_a_sign_in_on_one_instance_works_on_the_other(deployment):
    browser = Browser(deployment)
    # The form from A, its CSRF token checked by B: both read the same signed cookie.
    home = sign_in(browser, get_from="A", post_to="B")

    for target in ("A", "B", "nginx"):
        path, page = browser.page(itertools.repeat(target), "GET", home)
        assert not path.startswith("/auth/login"), f"{target} asked to sign in again"
        assert "Demohaven City Council" in page, target

    status, headers, _ = Browser(deployment).request("A", "GET", home)
    assert status in (302, 303) and "/auth/login" in headers["Location"], "not without it"


def test_results_are_computed_once_for_both_instances(deployment):
    # Stored results are a cache: without them, the first read computes the report.
    deployment.sql_write("DELETE FROM stored_result WHERE campaign_id = 1")
    browser = Browser(deployment)
    sign_in(browser, get_from="nginx", post_to="nginx")
    query = (
        "SELECT count(*), min(created_at) FROM stored_result"
        " WHERE campaign_id = 1 AND kind = 'report'"
    )

    status, _, first = browser.request("A", "GET", "/results/campaigns/1")
    assert status == 200
    [(count_a, created_a)] = deployment.sql(query)
    status, _, second = browser.request("B", "GET", "/results/campaigns/1")
    assert status == 200
    [(count_b, created_b)] = deployment.sql(query)

    assert count_a == 1, "A stored the report"
    assert (count_b, created_b) == (1, created_a), "B read it instead of computing it again"
    assert _without_tokens(first) == _without_tokens(second), "both show the same results"


def test_nginx_passes_the_scheme_and_host_the_browser_used(deployment):
    browser = Browser(deployment)
    origin = f"https://localhost:{deployment.https_port}"

    status, headers, _ = browser.request("nginx", "GET", "/api/v1")
    assert status == 308
    assert headers["Location"] == f"{origin}/api/v1/"
    status, headers, text = browser.request("nginx", "GET", "/api/v1/")
    assert status == 200
    assert json.loads(text) == {"openapi": f"{origin}/api/v1/openapi.json"}
    assert headers["Strict-Transport-Security"].startswith("max-age=")

    browser.request("nginx", "GET", "/auth/login")
    (session,) = [c for c in browser.set_cookie_headers if c.startswith("session=")]
    assert "Secure" in session and "HttpOnly" in session

    plain = http.client.HTTPConnection("127.0.0.1", deployment.http_port, timeout=10)
    plain.request("GET", "/auth/login", headers={"Host": "localhost"})
    response = plain.getresponse()
    response.read()
    plain.close()
    assert response.status == 301
    assert response.headers["Location"] == "https://localhost/auth/login"


def test_nginx_answers_no_other_host_name(deployment):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection(
        "127.0.0.1", deployment.https_port, timeout=10, context=context
    )
    with pytest.raises(ssl.SSLError):
        connection.request("GET", "/")
    connection.close()


def test_no_log_holds_a_survey_link_or_a_client_address(deployment):
    # A request nginx itself refuses (a body over the app's 16 MB) is an error line in
    # nginx's default log format, with the client's address and the request line.
    connection = Browser(deployment).connection("nginx")
    connection.putrequest("POST", f"/s/{deployment.links[2]}/review")
    connection.putheader("Content-Length", str(17 * 2**20))
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 413
    browser = Browser(deployment)
    browser.request("nginx", "GET", "/auth/login")
    browser.request("A", "GET", f"/s/{deployment.links[2]}")

    logs = deployment.logs()
    nginx_access = (deployment.work / "nginx-access.log").read_text()

    assert "/auth/login" in nginx_access, "nginx logged the sign-in pages"
    assert '"GET /s/<link>' in logs, "the instances logged survey steps, redacted"
    for token in deployment.links:
        assert token not in logs
    assert "/s/" not in nginx_access
    assert "127.0.0.1" not in nginx_access
    assert "client:" not in (deployment.work / "nginx-error.log").read_text()
    assert "Python-urllib" not in logs and "python" not in nginx_access.lower()
