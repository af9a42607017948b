"""Fixtures: an app with a fresh database per test (SQLite, or PostgreSQL when
``SURVEYAPP_TEST_DATABASE=postgresql``), a client, a CLI runner, and factories.

The schema is built once per run, in a template database; each test gets a copy of it
(a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL) instead of
dropping and creating some fifty tables before and after every test.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
QUESTIONNAIRES = ROOT / "questionnaires"


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="leave out the tests that reach no database (none of their fixtures depends "
        "on database_backend or postgres_url): they run the same code whichever database "
        "the run uses. "
        "The PostgreSQL run of make test uses it; its SQLite run has every test.",
    )


def pytest_collection_modifyitems(config, items):
    if not config.getoption("database_tests_only"):
        return
    # Everything that differs between the two databases goes through database_backend
    # (the app's database, the job queue) or postgres_url (the server), so a test with
    # neither in its fixture closure would only repeat what the other run checks.
    kept = [
        item
        for item in items
        if {"database_backend", "postgres_url"} & set(getattr(item, "fixturenames", ()))
    ]
    if len(kept) < len(items):
        ids = {id(item) for item in kept}
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in ids])
        items[:] = kept


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
    with throwaway_postgres() as url:
        yield url


@contextlib.contextmanager
def throwaway_postgres():
    """Start a PostgreSQL server in a temporary directory, on 127.0.0.1; its URL (the
    ``postgres`` database), and the server stopped and removed afterwards."""
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


def app_config(database_url: str) -> dict:
    """The configuration of every test app, on ``database_url``."""
    return {
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


class Databases:
    """This run's test databases: copies of templates, each template built once per run.

    A template is a database with the schema (``db.create_all``) and, for ``prebuilt``
    fixtures, the rows their builder made. A copy is a file copy on SQLite (under a
    millisecond) and ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL (one statement),
    where dropping and creating the schema's fifty tables took 0.1 to 0.6 s a test,
    depending on the load (benchmarks/bench_test_database.py).
    """

    SCHEMA = "schema"

    def __init__(self, backend: str, directory: Path, server_url: str | None, admin):
        self.backend = backend
        self.directory = directory
        self.server_url = server_url
        self.admin = admin
        self.numbers = itertools.count(1)
        self.templates: dict[str, tuple[str, object]] = {}

    def url(self, database: str) -> str:
        """``database``: a PostgreSQL database's name, or a SQLite file's path."""
        if self.backend == "postgresql":
            return self.server_url.rsplit("/", 1)[0] + f"/{database}"
        return f"sqlite:///{database}"

    def copy(self, template: str | None, path: Path | None = None) -> str:
        """A new database, a copy of ``template`` (empty without one); on SQLite at
        ``path`` if given. Its name or path."""
        if self.backend == "postgresql":
            name = f"test_{next(self.numbers)}"
            self.admin.execute(
                f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
            )
            return name
        path = path or self.directory / f"test_{next(self.numbers)}.sqlite3"
        if template:
            shutil.copyfile(template, path)
        return str(path)

    def drop(self, database: str) -> None:
        if self.backend == "postgresql":
            # FORCE: a second app or the job queue a test made may still hold a connection.
            self.admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')

    def template(self, key: str = SCHEMA, build=None) -> tuple[str, object]:
        """The template called ``key`` and what its ``build(make)`` returned; built on
        first use, in a copy of the schema's template."""
        if key not in self.templates:
            from surveyapp import create_app
            from surveyapp.extensions import db
            from surveyapp.services import aggregates, reporting

            base = None if key == self.SCHEMA else self.template()[0]
            database = self.copy(base)
            app = create_app(app_config(self.url(database)))
            with app.app_context():
                if base is None:
                    db.create_all()
                    value = None
                else:
                    value = build(Factory(app))
                    db.session.commit()
                db.session.remove()
                db.engine.dispose()  # SQLite: the last connection folds its write-ahead log in
            reporting._CACHE.clear()
            aggregates._NORM_TABLES.clear()
            if self.backend == "postgresql":
                # Copies only from now on: a connection to it would make CREATE DATABASE fail.
                self.admin.execute(
                    f'ALTER DATABASE "{database}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false'
                )
            self.templates[key] = (database, value)
        return self.templates[key]


@pytest.fixture(scope="session")
def databases(database_backend, tmp_path_factory, request):
    directory = tmp_path_factory.mktemp("databases")
    if database_backend != "postgresql":
        yield Databases(database_backend, directory, None, None)
        return
    import psycopg

    server_url = request.getfixturevalue("postgres_url")
    with psycopg.connect(server_url.replace("+psycopg", ""), autocommit=True) as admin:
        yield Databases(database_backend, directory, server_url, admin)


_PREBUILT: dict[str, object] = {}


@contextlib.contextmanager
def quick_password_hashes():
    """Passwords hashed with a cheap method while the block runs: for a ``prebuilt``
    builder (tests use dashboard_data's fixture); scrypt's deliberate slowness would
    dominate the time it takes."""
    from werkzeug.security import generate_password_hash

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(
            "surveyapp.services.users.generate_password_hash",
            lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
        )
        yield


def prebuilt(name: str, build):
    """A fixture ``name`` for tests that start from the data ``build(make)`` makes
    (``make``: a :class:`Factory` in an application context).

    ``build`` runs once per run, into a template; each test that asks for the fixture gets
    its own copy of that template as its database, exactly as if ``build`` had run for it
    alone, and the fixture's value is what ``build`` returned: plain data such as ids,
    never ORM objects (their session is gone).
    """
    if name == Databases.SCHEMA or _PREBUILT.setdefault(name, build) is not build:
        raise ValueError(f"two prebuilt fixtures are called {name!r}; rename one")

    @pytest.fixture(name=name)
    def fixture(databases, database_url):
        return databases.template(name, build)[1]

    return fixture


@pytest.fixture
def database_url(databases, tmp_path, request):
    """A database of this test alone, dropped afterwards: the schema and no rows, or the
    template of the ``prebuilt`` fixture the test uses."""
    chosen = [name for name in request.fixturenames if name in _PREBUILT]
    if len(chosen) > 1:
        raise ValueError(f"a test can start from one prebuilt database, not {chosen}")
    key = chosen[0] if chosen else Databases.SCHEMA
    template, _ = databases.template(key, _PREBUILT.get(key))
    database = databases.copy(template, tmp_path / "test.sqlite3")
    yield databases.url(database)
    databases.drop(database)


@pytest.fixture
def app(database_url):
    from surveyapp import create_app
    from surveyapp.extensions import db

    app = create_app(app_config(database_url))
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
