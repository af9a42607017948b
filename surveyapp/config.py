"""Configuration read from ``SURVEYAPP_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PREFIX = "SURVEYAPP_"


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(PREFIX + name)
    return value if value not in (None, "") else default


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
    """Build the Flask configuration mapping from the environment."""
    instance = Path(instance_path)
    environment = _env("ENV", "production")
    if environment not in {"production", "development"}:
        raise ConfigError(
            f"{PREFIX}ENV is {environment!r}; set it to 'production' or 'development'."
        )
    secret = _env("SECRET_KEY")
    if secret is None:
        if environment != "development":
            raise ConfigError(
                f"{PREFIX}SECRET_KEY is not set. Set it to a long random string "
                f"(for example the output of: python3 -c 'import secrets; "
                f"print(secrets.token_hex(32))'), or set {PREFIX}ENV=development "
                "to have one generated into instance/."
            )
        secret = _development_secret(instance)
    database_url = _env("DATABASE_URL") or f"sqlite:///{instance / 'surveyapp.sqlite3'}"
    if database_url.startswith("postgres://"):
        # SQLAlchemy only knows the postgresql:// spelling.
        database_url = "postgresql://" + database_url[len("postgres://") :]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    return {
        "ENV_NAME": environment,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "QUESTIONNAIRE_DIR": _env(
            "QUESTIONNAIRE_DIR", str(Path(__file__).resolve().parent.parent / "questionnaires")
        ),
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_TRANSLATION_DIRECTORIES": str(Path(__file__).resolve().parent / "translations"),
        "LANGUAGES": ("nl", "en"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": environment == "production" and _env("INSECURE_COOKIES") is None,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    }
