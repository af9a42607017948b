"""The PDF report: renders from plain data, shows what it should, withholds what it must."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from surveyapp import charts, pdf
from surveyapp.reporting.model import build_view, department_participation
from surveyapp.reporting.view import DepartmentRow, GroupRow, ReportView
from surveyapp.services import ServiceError
from surveyapp.services.campaigns import close_campaign
from surveyapp.services.questionnaires import questionnaire_for
from surveyapp.services.reporting import cached_campaign_report
from surveyapp.services.responses import import_responses

from .conftest import prebuilt
from .dashboard_data import (
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    login,
)

pytestmark = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftoppm, pdftotext) is not installed; make install-test installs it",
)

# HR has no headcount, so nothing about it in the report is a number we may print.
DEPARTMENTS = (
    "code,name,parent_code,headcount\n"
    "COM,Communication,,12\nHR,Human resources,,\nIT,IT,,20\nIT-OPS,IT operations,IT,15\n"
    "SAL,Sales & Service <Noord>,,14\n"
)
# Respondents per department; HR (3) is below the threshold of 5.
SIZES = {"COM": 9, "HR": 3, "IT": 10, "IT-OPS": 11, "SAL": 12}


def fill_campaign(factory, seed: int = 3):
    """A campaign with answers in every department, six of them from top management."""
    q = factory.questionnaire()
    campaign = factory.campaign(factory.organisation("Gemeente Proefstad", DEPARTMENTS))
    rng = np.random.default_rng(seed)
    ids = [item.id for item in q.items]
    lines = [",".join(["department", "role_level", *ids])]
    top = 0
    for code, size in SIZES.items():
        for _ in range(size):
            role = "top_management" if top < 6 and code in ("COM", "SAL") else "employee"
            top += role == "top_management"
            level = rng.normal(3.2, 0.5)
            values = np.clip(np.rint(level + rng.normal(0, 0.8, len(ids))), 1, 5).astype(int)
            lines.append(",".join([code, role, *map(str, values)]))
    import_responses(campaign, "\n".join(lines) + "\n", "answers.csv")
    close_campaign(campaign)  # results are released once a campaign has closed
    factory.commit()
    return campaign


def make_view(campaign, lang: str, department: str | None = None) -> ReportView:
    report = cached_campaign_report(campaign)
    view = build_view(report, questionnaire_for(campaign.questionnaire_version), lang, department)
    # Plain data only: the typed view must survive JSON (no ORM objects, no markup).
    json.dumps(view.to_dict())
    return replace(view, participation=department_participation(report, lang))


def proefstad_campaign_id(make) -> int:
    return fill_campaign(make).id


# Filled once per run; each test that asks for it starts from its own copy of the database.
proefstad = prebuilt("proefstad", proefstad_campaign_id)


@pytest.fixture
def filled(proefstad, factory):
    """The campaign ``fill_campaign(factory)`` makes, in this test's database."""
    from surveyapp.extensions import db
    from surveyapp.models import Campaign

    return db.session.get(Campaign, proefstad)


@pytest.fixture(scope="module")
def rendered() -> dict:
    """PDFs rendered once per module (each takes a second or two), keyed by name."""
    return {}


@pytest.fixture
def organisation_report(filled, rendered):
    if "organisation" not in rendered:
        view = make_view(filled, "en")
        rendered["organisation"] = (view, pdf.create_pdf(view))
    return rendered["organisation"]


def pdf_text(document: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(document)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def read_pgm(path: Path) -> np.ndarray:
    """A binary PGM (P5, 8 bit) as a 2-D array: enough of the format for pdftoppm's output."""
    data = path.read_bytes()
    fields = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    assert fields, f"{path.name} is not a binary PGM"
    width, height, maxval = map(int, fields.groups())
    assert maxval == 255
    pixels = np.frombuffer(data, dtype=np.uint8, count=width * height, offset=fields.end())
    return pixels.reshape(height, width)


def test_report_has_the_expected_number_of_pages(organisation_report, tmp_path):
    _, document = organisation_report
    (tmp_path / "r.pdf").write_bytes(document)
    info = subprocess.run(
        ["pdfinfo", str(tmp_path / "r.pdf")], check=True, capture_output=True, text=True
    ).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    # Cover, contents, summary, one page per dimension (five departments and five
    # statements fit on one), heatmap, gap, change, appendix.
    assert 15 <= pages <= 24


def test_every_page_renders_with_content(organisation_report, tmp_path):
    _, document = organisation_report
    (tmp_path / "r.pdf").write_bytes(document)
    subprocess.run(
        ["pdftoppm", "-r", "20", "-gray", str(tmp_path / "r.pdf"), str(tmp_path / "page")],
        check=True,
    )
    pages = sorted(tmp_path.glob("page-*.pgm"))
    assert pages
    blank = [p.name for p in pages if read_pgm(p).std() < 4]
    assert not blank, f"pages without visible content: {blank}"


def test_text_layer_names_organisation_dimensions_and_overall_mean(organisation_report, tmp_path):
    view, document = organisation_report
    text = pdf_text(document, tmp_path)
    assert "Gemeente Proefstad" in text
    assert "Sales & Service <Noord>" in text  # escaped in HTML, printed as is
    mean = charts.format_number(view.overall.mean, 2, "en")
    assert f"The average of all dimensions is {mean}" in " ".join(text.split())
    for dimension in view.dimensions:
        assert dimension.name in text, dimension.name


def test_withheld_departments_show_no_numbers(organisation_report, tmp_path):
    view, document = organisation_report
    withheld = [g.name for g in view.suppressed_groups if g.grouping == "department"]
    assert "Human resources" in withheld
    headcounts = {d.name: d.headcount for d in view.departments}
    lines = pdf_text(document, tmp_path).splitlines()
    for name in withheld:
        mentions = [line for line in lines if name in line]
        assert mentions, f"{name} is not named as withheld"
        # Only the staff count (public, not an answer) may stand beside the name.
        staff = re.compile(rf"\b{headcounts[name]}\b") if headcounts[name] else None
        rest = [staff.sub("", line, count=1) if staff else line for line in mentions]
        with_numbers = [
            line
            for line in rest
            if re.search(r"\d", line.replace(name, "").replace(f"{view.threshold} respondents", ""))
        ]
        assert not with_numbers, f"numbers printed beside withheld {name}: {with_numbers}"


def test_dutch_report_uses_decimal_commas_and_translations(filled):
    from flask_babel import force_locale, gettext

    view = make_view(filled, "nl")
    html = pdf.report_html(view)
    assert charts.format_number(view.overall.mean, 2, "nl") in html
    assert view.dimensions[0].name in html  # the questionnaire's Dutch name
    with force_locale("nl"):
        dutch = gettext("Summary")
    if dutch == "Summary":
        pytest.skip("the Dutch report texts are not merged into the catalogue yet")
    assert f">{dutch}<" in html


def test_url_fetcher_serves_only_files_in_reports():
    fetcher = pdf.url_fetcher()
    css = fetcher.fetch((pdf.REPORTS / "report.css").as_uri())
    assert b"@page" in css.read()
    outside = pdf.REPORTS.parent / "pyproject.toml"
    for url in (
        "https://example.org/style.css",
        "http://127.0.0.1:5000/",
        "ftp://example.org/x",
        outside.as_uri(),
        pdf.REPORTS.as_uri() + "/../pyproject.toml",
        "file:///etc/passwd",
        "data:text/css,body{}",
    ):
        with pytest.raises(pdf.ReportFetchError):
            fetcher.fetch(url)


def test_chart_images_round_trip_through_the_fetcher():
    svg = charts.distribution_bar([0.5, 0.5], ["No", "Yes"], title="A & B")
    image = pdf.chart_image(svg)
    src = re.search(r'src="([^"]+)"', image).group(1)
    assert pdf.url_fetcher().fetch(src).read().decode() == str(svg)
    assert 'alt="A &amp; B"' in image


def test_department_report_shows_the_department_beside_the_organisation(runner, filled, tmp_path):
    campaign = filled
    out = tmp_path / "it.pdf"
    result = runner.invoke(
        args=[
            "report",
            "--campaign",
            str(campaign.id),
            "--lang",
            "en",
            "--out",
            str(out),
            "--department",
            "SAL",
        ],
    )
    assert result.exit_code == 0, result.output
    text = pdf_text(out.read_bytes(), tmp_path)
    assert "Department report: Sales & Service <Noord>" in text
    view = make_view(campaign, "en", "SAL")
    own = next(r.group for r in view.department.rows if r.group)
    assert charts.format_number(own.mean, 2, "en") in text


def test_withheld_or_unknown_department_is_refused(filled):
    campaign = filled
    with pytest.raises(ServiceError, match="withheld to protect anonymity"):
        pdf.render_campaign_pdf(campaign, "en", department="HR")
    with pytest.raises(ServiceError, match="has no department 'XX'"):
        pdf.render_campaign_pdf(campaign, "en", department="XX")
    with pytest.raises(ServiceError, match="withheld"):
        pdf.create_pdf(make_view(campaign, "en", "HR"))  # the view alone is checked too


def test_cli_report_exits_1_with_a_message(runner, filled, tmp_path):
    campaign = filled
    out = str(tmp_path / "x.pdf")
    cases = [
        (["--campaign", "999"], "No campaign with id 999"),
        (["--campaign", str(campaign.id), "--department", "HR"], "withheld"),
        (["--campaign", str(campaign.id), "--department", "XX"], "no department 'XX'"),
    ]
    for args, message in cases:
        result = runner.invoke(args=["report", *args, "--out", out])
        assert result.exit_code == 1, args
        assert message in result.output
    assert not Path(out).exists()


def test_organisation_below_the_threshold_gets_a_report_without_results(factory, tmp_path):
    q = factory.questionnaire()
    campaign = factory.campaign()
    ids = [item.id for item in q.items]
    rows = [",".join(["department", "role_level", *ids])]
    rows += [",".join(["COM", "employee", *["4"] * len(ids)]) for _ in range(3)]
    import_responses(campaign, "\n".join(rows) + "\n", "answers.csv")
    close_campaign(campaign)
    view = make_view(campaign, "en")
    assert not view.published
    text = pdf_text(pdf.create_pdf(view), tmp_path)
    assert "No results to show" in text
    assert "4.00" not in text


def test_department_with_one_withheld_dimension_still_renders(filled):
    view = make_view(filled, "en", "SAL")
    rows = view.department.rows
    reason = "fewer than 5 answers"
    withheld = GroupRow(code="SAL", name=rows[0].group.name, suppressed=True, reason=reason)
    department = replace(
        view.department,
        rows=(DepartmentRow(dimension=rows[0].dimension, group=withheld), *rows[1:]),
    )
    html = pdf.report_html(replace(view, department=department))
    assert reason in html
    assert html.count("Recommendation for Sales &amp; Service &lt;Noord&gt;") == len(rows) - 1


def test_comparison_of_organisations_prints_each_one(factory, tmp_path):
    from surveyapp.services.comparison import compare_campaigns

    first = fill_campaign(factory, seed=4)
    q = factory.questionnaire()
    other = factory.campaign(factory.organisation("Waterschap Test"))
    ids = [item.id for item in q.items]
    rng = np.random.default_rng(5)
    rows = [",".join(["department", "role_level", *ids])]
    for code in ("COM", "IT", "IT-OPS") * 4:
        rows.append(",".join([code, "employee", *map(str, rng.integers(1, 6, len(ids)))]))
    import_responses(other, "\n".join(rows) + "\n", "answers.csv")
    close_campaign(other)
    view = compare_campaigns([first, other], "en")
    text = pdf_text(pdf.create_pdf(view, template="comparison.html"), tmp_path)
    assert "Gemeente Proefstad" in text and "Waterschap Test" in text
    for dimension in view.dimensions:
        assert dimension.name in text


# One environment, one set of macros ------------------------------------------------------------


def test_pages_and_print_share_one_environment(app):
    with app.app_context():
        env = pdf.print_environment()
        assert pdf.print_environment() is env  # made once: compiled templates are kept
    assert env.linked_to is app.jinja_env  # an overlay of the app's, not a second one
    assert env.filters is app.jinja_env.filters
    assert env.globals is app.jinja_env.globals
    assert not hasattr(pdf, "report_environment")


def test_print_templates_are_found_in_reports_and_pages_in_templates(app):
    """The print templates come after the page templates: a page template of the same
    name would take a print template's place without a word."""
    with app.app_context():
        for path in pdf.REPORTS.glob("*.html"):
            assert Path(app.jinja_env.get_template(path.name).filename) == path
        page = app.jinja_env.get_template("dashboard/campaign.html")
        assert pdf.REPORTS not in Path(page.filename).parents


def test_macros_exist_once():
    templates = pdf.REPORTS.parent / "surveyapp" / "templates"
    shared = set(re.findall(r"macro (\w+)\(", (pdf.REPORTS / "_macros.html").read_text()))
    assert {"level_badge", "interval", "verdict", "benchmark_text", "summary_words"} <= shared
    for path in [*templates.rglob("*.html"), *pdf.REPORTS.glob("*.html")]:
        if path.name == "_macros.html" and path.parent == pdf.REPORTS:
            continue
        again = shared & set(re.findall(r"macro (\w+)\(", path.read_text()))
        assert not again, f"{path} defines {sorted(again)} again: import them from _macros.html"


def _uncertain_first_dimension(view):
    """The view with its first dimension's level marked uncertain (its interval spans the
    level above, or below for the top level), as the analysis marks such a score."""
    first = view.dimensions[0]
    numbers = [level.number for level in view.levels]
    i = numbers.index(first.maturity.level.number)
    j = i + 1 if i + 1 < len(numbers) else i - 1
    span = tuple(sorted((view.levels[i], view.levels[j]), key=lambda level: level.number))
    marked = replace(first, maturity=replace(first.maturity, uncertain=True, range=span))
    return replace(view, dimensions=(marked, *view.dimensions[1:]))


def test_page_and_pdf_show_the_same_badge_and_difference(
    client,
    in_app,
    fast_password_hashes,  # noqa: F811 (the fixture imported above)
    monkeypatch,
):
    """A level badge with its uncertainty, and a difference with its interval and how sure
    it is, come out of the same macros on the results page and in the PDF."""
    from flask import render_template_string

    from surveyapp.views import dashboard

    with in_app() as make:
        results = build_results(make)
    real_build_view = dashboard.build_view
    monkeypatch.setattr(
        dashboard,
        "build_view",
        lambda *a, **k: _uncertain_first_dimension(real_build_view(*a, **k)),
    )
    login(client, MANAGER)
    page = client.get(f"/results/campaigns/{results.campaign_id}?lang=en").get_data(as_text=True)
    with in_app():
        from surveyapp.extensions import db
        from surveyapp.models import Campaign

        view = _uncertain_first_dimension(
            make_view(db.session.get(Campaign, results.campaign_id), "en")
        )
        printed = pdf.report_html(view)
    with client.application.test_request_context("/?lang=en"):
        first = view.dimensions[0]
        badge = render_template_string(
            '{% from "_macros.html" import level_badge %}{{ level_badge(level, true) }}',
            level=first.maturity.level,
        )
        differences = [
            render_template_string(
                '{% from "_macros.html" import interval, verdict %}'
                '<td class="num">{{ interval(e.ci) }}</td>\n<td>{{ verdict(e) }}</td>',
                e=getattr(d, key),
            )
            for d in view.dimensions
            for key in ("gap", "change")
            if not d.suppressed and getattr(d, key) is not None
        ]
    assert "(uncertain)" in badge and first.maturity.level.name in badge
    assert badge in page
    assert badge in printed
    assert differences, "the test campaign should show a perception gap or a change"
    for difference in differences:
        cells = [re.sub(r">\s+<", "><", cell) for cell in difference.split("\n")]
        for html in (page, printed):
            flat = re.sub(r">\s+<", "><", html)
            assert all(cell in flat for cell in cells), (cells, "not in page or PDF")


# The words of reporting/certainty.py, which templates get from ``certainty_words`` only.
CERTAINTY_MSGIDS = {
    "clearly higher",
    "clearly lower",
    "probably higher",
    "probably lower",
    "no clear difference",
    "clearly %(direction)s",
    "probably %(direction)s",
}
# Wordings of certainty that the one wording replaced; the methods appendix names its tests.
RETIRED = re.compile(
    r"may be chance|beyond chance|more than chance|real difference|significan",
    re.IGNORECASE,
)
MSGID = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")


def test_no_template_words_certainty_itself():
    templates = pdf.REPORTS.parent / "surveyapp" / "templates"
    found = []
    for path in [*templates.rglob("*.html"), *pdf.REPORTS.glob("*.html")]:
        if path == pdf.REPORTS / "_appendix.html":
            continue
        for match in MSGID.finditer(path.read_text()):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            if text in CERTAINTY_MSGIDS or RETIRED.search(text):
                found.append(f"{path.name}: {text[:70]}")
    assert not found, f"certainty worded in a template instead of certainty_words(): {found}"


def test_certainty_words_read_a_view_entry_in_the_pages_language(app):
    from flask import render_template_string

    entries = [
        {"diff": 0.49, "certainty": "probable"},
        {"diff": -0.3, "certainty": "clear"},
        {"diff": 0.1, "certainty": "unclear"},
        None,
    ]
    template = "{% for e in entries %}{{ certainty_words(e) }}|{% endfor %}"
    with app.test_request_context("/?lang=en"):
        english = render_template_string(template, entries=entries)
    with app.test_request_context("/?lang=nl"):
        dutch = render_template_string(template, entries=entries)
    assert english == "probably higher|clearly lower|no clear difference|no clear difference|"
    assert dutch.split("|")[:2] != ["probably higher", "clearly lower"]


def test_a_report_keeps_its_language_inside_a_request_in_another(factory, filled):
    from flask_babel import force_locale, get_locale, gettext

    view = make_view(filled, "nl")
    with factory.app.test_request_context("/?lang=en"):
        html = pdf.report_html(view)
        assert str(get_locale()) == "en"  # the page's own language is back afterwards
        assert gettext("Summary") == "Summary"
        with force_locale("nl"):
            dutch = gettext("Summary")
    assert dutch != "Summary"
    assert f">{dutch}<" in html
    assert ">Summary<" not in html
