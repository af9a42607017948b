"""Error pages: a clear sentence in the user's language, never a stack trace."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


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
        message = messages.get(error.code or 500, _("Something went wrong. Nothing was saved."))
        return (
            render_template("error.html", title=f"{error.code} {error.name}", message=message),
            error.code or 500,
        )

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unhandled error")
        return (
            render_template(
                "error.html",
                title=_("Something went wrong"),
                message=_("An unexpected error occurred. Nothing was saved. Please try again."),
            ),
            500,
        )
