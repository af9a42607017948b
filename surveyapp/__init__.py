"""Social business maturity assessment: the Flask application factory."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

# Flask is imported inside create_app(), not here, so that importing the pure
# subpackages (surveyapp.scoring, surveyapp.questionnaires) stays free of it.


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the application."""
    from flask import Flask

    from .config import DEFAULTS, load_config

    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    if test_config is None:
        app.config.from_mapping(load_config(app.instance_path))
    else:
        app.config.from_mapping(test_config)
        engine_options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        engine_options.setdefault("hide_parameters", True)
    for name, value in DEFAULTS.items():
        app.config.setdefault(name, value)
    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    register_extensions(app)
    register_security(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_cli(app)
    register_logging()
    return app


def register_extensions(app: Flask) -> None:
    from .extensions import babel, csrf, db, migrate, ping_idle_connections
    from .i18n import select_locale

    # pool_pre_ping is kept, but only for connections that have been idle: see
    # ping_idle_connections (a ping before every request was one round trip each).
    engine_options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    ping = engine_options.get("pool_pre_ping", False)
    if ping:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine_options, "pool_pre_ping": False}
    db.init_app(app)
    if ping:
        with app.app_context():
            ping_idle_connections(db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    _enable_sqlite_foreign_keys(app)


def register_blueprints(app: Flask) -> None:
    from .views import (
        action_plans,
        admin,
        api,
        auth,
        comments,
        consultant,
        dashboard,
        mail_pages,
        outbox,
        setup,
        slips,
        survey,
    )

    app.register_blueprint(survey.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(consultant.bp)
    app.register_blueprint(setup.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(outbox.bp)
    app.register_blueprint(slips.bp)
    app.register_blueprint(mail_pages.bp)
    app.register_blueprint(comments.bp)
    app.register_blueprint(comments.review_bp)
    app.register_blueprint(action_plans.bp)


def register_security(app: Flask) -> None:
    """Response headers, input guards and session checks that apply to every request."""
    from . import inputs, security

    inputs.init_app(app)
    security.init_app(app)


def register_logging() -> None:
    """Keep survey links and client addresses out of the development server's access log.

    A log line with a survey link, an address and a time could tie a response to a
    person; production servers must be configured the same way (see the README).
    """
    import logging
    import re

    class _RedactSurveyRequests(logging.Filter):
        link = re.compile(r"/s/[A-Za-z0-9_-]{12,}")  # links, and the codes of paper slips
        address = re.compile(r"^\S+ - - ")

        def filter(self, record: logging.LogRecord) -> bool:
            message = record.getMessage()
            if "/s/" in message or " - - [" in message:
                message = self.link.sub("/s/<link>", message)
                record.msg, record.args = self.address.sub("- - - ", message), ()
            return True

    logger = logging.getLogger("werkzeug")
    if not any(type(f).__name__ == "_RedactSurveyRequests" for f in logger.filters):
        logger.addFilter(_RedactSurveyRequests())


def register_cli(app: Flask) -> None:
    from .cli import register

    register(app)


def register_error_handlers(app: Flask) -> None:
    from .views.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    """One Jinja environment for pages and print: loaders, filters, globals (i18n.py)."""
    from .i18n import register_template_helpers as register_helpers

    register_helpers(app)


def _enable_sqlite_foreign_keys(app: Flask) -> None:
    """SQLite ignores foreign keys unless asked per connection."""
    import sqlalchemy as sa

    from .extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name != "sqlite":
            return

        @sa.event.listens_for(engine, "connect")
        def _pragma(dbapi_connection, _record):  # pragma: no cover - trivial
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # Overwrite deleted rows (submitted drafts) instead of leaving them in free pages.
            # The WAL's copies of those pages go at the checkpoint after each submission
            # (services.responses.empty_write_ahead_log).
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()
