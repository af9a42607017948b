"""Consultant pages: all organisations, organisations side by side, norm groups."""

from __future__ import annotations

import datetime as dt
import re

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
    assert comparison.adjustment == "holm"
    expected = welch_difference(scores[0], scores[1])
    for k, dimension in enumerate(comparison.dimensions):
        (pair,) = dimension.pairs  # two organisations: one pair, Holm leaves p as is
        assert pair.diff == pytest.approx(expected.diff[k])
        assert pair.p == pytest.approx(expected.p[k])
        assert pair.p_adjusted == pytest.approx(holm(np.array([expected.p[k]]))[0])
        assert pair.significant == (pair.p_adjusted < 0.05)
    # Means come from each campaign's own report: the numbers its page shows.
    assert comparison.columns[0].organisation.name == "Acme"
    assert comparison.dimensions[0].cells[0].n == scores[0].shape[0]


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
    for dimension in comparison.dimensions:
        raw = np.array([p.p for p in dimension.pairs])
        adjusted = np.array([p.p_adjusted for p in dimension.pairs])
        assert len(raw) == 3
        np.testing.assert_allclose(adjusted, holm(raw))


def test_letters_join_exactly_the_campaigns_that_do_not_differ(in_app, results):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.comparison import compare_campaigns

    with in_app():
        campaigns = [
            db.session.get(Campaign, i)
            for i in (results.campaign_id, results.previous_id, results.other_campaign_id)
        ]
        comparison = compare_campaigns(campaigns, "en")
    differing = 0
    for dimension in comparison.dimensions:
        cells = dimension.cells
        for pair in dimension.pairs:
            a, b = cells[pair.a].letters, cells[pair.b].letters
            assert bool(set(a) & set(b)) != pair.significant, (dimension.id, pair)
            differing += pair.significant
        # "a" marks the highest score.
        top = max(range(len(cells)), key=lambda i: cells[i].mean)
        assert "a" in cells[top].letters
    assert differing > 0  # the data differ somewhere, so the letters are not all "a"


def _compare_url(*campaign_ids, norm="", step=True):
    query = "&".join(f"campaign={i}" for i in campaign_ids)
    return f"/consultant/compare?{query}&norm={norm}" + ("&step=compare" if step else "")


def test_choosing_starts_from_each_organisations_latest_closed_campaign(client, results):
    login(client, CONSULTANT)
    response = client.get(
        f"/consultant/compare?organisation={results.organisation_id}"
        f"&organisation={results.other_organisation_id}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose what to compare" in html
    for campaign_id, ticked in (
        (results.campaign_id, True),
        (results.previous_id, False),
        (results.other_campaign_id, True),
    ):
        box = re.search(
            rf'<input[^>]*value="{campaign_id}" id="campaign-{campaign_id}"[^>]*>', html
        )
        assert box and ("checked" in box.group(0)) == ticked, campaign_id
    # Two organisations have too few organisations for any norm group, and it says why.
    assert "No norm group" in html and "a norm group needs at least 5 organisations" in html


def test_compare_page_shows_letters_instead_of_pair_sentences(client, results):
    login(client, CONSULTANT)
    response = client.get(_compare_url(results.campaign_id, results.other_campaign_id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:2000]
    assert "Holm" in html and "Welch" in html
    assert "This year" in html and "Beta survey" in html
    assert html.count("chart-groups") >= 2
    assert 'class="letters"' in html and "higher than" not in html
    assert "/consultant/compare.pdf?" in html


def test_two_waves_of_one_organisation_side_by_side(client, results, in_app):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.comparison import compare_campaigns

    login(client, CONSULTANT)
    # One organisation ticked on the list: its two latest closed campaigns are proposed.
    page = client.get(f"/consultant/compare?organisation={results.organisation_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count(" checked") == 2 + 1  # both waves, and "No norm group"
    response = client.get(_compare_url(results.previous_id, results.campaign_id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Acme · Last year" in html and "Acme · This year" in html
    with in_app():
        campaigns = [
            db.session.get(Campaign, i) for i in (results.previous_id, results.campaign_id)
        ]
        comparison = compare_campaigns(campaigns, "en")
    assert [c.label for c in comparison.columns] == ["Acme · Last year", "Acme · This year"]
    assert all(c.repeated for c in comparison.columns)


def test_comparison_pdf_for_consultants_only(client, results):
    url = _compare_url(results.campaign_id, results.other_campaign_id)
    login(client, MANAGER)
    assert client.get(url.replace("/compare?", "/compare.pdf?")).status_code == 403
    login(client, CONSULTANT)
    response = client.get(url.replace("/compare?", "/compare.pdf?"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_the_comparison_is_frozen_typed_data_read_by_page_and_pdf_alike(
    app, client, results, in_app
):
    """The comparison is frozen dataclasses: a misspelt field is an error (in Python, in
    the PDF's strict templates and, here, on the page too), nothing can change it, and the
    page and the PDF print the same figures from it."""
    import dataclasses

    from flask_babel import force_locale
    from jinja2 import StrictUndefined

    from surveyapp import pdf
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.reporting.view import GroupRow, Level, Maturity
    from surveyapp.services.comparison import (
        CampaignComparison,
        ComparedCell,
        NormCell,
        compare_campaigns,
    )

    with in_app() as make:
        more_organisations(make, 4)
        campaigns = [
            db.session.get(Campaign, i) for i in (results.previous_id, results.campaign_id)
        ]
        comparison = compare_campaigns(campaigns, "en", norm="all")
        printed = " ".join(pdf.report_html(comparison, template="comparison.html").split())
    assert isinstance(comparison, CampaignComparison)
    for part in (comparison, comparison.columns[0], comparison.dimensions[0]):
        assert dataclasses.is_dataclass(part) and type(part).__dataclass_params__.frozen
    cell = comparison.dimensions[0].cells[0]
    assert isinstance(cell, ComparedCell) and isinstance(cell.maturity, Maturity)
    assert isinstance(comparison.dimensions[0].norm, NormCell)
    assert isinstance(comparison.dimensions[0].norm.level, Level)
    assert all(isinstance(row, GroupRow) for row in comparison.dimensions[0].chart_rows)
    with pytest.raises(AttributeError):
        _ = cell.maen
    with pytest.raises(dataclasses.FrozenInstanceError):
        cell.mean = 5.0

    with app.test_request_context(), force_locale("en"):
        num = app.jinja_env.filters["num"]
        overall = [num(column.overall.mean) for column in comparison.columns]
        # Each score with its letters: "3.16 <span …>a</span>", in bold in the PDF.
        scores = [
            re.compile(
                rf'{re.escape(num(c.mean))}(</strong>)? <span class="letters"[^>]*>{c.letters}<'
            )
            for d in comparison.dimensions
            for c in d.cells
        ]
        medians = [num(d.norm.median) for d in comparison.dimensions]
    login(client, CONSULTANT)
    app.jinja_env.undefined = StrictUndefined  # this test's app only
    response = client.get(_compare_url(results.previous_id, results.campaign_id, norm="all"))
    assert response.status_code == 200
    page = " ".join(response.get_data(as_text=True).split())
    for text in (page, printed):
        assert "All organisations (6)" in text
        for expected in (*overall, *medians):
            assert expected in text
        for score in scores:
            assert score.search(text), score.pattern


def test_compare_needs_two_campaigns(client, results):
    login(client, CONSULTANT)
    # Beta has one closed campaign: nothing to compare it with.
    response = client.get(f"/consultant/compare?organisation={results.other_organisation_id}")
    assert response.status_code == 400
    assert "Choose at least two organisations to compare" in response.get_data(as_text=True)
    # One campaign ticked: the choice is shown again with the problem at the top.
    response = client.get(
        _compare_url(results.campaign_id) + f"&organisation={results.other_organisation_id}"
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'href="#campaigns">Choose at least two campaigns to compare.' in html
    assert client.get("/consultant/compare?organisation=x").status_code == 400
    assert client.get("/consultant/compare?organisation=1&organisation=999").status_code == 404
    assert client.get("/consultant/compare?campaign=999&step=compare").status_code == 404


def test_a_campaign_that_withholds_everything_cannot_be_compared(client, results, in_app):
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.responses import import_responses

    from .dashboard_data import responses_csv

    with in_app() as make:
        from surveyapp.extensions import db
        from surveyapp.models import Organisation

        acme = db.session.get(Organisation, results.organisation_id)
        small = make.campaign(acme, name="Pilot with four")
        import_responses(small, responses_csv(make.questionnaire(), {"IT": 4}, 9), "pilot.csv")
        close_campaign(small)
        make.commit()
        small_id = small.id
    login(client, CONSULTANT)
    html = client.get(f"/consultant/compare?organisation={results.organisation_id}").get_data(
        as_text=True
    )
    assert f'id="campaign-{small_id}"' not in html  # not offered as a tick box
    assert "Pilot with four cannot be compared." in html
    assert "Fewer than 5 people answered" in html
    response = client.get(_compare_url(small_id, results.campaign_id))
    assert response.status_code == 400
    assert "Acme: Pilot with four cannot be compared." in response.get_data(as_text=True)
    pdf = client.get(
        _compare_url(small_id, results.campaign_id).replace("compare?", "compare.pdf?")
    )
    assert pdf.status_code == 400


def test_campaigns_on_different_questionnaire_versions_are_not_compared(
    app, client, results, in_app, tmp_path
):
    from surveyapp.extensions import db
    from surveyapp.models import Organisation
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.responses import import_responses

    from .conftest import QUESTIONNAIRES
    from .dashboard_data import responses_csv

    # A second version of the questionnaire beside the first (the same statements).
    folder = tmp_path / "questionnaires"
    folder.mkdir()
    first = (QUESTIONNAIRES / "social-business-maturity-v1.toml").read_text(encoding="utf-8")
    second = re.sub(r"^version = 1$", "version = 2", first, count=1, flags=re.M)
    assert second != first
    (folder / "social-business-maturity-v1.toml").write_text(first, encoding="utf-8")
    (folder / "social-business-maturity-v2.toml").write_text(second, encoding="utf-8")
    app.config["QUESTIONNAIRE_DIR"] = str(folder)
    with in_app() as make:
        beta = db.session.get(Organisation, results.other_organisation_id)
        later = make.campaign(beta, name="Beta on version 2")  # the latest version
        answers = responses_csv(make.questionnaire(), {"COM": 6, "IT": 7}, seed=4)
        import_responses(later, answers, "v2.csv")
        close_campaign(later)
        make.commit()
        assert later.questionnaire_version.version == 2
        later_id = later.id
    login(client, CONSULTANT)
    url = _compare_url(results.campaign_id, later_id)
    response = client.get(url)
    assert response.status_code == 400
    assert (
        'href="#campaigns">The chosen campaigns used different questionnaire versions, whose '
        "scores cannot be compared. Choose campaigns that used the same version.</a>"
        in " ".join(response.get_data(as_text=True).split())
    )
    pdf = client.get(url.replace("/compare?", "/compare.pdf?"))
    assert pdf.status_code == 400 and not pdf.data.startswith(b"%PDF")


def more_organisations(make, count, sector="government"):
    """``count`` organisations with a closed campaign whose stored scores are set directly."""
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import CampaignScore
    from surveyapp.services.campaigns import close_campaign

    rng = np.random.default_rng(len(sector) + count)
    for k in range(count):
        organisation = make.organisation(f"{sector.title()} {k}")
        organisation.sector = sector
        campaign = make.campaign(
            organisation,
            name="Survey",
            opens_on=dt.date.today() - dt.timedelta(days=60),
            closes_on=dt.date.today() - dt.timedelta(days=30),
        )
        close_campaign(campaign)
        db.session.execute(
            sa.update(CampaignScore)
            .where(CampaignScore.campaign_id == campaign.id)
            .values(n=8, mean=float(rng.uniform(2, 4)))
        )
    make.commit()


def test_a_norm_group_column_holds_the_quartiles_of_organisation_means(client, results, in_app):
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import Campaign, CampaignScore
    from surveyapp.services.comparison import compare_campaigns, norm_options

    with in_app() as make:
        more_organisations(make, 4)
        questionnaire = make.questionnaire()
        acme = db.session.get(Campaign, results.campaign_id)
        options = {o.key: o for o in norm_options(questionnaire, acme.questionnaire_version_id)}
        assert options["all"].offered and options["all"].organisations == 6
        assert options["sector:government"].offered
        assert options["size:250-999"].offered
        campaigns = [acme, db.session.get(Campaign, results.previous_id)]
        comparison = compare_campaigns(campaigns, "en", norm="all")
        # The latest closed campaign of every organisation, those compared included.
        latest = [
            c.id
            for c in db.session.scalars(sa.select(Campaign).where(Campaign.status == "closed"))
            if c.id != results.previous_id
        ]
        first = questionnaire.dimensions[0].id
        means = db.session.scalars(
            sa.select(CampaignScore.mean).where(
                CampaignScore.campaign_id.in_(latest), CampaignScore.dimension_id == first
            )
        ).all()
    cell = comparison.dimensions[0].norm
    assert comparison.norm.label == "All organisations (6)"
    assert cell.shown and cell.n == 6
    q1, median, q3 = np.percentile(means, [25, 50, 75])
    assert (cell.q1, cell.median, cell.q3) == pytest.approx((q1, median, q3))
    login(client, CONSULTANT)
    html = client.get(
        _compare_url(results.previous_id, results.campaign_id, norm="sector:government")
    ).get_data(as_text=True)
    assert "Norm group: Sector Government (6 organisations)" in html
    assert "middle half" in html


def test_a_norm_group_under_five_or_close_to_all_is_not_offered(client, results, in_app):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.comparison import norm_options

    with in_app() as make:
        more_organisations(make, 3)
        more_organisations(make, 1, sector="healthcare")
        acme = db.session.get(Campaign, results.campaign_id)
        options = {
            o.key: o for o in norm_options(make.questionnaire(), acme.questionnaire_version_id)
        }
    assert options["all"].offered and options["all"].organisations == 6
    assert options["sector:healthcare"].problem == "too_few"
    # Government is all but one organisation: its quartiles beside those of all would
    # narrow down that one organisation's scores.
    assert options["sector:government"].problem == "too_close"
    assert options["sector:government"].left_out == 1
    login(client, CONSULTANT)
    html = client.get(f"/consultant/compare?organisation={results.organisation_id}").get_data(
        as_text=True
    )
    assert "Sector Healthcare (1 organisation): a norm group needs at least 5" in html
    assert "leaves out only 1 organisation of a larger group" in html
    response = client.get(
        _compare_url(results.previous_id, results.campaign_id, norm="sector:healthcare")
    )
    assert response.status_code == 400
    assert 'href="#norm">That norm group is not offered' in response.get_data(as_text=True)


# Acme and Beta are government, 250-999. With these, the sector (7) leaves out six of all
# organisations (13), but government × 250-999 (5) leaves out only two of the sector.
MIXED_PEERS = [
    *[(f"Gov mid {k}", "government", "250-999") for k in range(3)],
    *[(f"Gov large {k}", "government", "1000+") for k in range(2)],
    *[(f"Care {k}", "healthcare", "250-999") for k in range(6)],
]


def test_sector_by_size_is_checked_against_its_sector_and_its_size(client, results, in_app):
    import sqlalchemy as sa

    from surveyapp.extensions import db
    from surveyapp.models import Campaign, CampaignScore
    from surveyapp.services.comparison import compare_campaigns, norm_options

    from .test_norm_groups import add_peers

    with in_app() as make:
        care = add_peers(make, MIXED_PEERS)[-6:]
        acme = db.session.get(Campaign, results.campaign_id)
        options = {
            o.key: o for o in norm_options(make.questionnaire(), acme.questionnaire_version_id)
        }
        assert {k: (o.organisations, o.problem, o.left_out) for k, o in options.items()} == {
            "all": (13, None, 0),
            "sector:government": (7, None, 0),
            "sector:healthcare": (6, None, 0),
            "size:250-999": (11, "too_close", 2),
            "size:1000+": (2, "too_few", 0),
            "sector_size:government:250-999": (5, "too_close", 2),  # of the sector
            "sector_size:government:1000+": (2, "too_few", 0),
            "sector_size:healthcare:250-999": (6, None, 0),  # all of its sector
        }
        campaigns = [acme, db.session.get(Campaign, results.previous_id)]
        comparison = compare_campaigns(campaigns, "en", norm="sector_size:healthcare:250-999")
        first = make.questionnaire().dimensions[0].id
        means = db.session.scalars(
            sa.select(CampaignScore.mean)
            .join(Campaign, Campaign.id == CampaignScore.campaign_id)
            .where(Campaign.organisation_id.in_(care), CampaignScore.dimension_id == first)
        ).all()
    assert comparison.norm.label == "Sector Healthcare, 250-999 employees (6 organisations)"
    cell = comparison.dimensions[0].norm
    assert cell.n == 6
    assert (cell.q1, cell.median, cell.q3) == pytest.approx(
        tuple(np.percentile(means, [25, 50, 75]))
    )
    login(client, CONSULTANT)
    html = " ".join(
        client.get(f"/consultant/compare?organisation={results.organisation_id}")
        .get_data(as_text=True)
        .split()
    )
    assert "Sector Healthcare, 250-999 employees (6 organisations)</label>" in html
    # Both size bands and both government sector × size groups, folded under one line.
    assert "<summary>Why 4 other norm groups are not offered</summary>" in html
    assert (
        "Sector Government, 250-999 employees (5 organisations): it leaves out only 2 "
        "organisations of a larger group" in html
    )
    refused = client.get(
        _compare_url(
            results.previous_id, results.campaign_id, norm="sector_size:government:250-999"
        )
    )
    assert refused.status_code == 400


def test_comparison_and_report_offer_a_group_by_one_rule():
    """On random memberships of 0 to 20 organisations over three sectors and three size
    bands, each group the comparison lists gets the report's verdict for the same
    organisations, and every group it offers has at least 5 organisations and leaves out
    none or at least 5 of each larger group it is part of."""
    from surveyapp.models import SIZE_BANDS
    from surveyapp.services.aggregates import MIN_NORM_ORGANISATIONS, options_from_members
    from surveyapp.services.comparison import options_for_members
    from surveyapp.services.organisations import SECTORS

    sectors, bands = list(SECTORS)[:3], list(SIZE_BANDS)[:3]
    rng = np.random.default_rng(23)
    offered = 0
    for _trial in range(400):
        n = int(rng.integers(0, 21))
        groups = list(zip(rng.choice(sectors, n), rng.choice(bands, n), strict=True))
        groups = [(str(a), str(b)) for a, b in groups]

        def inside(sector=None, band=None, groups=groups):
            return {
                i
                for i, (s, b) in enumerate(groups)
                if (sector is None or s == sector) and (band is None or b == band)
            }

        options = {o.key: o for o in options_for_members(groups)}
        assert options["all"].organisations == n
        for key, option in options.items():
            sector, band = option.sector, option.size_band
            members = {
                "all": inside(),
                "sector": inside(sector) if sector else set(),
                "size": inside(band=band) if band else set(),
                "sector_size": inside(sector, band) if sector and band else set(),
            }
            report = options_from_members(members, sector or "", band or "")[option.kind]
            assert (option.problem, option.left_out) == (report.problem, report.left_out), key
            assert option.organisations == len(members[option.kind]) > 0 or key == "all"
            if not option.offered:
                continue
            offered += 1
            assert len(members[option.kind]) >= MIN_NORM_ORGANISATIONS, key
            larger = {"all": [], "sector": ["all"], "size": ["all"]}.get(
                option.kind, ["all", "sector", "size"]
            )
            for name in larger:
                gap = len(members[name] - members[option.kind])
                assert gap == 0 or gap >= MIN_NORM_ORGANISATIONS, (key, name, gap)
        # Every sector, size band and sector × size with members is listed.
        assert {k for k in options if k.startswith("sector_size:")} == {
            f"sector_size:{s}:{b}" for s, b in set(groups)
        }
    assert offered > 400  # the trials offer groups, so the checks above do run


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
