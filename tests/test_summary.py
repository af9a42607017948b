"""The summary in words: each sentence states a figure of the view model, a difference is
claimed only where its certainty allows, and the priorities follow the documented rule."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from babel.support import NullTranslations, Translations

from surveyapp.reporting.formatting import format_number, format_percent
from surveyapp.reporting.summary import LOW_RESPONSE_RATE, Summary, summarise

from .dashboard_data import (
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)

TRANSLATIONS = Path(__file__).resolve().parent.parent / "surveyapp" / "translations"
DUTCH = Translations.load(str(TRANSLATIONS), ["nl"])
VERDICT_WORDS = ("clearly", "probably")


def translations(lang: str):
    return NullTranslations() if lang == "en" else DUTCH


LEVELS = [
    {"number": n, "id": f"l{n}", "name": name, "description": f"{name} described.", "min_score": m}
    for n, name, m in [
        (1, "Closed", 1.0),
        (2, "Observing", 1.8),
        (3, "Conversing", 2.6),
        (4, "Converting", 3.4),
        (5, "Innovating", 4.2),
    ]
]


def level(number: int) -> dict:
    return LEVELS[number - 1]


def difference(diff: float, certainty: str) -> dict:
    return {"diff": diff, "ci": (diff - 0.2, diff + 0.2), "certainty": certainty, "n_a": 6}


def dimension(
    ident: str,
    mean: float,
    number: int,
    percentile: float | None = None,
    *,
    span: tuple[int, int] | None = None,
    change: dict | None = None,
    gap: dict | None = None,
    departments: list | None = None,
) -> dict:
    return {
        "id": ident,
        "name": f"Dimension {ident.upper()}",
        "suppressed": False,
        "mean": mean,
        "ci": (mean - 0.1, mean + 0.1),
        "maturity": {
            "level": level(number),
            "uncertain": span is not None,
            "range": (level(span[0]), level(span[1])) if span else None,
        },
        "recommendation": f"Next step for {ident} at level {number}.",
        "benchmark": None
        if percentile is None
        else {"percentile": percentile, "q1": 2.5, "median": 3.0, "q3": 3.5, "organisations": 8},
        "change": change,
        "gap": gap,
        "departments": departments or [],
    }


def group(code: str, mean: float, certainty: str = "unclear", diff: float = 0.0, agree=True):
    return {
        "code": code,
        "name": f"Department {code}",
        "suppressed": False,
        "n": 12,
        "mean": mean,
        "ci": (mean - 0.1, mean + 0.1),
        "agreement_ok": agree,
        "vs_rest": difference(diff, certainty),
    }


def make_view(dimensions: list[dict], **overrides) -> dict:
    view = {
        "lang": "en",
        "threshold": 5,
        "published": True,
        "campaign": {
            "status": "closed",
            "responses": 40,
            "headcount": 80,
            "response_rate": 0.5,
        },
        "departments": [],
        "norm_group": {"description": "all organisations", "organisations": 8},
        "previous_campaign": None,
        "overall": {
            "n": 40,
            "mean": 2.87,
            "ci": (2.71, 3.02),
            "level": level(3),
            "uncertain": False,
            "range": None,
        },
        "scale": {"min": 1, "max": 5},
        "levels": LEVELS,
        "dimensions": dimensions,
        "has_benchmark": any(d.get("benchmark") for d in dimensions),
        "department": None,
    }
    view.update(overrides)
    return view


def priorities(view: dict) -> list[str]:
    return [p.dimension_id for p in summarise(view, NullTranslations()).priorities]


def sentences(summary: Summary) -> list[str]:
    out = [s for p in summary.paragraphs for s in p.sentences]
    out += [p.reason for p in summary.priorities]
    return out + [summary.priorities_intro, summary.rule]


# --------------------------------------------------------------------------- the rule


def test_a_lower_level_comes_first_even_ahead_of_the_norm_group():
    # A is at the lowest level shown, so being at the 80th percentile does not exclude it.
    view = make_view([dimension("b", 2.9, 3, 10.0), dimension("a", 2.2, 2, 80.0)])
    assert priorities(view) == ["a", "b"]


def test_ahead_of_the_norm_group_is_a_priority_only_at_the_lowest_level():
    view = make_view(
        [
            dimension("a", 3.0, 3, 70.0),  # above the median, not at the lowest level: out
            dimension("b", 2.3, 2, 40.0),
            dimension("c", 3.1, 3, 30.0),
            dimension("d", 3.6, 4, 5.0),
        ]
    )
    assert priorities(view) == ["b", "c", "d"]


def test_among_equal_levels_the_lower_percentile_then_the_lower_score_comes_first():
    view = make_view(
        [
            dimension("a", 2.2, 2, 40.0),
            dimension("b", 2.5, 2, 10.0),
            dimension("c", 2.4, 2, 40.0),
            dimension("d", 2.1, 2, None),  # no benchmark counts as the middle (50)
        ]
    )
    assert priorities(view) == ["b", "a", "c"]


def test_an_interval_spanning_two_levels_counts_halfway():
    view = make_view(
        [
            dimension("a", 2.5, 2, 10.0, span=(2, 3)),  # 2.5
            dimension("b", 2.4, 2, 45.0),  # 2: first, despite the higher percentile
            dimension("c", 2.7, 3, 5.0, span=(2, 3)),  # 2.5, lower percentile than a
            dimension("d", 3.0, 3, 1.0),  # 3
        ]
    )
    assert priorities(view) == ["b", "c", "a"]


def test_fewer_candidates_give_fewer_priorities_and_withheld_dimensions_are_none():
    withheld = {"id": "w", "name": "Withheld", "suppressed": True, "reason": "fewer than 5"}
    view = make_view([dimension("a", 2.2, 2, 20.0), withheld])
    summary = summarise(view, NullTranslations())
    assert [p.dimension_id for p in summary.priorities] == ["a"]
    assert summary.priorities_intro == "The dimension to work on first, with its next step:"
    assert summary.priorities[0].recommendation == "Next step for a at level 2."
    assert "higher than 20% of the norm group" in summary.priorities[0].reason


def test_department_rule_orders_by_the_difference_with_the_rest():
    dims = [dimension(k, 2.5, 2, 20.0) for k in "abcd"]
    rows = [
        {"dimension": dims[0], "group": group("X", 2.4, "unclear"), "level": level(2)},
        {"dimension": dims[1], "group": group("X", 2.3, "clear", -0.4), "level": level(2)},
        {"dimension": dims[2], "group": group("X", 2.45, "probable", -0.2), "level": level(2)},
        # Clearly above the rest and not at the department's lowest level: out.
        {"dimension": dims[3], "group": group("X", 3.0, "clear", 0.5), "level": level(3)},
    ]
    for row in rows:
        row["recommendation"] = f"Department step for {row['dimension']['id']}."
    view = make_view(dims, department={"code": "X", "name": "Department X", "rows": rows})
    summary = summarise(view, NullTranslations())
    assert [p.dimension_id for p in summary.priorities] == ["b", "c", "a"]
    assert summary.priorities[0].recommendation == "Department step for b."
    assert summary.priorities[0].reason.endswith("clearly lower than the rest of the organisation.")
    assert summary.priorities[2].reason.endswith(
        "no clear difference from the rest of the organisation."
    )


# --------------------------------------------------------------------------- figures


def test_overall_and_response_sentences_state_the_view_figures():
    view = make_view([dimension("a", 2.2, 2, 20.0)])
    text = " ".join(sentences(summarise(view, NullTranslations())))
    assert "level 3 of 5: Conversing" in text
    assert "Its average score is 2.87 on a scale from 1 to 5 (95% interval 2.71 to 3.02)" in text
    assert "40 of 80 staff responded: a response rate of 50%." in text
    assert "interim" not in text and "may not represent everyone" not in text


def test_uncertain_level_is_called_provisional():
    view = make_view([dimension("a", 2.2, 2, 20.0)])
    view["overall"].update(uncertain=True, range=(level(2), level(3)))
    text = " ".join(sentences(summarise(view, NullTranslations())))
    assert "from level 2 (Observing) to level 3 (Conversing)" in text
    assert "provisional" in text


def test_low_response_and_an_open_survey_are_said_in_words():
    view = make_view([dimension("a", 2.2, 2, 20.0)])
    view["campaign"].update(status="open", responses=15, headcount=80, response_rate=0.1875)
    text = " ".join(sentences(summarise(view, NullTranslations())))
    assert "15 of 80 staff responded: a response rate of 19%." in text
    assert "interim" in text
    assert f"fewer than {format_percent(LOW_RESPONSE_RATE)} of staff" in text


def test_change_counts_and_names_only_the_differences_its_certainty_allows():
    dims = [
        dimension("a", 2.2, 2, 20.0, change=difference(0.4, "clear")),
        dimension("b", 2.4, 2, 20.0, change=difference(-0.3, "clear")),
        dimension("c", 2.6, 3, 20.0, change=difference(0.25, "probable")),
        # A large change with an interval that includes zero: no claim.
        dimension("d", 2.8, 3, 20.0, change=difference(0.6, "unclear")),
    ]
    view = make_view(dims, previous_campaign={"name": "Last year", "responses": 30})
    paragraph = next(
        p for p in summarise(view, NullTranslations()).paragraphs if p.topic == "change"
    )
    assert paragraph.sentences == (
        "Since Last year, 1 of the 4 dimensions clearly went up: Dimension A.",
        "1 of the 4 dimensions clearly went down: Dimension B.",
        "1 of the 4 dimensions probably went up: Dimension C.",
        "On the other dimension there is no clear difference.",
    )


def test_all_changes_unclear_is_no_clear_difference():
    dims = [dimension(k, 2.2, 2, 20.0, change=difference(0.1, "unclear")) for k in "ab"]
    view = make_view(dims, previous_campaign={"name": "Last year", "responses": 30})
    paragraph = next(
        p for p in summarise(view, NullTranslations()).paragraphs if p.topic == "change"
    )
    assert paragraph.sentences == (
        "On all 2 dimensions there is no clear difference with Last year.",
    )


def test_benchmark_names_dimensions_outside_the_middle_half_with_their_percentile():
    dims = [
        dimension("a", 2.2, 2, 8.0),  # below q1 (2.5)
        dimension("b", 3.0, 3, 50.0),
        dimension("c", 3.7, 4, 92.0),  # above q3 (3.5)
    ]
    paragraph = next(
        p
        for p in summarise(make_view(dims), NullTranslations()).paragraphs
        if p.topic == "benchmark"
    )
    assert paragraph.sentences == (
        "The norm group is 8 organisations (all organisations).",
        "The organisation scores above the middle half of the norm group on Dimension C "
        "(percentile 92).",
        "The organisation scores below the middle half of the norm group on Dimension A "
        "(percentile 8).",
        "On the other dimension it scores within the middle half.",
    )


def test_departments_and_top_management_use_the_certainty_wording():
    def depts(x_certainty, y_certainty):
        return [
            group("X", 2.0, x_certainty, -0.5, agree=False),
            group("Y", 3.0, y_certainty, 0.5),
        ]

    dims = [
        dimension(k, 2.5, 2, 20.0, gap=difference(0.6, gap), departments=depts(x, y))
        for k, gap, x, y in [
            ("a", "clear", "clear", "clear"),
            ("b", "clear", "clear", "probable"),
            ("c", "unclear", "clear", "unclear"),
        ]
    ]
    summary = summarise(make_view(dims), NullTranslations())
    groups = next(p for p in summary.paragraphs if p.topic == "groups").sentences
    assert groups == (
        "Departments that score clearly lower than the rest of the organisation on 3 or more "
        "dimensions: Department X (3 dimensions).",
        "Top management sees 2 of the 3 dimensions clearly more positively than the rest of "
        "the staff: Dimension A and Dimension B.",
        "On the other dimension there is no clear difference.",
    )
    agreement = next(p for p in summary.paragraphs if p.topic == "agreement").sentences
    assert agreement[0].startswith(
        "Staff do not agree with each other in Department X (on Dimension A, Dimension B, "
        "and Dimension C)"
    )


# --------------------------------------------------------------------------- states


def no_dash_or_none(summary: Summary) -> None:
    for sentence in sentences(summary):
        assert sentence == sentence.strip()
        assert "None" not in sentence and "nan" not in sentence and "–" not in sentence, sentence
        assert "%(" not in sentence, sentence


STATES = {
    "full": lambda: make_view(
        [
            dimension(
                "a", 2.2, 2, 20.0, change=difference(0.3, "clear"), gap=difference(0.5, "clear")
            )
        ],
        previous_campaign={"name": "Last year", "responses": 30},
    ),
    "withheld": lambda: make_view(
        [],
        published=False,
        overall={
            "n": None,
            "mean": None,
            "ci": None,
            "level": None,
            "uncertain": False,
            "range": None,
        },
        campaign={"status": "closed", "responses": None, "headcount": 80, "response_rate": None},
    ),
    "no benchmark, no previous, no headcount": lambda: make_view(
        [dimension("a", 2.2, 2)],
        campaign={"status": "closed", "responses": 40, "headcount": None, "response_rate": None},
    ),
    "previous without comparison": lambda: make_view(
        [dimension("a", 2.2, 2)], previous_campaign={"name": "Last year", "responses": None}
    ),
    "every dimension withheld": lambda: make_view(
        [{"id": "w", "name": "W", "suppressed": True, "reason": "fewer than 5 answers"}],
        overall={
            "n": 6,
            "mean": None,
            "ci": None,
            "level": None,
            "uncertain": False,
            "range": None,
        },
    ),
    "department": lambda: make_view(
        [dimension("a", 2.2, 2, 20.0)],
        departments=[
            {
                "code": "X",
                "suppressed": False,
                "responses": 12,
                "headcount": 20,
                "response_rate": 0.6,
            }
        ],
        department={
            "code": "X",
            "name": "Department X",
            "rows": [
                {
                    "dimension": dimension("a", 2.2, 2, 20.0),
                    "group": group("X", 2.0),
                    "level": level(2),
                    "recommendation": "Step.",
                }
            ],
        },
    ),
    "department withheld": lambda: make_view(
        [dimension("a", 2.2, 2, 20.0)],
        department={
            "code": "X",
            "name": "Department X",
            "rows": [
                {
                    "dimension": dimension("a", 2.2, 2, 20.0),
                    "group": {"code": "X", "suppressed": True, "reason": "fewer than 5"},
                }
            ],
        },
    ),
}


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("state", list(STATES))
def test_every_state_has_sentences_without_gaps(state, lang):
    view = STATES[state]()
    view["lang"] = lang
    summary = summarise(view, translations(lang))
    assert summary.paragraphs and all(p.sentences and p.title for p in summary.paragraphs)
    no_dash_or_none(summary)


def test_withheld_results_give_one_sentence_and_nothing_else():
    summary = summarise(STATES["withheld"](), NullTranslations())
    assert not summary.published and summary.priorities == ()
    assert [s for p in summary.paragraphs for s in p.sentences] == [
        "Fewer than 5 people answered, so no results are shown: any figure could reveal how "
        "individuals answered."
    ]


def test_dutch_is_translated_and_uses_dutch_numbers():
    view = STATES["full"]()
    english = sentences(summarise(view, NullTranslations()))
    view["lang"] = "nl"
    dutch = sentences(summarise(view, DUTCH))
    descriptions = {lv["description"] for lv in LEVELS}  # the view's own, already localised
    assert not (set(english) & set(dutch)) - descriptions
    text = " ".join(dutch)
    assert "2,87" in text and "duidelijk" in text and "meting" not in english[0]


# --------------------------------------------------------------------------- demo-like data


def named_in(sentence: str, names: list[str]) -> set[str]:
    """The dimension names a sentence claims something about ("all except" names the rest)."""
    if "all except" in sentence:
        head, tail = sentence.split("all except", 1)
        return {n for n in names if n not in tail}
    return {n for n in names if n in sentence}


@pytest.fixture
def demo_view(in_app, fast_password_hashes):  # noqa: F811
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.questionnaires import questionnaire_for
    from surveyapp.services.report_model import build_view
    from surveyapp.services.reporting import released_report

    with in_app() as make:
        results = build_results(make)
        campaign = db.session.get(Campaign, results.campaign_id)
        report = released_report(campaign)
        views = {
            lang: copy.deepcopy(
                build_view(report, questionnaire_for(campaign.questionnaire_version), lang)
            )
            for lang in ("en", "nl")
        }
    return results, views


def test_demo_summary_matches_the_view_model(demo_view):
    _results, views = demo_view
    view = views["en"]
    summary = summarise(view, NullTranslations())
    text = " ".join(sentences(summary))
    overall = view["overall"]
    assert format_number(overall["mean"]) in text
    assert f"{view['campaign']['responses']} people responded" in text or (
        f"{view['campaign']['responses']} of {view['campaign']['headcount']} staff" in text
    )
    shown = [d for d in view["dimensions"] if not d["suppressed"]]
    names = [d["name"] for d in shown]
    change = next(p for p in summary.paragraphs if p.topic == "change").sentences
    # Every dimension a change sentence claims went up or down has that verdict.
    for sentence in change:
        match = re.search(r"(clearly|probably) went (up|down)", sentence)
        claimed = named_in(sentence, names) if match else set()
        for d in shown:
            if d["name"] in claimed:
                verdict = {"clearly": "clear", "probably": "probable"}[match.group(1)]
                assert d["change"]["certainty"] == verdict, (sentence, d["name"])
                assert (d["change"]["diff"] > 0) == (match.group(2) == "up")
    unclear = [
        d["name"] for d in shown if d.get("change") and d["change"]["certainty"] == "unclear"
    ]
    for sentence in change:
        if any(word in sentence for word in VERDICT_WORDS):
            assert not named_in(sentence, names) & set(unclear), sentence
    # The priorities are the first three of the documented order.
    assert 1 <= len(summary.priorities) <= 3
    for priority in summary.priorities:
        d = next(x for x in shown if x["id"] == priority.dimension_id)
        assert priority.level == d["maturity"]["level"]["number"]
        assert priority.recommendation == d["recommendation"]
        lowest = min(x["maturity"]["level"]["number"] for x in shown)
        percentile = (d.get("benchmark") or {}).get("percentile")
        assert percentile is None or percentile <= 50 or priority.level == lowest
    no_dash_or_none(summary)
    dutch = summarise(views["nl"], DUTCH)
    no_dash_or_none(dutch)
    assert dutch.paragraphs[0].title == "Niveau van de organisatie"


def test_campaign_and_department_pages_show_the_summary_first(client, in_app, fast_password_hashes):  # noqa: F811
    with in_app() as make:
        results = build_results(make)
    login(client, MANAGER)
    page = client.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    assert page.index('id="in-brief"') < page.index('id="headline-title"')
    assert "How the priorities are chosen" in page
    department = client.get(f"/results/campaigns/{results.campaign_id}/departments/IT")
    assert department.status_code == 200
    assert "This summary is about" in department.get_data(as_text=True)


def test_pdf_opens_with_the_summary(in_app, fast_password_hashes):  # noqa: F811
    import shutil
    import subprocess

    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.pdf import render_campaign_pdf

    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (Debian's poppler-utils) is needed; `make test` installs it.")
    with in_app() as make:
        results = build_results(make)
        campaign = db.session.get(Campaign, results.campaign_id)
        document = render_campaign_pdf(campaign, "nl")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=document, capture_output=True, check=True
    ).stdout.decode()
    assert "In het kort" in text and "Zo worden de prioriteiten gekozen" in text
    assert text.index("In het kort") < text.index("Samenvatting\n")
