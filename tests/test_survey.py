"""The respondent's way through the survey, and every way it can go wrong."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, Campaign, Draft, Invitation, Response

from .conftest import Factory


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


def shown_step(response) -> str:
    """The step a survey page shows, from its own address (a POST answers with the next page)."""
    match = re.search(r'data-step-url="/s/[^/"]+/([^"?]+)', response.get_data(as_text=True))
    assert match, "not a survey step page"
    return match.group(1)


class Respondent:
    """Drives the survey through the test client like a browser without JavaScript."""

    def __init__(self, client, token):
        self.client, self.token = client, token

    def get(self, step=None, **kwargs):
        path = f"/s/{self.token}" + (f"/{step}" if step else "")
        return self.client.get(path, follow_redirects=True, **kwargs)

    def post(self, step, data, follow=True):
        page = self.client.get(f"/s/{self.token}/{step}")
        data = {"csrf_token": csrf_of(page.get_data(as_text=True)), **data}
        return self.client.post(f"/s/{self.token}/{step}", data=data, follow_redirects=follow)

    def answer_all(self, questionnaire, value="4", comment=""):
        self.post("language", {"language": "en"})
        self.post("intro", {"action": "next"})
        self.post("about", {"role_level": "employee", "action": "next"})
        for number, dimension in enumerate(questionnaire.dimensions, start=1):
            answers = {f"item-{item.id}": value for item in dimension.items}
            response = self.post(f"page-{number}", {**answers, "action": "next"})
            assert response.status_code == 200, response.get_data(as_text=True)[:2000]
        return self.post("comment", {"comment": comment, "action": "next"})

    def submit(self):
        return self.post("review", {"action": "submit"})


@pytest.fixture
def questionnaire(app):
    with app.app_context():
        return Factory(app).questionnaire()


@pytest.fixture
def open_campaign(in_app) -> int:
    with in_app() as make:
        return make.campaign().id


@pytest.fixture
def link(in_app):
    def issue(campaign_id: int) -> str:
        with in_app() as make:
            return make.link(db.session.get(Campaign, campaign_id))

    return issue


@pytest.fixture
def respondent(client, link, open_campaign):
    return Respondent(client, link(open_campaign))


@pytest.fixture
def saved_draft(app):
    """The draft stored for a link, decrypted with the key only that link gives."""
    from surveyapp.services.drafts import draft_key
    from surveyapp.services.invitations import find_invitation
    from surveyapp.services.responses import read_draft

    def read(token: str):
        with app.app_context():
            return read_draft(find_invitation(token), draft_key(token))

    return read


@pytest.fixture
def fetch(app):
    """Run a query in a fresh context and return its plain result."""

    def run(query, method="scalars"):
        with app.app_context():
            result = getattr(db.session, method)(query)
            return result.all() if method == "scalars" else result

    return run


def test_whole_flow_stores_one_anonymous_response(respondent, questionnaire, count, fetch):
    page = respondent.get(headers={"Accept-Language": "nl"})
    assert "Nederlands" in page.get_data(as_text=True)
    review = respondent.answer_all(questionnaire, comment="Meer overleg graag")
    assert "Check your answers" in review.get_data(as_text=True)
    done = respondent.submit()
    assert done.status_code == 200
    assert "Thank you" in done.get_data(as_text=True)
    assert count(Response) == 1
    assert count(Answer) == len(questionnaire.items)
    assert count(Draft) == 0
    ((role, comment, day),) = fetch(
        sa.select(Response.role_level, Response.comment, Response.submitted_on), "execute"
    ).all()
    assert (role, comment, day) == ("employee", "Meer overleg graag", dt.date.today())
    # Nothing on the response refers to the invitation it came from.
    columns = set(Response.__table__.columns.keys())
    assert not any("invitation" in c or "token" in c or c == "ip" for c in columns)
    assert fetch(sa.select(Invitation.used)) == [True]


def test_dont_know_is_stored_as_missing(respondent, questionnaire, fetch):
    respondent.answer_all(questionnaire, value="dk")
    respondent.submit()
    values = fetch(sa.select(Answer.value))
    assert values and all(v is None for v in values)


def test_resume_returns_to_the_page_where_the_respondent_stopped(respondent, questionnaire):
    respondent.post("language", {"language": "nl"})
    respondent.post("intro", {"action": "next"})
    respondent.post("about", {"role_level": "middle_management", "action": "next"})
    first = questionnaire.dimensions[0]
    respondent.post("page-1", {**{f"item-{i.id}": "2" for i in first.items}, "action": "next"})
    # A new browser (no cookies) opens the same link later.
    respondent.client.delete_cookie("session")
    page = respondent.get()
    html = page.get_data(as_text=True)
    assert shown_step(page) == "page-2"
    assert 'lang="nl"' in html
    back = respondent.get("page-1").get_data(as_text=True)
    assert re.search(r'value="2"\s+checked|checked[^>]*value="2"', back)


def form_action(response) -> str:
    match = re.search(
        r'<main.*?<form method="post" action="([^"]+)"', response.get_data(as_text=True), re.S
    )
    assert match, "no step form on the page"
    return match.group(1).replace("&amp;", "&")


def test_each_step_is_one_request_answered_with_the_next_page(
    client, respondent, questionnaire, count
):
    """A survey is the link's GET and one POST per step; only the submission redirects."""
    base = f"/s/{respondent.token}"
    page = client.get(base)
    assert page.status_code == 200 and shown_step(page) == "language"
    requests = 1

    def send(step: str, data: dict):
        nonlocal page, requests
        assert form_action(page) == f"{base}/{step}"
        page = client.post(form_action(page), data={"csrf_token": csrf_of(page.text), **data})
        requests += 1
        return page

    assert 'lang="en"' in page.text  # the browser asks for English (the test client's default)
    assert shown_step(send("language", {"language": "nl"})) == "intro"
    # The next page is already in the chosen language.
    assert 'lang="nl"' in page.text and "Begin met de vragenlijst" in page.text
    # Its header offers the other language: the forms of a page that answers a POST are
    # filled from the draft, not from the posted fields ("language" here).
    assert re.search(r'name="language" type="hidden" value="en"', page.text)
    assert '<button class="link-button" type="submit" lang="en">English</button>' in page.text
    assert shown_step(send("intro", {"action": "next"})) == "about"
    assert shown_step(send("about", {"role_level": "employee", "action": "next"})) == "page-1"
    for number, dimension in enumerate(questionnaire.dimensions, start=1):
        send(f"page-{number}", {**{f"item-{i.id}": "3" for i in dimension.items}, "action": "next"})
        assert page.status_code == 200
    assert shown_step(page) == "comment"
    assert shown_step(send("comment", {"comment": "", "action": "next"})) == "review"
    done = send("review", {"action": "submit"})
    assert done.status_code == 302 and done.headers["Location"].startswith("/s/done")
    assert requests == 2 + len(questionnaire.dimensions) + 4
    assert count(Response) == 1 and count(Draft) == 0


def test_a_step_sent_twice_writes_the_same_and_shows_the_same_page(
    client, respondent, questionnaire, saved_draft
):
    """A double click, or a reload that sends the form again, is safe to repeat."""
    respondent.post("language", {"language": "en"})
    respondent.post("intro", {"action": "next"})
    to_page = respondent.post("about", {"role_level": "employee", "action": "next"})
    assert shown_step(to_page) == "page-1"
    first = questionnaire.dimensions[0]
    data = {
        "csrf_token": csrf_of(to_page.text),
        **{f"item-{i.id}": "2" for i in first.items},
        "action": "next",
    }
    once = client.post(f"/s/{respondent.token}/page-1", data=data)
    after_once = saved_draft(respondent.token)
    twice = client.post(f"/s/{respondent.token}/page-1", data=data)
    after_twice = saved_draft(respondent.token)
    assert once.status_code == twice.status_code == 200
    assert shown_step(once) == shown_step(twice) == "page-2"
    assert after_once == after_twice
    assert after_twice.step == "page-2"
    assert {after_twice.answers[i.id] for i in first.items} == {2}


def test_a_page_with_errors_from_the_review_still_returns_to_the_review(
    client, respondent, questionnaire
):
    respondent.answer_all(questionnaire)
    page = respondent.get("page-1?from=review")
    first = questionnaire.dimensions[0]
    data = {f"item-{i.id}": "1" for i in first.items[1:]}  # one statement left out
    wrong = respondent.post("page-1?from=review", {**data, "action": "next"})
    assert wrong.status_code == 400
    assert form_action(wrong) == form_action(page) == f"/s/{respondent.token}/page-1?from=review"
    data[f"item-{first.items[0].id}"] = "1"
    right = client.post(
        form_action(wrong), data={"csrf_token": csrf_of(wrong.text), **data, "action": "next"}
    )
    assert right.status_code == 200 and shown_step(right) == "review"


def test_submitting_twice_stores_nothing_more(respondent, questionnaire, count):
    respondent.answer_all(questionnaire)
    page = respondent.client.get(f"/s/{respondent.token}/review")
    token = csrf_of(page.get_data(as_text=True))
    first = respondent.client.post(
        f"/s/{respondent.token}/review", data={"csrf_token": token, "action": "submit"}
    )
    assert first.status_code == 302
    second = respondent.client.post(
        f"/s/{respondent.token}/review", data={"csrf_token": token, "action": "submit"}
    )
    assert second.status_code == 410
    assert "already received" in second.get_data(as_text=True)
    again = respondent.client.get(f"/s/{respondent.token}")
    assert again.status_code == 410
    assert count(Response) == 1


def test_value_out_of_range_is_refused_and_not_saved(respondent, questionnaire, saved_draft):
    respondent.answer_all(questionnaire)
    first = questionnaire.dimensions[0]
    data = {f"item-{i.id}": "3" for i in first.items}
    data[f"item-{first.items[0].id}"] = "9"
    page = respondent.post("page-1", {**data, "action": "next"})
    assert page.status_code == 400
    assert "not one of the options" in page.get_data(as_text=True)
    answers = saved_draft(respondent.token).answers
    assert answers[first.items[1].id] == 4  # earlier answers untouched
    assert answers[first.items[0].id] == 4


def test_unknown_item_or_extra_field_is_refused(respondent, questionnaire, saved_draft):
    respondent.post("language", {"language": "en"})
    first = questionnaire.dimensions[0]
    data = {f"item-{i.id}": "3" for i in first.items}
    page = respondent.post("page-1", {**data, "item-no_such_item": "3", "action": "next"})
    assert page.status_code == 400
    assert "nothing was saved" in page.get_data(as_text=True)
    other = questionnaire.dimensions[1].items[0]
    page = respondent.post("page-1", {**data, f"item-{other.id}": "5", "action": "next"})
    assert page.status_code == 400
    assert saved_draft(respondent.token).answers == {}


def test_forged_action_is_refused(respondent):
    page = respondent.post("language", {"language": "en", "action": "delete"})
    assert page.status_code == 400


def test_missing_answers_are_listed_with_an_error_summary(respondent):
    respondent.post("language", {"language": "en"})
    page = respondent.post("page-1", {"action": "next"})
    html = page.get_data(as_text=True)
    assert page.status_code == 400
    assert "There is a problem" in html
    assert 'href="#item-' in html


def test_missing_csrf_token_is_refused(respondent, saved_draft):
    respondent.get()
    page = respondent.client.post(f"/s/{respondent.token}/language", data={"language": "en"})
    assert page.status_code == 400
    assert "Nothing was saved" in page.get_data(as_text=True)
    assert saved_draft(respondent.token).language is None


@pytest.mark.parametrize("token", ["nonsense", "x" * 43, "a" * 500])
def test_tampered_or_unknown_token(client, link, open_campaign, token):
    real = link(open_campaign)
    assert token != real
    page = client.get(f"/s/{token}", headers={"Accept-Language": "nl"})
    assert page.status_code == 404
    assert "Deze link werkt niet" in page.get_data(as_text=True)


def test_closed_campaign_says_so_and_stores_nothing(client, in_app, link, open_campaign, count):
    from surveyapp.services.campaigns import close_campaign

    token = link(open_campaign)
    with in_app() as make:
        close_campaign(db.session.get(Campaign, open_campaign))
        make.commit()
    page = client.get(f"/s/{token}")
    assert page.status_code == 410
    assert "closed" in page.get_data(as_text=True)
    assert count(Draft) == 0


def test_tampered_real_token_is_unknown(client, link, open_campaign):
    token = link(open_campaign)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/s/{tampered}").status_code == 404
    assert client.get(f"/s/{token}").status_code == 200


def test_not_yet_open_campaign(client, in_app, link):
    today = dt.date.today()
    with in_app() as make:
        campaign_id = make.campaign(
            opens_on=today + dt.timedelta(days=3), closes_on=today + dt.timedelta(days=30)
        ).id
    page = client.get(f"/s/{link(campaign_id)}")
    assert page.status_code == 403
    assert "not open yet" in page.get_data(as_text=True)


def test_pages_are_accessible_markup(respondent, questionnaire):
    respondent.post("language", {"language": "en"})
    html = respondent.get("page-1").get_data(as_text=True)
    dimension = questionnaire.dimensions[0]
    assert html.count("<fieldset") == len(dimension.items)
    assert html.count("<legend") == len(dimension.items)
    for item in dimension.items:
        assert f'for="item-{item.id}-0"' in html
    assert 'lang="en"' in html
    # One script, from the site, deferred: the page works without it (no inline code).
    scripts = re.findall(r"<script[^>]*>", html)
    assert len(scripts) == 1 and 'src="/static/survey.js"' in scripts[0], scripts
    assert " defer" in scripts[0] and "</script>" in html


def test_closing_a_campaign_deletes_unfinished_drafts(respondent, in_app, open_campaign, count):
    from surveyapp.services.campaigns import close_campaign

    respondent.post("language", {"language": "en"})
    assert count(Draft) == 1
    with in_app() as make:
        close_campaign(db.session.get(Campaign, open_campaign))
        make.commit()
    assert count(Draft) == 0
