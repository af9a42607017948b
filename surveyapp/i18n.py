"""Locale selection and template helpers for Dutch and English."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from flask import Flask, current_app, g, request, session


def select_locale() -> str:
    """The survey's chosen language first, then the user's choice, then the browser's."""
    languages = current_app.config["LANGUAGES"]
    chosen = getattr(g, "survey_language", None) or request.args.get("lang") or session.get("lang")
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def localised(texts: Mapping[str, str] | None, lang: str | None = None) -> str:
    """Pick a questionnaire text in the current language (falling back to English)."""
    from flask_babel import get_locale

    from .questionnaires import pick_text

    return pick_text(texts, lang or str(get_locale()))


def long_date(value: dt.date | str | None) -> str:
    """A day as the reader writes it: "1 March 2027" in English, "1 maart 2027" in Dutch."""
    from flask_babel import format_date

    if value is None or value == "":
        return ""
    day = dt.date.fromisoformat(value) if isinstance(value, str) else value
    # One pattern for both languages: Babel's "long" English is American ("March 1, 2027").
    return format_date(day, "d MMMM y")


def register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    app.jinja_env.filters["loc"] = localised
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.globals["current_language"] = lambda: str(get_locale())
