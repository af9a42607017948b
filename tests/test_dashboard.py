"""The manager's result pages: who may see them, what they say first, what they withhold."""

from __future__ import annotations

import re

import pytest

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    OTHER_MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)


@pytest.fixture
def results(in_app, fast_password_hashes):  # noqa: F811
    with in_app() as make:
        return build_results(make)


def text_of(html: str) -> str:
    """The page's visible words, tags removed and spaces collapsed."""
    html = re.sub(r"<(svg|script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def table_row(html: str, name: str, table_class: str) -> str:
    """The HTML of the row headed ``name`` in the first table with ``table_class``."""
    table = re.search(rf'<table class="table {table_class}">.*?</table>', html, re.S)
    assert table, f"no table {table_class}"
    for row in re.findall(r"<tr>.*?</tr>", table.group(0), re.S):
        if re.search(rf"<th[^>]*>\s*(<a[^>]*>)?{re.escape(name)}", row):
            return row
    raise AssertionError(f"no row {name!r} in {table_class}")


def test_signed_out_visitor_is_sent_to_sign_in(client, results):
    response = client.get(f"/results/campaigns/{results.campaign_id}")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_manager_lands_on_own_organisation_and_its_campaigns(client, results):
    login(client, MANAGER)
    home = client.get("/organisations")
    assert home.headers["Location"].endswith(f"/results/organisations/{results.organisation_id}")
    page = client.get(home.headers["Location"]).get_data(as_text=True)
    assert f"/results/campaigns/{results.campaign_id}" in page
    assert f"/results/campaigns/{results.previous_id}" in page
    # The sector in the reader's language, never the stored key.
    assert "Government" in page and "government ·" not in page


def test_campaign_page_puts_the_headline_first(client, results):
    login(client, MANAGER)
    html = client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    text = text_of(html)
    headline = text.index("Overall maturity")
    # Level, average with its interval, strongest and weakest come before any chart.
    assert re.search(r"Level \d of 5: \w+", text)
    assert text.index("Strongest dimension") < text.index("Score per dimension", headline + 1)
    assert "Weakest dimension" in text
    assert "33 of 55 staff (60%)" in text
    assert html.index('class="headline"') < html.index("<svg")


def test_every_chart_has_a_title_and_a_table(client, results):
    login(client, MANAGER)
    html = client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    for kind in ("dimensions", "heatmap", "gap", "change"):
        assert f"chart-{kind}" in html, kind
    for svg in re.findall(r"<svg\b[^>]*>", html):
        assert 'role="img"' in svg and "aria-label=" in svg
    for section in ("dimensions", "departments", "gap", "change"):
        body = html[html.index(f'<section id="{section}"') :]
        body = body[: body.index("</section>")]
        assert "<svg" in body and "<details" in body and "<table" in body, section


def test_withheld_department_shows_no_number(client, results):
    login(client, MANAGER)
    html = client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    for name in ("Human resources", "Communication"):
        row = table_row(html, name, "table-heat")
        assert "withheld" in row
        assert not re.search(r"\d\.\d\d", row), row
    # Response counts: the withheld departments show their headcount but no count or rate.
    participation = html[html.index('id="participation"') :]
    hr = participation[participation.index("Human resources") :]
    hr = hr[: hr.index("</tr>")]
    assert "withheld" in hr and "fewer than 5 respondents" in hr
    assert re.findall(r'<td class="num">([^<]*)</td>', hr) == ["8", "–"]


def test_significant_department_is_flagged_with_its_table_mark(client, results):
    login(client, MANAGER)
    html = client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    row = table_row(html, "IT operations", "table-heat")
    assert "above the rest" in row
    assert "IT operations on" in text_of(html)


def test_dimension_page_has_distributions_groups_and_next_step(client, results, in_app):
    with in_app() as make:
        questionnaire = make.questionnaire()
    dimension = questionnaire.dimensions[0]
    login(client, MANAGER)
    html = client.get(
        f"/results/campaigns/{results.campaign_id}/dimensions/{dimension.id}"
    ).get_data(as_text=True)
    text = text_of(html)
    assert dimension.name["en"] in text
    assert "Recommended next step" in text
    for item in dimension.items:
        assert item.text["en"] in html
    assert html.count("chart-distribution") >= len(dimension.items)
    assert "chart-groups" in html and "Show the figures as a table" in text
    assert (
        client.get(f"/results/campaigns/{results.campaign_id}/dimensions/nope").status_code == 404
    )


def test_department_page_only_for_published_departments(client, results):
    login(client, MANAGER)
    base = f"/results/campaigns/{results.campaign_id}/departments"
    assert client.get(f"{base}/IT-OPS").status_code == 200
    assert client.get(f"{base}/HR").status_code == 404
    assert client.get(f"{base}/NOPE").status_code == 404
    assert (
        client.get(f"/results/campaigns/{results.campaign_id}/report.pdf?department=HR").status_code
        == 404
    )


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/dimensions/open_culture",
        "/departments/IT",
        "/report.pdf",
        "/results.csv",
        "/responses.csv",
        "/responses.xlsx",
    ],
)
def test_manager_cannot_open_another_organisations_results(client, results, path):
    login(client, OTHER_MANAGER)
    assert client.get(f"/results/campaigns/{results.campaign_id}{path}").status_code == 403
    assert client.get(f"/results/organisations/{results.organisation_id}").status_code == 403


def test_consultant_sees_every_organisation(client, results):
    login(client, CONSULTANT)
    assert client.get("/organisations").headers["Location"].endswith("/consultant/")
    assert client.get(f"/results/campaigns/{results.campaign_id}").status_code == 200
    assert client.get(f"/results/campaigns/{results.other_campaign_id}").status_code == 200


def test_campaign_below_threshold_publishes_nothing(client, in_app, fast_password_hashes):  # noqa: F811
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.responses import import_responses
    from surveyapp.services.users import create_user

    from .dashboard_data import responses_csv

    with in_app() as make:
        organisation = make.organisation("Tiny")
        campaign = make.campaign(organisation)
        import_responses(campaign, responses_csv(make.questionnaire(), {"IT": 3}, 4), "x.csv")
        close_campaign(campaign)
        create_user(*MANAGER, "manager", organisation)
        make.commit()
        campaign_id = campaign.id
    login(client, MANAGER)
    html = client.get(f"/results/campaigns/{campaign_id}").get_data(as_text=True)
    assert "Too few responses to show results" in html
    assert "<svg" not in html
    assert not re.search(r"\d\.\d\d", text_of(html))
    download = client.get(f"/results/campaigns/{campaign_id}/results.csv")
    assert "4.00" not in download.get_data(as_text=True)


def test_api_tokens_page_shows_a_new_token_once_and_revokes(client, results, in_app):
    from .dashboard_data import csrf_token

    login(client, MANAGER)
    page = client.get("/results/api-tokens").get_data(as_text=True)
    created = client.post(
        "/results/api-tokens", data={"csrf_token": csrf_token(page), "name": "Nightly export"}
    ).get_data(as_text=True)
    secret = re.search(r'<code class="secret">([^<]+)</code>', created).group(1)
    assert secret.startswith("sbm_")
    listing = client.get("/results/api-tokens").get_data(as_text=True)
    assert "Nightly export" in listing and secret not in listing
    token_id = re.search(r'name="token_id" value="(\d+)"', listing).group(1)
    client.post(
        "/results/api-tokens",
        data={"csrf_token": csrf_token(listing), "action": "revoke", "token_id": token_id},
    )
    assert "You have no tokens." in client.get("/results/api-tokens").get_data(as_text=True)
    empty = client.post(
        "/results/api-tokens", data={"csrf_token": csrf_token(listing), "name": " "}
    )
    assert empty.status_code == 400


@pytest.mark.parametrize("page", ["", "/dimensions/trust"])
def test_element_ids_are_unique_on_result_pages(client, results, page):
    # Charts are drawn at two widths on one page; their ids (hatch patterns, titles that
    # aria-describedby points to) must not collide.
    login(client, MANAGER)
    response = client.get(f"/results/campaigns/{results.campaign_id}{page}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates, sorted(duplicates)[:5]


def test_downloads_in_each_language_have_their_own_file_name(client, results):
    login(client, MANAGER)
    names = {}
    for lang in ("nl", "en"):
        for kind in ("report.pdf", "results.csv"):
            response = client.get(f"/results/campaigns/{results.campaign_id}/{kind}?lang={lang}")
            assert response.status_code == 200
            response.get_data()  # a streamed download holds its request open until read
            response.close()
            disposition = response.headers["Content-Disposition"]
            names[lang, kind] = re.search(r'filename="([^"]+)"', disposition).group(1)
    for kind in ("report.pdf", "results.csv"):
        assert names["nl", kind] != names["en", kind]
        assert names["nl", kind].endswith("-nl." + kind.split(".")[1])
