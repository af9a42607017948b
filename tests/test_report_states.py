"""Every state of a campaign's results renders with its own words, in every output.

A closed campaign with no responses, with fewer than the threshold, with every department
withheld, without a norm group or a previous campaign, and an open campaign: the page,
the PDF, the results CSV and the API each answer without an error, say which state it
is in a sentence, and never print a dash where a sentence or a figure should be.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from .dashboard_data import (
    MANAGER,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
    responses_csv,
)

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftotext) is not installed; make install-test installs it",
)


@dataclass(frozen=True)
class State:
    """A campaign's answers per department, its status, and what each output must say."""

    counts: dict[str, int]
    status: str
    page: str
    pdf: str


STATES = {
    "no responses": State(
        {},
        "closed",
        "Nobody responded to this campaign",
        "Nobody responded to this survey",
    ),
    "fewer than the threshold": State(
        {"IT": 3},
        "closed",
        "Too few responses to show results",
        "Fewer than 5 people answered",
    ),
    # 6 people: the organisation is shown, each department (3 and 3) is withheld.
    "every department withheld": State(
        {"COM": 3, "HR": 3},
        "closed",
        "No department has enough respondents to be shown on its own",
        "No department has enough respondents to be shown on its own",
    ),
    # One organisation only (no norm group) and its first campaign (nothing to compare).
    "no benchmark and no previous campaign": State(
        {"COM": 9, "HR": 6, "IT": 10, "IT-OPS": 11},
        "closed",
        "This is the organisation's first campaign with this questionnaire",
        "No benchmark",
    ),
}


def words(html: str) -> str:
    """The visible words of a page: tags, scripts and charts removed, spaces collapsed."""
    html = re.sub(r"<(svg|script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return text.replace("&#39;", "'").replace("&amp;", "&")


def pdf_text(data: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


# A dash standing in for a figure inside a sentence ("Average score – (95% interval – to
# –)"), for a sentence of its own (an element holding nothing but a dash), or two dashes
# for an interval that was not there.
DASH_FOR_A_SENTENCE = [
    re.compile(r"interval –"),
    re.compile(r"– to –"),
    re.compile(r"\(\s*–\s*\)"),
    re.compile(r"score –"),
    re.compile(r"<(p|dd|li|h\d|figcaption)\b[^>]*>\s*–\s*</\1>"),
]


def assert_no_dash_for_a_sentence(name: str, text: str) -> None:
    for pattern in DASH_FOR_A_SENTENCE:
        found = pattern.search(text)
        assert found is None, f"{name}: a dash where a sentence should be: {found.group(0)!r}"


def build_state(make, state: State) -> int:
    """A campaign of a new organisation in ``state``; its id."""
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.responses import import_responses
    from surveyapp.services.users import create_user

    organisation = make.organisation("Tiny")
    campaign = make.campaign(organisation, name="Only survey")
    if state.counts:
        answers = responses_csv(make.questionnaire(), state.counts, seed=5)
        import_responses(campaign, answers, "answers.csv")
    if state.status == "closed":
        close_campaign(campaign)
    create_user(*MANAGER, "manager", organisation)
    make.commit()
    return campaign.id


@pytest.fixture(params=list(STATES), ids=list(STATES))
def state(request, client, in_app, fast_password_hashes):  # noqa: F811
    chosen = STATES[request.param]
    with in_app() as make:
        campaign_id = build_state(make, chosen)
    login(client, MANAGER)
    return chosen, campaign_id


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_page_says_the_state_in_a_sentence(client, state, lang):
    chosen, campaign_id = state
    client.set_cookie("lang", lang)
    response = client.get(f"/results/campaigns/{campaign_id}", headers={"Accept-Language": lang})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Traceback" not in html
    if lang == "en":
        assert chosen.page in words(html)
    assert_no_dash_for_a_sentence("page", html)
    assert_no_dash_for_a_sentence("page text", words(html))


def test_pdf_says_the_state_in_a_sentence(client, state):
    chosen, campaign_id = state
    response = client.get(f"/results/campaigns/{campaign_id}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = re.sub(r"\s+", " ", pdf_text(response.data))
    assert chosen.pdf in text
    assert_no_dash_for_a_sentence("pdf", text)


def test_results_csv_and_api_answer(client, state):
    chosen, campaign_id = state
    response = client.get(f"/results/campaigns/{campaign_id}/results.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows, "the results CSV has no rows at all"
    overall = rows[0]
    assert overall["section"] == "overall"
    shown = sum(chosen.counts.values()) >= 5
    assert (overall["suppressed"] == "no") is shown
    if not shown:
        assert overall["mean"] == "" and len(rows) == 1
    api = client.get(f"/api/v1/campaigns/{campaign_id}/results")
    assert api.status_code == 200
    organisation = api.get_json()["organisation"]
    if not chosen.counts:
        # Nothing to protect: the analysis says so with a count of nobody, and no figure.
        assert organisation["respondents"] == 0
        assert organisation["overall"]["mean"] is None
    else:
        assert organisation["suppressed"] is not shown


def test_every_department_withheld_never_claims_agreement(client, in_app, fast_password_hashes):  # noqa: F811
    with in_app() as make:
        campaign_id = build_state(make, STATES["every department withheld"])
    login(client, MANAGER)
    base = f"/results/campaigns/{campaign_id}"
    text = re.sub(r"\s+", " ", pdf_text(client.get(f"{base}/report.pdf").data))
    assert "staff largely agree" not in text
    page = words(client.get(base).get_data(as_text=True))
    assert "No department has enough respondents" in page


def test_open_campaign_shows_participation_and_no_results(client, in_app, fast_password_hashes):  # noqa: F811
    with in_app() as make:
        campaign_id = build_state(make, State({"COM": 9, "IT": 10}, "open", "", ""))
    login(client, MANAGER)
    base = f"/results/campaigns/{campaign_id}"
    page = client.get(base)
    assert page.status_code == 200
    assert "Results appear when the campaign closes" in words(page.get_data(as_text=True))
    # Everything with figures answers 409 (not yet), never 500.
    for path in (f"{base}/report.pdf", f"{base}/results.csv", f"{base}/dimensions/listening"):
        assert client.get(path).status_code == 409, path
    assert client.get(f"/api/v1/campaigns/{campaign_id}/results").status_code == 409
