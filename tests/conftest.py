"""Fixtures: an app with a fresh database per test (SQLite, or PostgreSQL when
``SURVEYAPP_TEST_DATABASE=postgresql``), a client, a CLI runner, and factories."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRES = ROOT / "questionnaires"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for version in ("17", "16", "15"):
        candidate = Path(f"/usr/lib/postgresql/{version}/bin/{name}")
        if candidate.exists():
            return str(candidate)
    raise RuntimeError(f"PostgreSQL's {name} is not installed; run make test (it installs it).")


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL server in a temporary directory, on 127.0.0.1."""
    base = Path(tempfile.mkdtemp(prefix="surveyapp-pg-"))
    data = base / "data"
    port = _free_port()
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: hand the directory to the postgres user.
        shutil.chown(base, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *as_postgres,
            _pg_bin("initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    subprocess.run(
        [
            *as_postgres,
            _pg_bin("pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(base / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_postgres, _pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def database_backend() -> str:
    return os.environ.get("SURVEYAPP_TEST_DATABASE", "sqlite")


@pytest.fixture
def database_url(database_backend, tmp_path, request) -> str:
    if database_backend == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def app(database_url, tmp_path):
    from surveyapp import create_app
    from surveyapp.extensions import db

    app = create_app(
        {
            "TESTING": True,
            "ENV_NAME": "test",
            "SECRET_KEY": "test-secret-key",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "QUESTIONNAIRE_DIR": str(QUESTIONNAIRES),
            "BABEL_DEFAULT_LOCALE": "en",
            "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "surveyapp" / "translations"),
            "LANGUAGES": ("nl", "en"),
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
    # Each test has a new database whose ids repeat: no report or norm table cached in
    # this process may outlive the database it was read from.
    from surveyapp.services import aggregates, reporting

    reporting._CACHE.clear()
    aggregates._NORM_TABLES.clear()
    # Every /api/v1 answer any test receives is checked against the OpenAPI document.
    from .openapi_check import OpenApiCheckedClient

    app.test_client_class = OpenApiCheckedClient
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def count(app):
    """Rows of a model in the database, read in a fresh application context."""

    def counter(model) -> int:
        import sqlalchemy as sa

        from surveyapp.extensions import db

        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    return counter


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.app_context():
        yield


class Factory:
    """Builds organisations, campaigns and links through the real services."""

    def __init__(self, app):
        self.app = app

    def questionnaire(self):
        from surveyapp.services.questionnaires import latest_questionnaire

        return latest_questionnaire("social-business-maturity")

    def organisation(self, name="Acme", departments=None):
        from surveyapp.services.organisations import create_organisation, import_departments

        org = create_organisation(name, "government", "250-999")
        csv = departments or (
            "code,name,parent_code,headcount\n"
            "COM,Communication,,12\nHR,Human resources,,8\nIT,IT,,20\nIT-OPS,IT operations,IT,15\n"
        )
        import_departments(org, csv, "departments.csv")
        self.commit()
        return org

    def campaign(self, organisation=None, status="open", opens_on=None, closes_on=None, **kwargs):
        from surveyapp.services.campaigns import close_campaign, create_campaign, open_campaign

        organisation = organisation or self.organisation()
        today = dt.date.today()
        campaign = create_campaign(
            organisation,
            self.questionnaire(),
            kwargs.pop("name", "Spring survey"),
            opens_on or today - dt.timedelta(days=7),
            closes_on or today + dt.timedelta(days=21),
            **kwargs,
        )
        if status in ("open", "closed"):
            open_campaign(campaign)
        if status == "closed":
            close_campaign(campaign)
        self.commit()
        return campaign

    def link(self, campaign, department_code: str = "COM") -> str:
        from surveyapp.services.invitations import issue_invitations

        token = issue_invitations(campaign, 1, [department_code])[0].token
        self.commit()
        return token

    @staticmethod
    def commit() -> None:
        from surveyapp.extensions import db

        db.session.commit()


@pytest.fixture
def factory(app, ctx):
    """Factories inside an application context kept open for the whole test.

    Not for tests that also use ``client``: a request would reuse this context (and its
    ``g`` and session) instead of getting a fresh one. Those use ``in_app`` instead.
    """
    return Factory(app)


@pytest.fixture
def in_app(app):
    """Run a block in a fresh application context: ``with in_app() as make: ...``."""
    import contextlib

    @contextlib.contextmanager
    def block():
        with app.app_context():
            yield Factory(app)

    return block
