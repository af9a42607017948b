"""Configuration read from ``SURVEYAPP_*`` environment variables and ``instance/surveyapp.env``."""

from __future__ import annotations

import datetime
import os
import secrets
from pathlib import Path

PREFIX = "SURVEYAPP_"

# Settings every app has, including a test app built from a partial mapping; the
# environment may override each (see load_config and the README).
DEFAULTS: dict[str, object] = {
    # A signed-in session ends after this long without a request, and this long after
    # sign-in whatever happens.
    "SESSION_IDLE_MINUTES": 60,
    "SESSION_MAX_HOURS": 12,
    # Failed sign-ins: per account, then a growing wait; per client address, a wait.
    "SIGN_IN_ACCOUNT_FAILURES": 5,
    "SIGN_IN_CLIENT_FAILURES": 20,
    "SIGN_IN_WINDOW_MINUTES": 15,
    "SIGN_IN_MAX_BLOCK_MINUTES": 60,
    # A password reset link works once, for this long.
    "PASSWORD_RESET_MINUTES": 30,
    # The link that lets an invited manager set a first password works once, this long.
    "ACCOUNT_INVITATION_DAYS": 7,
    "API_TOKEN_DAYS": 90,
    "AUDIT_RETENTION_DAYS": 365,
    # E-mail: SMTP when MAIL_SMTP_HOST is set; otherwise messages are written as .eml
    # files to MAIL_OUTBOX (development), or not sent at all (production says so).
    "MAIL_SMTP_HOST": None,
    "MAIL_SMTP_PORT": 25,
    "MAIL_SMTP_USER": None,
    "MAIL_SMTP_PASSWORD": None,
    "MAIL_SMTP_SECURITY": "none",
    "MAIL_FROM": "surveys@localhost",
    "MAIL_OUTBOX": None,
    # The address people reach the app at, for every link the app makes: e-mails, invitation
    # CSVs, the demo's printout ("https://survey.example.org").
    "BASE_URL": None,
    # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For and
    # X-Forwarded-Proto are trusted for that many hops, so sign-in throttling counts the
    # real client, not the proxy. Leave 0 when clients connect directly: the headers
    # could then be forged.
    "PROXY_HOPS": 0,
    # The job queue (services/jobs.py): unset follows the database (an SQLite file in
    # instance/, or the PostgreSQL database itself); "sqlite:///<file>", "postgresql" or
    # "memory" choose one.
    "JOB_QUEUE": None,
    "JOB_QUEUE_NAME": None,
    # Flask-WTF refuses a form posted over HTTPS unless a Referer from the same host comes
    # with it, but the pages tell browsers to send none (Referrer-Policy: no-referrer in
    # security.py): in production every form would fail as "expired". The CSRF token tied
    # to the session and the SameSite=Lax session cookie are the protection.
    "WTF_CSRF_SSL_STRICT": False,
}

_INTEGER_SETTINGS = (
    "SESSION_IDLE_MINUTES",
    "SESSION_MAX_HOURS",
    "SIGN_IN_ACCOUNT_FAILURES",
    "SIGN_IN_CLIENT_FAILURES",
    "SIGN_IN_WINDOW_MINUTES",
    "SIGN_IN_MAX_BLOCK_MINUTES",
    "PASSWORD_RESET_MINUTES",
    "ACCOUNT_INVITATION_DAYS",
    "API_TOKEN_DAYS",
    "AUDIT_RETENTION_DAYS",
    "MAIL_SMTP_PORT",
    "PROXY_HOPS",
)


# Where `surveyapp run` serves by default: the links' address in development when
# SURVEYAPP_BASE_URL is not set.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


# Settings for a checkout, written by `make install` (SURVEYAPP_ENV=development), so that
# `surveyapp` works from a shell without exported variables. The real environment wins.
ENV_FILE = "surveyapp.env"


def _lookup(file_settings: dict[str, str]):
    """``env(name, default)``: the environment's ``SURVEYAPP_<name>``, else the file's."""

    def env(name: str, default: str | None = None) -> str | None:
        value = os.environ.get(PREFIX + name, file_settings.get(PREFIX + name))
        return value if value not in (None, "") else default

    return env


def read_env_file(path: Path) -> dict[str, str]:
    """The ``SURVEYAPP_NAME=value`` lines of a settings file; blank and ``#`` lines skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read ({exc}).") from None
    settings: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name.startswith(PREFIX) or not name[len(PREFIX) :]:
            raise ConfigError(
                f"{path}, line {number}: expected {PREFIX}NAME=value, found {line[:60]!r}."
            )
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        settings[name] = value
    return settings


def _development_secret(instance_path: Path) -> str:
    """Return a secret kept in ``instance/secret_key``, creating it on first use."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    # Written with owner-only permissions: the key signs session cookies.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_config(instance_path: str) -> dict[str, object]:
    """Build the Flask configuration mapping from the environment and ``instance/surveyapp.env``.

    A variable set in the environment wins over the same line in the file.
    """
    instance = Path(instance_path)
    env = _lookup(read_env_file(instance / ENV_FILE))
    environment = env("ENV", "production")
    if environment not in {"production", "development"}:
        raise ConfigError(
            f"{PREFIX}ENV is {environment!r}; set it to 'production' or 'development'."
        )
    secret = env("SECRET_KEY")
    if secret is None:
        if environment != "development":
            raise ConfigError(
                f"{PREFIX}SECRET_KEY is not set. Set it to a long random string "
                f"(for example the output of: python3 -c 'import secrets; "
                f"print(secrets.token_hex(32))'), or set {PREFIX}ENV=development "
                "to have one generated into instance/."
            )
        secret = _development_secret(instance)
    database_url = env("DATABASE_URL") or f"sqlite:///{instance / 'surveyapp.sqlite3'}"
    if database_url.startswith("postgres://"):
        # SQLAlchemy only knows the postgresql:// spelling.
        database_url = "postgresql://" + database_url[len("postgres://") :]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    settings: dict[str, object] = dict(DEFAULTS)
    for name in DEFAULTS:
        value = env(name)
        if value is None:
            continue
        if name in _INTEGER_SETTINGS:
            try:
                settings[name] = int(value)
            except ValueError:
                message = f"{PREFIX}{name} is {value!r}; set it to a whole number."
                raise ConfigError(message) from None
            least = 0 if name == "PROXY_HOPS" else 1
            if settings[name] < least:
                raise ConfigError(f"{PREFIX}{name} is {value}; it must be at least {least}.")
        else:
            settings[name] = value
    if settings["MAIL_SMTP_SECURITY"] not in ("none", "starttls", "ssl"):
        raise ConfigError(
            f"{PREFIX}MAIL_SMTP_SECURITY is {settings['MAIL_SMTP_SECURITY']!r}; "
            "set it to 'none', 'starttls' or 'ssl'."
        )
    if settings["MAIL_OUTBOX"] is None and environment == "development":
        settings["MAIL_OUTBOX"] = str(instance / "outbox")
    return {
        **settings,
        "ENV_NAME": environment,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # hide_parameters: a database error in the log never carries the values that were
        # sent (a comment, an e-mail address), only the statement.
        # pool_pre_ping: a pooled PostgreSQL connection may have been closed by the server
        # or a proxy; an SQLite file cannot drop one, so no ping there. The app pings only a
        # connection that has been idle for over a second (extensions.ping_idle_connections).
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": not database_url.startswith("sqlite"),
            "hide_parameters": True,
        },
        "QUESTIONNAIRE_DIR": env(
            "QUESTIONNAIRE_DIR", str(Path(__file__).resolve().parent.parent / "questionnaires")
        ),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
        "LANGUAGES": ("nl", "en"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": environment == "production" and env("INSECURE_COOKIES") is None,
        "PERMANENT_SESSION_LIFETIME": datetime.timedelta(hours=int(settings["SESSION_MAX_HOURS"])),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    }
