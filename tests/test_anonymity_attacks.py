"""A curious manager (or consultant) with nothing but ordinary outputs tries to recover one
person's answers. Each test replays an attack that once worked and asserts that it now
reveals nothing. ``docs/privacy.md`` describes the threat model and the policy.
"""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Campaign, CampaignScore, Response

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
    responses_csv,
)
from .test_survey import Respondent

THRESHOLD = 5


def _organisation(make, name="Acme"):
    from surveyapp.services.users import create_user

    organisation = make.organisation(name)
    create_user(*MANAGER, "manager", organisation)
    create_user(*CONSULTANT, "consultant")
    return organisation


def _import(campaign, counts: dict[str, int], seed: int) -> None:
    from surveyapp.services.responses import import_responses

    questionnaire = campaign.questionnaire_version
    from surveyapp.services.questionnaires import questionnaire_for

    import_responses(
        campaign, responses_csv(questionnaire_for(questionnaire), counts, seed), "x.csv"
    )


def _without_tokens(text: str) -> str:
    """A page with its per-request CSRF tokens and nonces blanked."""
    text = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", text)
    return re.sub(r'(nonce=")[^"]+', r"\1", text)


def _manager_outputs(client, campaign_id: int) -> dict[str, tuple[int, str]]:
    """Everything a manager can fetch about a campaign: status and body of each."""
    paths = {
        "page": f"/results/campaigns/{campaign_id}",
        "csv": f"/results/campaigns/{campaign_id}/results.csv",
        "pdf": f"/results/campaigns/{campaign_id}/report.pdf",
        "dimension": f"/results/campaigns/{campaign_id}/dimensions/open_culture",
        "department": f"/results/campaigns/{campaign_id}/departments/COM",
        "api_results": f"/api/v1/campaigns/{campaign_id}/results",
        "api_participation": f"/api/v1/campaigns/{campaign_id}/participation",
        "api_campaigns": "/api/v1/campaigns",
    }
    outputs = {}
    for name, path in paths.items():
        response = client.get(path)
        body = response.get_data(as_text=response.mimetype != "application/pdf")
        outputs[name] = (
            response.status_code,
            _without_tokens(body) if "html" in response.mimetype else body,
        )
        outputs[name + "_etag"] = (0, response.headers.get("ETag", ""))
    return outputs


@pytest.fixture
def open_campaign(in_app, fast_password_hashes):  # noqa: F811
    """Acme with an open campaign of 12 responses (COM 6, IT 6)."""
    with in_app() as make:
        campaign = make.campaign(_organisation(make))
        _import(campaign, {"COM": 6, "IT": 6}, seed=1)
        make.commit()
        return campaign.id


# --------------------------------------------------------------------------------------
# Attack 1: two reads of an open campaign around one submission


def test_two_reads_around_one_submission_show_no_difference(
    client, in_app, open_campaign, questionnaire
):
    login(client, MANAGER)
    before = _manager_outputs(client, open_campaign)
    with in_app() as make:
        token = make.link(db.session.get(Campaign, open_campaign), "COM")
    respondent = Respondent(client, token)
    respondent.answer_all(questionnaire, value="1", comment="")
    assert "received" in respondent.submit().get_data(as_text=True).lower()
    with in_app():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 13
    after = _manager_outputs(client, open_campaign)
    assert after == before
    # No output carries the campaign's results while it is open.
    for name in ("csv", "pdf", "dimension", "department", "api_results"):
        assert before[name][0] == 409, name
    participation = json.loads(before["api_participation"][1])
    assert participation["responses"] == 10  # 12 rounded down to a multiple of 5
    assert {d["code"]: d["responses"] for d in participation["departments"]} == {
        "COM": 5,
        "HR": None,
        "IT": 5,
        "IT-OPS": None,
    }


def test_participation_moves_only_in_steps_of_the_threshold(in_app, open_campaign):
    from surveyapp.services.release import participation

    seen = []
    with in_app():
        campaign = db.session.get(Campaign, open_campaign)
        for step in range(7):
            _import(campaign, {"HR": 1}, seed=10 + step)
            seen.append(participation(campaign).departments[1].responses)
    # HR goes from 1 to 7 respondents: shown only from 5, and then as 5.
    assert seen == [None, None, None, None, 5, 5, 5]


def test_answer_files_wait_for_the_campaign_to_close(client, open_campaign):
    login(client, CONSULTANT)
    for suffix in ("responses.csv", "responses.xlsx"):
        response = client.get(f"/results/campaigns/{open_campaign}/{suffix}")
        assert response.status_code == 409, suffix
        assert "released" in response.get_data(as_text=True)


def test_cli_report_of_an_open_campaign_says_when_results_come(runner, open_campaign, tmp_path):
    out = tmp_path / "r.pdf"
    result = runner.invoke(
        args=["report", "--campaign", str(open_campaign), "--lang", "en", "--out", str(out)]
    )
    assert result.exit_code == 1
    assert "released when it closes" in result.output
    assert not out.exists()


def test_etag_says_nothing_about_counts_or_ids(client, in_app, open_campaign):
    from surveyapp.services.campaigns import close_campaign

    with in_app():
        close_campaign(db.session.get(Campaign, open_campaign))
        db.session.commit()
    login(client, MANAGER)
    first = client.get(f"/api/v1/campaigns/{open_campaign}/results")
    assert first.status_code == 200
    etag = first.headers["ETag"].strip('"')
    assert re.fullmatch(r"[0-9a-f]{32}", etag), etag
    again = client.get(
        f"/api/v1/campaigns/{open_campaign}/results", headers={"If-None-Match": f'"{etag}"'}
    )
    assert again.status_code == 304


# --------------------------------------------------------------------------------------
# Attack 4: the change since a previous campaign too small to be shown


def test_change_against_a_previous_campaign_of_two_shows_nothing_of_it(
    client,
    in_app,
    fast_password_hashes,  # noqa: F811
):
    import datetime as dt

    from surveyapp.services.campaigns import close_campaign

    today = dt.date.today()
    with in_app() as make:
        organisation = _organisation(make)
        previous = make.campaign(
            organisation,
            name="Pilot",
            opens_on=today - dt.timedelta(days=400),
            closes_on=today - dt.timedelta(days=380),
        )
        _import(previous, {"COM": 2}, seed=2)
        close_campaign(previous)
        current = make.campaign(organisation, name="Now")
        _import(current, {"COM": 6, "IT": 7, "IT-OPS": 6}, seed=3)
        close_campaign(current)
        make.commit()
        current_id = current.id
    login(client, MANAGER)
    data = client.get(f"/api/v1/campaigns/{current_id}/results").get_json()
    assert data["context"]["previous_campaign"]["responses"] is None
    assert data.get("change") in (None, {}) or all(
        entry.get("suppressed", True) for entry in _change_entries(data)
    )
    page = client.get(f"/results/campaigns/{current_id}").get_data(as_text=True)
    assert "2 respondents" not in page
    assert "too few responses to compare" in page


def _change_entries(data: dict) -> list[dict]:
    change = data.get("change")
    if isinstance(change, dict):
        return [v for v in change.values() if isinstance(v, dict)]
    return [d.get("change") or {} for d in data.get("dimensions", [])]


# --------------------------------------------------------------------------------------
# Attack 7: response counts of small campaigns and groups


def test_counts_under_the_threshold_are_never_shown(
    app,
    client,
    in_app,
    fast_password_hashes,  # noqa: F811
):
    from surveyapp.services.campaigns import close_campaign

    with in_app() as make:
        campaign = make.campaign(_organisation(make), name="Tiny")
        _import(campaign, {"COM": 3}, seed=4)
        close_campaign(campaign)
        make.commit()
        campaign_id = campaign.id
    login(client, MANAGER)
    listing = client.get("/api/v1/campaigns").get_json()["campaigns"]
    assert [c["responses"] for c in listing] == [None]
    results = client.get(f"/api/v1/campaigns/{campaign_id}/results").get_json()
    assert results["context"]["campaign"]["responses"] is None
    assert results["context"]["campaign"]["response_rate"] is None
    csv_text = client.get(f"/results/campaigns/{campaign_id}/results.csv").get_data(as_text=True)
    assert not re.search(r"(^|[,;])3([,;]|$)", csv_text, re.M)
    consultant = app.test_client()
    login(consultant, CONSULTANT)
    overview = consultant.get("/consultant/").get_data(as_text=True)
    assert "fewer than 5 responses" in overview
    assert "3 responses" not in overview


# --------------------------------------------------------------------------------------
# Closed campaigns are frozen


def test_closed_campaign_refuses_an_import_and_keeps_its_scores(runner, in_app, tmp_path):
    from surveyapp.services.campaigns import close_campaign

    with in_app() as make:
        campaign = make.campaign(make.organisation("Acme"))
        _import(campaign, {"COM": 6}, seed=5)
        close_campaign(campaign)
        make.commit()
        campaign_id = campaign.id
        scores = db.session.execute(
            sa.select(CampaignScore.dimension_id, CampaignScore.n, CampaignScore.mean)
        ).all()
        questionnaire = make.questionnaire()
    path = tmp_path / "late.csv"
    path.write_text(responses_csv(questionnaire, {"COM": 1}, seed=6))
    result = runner.invoke(args=["responses", "import", "--campaign", str(campaign_id), str(path)])
    assert result.exit_code == 1
    assert "closed" in result.output and "new campaign" in result.output
    with in_app():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 6
        assert (
            db.session.execute(
                sa.select(CampaignScore.dimension_id, CampaignScore.n, CampaignScore.mean)
            ).all()
            == scores
        )


@pytest.fixture
def questionnaire(app):
    from .conftest import Factory

    with app.app_context():
        return Factory(app).questionnaire()


# --------------------------------------------------------------------------------------
# Attacks 2 and 3: department × role crossing, and the perception gap, through the API

CROSSING_DEPARTMENTS = (
    "code,name,parent_code,headcount\n"
    "MGMT,Management,,6\nOPS,Operations,,8\nCOM,Communication,,8\nHR,Human resources,,8\n"
)


def _import_rows(campaign, rows: list[tuple[str, str, int]]) -> None:
    """``(department, role, answer)`` rows, every item answered with ``answer``."""
    from surveyapp.services.questionnaires import questionnaire_for
    from surveyapp.services.responses import import_responses

    items = [i.id for i in questionnaire_for(campaign.questionnaire_version).items]
    lines = [",".join(["department", "role_level", *items])]
    lines += [",".join([d, r, *[str(v)] * len(items)]) for d, r, v in rows]
    import_responses(campaign, "\n".join(lines) + "\n", "rows.csv")


def _published(data: dict, grouping: str, code: str, dimension: str) -> tuple[int, float] | None:
    """(n, mean) of a group on a dimension, if the JSON shows it."""
    for entry in data["dimensions"]:
        if entry["id"] != dimension or entry.get("suppressed"):
            continue
        for group in entry["groupings"][grouping]["groups"]:
            if group["label"] == code and not group["suppressed"]:
                return group["n"], group["mean"]
    return None


@pytest.fixture
def crossing_campaign(in_app, fast_password_hashes):  # noqa: F811
    """Five top managers in MGMT and one among five employees in OPS; all counts ≥ 5."""
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.users import create_user

    with in_app() as make:
        organisation = make.organisation("Crossed", CROSSING_DEPARTMENTS)
        create_user(*MANAGER, "manager", organisation)
        campaign = make.campaign(organisation)
        rows = [("MGMT", "top_management", 4)] * 5
        rows += [("OPS", "top_management", 1)]  # the person the attacker is after
        rows += [("OPS", "employee", 3)] * 5
        rows += [("COM", "employee", 3)] * 6
        rows += [("HR", "middle_management", 2)] * 6
        _import_rows(campaign, rows)
        close_campaign(campaign)
        make.commit()
        dimensions = [d.id for d in make.questionnaire().dimensions]
        return campaign.id, dimensions


def test_role_total_minus_a_department_does_not_isolate_one_person(client, crossing_campaign):
    campaign_id, dimensions = crossing_campaign
    login(client, MANAGER)
    data = client.get(f"/api/v1/campaigns/{campaign_id}/results").get_json()
    for dimension in dimensions:
        top = _published(data, "role_level", "top_management", dimension)
        mgmt = _published(data, "department", "MGMT", dimension)
        ops = _published(data, "department", "OPS", dimension)
        employees = _published(data, "role_level", "employee", dimension)
        # top − MGMT, and OPS − (employees − COM), would each give the one top manager.
        assert top is None or mgmt is None, dimension
        com = _published(data, "department", "COM", dimension)
        assert ops is None or employees is None or com is None, dimension
        assert _published(data, "department", "HR", dimension) is not None  # not all hidden
    # The page, CSV and PDF are built from the same figures; spot-check the CSV.
    csv_text = client.get(f"/results/campaigns/{campaign_id}/results.csv").get_data(as_text=True)
    assert "1.00" not in csv_text  # the lone top manager's score appears nowhere


def test_perception_gap_never_outlives_a_withheld_top_management_score(
    client,
    in_app,
    fast_password_hashes,  # noqa: F811
):
    """Top management answers only one dimension: the gap of the others would give its
    mean and spread."""
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.questionnaires import questionnaire_for
    from surveyapp.services.responses import import_responses
    from surveyapp.services.users import create_user

    with in_app() as make:
        organisation = make.organisation("Gapped")
        create_user(*MANAGER, "manager", organisation)
        campaign = make.campaign(organisation)
        questionnaire = questionnaire_for(campaign.questionnaire_version)
        first = questionnaire.dimensions[0]
        items = [i.id for i in questionnaire.items]
        lines = [",".join(["department", "role_level", *items])]
        for _ in range(5):  # top management: only the first dimension answered
            cells = ["5" if item.dimension == first.id else "" for item in questionnaire.items]
            lines.append(",".join(["IT", "top_management", *cells]))
        for k in range(12):
            lines.append(",".join(["COM", "employee", *[str(2 + k % 3)] * len(items)]))
        import_responses(campaign, "\n".join(lines) + "\n", "gap.csv")
        close_campaign(campaign)
        make.commit()
        campaign_id = campaign.id
    login(client, MANAGER)
    data = client.get(f"/api/v1/campaigns/{campaign_id}/results").get_json()
    for entry in data["dimensions"]:
        gap = entry.get("perception_gap")
        top = _published(data, "role_level", "top_management", entry["id"])
        if top is None:
            assert gap is None or gap.get("suppressed") is True, entry["id"]
            assert gap is None or set(gap) <= {"suppressed", "reason"}, entry["id"]
    shown = [e["perception_gap"] for e in data["dimensions"] if e.get("perception_gap")]
    assert any(g.get("suppressed") is False for g in shown)  # the answered one is shown


def test_comparison_leaves_out_an_organisation_whose_campaign_is_open(app, in_app, open_campaign):
    from surveyapp.services.campaigns import close_campaign

    with in_app() as make:
        other = make.campaign(make.organisation("Beta"), name="Beta survey")
        _import(other, {"COM": 6, "IT": 6}, seed=7)
        close_campaign(other)
        make.commit()
        ids = [db.session.get(Campaign, open_campaign).organisation_id, other.organisation_id]
    consultant = app.test_client()
    login(consultant, CONSULTANT)
    page = consultant.get(f"/consultant/compare?organisation={ids[0]}&organisation={ids[1]}")
    html = page.get_data(as_text=True)
    assert page.status_code == 400  # one organisation is left, nothing to compare
    assert "Left out because they have no campaign with results yet: Acme." in html


def test_department_pdfs_hold_no_figure_beyond_the_release(client, crossing_campaign):
    """Two departments' PDFs against the organisation's: every figure in any of them is a
    figure of the one audited release, so subtracting them gives nothing new."""
    from surveyapp.charts import format_number

    from .test_same_numbers import pdf_text, published_numbers

    campaign_id, _dimensions = crossing_campaign
    login(client, MANAGER)
    release = client.get(f"/api/v1/campaigns/{campaign_id}/results").get_json()
    shown = {format_number(abs(v)) for v in published_numbers(release)}
    shown |= {format_number(k / 4) for k in range(41)}  # chart axis ticks, not data
    shown |= {"0.01", "0.06", "0.14", "0.70", "0.80"}  # cut-offs named in the methods text
    departments = [d["code"] for d in release["context"]["departments"] if not d["suppressed"]]
    assert len(departments) >= 2
    checked = 0
    for department in [None, *departments]:
        query = f"?department={department}" if department else ""
        response = client.get(f"/results/campaigns/{campaign_id}/report.pdf{query}")
        assert response.status_code == 200, department
        for number in re.findall(r"(?<![\d.,])\d+\.\d\d(?![\d%])", pdf_text(response.data)):
            assert number in shown, (department, number)
            checked += 1
    assert checked > 100
    withheld = [d["code"] for d in release["context"]["departments"] if d["suppressed"]]
    for department in withheld:
        response = client.get(
            f"/results/campaigns/{campaign_id}/report.pdf?department={department}"
        )
        assert response.status_code == 404, department
