"""Consultant pages: all organisations, organisations side by side, norm groups."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from surveyapp.scoring.gap import holm, welch_difference

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)


@pytest.fixture
def results(in_app, fast_password_hashes):  # noqa: F811
    with in_app() as make:
        return build_results(make)


@pytest.mark.parametrize("path", ["/consultant/", "/consultant/compare", "/consultant/norms"])
def test_managers_may_not_use_consultant_pages(client, results, path):
    login(client, MANAGER)
    assert client.get(path).status_code == 403


def test_list_shows_every_organisation_with_campaigns_and_levels(client, results, in_app):
    login(client, CONSULTANT)
    html = client.get("/consultant/").get_data(as_text=True)
    assert "Acme" in html and "Beta" in html
    assert html.count('class="tag tag-closed"') == 3 and html.count('class="tag tag-open"') == 0
    with in_app() as make:
        dimensions = len(make.questionnaire().dimensions)
    # Both organisations have a closed campaign: one level square per dimension each.
    assert html.count('class="level-cell') == 2 * dimensions


def test_comparison_uses_welch_tests_with_holm_adjustment(in_app, results):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.aggregates import dimension_scores
    from surveyapp.services.comparison import compare_campaigns
    from surveyapp.services.matrix import load_matrix

    with in_app() as make:
        campaigns = [
            db.session.get(Campaign, i) for i in (results.campaign_id, results.other_campaign_id)
        ]
        comparison = compare_campaigns(campaigns, "en")
        scores = [dimension_scores(make.questionnaire(), load_matrix(c)) for c in campaigns]
    assert comparison["adjustment"] == "holm"
    expected = welch_difference(scores[0], scores[1])
    for k, dimension in enumerate(comparison["dimensions"]):
        (pair,) = dimension["pairs"]  # two organisations: one pair, Holm leaves p as is
        assert pair["diff"] == pytest.approx(expected.diff[k])
        assert pair["p"] == pytest.approx(expected.p[k])
        assert pair["p_adjusted"] == pytest.approx(holm(np.array([expected.p[k]]))[0])
        assert pair["significant"] == (pair["p_adjusted"] < 0.05)
        assert pair["lead"] == pytest.approx(abs(expected.diff[k]))
    # Means come from each campaign's own report: the numbers its page shows.
    assert comparison["columns"][0]["organisation"]["name"] == "Acme"
    assert comparison["dimensions"][0]["cells"][0]["n"] == scores[0].shape[0]


def test_holm_adjusts_over_the_pairs_within_a_dimension(in_app, results):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.comparison import compare_campaigns

    with in_app():
        campaigns = [
            db.session.get(Campaign, i)
            for i in (results.campaign_id, results.previous_id, results.other_campaign_id)
        ]
        comparison = compare_campaigns(campaigns, "en")
    for dimension in comparison["dimensions"]:
        raw = np.array([p["p"] for p in dimension["pairs"]])
        adjusted = np.array([p["p_adjusted"] for p in dimension["pairs"]])
        assert len(raw) == 3
        np.testing.assert_allclose(adjusted, holm(raw))


def test_compare_page_names_the_method_and_the_significant_pairs(client, results):
    login(client, CONSULTANT)
    response = client.get(
        f"/consultant/compare?organisation={results.organisation_id}"
        f"&organisation={results.other_organisation_id}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Holm" in html and "Welch" in html
    assert "This year" in html  # Acme is compared by its latest closed campaign
    assert html.count("chart-groups") >= 2
    assert "higher than" in html


def test_comparison_pdf_for_consultants_only(client, results):
    query = f"organisation={results.organisation_id}&organisation={results.other_organisation_id}"
    login(client, CONSULTANT)
    page = client.get(f"/consultant/compare?{query}").get_data(as_text=True)
    assert "/consultant/compare.pdf?" in page
    response = client.get(f"/consultant/compare.pdf?{query}")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_compare_needs_two_organisations(client, results):
    login(client, CONSULTANT)
    response = client.get(f"/consultant/compare?organisation={results.organisation_id}")
    assert response.status_code == 400
    assert "Choose at least two organisations" in response.get_data(as_text=True)
    assert client.get("/consultant/compare?organisation=x").status_code == 400
    assert client.get("/consultant/compare?organisation=1&organisation=999").status_code == 404


def test_norm_groups_withhold_quartiles_of_small_groups(client, results, in_app):
    from surveyapp.services.comparison import norm_groups

    with in_app() as make:
        from surveyapp.extensions import db
        from surveyapp.models import Campaign

        version = db.session.get(Campaign, results.previous_id).questionnaire_version_id
        norms = norm_groups(make.questionnaire(), version, "en")
    assert norms["organisations"] == 2
    everyone = norms["groups"]["all"][0]
    assert everyone["organisations"] == 2 and everyone["shown"] is False
    assert [g["label"] for g in norms["groups"]["sector"]] == ["government"]
    login(client, CONSULTANT)
    html = client.get("/consultant/norms").get_data(as_text=True)
    assert "too few" in html and "2 organisations" in html


def test_cached_norm_group_equals_the_plain_query(in_app, results):
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import Campaign, CampaignScore
    from surveyapp.services.aggregates import norm_group, norm_group_uncached
    from surveyapp.services.campaigns import close_campaign

    rng = np.random.default_rng(5)
    with in_app() as make:
        dimensions = tuple(d.id for d in make.questionnaire().dimensions)
        # Six more organisations with closed campaigns (two of them twice: the latest
        # counts), scores written straight into campaign_score.
        for k in range(6):
            organisation = make.organisation(f"Org {k}")
            for year in (2, 1) if k < 2 else (1,):
                campaign = make.campaign(
                    organisation,
                    name=f"Survey {year}",
                    opens_on=dt.date.today() - dt.timedelta(days=365 * year + 40),
                    closes_on=dt.date.today() - dt.timedelta(days=365 * year),
                )
                close_campaign(campaign)
                for dimension in dimensions:  # some below the threshold of 5
                    db.session.execute(
                        sa.update(CampaignScore)
                        .where(
                            CampaignScore.campaign_id == campaign.id,
                            CampaignScore.dimension_id == dimension,
                        )
                        .values(n=int(rng.integers(3, 9)), mean=float(rng.uniform(1, 5)))
                    )
            make.commit()
        current = db.session.get(Campaign, results.campaign_id)
        for options in ({}, {"sector": "government"}, {"size_band": "250-999"}):
            expected = norm_group_uncached(current, dimensions, **options)
            cached = norm_group(current, dimensions, **options)
            assert cached.description == expected.description
            assert cached.organisation_ids == expected.organisation_ids
            np.testing.assert_array_equal(cached.means, expected.means)
        assert len(expected.organisation_ids) >= 5

        # A sector corrected after the campaigns closed moves the organisation between
        # norm groups at once, although no campaign closed since (the table is cached).
        from surveyapp.models import Organisation

        moved = db.session.scalar(sa.select(Organisation).filter_by(name="Org 0"))
        before = norm_group(current, dimensions, sector="government")
        assert moved.id in before.organisation_ids
        moved.sector = "healthcare"
        db.session.flush()
        after = norm_group(current, dimensions, sector="government")
        assert moved.id not in after.organisation_ids
        assert (
            after.organisation_ids
            == norm_group_uncached(current, dimensions, sector="government").organisation_ids
        )
