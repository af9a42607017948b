"""The PDF reports: the one place that calls WeasyPrint.

``create_pdf(view)`` renders a print template of ``reports/`` from plain data only (the
dict of ``services.report_model.build_view``), with the app's translations and a URL
fetcher that can read nothing but the files under ``reports/`` and the charts' own SVG
images (``chart_image``). ``render_campaign_pdf`` is the use-case the web view and
``surveyapp report`` share.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from . import charts
from .reporting.formatting import template_filters
from .services import ServiceError

if TYPE_CHECKING:
    from .models import Campaign

__all__ = [
    "REPORTS",
    "ReportFetchError",
    "chart_image",
    "check_department",
    "create_pdf",
    "render_campaign_pdf",
    "report_environment",
    "report_html",
    "resolve_report_url",
    "svg_from_data_url",
    "url_fetcher",
]

#: Print templates, style sheets and any fonts or images they use.
REPORTS = Path(__file__).resolve().parent.parent / "reports"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


class ReportFetchError(ValueError):
    """A report asked for a resource outside ``reports/``."""


MIME_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}


SVG_MIME = "image/svg+xml"
SVG_DATA_PREFIX = f"data:{SVG_MIME};base64,"
_SVG_SIZE = re.compile(r'^<svg [^>]*?width="(\d+)" height="(\d+)"[^>]*?aria-label="([^"]*)"')


def svg_from_data_url(url: str) -> bytes:
    """The SVG document of a ``data:image/svg+xml;base64,`` URL made by ``chart_image``."""
    try:
        return base64.b64decode(url[len(SVG_DATA_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ReportFetchError("The report may not load a malformed chart.") from None


def chart_image(svg: str) -> Markup:
    """An ``<img>`` holding a chart of ``surveyapp.charts`` as a data URL.

    WeasyPrint parses an SVG image with ElementTree, several times faster than the HTML
    parser reads the same SVG inline; the chart's size and label carry over.
    """
    match = _SVG_SIZE.match(str(svg))
    if match is None:
        raise ValueError("chart_image expects an <svg> made by surveyapp.charts")
    width, height, label = match.groups()
    kind = re.search(r'class="chart ([^"]*)"', str(svg))
    data = base64.b64encode(str(svg).encode()).decode("ascii")
    return Markup(
        f'<img class="chart {escape(kind.group(1) if kind else "")}" width="{width}" '
        f'height="{height}" alt="{label}" src="{SVG_DATA_PREFIX}{data}">'
    )


def resolve_report_url(url: str) -> Path:
    """The file under ``reports/`` that ``url`` names; ReportFetchError for anything else.

    No network (http, https, ftp …), no file outside ``reports/`` (also not through ``..``
    or a symbolic link): a report is built from our templates only, so a label from an
    imported CSV can never make the renderer read a file or call a server. (The fetcher
    also accepts the ``data:image/svg+xml`` URLs of ``chart_image``, nothing else.)
    """
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        raise ReportFetchError(f"The report may not load {url!r}: only files in reports/ are used.")
    path = Path(unquote(parts.path)).resolve()
    root = REPORTS.resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise ReportFetchError(f"The report may not load {url!r}: it is not a file in {root}.")
    return path


@functools.cache
def _fetcher_class() -> type:
    # WeasyPrint is imported on first use only: it takes most of a second to import.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ReportURLFetcher(URLFetcher):
        """Serves files under ``reports/`` and chart images; refuses everything else."""

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            if url.startswith(SVG_DATA_PREFIX):
                return URLFetcherResponse(url, svg_from_data_url(url), {"Content-Type": SVG_MIME})
            path = resolve_report_url(url)
            mime = MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})

    return ReportURLFetcher


def url_fetcher() -> Any:
    """A WeasyPrint URL fetcher restricted to ``reports/`` (see ``resolve_report_url``)."""
    return _fetcher_class()()


# --------------------------------------------------------------------------- templates


def _translations(directory: str, lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()  # the msgids are the English text
    return Translations.load(directory, [lang], domain="messages")


@functools.lru_cache(maxsize=8)
def report_environment(lang: str, translations_dir: str | None = None) -> Environment:
    """The Jinja environment for print templates in ``lang``, with the app's translations.

    ``_()``/``gettext``/``ngettext`` are installed new-style (as Flask-Babel does), so
    ``_("%(n)d respondents", n=5)`` works and results are escaped. Filters: ``num``,
    ``signed``, ``pct``, ``pvalue``, ``date``. Globals: ``charts`` and ``chart_words``.
    """
    env = Environment(
        loader=FileSystemLoader(REPORTS),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = _translations(translations_dir or str(TRANSLATIONS), lang)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    # The same filters as the web pages (reporting.formatting), in this report's language.
    env.filters.update(template_filters(lambda: lang), img=chart_image)
    env.globals.update(
        charts=charts,
        chart_words=charts.chart_text(translations.gettext),
        lang=lang,
    )
    return env


def _translations_dir() -> str | None:
    from flask import current_app, has_app_context

    if has_app_context():
        configured = current_app.config.get("BABEL_TRANSLATION_DIRECTORIES")
        if configured:
            return str(configured).split(";")[0]
    return None


def report_html(
    view: Mapping[str, Any], *, template: str = "report.html", **context: Any
) -> str:
    """The report's HTML, rendered from the plain ``view`` in ``view["lang"]``.

    ``context``: further plain data beside the view (an action plan: ``plan``,
    ``previous_plan``).
    """
    env = report_environment(view["lang"], _translations_dir())
    return env.get_template(template).render(view=view, **context)


def create_pdf(
    view: Mapping[str, Any], *, template: str = "report.html", **context: Any
) -> bytes:
    """Render ``view`` (the plain dict of ``build_view``) with a template of ``reports/``.

    The view may carry ``participation`` (``department_participation``) for the response
    rates of the appendix. A department report (``view["department"]`` set) is refused
    with a ServiceError if the department's results are withheld.
    """
    from weasyprint import HTML

    if view.get("department") is not None:
        check_department(view)
    html = report_html(view, template=template, **context)
    document = HTML(string=html, base_url=REPORTS.as_uri() + "/", url_fetcher=url_fetcher())
    return document.write_pdf()


# --------------------------------------------------------------------------- use-case


def check_department(view: Mapping[str, Any]) -> None:
    """Raise ServiceError unless the view's department exists and its results are shown."""
    department = view["department"]
    code = department["code"]
    known = {d["code"]: d["name"] for d in view.get("departments", [])}
    campaign = view.get("campaign", {})
    if code not in known:
        choices = ", ".join(sorted(known)) or "none"
        raise ServiceError(
            f"Campaign {campaign.get('id')} has no department {code!r}. "
            f"Choose one of these codes: {choices}."
        )
    groups = [row.get("group") for row in department.get("rows", [])]
    if not any(g is not None and not g.get("suppressed") for g in groups):
        reasons = sorted({g["reason"] for g in groups if g is not None and g.get("reason")})
        raise ServiceError(_withheld_message(code, known[code], "; ".join(reasons) or None))


def render_campaign_pdf(
    campaign: Campaign,
    lang: str,
    department: str | None = None,
    scope: frozenset[str] | None = None,
) -> bytes:
    """The campaign's PDF report in ``lang`` (or one department's); needs an app context.

    ``scope`` limits the report to those department codes (a department head's subtree,
    ``services/scope.py``); None is the whole organisation. Raises ServiceError for a
    language the app does not offer, and for a department that does not exist (in the
    scope) or whose results are withheld.
    """
    from flask import current_app

    from .reporting.summary import summarise
    from .services import action_plans, comments
    from .services.questionnaires import questionnaire_for
    from .services.report_model import build_view, department_participation
    from .services.reporting import released_report
    from .services.scope import scoped_report

    languages = current_app.config.get("LANGUAGES", ("nl", "en"))
    if lang not in languages:
        raise ServiceError(f"There is no report in {lang!r}; choose one of {', '.join(languages)}.")
    report = scoped_report(released_report(campaign), scope)
    if department is not None:
        # Checked before the view is built, with the reason in English for the operator.
        _check_participation(campaign.id, department, department_participation(report, "en"))
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    view = build_view(report, questionnaire, lang, department=department)
    view["participation"] = department_participation(report, lang)
    view["summary"] = summarise(view, _translations(_translations_dir() or str(TRANSLATIONS), lang))
    view["comments"] = comments.campaign_comments(campaign, lang, scope, department)
    return create_pdf(
        view,
        # The organisation's plan, in department reports too; the follow-up sits in the
        # change chapter, which only the organisation's report has.
        plan=action_plans.plan_summary(campaign, lang),
        previous_plan=action_plans.follow_up(campaign, lang) if department is None else None,
    )


def _check_participation(campaign_id: int, code: str, rows: list[dict[str, Any]]) -> None:
    row = next((r for r in rows if r["code"] == code), None)
    if row is None:
        choices = ", ".join(sorted(r["code"] for r in rows)) or "none"
        raise ServiceError(
            f"Campaign {campaign_id} has no department {code!r}. "
            f"Choose one of these codes: {choices}."
        )
    if row["suppressed"]:
        raise ServiceError(_withheld_message(code, row["name"], row.get("reason")))


def _withheld_message(code: str, name: str, reason: str | None) -> str:
    return (
        f"Department {code} ({name}) has no report: its results are withheld to protect "
        f"anonymity ({reason or 'no responses'}). Its answers do count in the organisation's "
        "report; choose a larger department or the report of its parent."
    )
