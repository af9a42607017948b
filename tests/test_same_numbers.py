"""One number, one origin: the page, the PDF, the results CSV and the API agree.

The API JSON is the reference (the analysis itself). Every figure is printed with
``charts.format_number`` (two decimals) on the page and in the PDF, and written at full
precision in the CSV, which must equal the JSON value.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess

import pytest

from surveyapp.charts import format_number

from .dashboard_data import (
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)

WITHHELD = ("HR", "COM")
WITHHELD_NAMES = ("Human resources", "Communication")


def words(html: str) -> str:
    html = re.sub(r"<(svg|script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def pdf_text(data: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (Debian's poppler-utils) is needed; `make test` installs it.")
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def interval_pattern(ci) -> str:
    low, high = (re.escape(format_number(v)) for v in ci)
    return rf"{low}\s*–\s*{high}"


def render_all(client, in_app):
    """The four outputs of one campaign: API JSON, page HTML, results CSV rows, PDF text."""
    with in_app() as make:
        results = build_results(make)
    login(client, MANAGER)
    base = f"/results/campaigns/{results.campaign_id}"
    api = client.get(f"/api/v1/campaigns/{results.campaign_id}/results").get_json()
    page = client.get(base).get_data(as_text=True)
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"{base}/results.csv").get_data(as_text=True)))
    )
    pdf = client.get(f"{base}/report.pdf")
    assert pdf.mimetype == "application/pdf"
    return {"api": api, "page": page, "csv": rows, "pdf": pdf_text(pdf.data)}


def csv_row(rows, section, dimension="", group=""):
    found = [
        r
        for r in rows
        if r["section"] == section
        and r["dimension_id"] == dimension
        and (not group or r["group_code"] == group)
    ]
    assert len(found) == 1, (section, dimension, group)
    return found[0]


def check_overall_mean_and_interval_agree(outputs):
    overall = outputs["api"]["organisation"]["overall"]
    mean = format_number(overall["mean"])
    assert f"Average score {mean}" in words(outputs["page"])
    assert mean in outputs["pdf"]
    assert re.search(interval_pattern(overall["ci95"]), outputs["pdf"])
    row = csv_row(outputs["csv"], "overall")
    assert float(row["mean"]) == overall["mean"]
    assert [float(row["ci_low"]), float(row["ci_high"])] == overall["ci95"]
    assert int(row["n"]) == overall["n"]


def check_each_dimension_mean_and_interval_agree(outputs):
    page = words(outputs["page"])
    for dimension in outputs["api"]["dimensions"]:
        mean, ci = dimension["mean"], dimension["ci95"]
        # Page: the table behind the bar chart; PDF: the dimension's own page.
        assert re.search(rf"{re.escape(format_number(mean))}\s+{interval_pattern(ci)}", page), (
            dimension["id"]
        )
        assert re.search(
            rf"{re.escape(format_number(mean))}\s*\({interval_pattern(ci)}\)", outputs["pdf"]
        ), dimension["id"]
        row = csv_row(outputs["csv"], "dimension", dimension["id"])
        assert float(row["mean"]) == mean
        assert [float(row["ci_low"]), float(row["ci_high"])] == ci


def check_a_department_mean_agrees(outputs):
    html = outputs["page"]
    table = re.search(r'<table class="table table-heat">.*?</table>', html, re.S).group(0)
    page_row = words(next(r for r in table.split("<tr>") if "IT operations" in r))
    pdf_lines = [line for line in outputs["pdf"].splitlines() if "IT operations" in line]
    for dimension in outputs["api"]["dimensions"]:
        group = next(
            g for g in dimension["groupings"]["department"]["groups"] if g["label"] == "IT-OPS"
        )
        mean = format_number(group["mean"])
        assert mean in page_row, dimension["id"]
        assert any(mean in line for line in pdf_lines), dimension["id"]
        row = csv_row(outputs["csv"], "department", dimension["id"], "IT-OPS")
        assert float(row["mean"]) == group["mean"]
        assert int(row["n"]) == group["n"]


def check_withheld_departments_have_no_number_anywhere(outputs):
    for dimension in outputs["api"]["dimensions"]:
        for group in dimension["groupings"]["department"]["groups"]:
            if group["label"] in WITHHELD:
                assert group["suppressed"] and "mean" not in group and "n" not in group
    for row in outputs["csv"]:
        if row["group_code"] in WITHHELD:
            assert row["suppressed"] == "yes"
            assert row["n"] == row["mean"] == row["ci_low"] == row["response_rate"] == ""
    table = re.search(r'<table class="table table-heat">.*?</table>', outputs["page"], re.S)
    for name in WITHHELD_NAMES:
        row = next(r for r in table.group(0).split("<tr>") if name in r)
        assert not re.search(r"\d", words(row).replace(name, "")), row
        for line in outputs["pdf"].splitlines():
            if line.strip().startswith(name):
                assert not re.search(r"\d\.\d\d", line), line


def test_page_pdf_csv_and_api_show_the_same_numbers(client, in_app, fast_password_hashes):  # noqa: F811
    # One test, because rendering the PDF is the slow part (seconds): each check names
    # the figure that differs.
    outputs = render_all(client, in_app)
    check_overall_mean_and_interval_agree(outputs)
    check_each_dimension_mean_and_interval_agree(outputs)
    check_a_department_mean_agrees(outputs)
    check_withheld_departments_have_no_number_anywhere(outputs)
    check_no_output_shows_a_figure_the_release_does_not_hold(outputs)
    check_benchmark_percentiles_in_words_are_the_released_ones(outputs)


def published_numbers(node) -> set[float]:
    """Every number of the released report (the API JSON): the published figures."""
    if isinstance(node, dict):
        return set().union(*(published_numbers(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(published_numbers(v) for v in node)) if node else set()
    if isinstance(node, bool) or not isinstance(node, int | float):
        return set()
    return {float(node)}


def check_no_output_shows_a_figure_the_release_does_not_hold(outputs):
    figures = published_numbers(outputs["api"])
    shown = {format_number(abs(v)) for v in figures}
    checked = {"csv": 0, "page": 0, "pdf": 0}
    for row in outputs["csv"]:
        for column, cell in row.items():
            if re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", cell or ""):
                assert float(cell) in figures, (column, cell, row["section"])
                checked["csv"] += 1
    for name in ("page", "pdf"):
        text = words(outputs[name]) if name == "page" else outputs["pdf"]
        for number in re.findall(r"(?<![\d.,])\d+\.\d\d(?![\d%])", text):
            assert number in shown, (name, number)
            checked[name] += 1
    # Each output really was read: hundreds of figures, not a vacuous pass.
    assert min(checked.values()) > 100, checked


def check_benchmark_percentiles_in_words_are_the_released_ones(outputs):
    """The summary in words and the dimension texts name benchmark percentiles ("percentile
    75", "higher than 58% of the 12 organisations"): each is a released percentile."""
    released = {
        round(d["benchmark"]["percentile_rank"])
        for d in outputs["api"]["dimensions"]
        if d.get("benchmark") and d["benchmark"].get("percentile_rank") is not None
    }
    said = 0
    for name in ("page", "pdf"):
        text = words(outputs[name]) if name == "page" else re.sub(r"\s+", " ", outputs["pdf"])
        for found in re.findall(r"percentile (\d+)|higher than (\d+)% of the", text):
            value = int(found[0] or found[1])
            assert value in released, (name, value, released)
            said += 1
    # With no norm group released (too few other organisations) no text may claim one.
    assert (said > 0) is bool(released), (said, released)
