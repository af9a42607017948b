"""Locale selection, and the one set of template helpers for the pages and the PDF.

The app has one Jinja environment: it loads the page templates (``surveyapp/templates``)
and the print templates (``reports/``), and ``register_template_helpers`` installs its
filters and globals once. ``pdf.report_html`` renders print templates through the same
environment, with the report's language forced; so a number, a level badge or a
difference reads the same on a page and in the PDF.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

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


def current_language() -> str:
    """The language being written: the request's, or the one a report forces."""
    from flask_babel import get_locale

    return str(get_locale())


def localised(texts: Mapping[str, str] | None, lang: str | None = None) -> str:
    """Pick a questionnaire text in the current language (falling back to English)."""
    from .questionnaires import pick_text

    return pick_text(texts, lang or current_language())


def long_date(value: dt.date | str | None) -> str:
    """A day as the reader writes it: "1 March 2027" in English, "1 maart 2027" in Dutch."""
    from .reporting.formatting import format_date

    return format_date(value, current_language())


def _field(entry: Any, name: str) -> Any:
    """``entry[name]`` of a plain dict, or ``entry.name`` of a view dataclass."""
    if isinstance(entry, Mapping):
        return entry.get(name)
    return getattr(entry, name, None)


def certainty_words(difference: Any, higher: str | None = None, lower: str | None = None) -> str:
    """How sure a difference entry of the view is, in the one wording of ``certainty.words``.

    ``difference`` is any entry with ``certainty`` and ``diff`` (``vs_rest``, ``gap``,
    ``change``, a pair of ``significant_pairs``); None reads as no clear difference.
    ``higher``/``lower`` replace the direction words ("went up", "went down"). The words
    come from Flask-Babel's plain ``gettext``, in the request's language on a page and in
    the report's in the PDF.
    """
    from flask_babel import gettext

    from .reporting.certainty import words

    if difference is None:
        return words("unclear", None, gettext)
    return words(
        _field(difference, "certainty") or "unclear",
        _field(difference, "diff"),
        gettext,
        higher=None if higher is None else str(higher),
        lower=None if lower is None else str(lower),
    )


def register_template_helpers(app: Flask) -> None:
    """Loaders, filters and globals of every template, page or print: installed once.

    The print templates of ``reports/`` are found after the page templates (their names
    never clash: ``tests/test_pdf.py`` checks). Filters: ``num``, ``signed``, ``pct``,
    ``pvalue``, ``date``/``long_date`` (``reporting.formatting``), ``loc`` (questionnaire
    texts) and ``img`` (a chart as an image, for print). Globals: ``current_language``,
    ``certainty_words`` and ``charts``.
    """
    from jinja2 import ChoiceLoader, FileSystemLoader

    from . import charts
    from .pdf import REPORTS, chart_image
    from .reporting.formatting import template_filters
    from .reporting.print_layout import departments_apart, departments_on_dimension_page

    # Flask's dispatching loader asks app.jinja_loader on every lookup, then the blueprints.
    app.jinja_loader = ChoiceLoader(  # type: ignore[method-assign,assignment]
        [loader for loader in (app.jinja_loader, FileSystemLoader(REPORTS)) if loader]
    )
    env = app.jinja_env
    env.filters.update(template_filters(current_language), loc=localised, img=chart_image)
    env.globals.update(
        current_language=current_language,
        certainty_words=certainty_words,
        charts=charts,
        departments_on_dimension_page=departments_on_dimension_page,
        departments_apart=departments_apart,
    )
