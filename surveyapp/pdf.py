"""The PDF reports: the one place that calls WeasyPrint.

``create_pdf(view)`` renders a print template of ``reports/`` from plain data only (the
frozen ``ReportView`` of ``reporting.model.build_view``) through the app's one Jinja
environment (``print_environment``: the page templates' filters, macros and translations,
in the report's language), with a URL fetcher that can read nothing but the files under
``reports/`` and the charts' own SVG images (``chart_image``). ``render_campaign_pdf`` is
the use-case the web view and ``surveyapp report`` share.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, StrictUndefined
from markupsafe import Markup, escape

from . import charts
from .reporting.view import ParticipationRow, ReportView
from .services import ServiceError

if TYPE_CHECKING:
    from .models import Campaign
    from .services.comparison import CampaignComparison

__all__ = [
    "REPORTS",
    "ReportFetchError",
    "chart_image",
    "check_department",
    "create_pdf",
    "render_campaign_pdf",
    "print_environment",
    "report_html",
    "resolve_report_url",
    "svg_from_data_url",
    "url_fetcher",
    "write_pdf",
]

#: Print templates, style sheets and any fonts or images they use.
REPORTS = Path(__file__).resolve().parent.parent / "reports"


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


def print_environment() -> Environment:
    """The app's one Jinja environment as print templates use it (needs an app context).

    An overlay of ``app.jinja_env``: the same loaders (``reports/`` beside the page
    templates), filters, globals and translations (``i18n.register_template_helpers``);
    only stricter (an undefined name is an error, not an empty string) and with the block
    whitespace trimmed that the print templates are written for. Made once per app, so
    compiled templates are kept between reports.
    """
    from flask import current_app

    env = current_app.extensions.get("print_jinja_env")
    if env is None:
        env = current_app.jinja_env.overlay(
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            # Its own cache: templates compiled by the page environment keep their settings.
            cache_size=400,
        )
        current_app.extensions["print_jinja_env"] = env
    return env


def report_html(
    view: ReportView | CampaignComparison | Mapping[str, Any],
    *,
    template: str = "report.html",
    **context: Any,
) -> str:
    """The report's HTML, rendered from the plain ``view`` in its language (``lang``).

    Rendered through the app's environment with the report's language forced, so the
    same in a request (whatever its own language), in ``surveyapp report`` and in a job.
    ``context``: further plain data beside the view (an action plan: ``plan``,
    ``previous_plan``).
    """
    from flask_babel import force_locale, gettext

    lang = view["lang"] if isinstance(view, Mapping) else view.lang
    with force_locale(lang):
        return (
            print_environment()
            .get_template(template)
            .render(view=view, lang=lang, chart_words=charts.chart_text(gettext), **context)
        )


def create_pdf(
    view: ReportView | CampaignComparison | Mapping[str, Any],
    *,
    template: str = "report.html",
    **context: Any,
) -> bytes:
    """Render ``view`` with a template of ``reports/``: a ``ReportView`` (``build_view``),
    or a consultant's comparison (``services.comparison.CampaignComparison``).

    The view may carry ``participation`` (``department_participation``) for the response
    rates of the appendix. A department report (``view.department`` set) is refused
    with a ServiceError if the department's results are withheld.
    """
    if isinstance(view, ReportView) and view.department is not None:
        check_department(view)
    return write_pdf(report_html(view, template=template, **context))


def write_pdf(html: str) -> bytes:
    """The PDF of a print template's HTML (``report_html``): WeasyPrint's part."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=REPORTS.as_uri() + "/", url_fetcher=url_fetcher())
    return document.write_pdf()


# --------------------------------------------------------------------------- use-case


def check_department(view: ReportView) -> None:
    """Raise ServiceError unless the view's department exists and its results are shown."""
    department = view.department
    if department is None:
        return
    code = department.code
    known = {d.code: d.name for d in view.departments}
    if code not in known:
        choices = ", ".join(sorted(known)) or "none"
        raise ServiceError(
            f"Campaign {view.campaign.id} has no department {code!r}. "
            f"Choose one of these codes: {choices}."
        )
    groups = [row.group for row in department.rows]
    if not any(g is not None and not g.suppressed for g in groups):
        reasons = sorted({g.reason for g in groups if g is not None and g.reason})
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

    from .reporting.model import build_view, department_participation
    from .services import action_plans, comments
    from .services.questionnaires import questionnaire_for
    from .services.reporting import released_report
    from .services.scope import scoped_report
    from .services.stored_results import stored_pdf

    languages = current_app.config.get("LANGUAGES", ("nl", "en"))
    if lang not in languages:
        raise ServiceError(f"There is no report in {lang!r}; choose one of {', '.join(languages)}.")
    report = scoped_report(released_report(campaign), scope)
    if department is not None:
        # Checked before the view is built, with the reason in English for the operator.
        _check_participation(campaign.id, department, department_participation(report, "en"))
    questionnaire = questionnaire_for(campaign.questionnaire_version)
    view = build_view(report, questionnaire, lang, department=department)
    view = replace(
        view,
        participation=department_participation(report, lang),
        summary=_summary(view, lang),
        comments=comments.campaign_comments(campaign, lang, scope, department),
    )
    if view.department is not None:
        check_department(view)
    html = report_html(
        view,
        # The organisation's plan, in department reports too; the follow-up sits in the
        # change chapter, which only the organisation's report has.
        plan=action_plans.plan_summary(campaign, lang),
        previous_plan=action_plans.follow_up(campaign, lang) if department is None else None,
    )
    # Rendered once per exact HTML and shared by every process: a download of an
    # unchanged report is read from the database instead of laid out again.
    return stored_pdf(campaign, html, lambda: write_pdf(html))


def _summary(view: ReportView, lang: str) -> Any:
    from flask_babel import force_locale, get_translations

    from .reporting.summary import summarise

    with force_locale(lang):
        return summarise(view, get_translations())


def _check_participation(campaign_id: int, code: str, rows: Sequence[ParticipationRow]) -> None:
    row = next((r for r in rows if r.code == code), None)
    if row is None:
        choices = ", ".join(sorted(r.code for r in rows)) or "none"
        raise ServiceError(
            f"Campaign {campaign_id} has no department {code!r}. "
            f"Choose one of these codes: {choices}."
        )
    if row.suppressed:
        raise ServiceError(_withheld_message(code, row.name, row.reason))


def _withheld_message(code: str, name: str, reason: str | None) -> str:
    return (
        f"Department {code} ({name}) has no report: its results are withheld to protect "
        f"anonymity ({reason or 'no responses'}). Its answers do count in the organisation's "
        "report; choose a larger department or the report of its parent."
    )
