"""Downloads: streamed, anonymised, and never a number for a withheld group."""

from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from surveyapp.services.exports import RESULT_COLUMNS, result_rows

from .dashboard_data import (
    CONSULTANT,
    CURRENT,
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)

NUMBER_COLUMNS = [
    c
    for c in RESULT_COLUMNS
    if c not in ("section", "dimension_id", "dimension", "group_code", "group", "suppressed")
    and c not in ("reason", "level_name", "level_uncertain", "agreement_ok")
    and not c.endswith("significant")
]


@pytest.fixture
def results(in_app, fast_password_hashes):  # noqa: F811
    with in_app() as make:
        return build_results(make)


@pytest.fixture
def manager(client, results):
    login(client, MANAGER)
    return client


@pytest.fixture
def consultant(client, results):
    login(client, CONSULTANT)
    return client


def test_managers_cannot_download_individual_answers(manager, results):
    # The survey tells staff that managers never see individual answers.
    for suffix in ("responses.csv", "responses.xlsx"):
        response = manager.get(f"/results/campaigns/{results.campaign_id}/{suffix}")
        assert response.status_code == 403, suffix
    page = manager.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    assert "responses.csv" not in page and "results.csv" in page


def test_responses_csv_is_streamed_and_folds_small_departments(consultant, results):
    response = consultant.get(f"/results/campaigns/{results.campaign_id}/responses.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "private, no-store"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert len(rows) == sum(CURRENT.values())
    labels = Counter(row["department"] for row in rows)
    assert "HR" not in labels  # 3 people: folded away
    assert all(count >= 5 for count in labels.values()), labels
    assert "submitted_on" not in rows[0]


def test_responses_xlsx_is_streamed_and_matches_the_csv(consultant, results):
    from openpyxl import load_workbook

    response = consultant.get(f"/results/campaigns/{results.campaign_id}/responses.xlsx")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:2] == ("department", "role_level")
    assert len(rows) - 1 == sum(CURRENT.values())
    assert "HR" not in {row[0] for row in rows[1:]}


def test_results_csv_withholds_numbers_of_suppressed_groups(manager, results):
    response = manager.get(f"/results/campaigns/{results.campaign_id}/results.csv")
    assert response.status_code == 200 and response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == RESULT_COLUMNS
    withheld = [row for row in rows if row["suppressed"] == "yes"]
    assert {row["group_code"] for row in withheld if row["section"] == "department"} == {
        "HR",
        "COM",
    }
    for row in withheld:
        assert row["reason"], row
        assert all(row[column] == "" for column in NUMBER_COLUMNS), row
    shown = [row for row in rows if row["suppressed"] == "no"]
    assert {row["section"] for row in shown} >= {
        "overall",
        "participation",
        "dimension",
        "department",
        "role_level",
        "item",
    }
    it_ops = [r for r in shown if r["section"] == "department" and r["group_code"] == "IT-OPS"]
    assert all(float(r["n"]) == CURRENT["IT-OPS"] for r in it_ops)


def test_result_rows_of_an_unpublished_view_hold_nothing():
    from surveyapp.reporting.view import (
        CampaignInfo,
        HeatMap,
        NormGroup,
        OrganisationInfo,
        Overall,
        Policy,
        ReportView,
        Scale,
    )

    view = ReportView(
        lang="en",
        generated_on="2026-04-01",
        title="Survey",
        organisation=OrganisationInfo(id=1, name="Tiny"),
        campaign=CampaignInfo(
            id=1, name="Spring", status="closed", opens_on="2026-03-01", closes_on="2026-03-31"
        ),
        departments=(),
        norm_group=NormGroup(description="all organisations"),
        previous_campaign=None,
        threshold=5,
        policy=Policy(min_group_size=5, min_comment_group_size=10),
        published=False,
        no_responses=False,
        overall=Overall(),
        scale=Scale(min=1, max=5),
        levels=(),
        dimensions=(),
        strengths=(),
        heatmap=HeatMap(),
        has_gap=False,
        has_change=False,
        has_benchmark=False,
        departments_shown=False,
        suppressed_groups=(),
    )
    rows = list(result_rows(view, ()))
    assert len(rows) == 1 and rows[0]["suppressed"] == "yes"
    assert not any(rows[0].get(column) for column in NUMBER_COLUMNS)
