"""Error pages: a clear sentence in the user's language, never a stack trace.

What goes to the log is where it failed (the route, the exception types and the stack),
never what was sent: no form field, no query value, no survey link, and no exception
message either, because a message can repeat a value (``invalid literal for int():
'...'``, PostgreSQL's ``Key (name)=(...) already exists``).
"""

from __future__ import annotations

import traceback

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from ..inputs import RefusedInput


def describe_failure(error: BaseException) -> str:
    """The exception chain's types and stack frames, without any exception message."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"{kind.__module__}.{kind.__qualname__} (message not logged)\n{frames}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "caused by: ".join(reversed(parts))


def _route() -> str:
    # The rule ("/s/<token>/<step>"), not the path: a survey path carries the link.
    return f"{request.method} {request.url_rule.rule if request.url_rule else '(no route)'}"


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return (
            render_template(
                "error.html",
                title=_("This form has expired"),
                message=_(
                    "For your safety the form could not be accepted (its security code was "
                    "missing or out of date). Nothing was saved. Go back, reload the page "
                    "and send it again."
                ),
            ),
            400,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        messages = {
            400: _("The request could not be understood. Nothing was saved."),
            403: _("You do not have access to this page."),
            404: _("This page does not exist. Check the address."),
            405: _("This page cannot be used that way."),
            413: _("The file is too large. The limit is 16 MB."),
        }
        if isinstance(error, RefusedInput):
            message = error.description
        else:
            message = messages.get(error.code or 500, _("Something went wrong. Nothing was saved."))
        return (
            render_template("error.html", title=f"{error.code} {error.name}", message=message),
            error.code or 500,
        )

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)
    def value_out_of_range(error: Exception):
        # A value the database cannot hold (a number beyond its integers, a text longer
        # than its column) that no check caught: the request's fault, so a 400, answered
        # by the blueprint's own handler (the API's is JSON).
        db.session.rollback()
        app.logger.warning(
            "value out of the database's range at %s: %s", _route(), describe_failure(error)
        )
        refused = RefusedInput(
            _(
                "A value in the request is too long or too large a number to be stored. "
                "Nothing was saved. Check what you entered and try again."
            )
        )
        return app.handle_http_exception(refused)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.error("unhandled error at %s: %s", _route(), describe_failure(error))
        return (
            render_template(
                "error.html",
                title=_("Something went wrong"),
                message=_("An unexpected error occurred. Nothing was saved. Please try again."),
            ),
            500,
        )
