"""``surveyapp serve``: the production web server (gunicorn) with the app's own defaults.

gunicorn runs in the foreground and serves the app that the ``surveyapp`` command built,
loaded once in the master process and forked into each worker (``preload_app``). It
refuses to start unless the configuration is a complete production one, and its logs
never hold a client address, a user agent or a survey link (docs/privacy.md). Why the
defaults are what they are, with the measurements: docs/deployment.md.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
from flask import has_app_context
from flask.cli import ScriptInfo

if TYPE_CHECKING:
    from flask import Flask

# One worker process per core (at least two, so that one restarting leaves another),
# each with THREADS threads: on 2 cores, 2 threaded workers of 4 threads served surveys
# with the same CPU per request as 5 sync workers (within 10 %) and a lower p99, and a
# long download holds one thread instead of a whole process (docs/deployment.md,
# "Measurements"). More than eight processes on one host only add memory and database
# connections.
MIN_WORKERS = 2
MAX_WORKERS = 8
THREADS = 4
# The longest requests are downloads: the XLSX of 50,000 responses took 19 s and the PDF
# 7.4 s on a 2-core machine (docs/benchmarks.md). gunicorn's default of 30 s would kill a
# worker that is still writing a large export on a busy host.
TIMEOUT = 120
# Time a worker gets to finish its requests on a restart (SIGHUP) or stop (SIGTERM).
GRACEFUL_TIMEOUT = 30
# How long a gthread worker keeps nginx's idle upstream connection open; nginx closes
# its side first (keepalive_timeout 4s in docs/deployment.md), so that it never sends a
# request on a connection gunicorn is closing.
KEEPALIVE = 5
# The access log line: time, method, path, protocol, status, bytes, milliseconds. No
# client address, user agent or referrer, and no query string.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
# The only atoms an access log line may use; any other name in a format prints "-".
_SAFE_ATOMS = ("t", "m", "U", "H", "s", "b", "B", "M", "T", "D", "L", "p")

# A survey link or a paper slip's code, and any long random path segment (a password
# reset or account invitation link): each is a key to someone's survey or account.
_SURVEY_PATH = re.compile(r"/s/[^/\s\"?]+")
_TOKEN_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_.-]{20,}(?=[/\s\"?]|$)")
# IPv4 and IPv6 addresses, as gunicorn writes them into its own messages
# ("Invalid request from ip=203.0.113.9").
_IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
# Four groups or a "::" at least, so that a time of day (18:30:12) is left alone.
_IPV6 = re.compile(
    r"(?<![\w:])(?:(?:[0-9A-Fa-f]{1,4}:){3,7}[0-9A-Fa-f]{1,4}|[0-9A-Fa-f:]*::[0-9A-Fa-f:]*)(?![\w:])"
)


def redact(text: str) -> str:
    """``text`` without survey links, long path tokens or network addresses."""
    text = _SURVEY_PATH.sub("/s/<link>", text)
    text = _TOKEN_SEGMENT.sub("<token>", text)
    text = _IPV4.sub("<address>", text)
    return _IPV6.sub("<address>", text)


def default_workers(cpus: int | None = None) -> int:
    """Worker processes for a host: one per core, at least 2 and at most ``MAX_WORKERS``."""
    if cpus is None:
        # The cores this process may run on (a container's or a systemd unit's CPU set),
        # not every core of the machine.
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cpus = cpus or os.cpu_count() or 1
    return min(max(cpus, MIN_WORKERS), MAX_WORKERS)


def production_problems(config: dict[str, Any]) -> list[str]:
    """What keeps this configuration from being served in production; empty if nothing."""
    problems = []
    if config.get("ENV_NAME") != "production":
        return [
            "SURVEYAPP_ENV is not 'production'. surveyapp serve is the production server: "
            "set SURVEYAPP_ENV=production with the settings in docs/deployment.md, or use "
            "'surveyapp run' on your own machine."
        ]
    if len(str(config.get("SECRET_KEY") or "")) < 32:
        problems.append(
            "SURVEYAPP_SECRET_KEY is shorter than 32 characters. Set it to a long random "
            "string (python3 -c 'import secrets; print(secrets.token_hex(32))'), the same "
            "on every host."
        )
    base = str(config.get("BASE_URL") or "")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(
            "SURVEYAPP_BASE_URL is not set to the address people reach the app at "
            "(for example https://survey.example.org): e-mails and invitation links use it."
        )
    elif parts.scheme == "http" and config.get("SESSION_COOKIE_SECURE"):
        problems.append(
            f"SURVEYAPP_BASE_URL is {base}, plain HTTP, but session cookies are sent over "
            "HTTPS only. Serve the app over HTTPS and give its https:// address."
        )
    if not config.get("PROXY_HOPS"):
        problems.append(
            "SURVEYAPP_PROXY_HOPS is 0. surveyapp serve runs behind a reverse proxy that "
            "speaks HTTPS (nginx: set SURVEYAPP_PROXY_HOPS=1), so the app sees the real "
            "client and scheme."
        )
    return problems


def database_problem(app: Flask) -> str | None:
    """Why the database cannot be served (unreachable, or not migrated), or ``None``."""
    import sqlalchemy as sa
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from .extensions import db

    migrate = app.extensions["migrate"]
    head = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    heads = set(head.get_heads())
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.OperationalError:
        url = db.engine.url.render_as_string(hide_password=True)
        return f"The database at {url} cannot be reached. Check SURVEYAPP_DATABASE_URL."
    finally:
        # The workers are forked from this process: none may inherit its connection.
        db.engine.dispose()
    if current != heads:
        found = ", ".join(sorted(current)) or "empty"
        return (
            f"The database is at revision {found}, this version of the app needs "
            f"{', '.join(sorted(heads))}. Run 'surveyapp db upgrade' first."
        )
    return None


def gunicorn_options(
    *,
    bind: tuple[str, ...],
    workers: int,
    threads: int,
    timeout: int,
    forwarded_allow_ips: str,
    access_log: bool,
) -> dict[str, Any]:
    """The gunicorn settings ``surveyapp serve`` runs with."""
    return {
        "bind": list(bind),
        "workers": workers,
        "threads": threads,
        # One thread is the sync worker; more need the threaded worker, which also keeps
        # the proxy's connections open between requests.
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": timeout,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "keepalive": KEEPALIVE,
        "forwarded_allow_ips": forwarded_allow_ips,
        # Only the header nginx sets (docs/deployment.md) says the client used HTTPS; a
        # client's own X-Forwarded-Ssl could otherwise contradict it and fail the request.
        "secure_scheme_headers": {"X-FORWARDED-PROTO": "https"},
        "preload_app": True,
        "proc_name": "surveyapp",
        # gunicorn's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl),
        # which two instances on one host would fight over; systemd restarts instead.
        "control_socket_disable": True,
        "logger_class": private_logger_class(),
        "accesslog": "-" if access_log else None,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
    }


@functools.cache
def private_logger_class() -> type:
    """gunicorn's logger class, made to write no addresses, user agents or links."""
    from gunicorn.glogging import Logger

    class _PrivateLogger(Logger):
        """gunicorn's logger without addresses, user agents or links (docs/privacy.md)."""

        def setup(self, cfg) -> None:
            super().setup(cfg)
            if not any(isinstance(f, _Redact) for f in self.error_log.filters):
                self.error_log.addFilter(_Redact())

        def atoms(self, resp, req, environ, request_time) -> dict[str, Any]:
            everything = super().atoms(resp, req, environ, request_time)
            atoms = {name: everything[name] for name in _SAFE_ATOMS}
            atoms["U"] = redact(str(atoms["U"]))
            return atoms

    return _PrivateLogger


# gunicorn's own messages about the address it listens on keep that address.
_OWN_ADDRESS_MESSAGES = ("Listening at:", "Connection in use", "Invalid address", "Can't connect")


class _Redact(logging.Filter):
    """Rewrite each error-log record without a client's address or a link."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(_OWN_ADDRESS_MESSAGES):
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def _application_class():
    from gunicorn.app.base import BaseApplication

    class _SurveyServer(BaseApplication):
        """gunicorn serving an app already built, with options given in code."""

        def __init__(self, app: Flask, options: dict[str, Any]):
            self.application, self.options = app, options
            super().__init__()

        def load_config(self) -> None:
            for name, value in self.options.items():
                self.cfg.set(name, value)

        def load(self) -> Flask:
            return self.application

    return _SurveyServer


@click.command("serve")
@click.option(
    "--bind",
    "-b",
    multiple=True,
    default=("127.0.0.1:8000",),
    show_default=True,
    help="Address and port to listen on (repeat for more). Use 0.0.0.0:8000 when the "
    "reverse proxy runs on another host.",
)
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(1, 64),
    default=None,
    help=f"Worker processes [default: one per core, {MIN_WORKERS} to {MAX_WORKERS}; "
    f"here {default_workers()}].",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 32),
    default=THREADS,
    show_default=True,
    help="Threads per worker (gunicorn's gthread worker); 1 uses sync workers.",
)
@click.option(
    "--timeout",
    type=click.IntRange(10, 3600),
    default=TIMEOUT,
    show_default=True,
    help="Seconds a request may take before its worker is restarted (large exports).",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1,::1",
    show_default=True,
    help="Addresses of the reverse proxies whose X-Forwarded-Proto is trusted.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="Write an access line per request to standard output (no addresses, no links).",
)
@click.pass_context
def serve(
    context: click.Context,
    bind: tuple[str, ...],
    workers: int | None,
    threads: int,
    timeout: int,
    forwarded_allow_ips: str,
    access_log: bool,
) -> None:
    """Serve the app in production with gunicorn, behind nginx (docs/deployment.md)."""
    # The app is loaded without pushing its context: a context left active here would be
    # inherited by every forked worker, and each request would then reuse it (and its
    # ``g``, which holds the signed-in user and the CSRF token) instead of getting its own.
    if has_app_context():
        raise click.UsageError("surveyapp serve cannot run inside an application context.")
    app = context.ensure_object(ScriptInfo).load_app()
    problems = production_problems(app.config)
    if problems:
        raise click.ClickException(
            "surveyapp serve does not start:\n" + "\n".join(f"- {p}" for p in problems)
        )
    with app.app_context():
        problem = database_problem(app)
    if problem:
        raise click.ClickException(problem)
    options = gunicorn_options(
        bind=bind,
        workers=workers or default_workers(),
        threads=threads,
        timeout=timeout,
        forwarded_allow_ips=forwarded_allow_ips,
        access_log=access_log,
    )
    _application_class()(app, options).run()
