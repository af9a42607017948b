# Fixtures imported from test_survey are test parameters of the same name.
# ruff: noqa: F811
"""The survey's loose ends: language on every page, change from the review, the role on
the review, long comments, dates, "don't know", opening and results dates, the privacy
statement and the favicon."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from babel.dates import format_date

from surveyapp.extensions import db
from surveyapp.models import Campaign

from .test_survey import (  # noqa: F401 (fixtures)
    Respondent,
    csrf_of,
    link,
    open_campaign,
    questionnaire,
    respondent,
    saved_draft,
    shown_step,
)

STATIC = Path(__file__).resolve().parent.parent / "surveyapp" / "static"


def long(day: dt.date, lang: str) -> str:
    return format_date(day, "d MMMM y", locale=lang)


def set_campaign(in_app, campaign_id: int, **values) -> Campaign:
    with in_app() as make:
        campaign = db.session.get(Campaign, campaign_id)
        for name, value in values.items():
            setattr(campaign, name, value)
        make.commit()
        return campaign


def to_first_page(respondent: Respondent, lang: str = "en") -> None:
    respondent.post("language", {"language": lang})
    respondent.post("intro", {"action": "next"})
    respondent.post("about", {"role_level": "employee", "action": "next"})


def switch(respondent: Respondent, step: str, lang: str):
    """Press the header's language button on ``step``."""
    page = respondent.client.get(f"/s/{respondent.token}/{step}")
    data = {"csrf_token": csrf_of(page.get_data(as_text=True)), "language": lang}
    url = f"/s/{respondent.token}/{step}/language"
    return respondent.client.post(url, data=data, follow_redirects=True)


# 1. Language ----------------------------------------------------------------------------


def test_every_survey_page_offers_the_other_language(respondent, questionnaire):
    respondent.answer_all(questionnaire)
    steps = ["intro", "about", "page-1", "comment", "review"]
    for step in steps:
        html = respondent.get(step).get_data(as_text=True)
        action = f"/s/{respondent.token}/{step}/language"
        assert f'action="{action}"' in html, step
        assert 'lang="nl">Nederlands</button>' in html, step


def test_switching_language_keeps_the_answers_and_the_page(respondent, questionnaire, saved_draft):
    to_first_page(respondent)
    first = questionnaire.dimensions[0]
    respondent.post("page-1", {**{f"item-{i.id}": "2" for i in first.items}, "action": "next"})
    before = saved_draft(respondent.token)
    page = switch(respondent, "page-2", "nl")
    assert page.request.path == f"/s/{respondent.token}/page-2"
    assert 'lang="nl"' in page.get_data(as_text=True)
    after = saved_draft(respondent.token)
    assert after.language == "nl"
    assert (after.answers, after.role_level, after.step) == (
        before.answers,
        before.role_level,
        before.step,
    )


def test_language_switch_refuses_other_languages(respondent):
    to_first_page(respondent)
    page = switch(respondent, "page-1", "de")
    assert page.status_code == 400


# 2. Change from the review -----------------------------------------------------------


@pytest.mark.parametrize("step", ["about", "page-1", "comment"])
def test_change_from_the_review_returns_to_the_review(respondent, questionnaire, step):
    respondent.answer_all(questionnaire)
    review = respondent.get("review").get_data(as_text=True)
    assert f"/s/{respondent.token}/{step}?from=review" in review
    data = {
        "about": {"role_level": "top_management"},
        "page-1": {f"item-{i.id}": "1" for i in questionnaire.dimensions[0].items},
        "comment": {"comment": "Anders gezegd"},
    }[step]
    page = respondent.post(f"{step}?from=review", {**data, "action": "next"})
    assert shown_step(page) == "review"


def test_without_the_review_continue_goes_on_as_before(respondent, questionnaire):
    respondent.answer_all(questionnaire)
    first = questionnaire.dimensions[0]
    page = respondent.post("page-1", {**{f"item-{i.id}": "1" for i in first.items}})
    assert shown_step(page) == "page-2"


# 3. Role level on the review ---------------------------------------------------------


def test_review_shows_the_role_level_with_a_change_link(respondent, questionnaire):
    respondent.answer_all(questionnaire)
    html = respondent.get("review").get_data(as_text=True)
    question = questionnaire.background[0]
    chosen = next(o for o in question.options if o.id == "employee")
    assert question.text["en"] in html
    assert f"<dd>{chosen.label['en']}</dd>" in html
    assert f"/s/{respondent.token}/about?from=review" in html


# 4 and 5. Long comments --------------------------------------------------------------


def test_over_long_comment_is_refused_with_its_length_and_the_limit(
    respondent, questionnaire, saved_draft
):
    respondent.answer_all(questionnaire, comment="Eerst kort")
    page = respondent.post("comment", {"comment": "x" * 2345, "action": "next"})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "Your comment has 2345 characters; the limit is 2000." in html
    assert "Shorten it by 345 characters." in html
    assert saved_draft(respondent.token).comment == "Eerst kort"


def test_comment_of_exactly_the_limit_is_kept_whole(respondent, questionnaire, saved_draft):
    respondent.answer_all(questionnaire)
    page = respondent.post("comment", {"comment": "y" * 2000, "action": "next"})
    assert shown_step(page) == "review"
    assert saved_draft(respondent.token).comment == "y" * 2000
    assert 'class="review-comment"' in page.get_data(as_text=True)


def test_comment_field_shows_the_limit_and_never_cuts_in_the_browser(respondent):
    to_first_page(respondent)
    html = respondent.get("comment").get_data(as_text=True)
    textarea = re.search(r"<textarea[^>]*>", html).group(0)
    # A maxlength attribute makes a browser drop the end of pasted text without a word.
    assert "maxlength" not in textarea
    assert 'data-limit="2000"' in textarea
    assert "You can write up to 2000 characters." in html
    assert re.search(r'<script src="/static/survey\.js" data-step-url="[^"]+/comment" defer>', html)


def test_review_comment_wraps_in_css():
    css = (STATIC / "app.css").read_text()
    assert re.search(r"\.review-comment\s*\{[^}]*overflow-wrap:\s*anywhere", css)


# 6. Dates -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_intro_writes_the_closing_date_in_the_readers_language(
    respondent, in_app, open_campaign, lang
):
    set_campaign(in_app, open_campaign, closes_on=dt.date(2099, 3, 1))
    respondent.post("language", {"language": lang})
    html = respondent.get("intro").get_data(as_text=True)
    assert {"en": "1 March 2099", "nl": "1 maart 2099"}[lang] in html
    assert "2099-03-01" not in html


# 7. Don't know -----------------------------------------------------------------------


def test_dont_know_is_set_apart_by_an_or_divider(respondent):
    to_first_page(respondent)
    html = respondent.get("page-1").get_data(as_text=True)
    assert re.search(r'<div class="radio-divider">or</div>\s*<div class="radio radio-dk">', html)
    css = (STATIC / "app.css").read_text()
    # At every width: the divider's rule is not only inside a media query.
    assert re.search(r"^\.radio-divider\s*\{", css, re.M)


# 8. When it opens, closed and when results come -----------------------------------------


def test_not_yet_open_page_says_when_it_opens(client, in_app, link):
    opens = dt.date.today() + dt.timedelta(days=10)
    with in_app() as make:
        campaign = make.campaign(opens_on=opens, closes_on=opens + dt.timedelta(days=14))
        token = make.link(campaign)
    page = client.get(f"/s/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 403
    assert f"It opens on {long(opens, 'en')}." in page.get_data(as_text=True)


def test_draft_campaign_says_when_it_is_planned_to_open(client, in_app):
    opens = dt.date.today() + dt.timedelta(days=10)
    with in_app() as make:
        campaign = make.campaign(
            status="draft", opens_on=opens, closes_on=opens + dt.timedelta(days=14)
        )
        token = make.link(campaign)
    page = client.get(f"/s/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 403
    assert f"It is planned to open on {long(opens, 'en')}." in page.get_data(as_text=True)


def test_closed_page_says_the_last_day_to_answer(client, in_app, link, open_campaign):
    token = link(open_campaign)
    last_day = dt.date.today() - dt.timedelta(days=1)
    set_campaign(in_app, open_campaign, closes_on=last_day)
    page = client.get(f"/s/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 410
    assert f"The last day to answer was {long(last_day, 'en')}." in page.get_data(as_text=True)


def test_thank_you_page_says_when_results_are_shared(
    respondent, questionnaire, in_app, open_campaign
):
    results = dt.date.today() + dt.timedelta(days=60)
    set_campaign(in_app, open_campaign, results_on=results)
    respondent.answer_all(questionnaire)
    html = respondent.submit().get_data(as_text=True)
    assert f"Acme plans to share the results on {long(results, 'en')}." in html


def test_thank_you_page_without_a_results_date_names_the_closing_date(
    respondent, questionnaire, in_app, open_campaign
):
    closes = dt.date.today() + dt.timedelta(days=5)
    set_campaign(in_app, open_campaign, closes_on=closes)
    respondent.answer_all(questionnaire)
    done = respondent.submit()
    expected = f"Acme will share the results after the survey closes on {long(closes, 'en')}."
    assert expected in done.get_data(as_text=True)
    dutch = respondent.client.get("/s/done?lang=nl").get_data(as_text=True)
    assert f"na het sluiten van de meting op {long(closes, 'nl')}" in dutch


# 9. Privacy statement ------------------------------------------------------------------


def test_privacy_statement_names_controller_contact_and_retention(
    respondent, in_app, open_campaign
):
    set_campaign(
        in_app,
        open_campaign,
        controller="Acme Holding B.V.",
        controller_contact="privacy@acme.example",
        retention_months=18,
    )
    respondent.post("language", {"language": "en"})
    html = respondent.get("intro").get_data(as_text=True)
    assert "Consultants who analyse the survey for Acme receive the answers and comments" in html
    assert "Groups that are too small are combined with others, or left blank." in html
    assert "Acme Holding B.V. is responsible for the data" in html
    assert "contact privacy@acme.example." in html
    assert "The answers are kept for 18 months, then deleted." in html


def test_privacy_statement_without_settings_invents_nothing(respondent):
    respondent.post("language", {"language": "en"})
    html = respondent.get("intro").get_data(as_text=True)
    assert "Acme, which runs this survey, is responsible for the data" in html
    assert "ask the person who sent you the invitation whom to contact at Acme" in html
    assert "can tell you how long Acme keeps the answers" in html
    assert "months" not in html


# 10. Favicon ------------------------------------------------------------------------------


def test_favicon_is_linked_and_favicon_ico_does_not_404(client, respondent):
    html = respondent.get().get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    ico = client.get("/favicon.ico")
    assert ico.status_code == 301
    assert ico.headers["Location"].endswith("/static/favicon.svg")
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200
    assert svg.mimetype == "image/svg+xml"
    svg.close()
