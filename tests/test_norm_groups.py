"""Norm groups chosen per campaign: what is offered, what reaches the analysis and every
output, the fallback, and the anonymity floor (docs/privacy.md, "Norm groups")."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from .conftest import prebuilt, quick_password_hashes
from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    build_results,
    csrf_token,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)


@pytest.fixture(autouse=True)
def fresh_norm_tables():
    """Each test has a new database whose campaign ids repeat: forget cached norm tables."""
    from surveyapp.services import aggregates

    aggregates._NORM_TABLES.clear()
    yield
    aggregates._NORM_TABLES.clear()


def add_peers(make, specs: list[tuple[str, str, str]], seed: int = 7) -> list[int]:
    """Organisations (name, sector, size band) with one closed campaign each, whose
    stored dimension scores come from 20 respondents; returns their ids."""
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import CampaignScore
    from surveyapp.services.campaigns import close_campaign, create_campaign, open_campaign
    from surveyapp.services.organisations import create_organisation, import_departments

    rng = np.random.default_rng(seed)
    questionnaire = make.questionnaire()
    ids = []
    for name, sector, size_band in specs:
        organisation = create_organisation(name, sector, size_band)
        import_departments(organisation, "code,name,parent_code,headcount\nALL,All,,30\n", "d.csv")
        campaign = create_campaign(
            organisation,
            questionnaire,
            "Survey",
            make_date(-60),
            make_date(-30),
        )
        open_campaign(campaign)
        close_campaign(campaign)
        db.session.execute(
            sa.update(CampaignScore)
            .where(CampaignScore.campaign_id == campaign.id)
            .values(n=20, mean=float(rng.uniform(2, 4)))
        )
        ids.append(organisation.id)
    make.commit()
    return ids


def make_date(days: int):
    import datetime as dt

    return dt.date.today() + dt.timedelta(days=days)


# Acme and Beta (tests/dashboard_data.py) are government, 250-999. With these six, Acme's
# sector has 6 other organisations (Beta and five more), all organisations 12, and the
# 6 outside its sector are not too few to hide among.
PEERS = [
    *[(f"Gov {k}", "government", "1000+") for k in range(5)],
    *[(f"Care {k}", "healthcare", "250-999") for k in range(6)],
]


def build_world(make):
    with quick_password_hashes():
        return build_results(make), add_peers(make, PEERS)


# Built once per run; each test starts from its own copy of the database.
world = prebuilt("world", build_world)


def choose(client, campaign_id: int, value: str):
    page = client.get(f"/consultant/setup/campaigns/{campaign_id}/norm-group")
    assert page.status_code == 200
    return client.post(
        f"/consultant/setup/campaigns/{campaign_id}/norm-group",
        data={"norm_group": value, "csrf_token": csrf_token(page.get_data(as_text=True))},
    )


def stored_choice(in_app, campaign_id: int) -> str | None:
    from surveyapp.extensions import db
    from surveyapp.models import Campaign

    with in_app():
        return db.session.get(Campaign, campaign_id).norm_group


def test_options_count_other_organisations_and_apply_the_floor(in_app, world):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.aggregates import campaign_norm_options

    results, _peers = world
    with in_app():
        options = campaign_norm_options(db.session.get(Campaign, results.campaign_id))
    assert {k: o.organisations for k, o in options.items()} == {
        "all": 12,  # Beta, five government, six healthcare; never Acme itself
        "sector": 6,  # Beta and the five government organisations
        "size": 7,  # Beta and the six healthcare organisations
        "sector_size": 1,  # Beta
    }
    assert options["all"].usable and options["sector"].usable and options["size"].usable
    assert options["sector_size"].problem == "too_few"


def test_chosen_group_reaches_the_analysis_and_every_output(client, in_app, world):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.aggregates import norm_group
    from surveyapp.services.designs import design_for
    from surveyapp.services.questionnaires import questionnaire_for
    from surveyapp.services.reporting import released_report

    results, _peers = world
    login(client, CONSULTANT)
    response = choose(client, results.campaign_id, "sector")
    assert response.status_code == 302
    assert stored_choice(in_app, results.campaign_id) == "sector"

    with in_app():
        campaign = db.session.get(Campaign, results.campaign_id)
        report = released_report(campaign)
        dimensions = design_for(questionnaire_for(campaign.questionnaire_version)).dimension_ids
        expected = norm_group(campaign, dimensions, sector="government")
    assert report.norm_group["key"] == "sector" and report.norm_group["fallback"] is None
    assert report.norm_group["organisations"] == 6 == len(expected.organisation_ids)
    benchmark = report.analysis.benchmark
    assert benchmark is not None
    # The benchmark is computed from exactly the sector's means.
    np.testing.assert_allclose(benchmark.median, np.nanmedian(expected.means, axis=0))
    assert list(benchmark.n_per_dimension) == [6] * len(dimensions)

    name = "6 organisations in sector Government"
    page = client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    assert f"Norm group: {name}." in page
    csv = client.get(f"/results/campaigns/{results.campaign_id}/results.csv")
    overall = next(line for line in csv.get_data(as_text=True).splitlines() if "overall" in line)
    assert name in overall
    data = client.get(f"/api/v1/campaigns/{results.campaign_id}/results").get_json()
    assert data["context"]["norm_group"] == {
        "key": "sector",
        "chosen": "sector",
        "fallback": None,
        "description": "sector government",
        "sector": "government",
        "size_band": None,
        "organisations": 6,
    }
    # Dutch page: the sector's Dutch name and the plural
    client.post("/auth/language/nl", data={"csrf_token": csrf_token(page)})
    dutch = client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    assert "Normgroep: 6 organisaties in de sector Overheid." in dutch


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_the_pdf_names_the_norm_group_and_its_size(client, in_app, world, tmp_path):
    results, _peers = world
    login(client, CONSULTANT)
    choose(client, results.campaign_id, "size")
    pdf = client.get(f"/results/campaigns/{results.campaign_id}/report.pdf?lang=en")
    assert pdf.status_code == 200
    (tmp_path / "report.pdf").write_bytes(pdf.data)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True
    ).stdout
    assert "Norm group: 7 organisations with 250-999 employees." in " ".join(text.split())


def test_changing_the_group_after_closing_renews_the_cached_report(client, in_app, world):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.reporting import released_report

    results, _peers = world
    login(client, MANAGER)
    before = client.get(f"/api/v1/campaigns/{results.campaign_id}/results")
    assert before.get_json()["context"]["norm_group"]["organisations"] == 12
    with in_app():
        first = released_report(db.session.get(Campaign, results.campaign_id))
    client.get("/auth/logout")
    login(client, CONSULTANT)
    choose(client, results.campaign_id, "size")
    with in_app():
        second = released_report(db.session.get(Campaign, results.campaign_id))
    assert first is not second and second.norm_group["key"] == "size"
    after = client.get(
        f"/api/v1/campaigns/{results.campaign_id}/results",
        headers={"If-None-Match": before.headers["ETag"]},
    )
    assert after.status_code == 200  # a new ETag: the old one no longer matches
    assert after.get_json()["context"]["norm_group"]["organisations"] == 7


def test_a_group_that_shrank_under_five_falls_back_to_all_and_says_so(client, in_app, world):
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    results, _peers = world
    login(client, CONSULTANT)
    choose(client, results.campaign_id, "sector")
    # Two government organisations are corrected to healthcare: the sector keeps four.
    with in_app() as make:
        for name in ("Gov 0", "Gov 1"):
            db.session.scalar(sa.select(Organisation).filter_by(name=name)).sector = "healthcare"
        make.commit()
    data = client.get(f"/api/v1/campaigns/{results.campaign_id}/results").get_json()
    norm = data["context"]["norm_group"]
    assert (norm["key"], norm["chosen"], norm["fallback"]) == ("all", "sector", "too_few")
    assert norm["organisations"] == 12
    page = client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    assert "Norm group: 12 organisations: all others that used this questionnaire." in page
    assert (
        "The norm group chosen for this report, sector Government, now has fewer than 5 "
        "other organisations with results. So this report compares with all organisations "
        "instead." in " ".join(page.split())
    )
    csv = client.get(f"/results/campaigns/{results.campaign_id}/results.csv")
    assert "now has fewer than 5 other organisations" in csv.get_data(as_text=True)
    # The choice itself is kept: once the sector grows again, the report follows it.
    assert stored_choice(in_app, results.campaign_id) == "sector"


def test_a_group_that_leaves_out_one_to_four_of_a_larger_one_is_not_used(client, in_app, world):
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import Organisation

    results, _peers = world
    login(client, CONSULTANT)
    choose(client, results.campaign_id, "sector")
    # Four healthcare organisations become government: all organisations (12) then differs
    # from the sector (10) by two organisations, whose quartiles could be told apart.
    with in_app() as make:
        for name in ("Care 0", "Care 1", "Care 2", "Care 3"):
            db.session.scalar(sa.select(Organisation).filter_by(name=name)).sector = "government"
        make.commit()
    norm = client.get(f"/api/v1/campaigns/{results.campaign_id}/results").get_json()["context"][
        "norm_group"
    ]
    assert (norm["key"], norm["fallback"]) == ("all", "too_close")
    page = " ".join(
        client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True).split()
    )
    assert "now leaves out only 2 organisations of a larger group" in page


def test_groups_not_offered_are_explained_and_refused(client, in_app, world):
    results, _peers = world
    login(client, CONSULTANT)
    page = client.get(f"/consultant/setup/campaigns/{results.campaign_id}/norm-group")
    html = " ".join(page.get_data(as_text=True).split())
    assert 'value="sector"' in html and 'value="size"' in html
    assert 'value="sector_size"' not in html  # one other organisation: not offered
    assert (
        "Same sector and size: Government, 250-999 employees: 1 other organisation has "
        "results on this questionnaire; at least 5 are needed." in html
    )
    refused = choose(client, results.campaign_id, "sector_size")
    assert refused.status_code == 400
    assert "This norm group cannot be chosen now." in refused.get_data(as_text=True)
    assert stored_choice(in_app, results.campaign_id) is None
    unknown = choose(client, results.campaign_id, "everyone")
    assert unknown.status_code == 400
    assert "Choose one of the norm groups in the list." in unknown.get_data(as_text=True)
    assert stored_choice(in_app, results.campaign_id) is None


def test_the_service_refuses_what_the_form_does_not_offer(in_app, world):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services import ServiceError
    from surveyapp.services.campaigns import choose_norm_group

    results, _peers = world
    with in_app():
        campaign = db.session.get(Campaign, results.campaign_id)
        with pytest.raises(ServiceError, match="at least 5 are needed"):
            choose_norm_group(campaign, "sector_size")
        with pytest.raises(ServiceError, match="not known"):
            choose_norm_group(campaign, "planet")
        assert campaign.norm_group is None
        assert choose_norm_group(campaign, "size") == ("all", "size")
        assert choose_norm_group(campaign, "size") is None
        assert choose_norm_group(campaign, "all") == ("size", "all")
        assert campaign.norm_group is None


def test_a_new_campaign_takes_its_norm_group_from_the_form(client, in_app, world):
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import AuditEvent, Campaign

    results, _peers = world
    login(client, CONSULTANT)
    url = f"/consultant/setup/organisations/{results.organisation_id}/campaigns/new"
    form = client.get(url).get_data(as_text=True)
    assert "Norm group for the report" in form and 'value="sector"' in form
    questionnaire = re.search(r'value="([\w-]+:\d+)"', form)
    data = {
        "csrf_token": csrf_token(form),
        "name": "Next year",
        "questionnaire": questionnaire.group(1),
        "opens_on": str(make_date(30)),
        "closes_on": str(make_date(60)),
        "min_group_size": "5",
        "min_comment_group_size": "10",
        "max_reminders": "2",
        "norm_group": "size",
    }
    assert client.post(url, data=data).status_code == 302
    with in_app():
        campaign = db.session.scalar(sa.select(Campaign).filter_by(name="Next year"))
        assert campaign.norm_group == "size"
        event = db.session.scalar(
            sa.select(AuditEvent).filter_by(event="campaign_created").order_by(AuditEvent.id.desc())
        )
        assert "norm group size" in event.detail
    # Not offered: the draft is not created at all.
    refused = client.post(url, data={**data, "name": "Too small", "norm_group": "sector_size"})
    assert refused.status_code == 200 and "cannot be chosen now" in refused.get_data(as_text=True)
    with in_app():
        assert db.session.scalar(sa.select(Campaign).filter_by(name="Too small")) is None


def test_norm_page_names_sectors_in_both_languages_with_plurals(client, in_app, world):
    results, _peers = world
    login(client, CONSULTANT)
    english = " ".join(client.get("/consultant/norms").get_data(as_text=True).split())
    # 13 organisations: 7 government, 6 healthcare; sizes 250-999 (8) and 1000+ (5).
    assert "13 organisations" in english and "7 organisations" in english
    assert "Government" in english and "Healthcare" in english and "healthcare<" not in english
    assert "No organisation with results yet in: Education, Finance, Retail" in english
    assert "1000+ employees" in english
    page = client.get("/consultant/norms").get_data(as_text=True)
    client.post("/auth/language/nl", data={"csrf_token": csrf_token(page)})
    dutch = " ".join(client.get("/consultant/norms").get_data(as_text=True).split())
    assert "Overheid" in dutch and "Zorg" in dutch and "13 organisaties" in dutch
    assert "1000+ medewerkers" in dutch
    assert "Government" not in dutch and "government" not in dutch
    bad = client.get("/consultant/norms?version=latest")
    assert bad.status_code == 200 and "Een deel van het adres is genegeerd" in bad.get_data(
        as_text=True
    )


def test_group_names_use_the_singular_and_the_plural(app):
    from flask_babel import force_locale

    from surveyapp.services.reporting import _group_name

    with app.test_request_context():
        for lang, one, many in (
            ("en", "1 organisation in sector Retail", "2 organisations in sector Retail"),
            (
                "nl",
                "1 organisatie in de sector Detailhandel",
                "2 organisaties in de sector Detailhandel",
            ),
        ):
            with force_locale(lang):
                assert _group_name("sector", "retail", None, 1) == one
                assert _group_name("sector", "retail", None, 2) == many


# ---------------------------------------------------------------------------------
# Anonymity: no report can be benchmarked against a group in which one other
# organisation's scores could be read off, alone or by setting two groups side by side.


def test_no_usable_group_is_small_or_close_to_a_larger_one(app):
    """For every way of spreading 3 to 14 other organisations over two sectors and two
    size bands, each group a report may use has at least 5 organisations, and it differs
    from each larger group it is part of by none or at least 5."""
    from surveyapp.services import aggregates

    rng = np.random.default_rng(11)
    with app.app_context():
        for _trial in range(300):
            others = int(rng.integers(3, 15))
            sectors = rng.choice(["a", "b"], others)
            sizes = rng.choice(["s", "l"], others)
            members = {
                "all": set(range(others)),
                "sector": {i for i in range(others) if sectors[i] == "a"},
                "size": {i for i in range(others) if sizes[i] == "s"},
                "sector_size": {i for i in range(others) if sectors[i] == "a" and sizes[i] == "s"},
            }
            options = aggregates.options_from_members(members)
            for key, option in options.items():
                if key == "all" or not option.usable:
                    continue
                assert len(members[key]) >= aggregates.MIN_NORM_ORGANISATIONS
                for larger in aggregates._CONTAINING[key]:
                    gap = len(members[larger] - members[key])
                    assert gap == 0 or gap >= aggregates.MIN_NORM_ORGANISATIONS, (key, larger)


def test_a_report_never_benchmarks_against_fewer_than_five(client, in_app, fast_password_hashes):  # noqa: F811
    """With four other organisations there is no benchmark at all, whatever is chosen."""
    with in_app() as make:
        results = build_results(make)  # Acme and Beta
        add_peers(make, [(f"Gov {k}", "government", "250-999") for k in range(3)])
    login(client, CONSULTANT)
    data = client.get(f"/api/v1/campaigns/{results.campaign_id}/results").get_json()
    assert data["context"]["norm_group"]["organisations"] == 4
    assert all(d.get("benchmark") is None for d in data["dimensions"])
    page = client.get(f"/consultant/setup/campaigns/{results.campaign_id}/norm-group")
    html = " ".join(page.get_data(as_text=True).split())
    assert 'value="sector"' not in html and 'value="size"' not in html
    assert "so the report shows no benchmark until there are at least 5" in html


# ---------------------------------------------------------------------------------
# The organisation list


def build_listing(make):
    with quick_password_hashes():
        results = build_results(make)
        add_peers(
            make,
            [
                ("Zoë Care", "healthcare", "1-49"),
                ("Zorg Noord", "healthcare", "1000+"),
                ("Bank Oost", "finance", "1000+"),
            ],
        )
    return results


listing = prebuilt("listing", build_listing)


def names(html: str) -> list[str]:
    return re.findall(r'<th scope="row">\s*<a href="[^"]+">([^<]+)</a>', html)


def test_list_searches_filters_and_sorts(client, listing):
    login(client, CONSULTANT)
    everyone = client.get("/consultant/").get_data(as_text=True)
    assert names(everyone) == ["Acme", "Bank Oost", "Beta", "Zoë Care", "Zorg Noord"]
    assert "5 organisations" in everyone
    # Search ignores case and accents; filters combine.
    assert names(client.get("/consultant/?q=zoe").get_data(as_text=True)) == ["Zoë Care"]
    assert names(client.get("/consultant/?sector=healthcare").get_data(as_text=True)) == [
        "Zoë Care",
        "Zorg Noord",
    ]
    both = client.get("/consultant/?sector=healthcare&size=1000%2B").get_data(as_text=True)
    assert names(both) == ["Zorg Noord"]
    assert "1 organisation of 5 matches" in " ".join(both.split())
    nothing = client.get("/consultant/?q=nobody").get_data(as_text=True)
    assert names(nothing) == [] and "No organisation matches." in nothing
    # Latest campaign first: Acme's "This year" opened a week ago, the peers' a month
    # before that (names break ties); by responses: Acme 33, Beta 13, the peers none shown.
    latest = names(client.get("/consultant/?sort=latest").get_data(as_text=True))
    assert latest[:2] == ["Acme", "Beta"]
    by_responses = names(client.get("/consultant/?sort=responses").get_data(as_text=True))
    assert by_responses == ["Acme", "Beta", "Bank Oost", "Zoë Care", "Zorg Noord"]


def test_list_names_campaigns_and_keeps_parameters_in_links(client, listing):
    login(client, CONSULTANT)
    html = client.get("/consultant/?q=ac&sector=government&sort=responses").get_data(as_text=True)
    assert ">This year</a>" in html and ">Last year</a>" in html
    assert not re.search(r">\d{4}-\d{2}</a>", html)
    # Each sort link keeps the search and the filter; the form keeps the order.
    sorting = re.search(r'<p class="sort-links".*?</p>', html, re.S).group(0)
    sort_links = re.findall(r'href="(/consultant/\?[^"]+)"', sorting)
    assert len(sort_links) == 2  # the current order is not a link
    assert sort_links and all("q=ac" in link and "sector=government" in link for link in sort_links)
    assert '<input type="hidden" name="sort" value="responses">' in html
    # Clearing the search and filters keeps the order.
    assert 'href="/consultant/?sort=responses">Clear the search and filters' in html
    assert 'value="ac"' in html and '<option value="government" selected>' in html


@pytest.mark.parametrize(
    "query, message",
    [
        ("sector=goverment", "There is no sector “goverment”"),
        ("size=huge", "There is no size “huge”"),
        ("sort=%27;drop", "cannot be sorted by"),
        ("q=" + "x" * 300, "longer than 200 characters"),
        ("sector=Zorg&size=&sort=", "There is no sector “Zorg”"),
    ],
)
def test_bad_list_parameters_are_ignored_with_a_message(client, listing, query, message):
    login(client, CONSULTANT)
    response = client.get(f"/consultant/?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Part of the address was ignored" in html and message in html
    assert len(names(html)) == (0 if query.startswith("q=") else 5)


def test_select_organisations_is_a_plain_function():
    from surveyapp.services.organisations import OrganisationCriteria, select_organisations

    def row(i, name, sector, runs):
        return {
            "id": i,
            "name": name,
            "sector": sector,
            "size_band": "1-49",
            "campaigns": runs,
        }

    closed = {"id": 9, "status": "closed", "opens_on": "2026-01-01", "closes_on": "2026-02-01"}
    rows = [
        row(1, "b", "retail", [{**closed, "responses": None}]),  # under its threshold
        row(2, "A", "retail", [{**closed, "id": 8, "responses": 40}]),
        row(3, "c", "finance", []),
    ]
    pick = select_organisations
    assert [r["id"] for r in pick(rows, OrganisationCriteria())] == [2, 1, 3]
    assert [r["id"] for r in pick(rows, OrganisationCriteria(sort="responses"))] == [2, 1, 3]
    assert [r["id"] for r in pick(rows, OrganisationCriteria(sort="latest"))] == [2, 1, 3]
    assert [r["id"] for r in pick(rows, OrganisationCriteria(sector="finance"))] == [3]
    # A withheld count sorts as none: the order never tells what the list does not show.
    assert (
        pick(rows, OrganisationCriteria(sort="responses"))[1]["campaigns"][0]["responses"] is None
    )
    assert [r["id"] for r in pick(rows, OrganisationCriteria(search="  B "))] == [1]
