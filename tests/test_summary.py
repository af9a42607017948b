"""The summary in words: each sentence states a figure of the view model, a difference is
claimed only where its certainty allows, and the priorities follow the documented rule."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from babel.support import NullTranslations, Translations

from surveyapp.reporting.formatting import format_number, format_percent
from surveyapp.reporting.summary import LOW_RESPONSE_RATE, Summary, summarise
from surveyapp.reporting.view import (
    Benchmark,
    CampaignInfo,
    DepartmentInfo,
    DepartmentRow,
    DepartmentView,
    Difference,
    DimensionView,
    GroupRow,
    HeatMap,
    Level,
    Maturity,
    NormGroup,
    OrganisationInfo,
    Overall,
    Policy,
    PreviousCampaign,
    ReportView,
    Scale,
    VersusRest,
)

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


LEVELS = tuple(
    Level(number=n, id=f"l{n}", name=name, description=f"{name} described.", min_score=m)
    for n, name, m in [
        (1, "Closed", 1.0),
        (2, "Observing", 1.8),
        (3, "Conversing", 2.6),
        (4, "Converting", 3.4),
        (5, "Innovating", 4.2),
    ]
)


def level(number: int) -> Level:
    return LEVELS[number - 1]


def difference(diff: float, certainty: str) -> Difference:
    return Difference(diff=diff, ci=(diff - 0.2, diff + 0.2), certainty=certainty, n_a=6)


def dimension(
    ident: str,
    mean: float,
    number: int,
    percentile: float | None = None,
    *,
    span: tuple[int, int] | None = None,
    change: Difference | None = None,
    gap: Difference | None = None,
    departments: list | None = None,
) -> DimensionView:
    return DimensionView(
        id=ident,
        name=f"Dimension {ident.upper()}",
        suppressed=False,
        mean=mean,
        ci=(mean - 0.1, mean + 0.1),
        maturity=Maturity(
            level=level(number),
            uncertain=span is not None,
            range=(level(span[0]), level(span[1])) if span else None,
        ),
        recommendation=f"Next step for {ident} at level {number}.",
        benchmark=None
        if percentile is None
        else Benchmark(percentile=percentile, q1=2.5, median=3.0, q3=3.5, organisations=8),
        change=change,
        gap=gap,
        departments=tuple(departments or ()),
    )


def withheld_dimension(ident: str, reason: str) -> DimensionView:
    return DimensionView(id=ident, name=ident.upper(), suppressed=True, reason=reason)


def group(code: str, mean: float, certainty: str = "unclear", diff: float = 0.0, agree=True):
    return GroupRow(
        code=code,
        name=f"Department {code}",
        suppressed=False,
        n=12,
        mean=mean,
        ci=(mean - 0.1, mean + 0.1),
        agreement_ok=agree,
        vs_rest=VersusRest(diff=diff, ci=(diff - 0.2, diff + 0.2), certainty=certainty),
    )


def campaign(status="closed", responses=40, headcount=80, response_rate=0.5) -> CampaignInfo:
    return CampaignInfo(
        id=1,
        name="This year",
        status=status,
        opens_on="2026-03-01",
        closes_on="2026-03-31",
        responses=responses,
        headcount=headcount,
        response_rate=response_rate,
    )


def previous(name: str, responses: int | None) -> PreviousCampaign:
    return PreviousCampaign(id=2, name=name, opens_on="2025-03-01", responses=responses)


def department(code: str, name: str, rows: list[DepartmentRow]) -> DepartmentView:
    return DepartmentView(code=code, name=name, rows=tuple(rows))


OVERALL = Overall(n=40, mean=2.87, ci=(2.71, 3.02), level=level(3), uncertain=False, range=None)
NO_OVERALL = Overall()


def make_view(dimensions: list[DimensionView], **overrides) -> ReportView:
    view = ReportView(
        lang="en",
        generated_on="2026-04-01",
        title="Social business",
        organisation=OrganisationInfo(id=1, name="Example"),
        campaign=campaign(),
        departments=(),
        norm_group=NormGroup(description="all organisations", organisations=8),
        previous_campaign=None,
        threshold=5,
        policy=Policy(min_group_size=5, min_comment_group_size=10),
        published=True,
        no_responses=False,
        overall=OVERALL,
        scale=Scale(min=1, max=5),
        levels=LEVELS,
        dimensions=tuple(dimensions),
        strengths=(),
        heatmap=HeatMap(),
        has_gap=any(d.gap for d in dimensions),
        has_change=any(d.change for d in dimensions),
        has_benchmark=any(d.benchmark for d in dimensions),
        departments_shown=any(d.departments for d in dimensions),
        suppressed_groups=(),
        department=None,
    )
    return replace(view, **overrides)


def priorities(view: ReportView) -> list[str]:
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
    withheld = withheld_dimension("w", "fewer than 5")
    view = make_view([dimension("a", 2.2, 2, 20.0), withheld])
    summary = summarise(view, NullTranslations())
    assert [p.dimension_id for p in summary.priorities] == ["a"]
    assert summary.priorities_intro == "The dimension to work on first, with its next step:"
    assert summary.priorities[0].recommendation == "Next step for a at level 2."
    assert "higher than 20% of the norm group" in summary.priorities[0].reason


def test_department_rule_orders_by_the_difference_with_the_rest():
    dims = [dimension(k, 2.5, 2, 20.0) for k in "abcd"]
    groups = [
        (group("X", 2.4, "unclear"), 2),
        (group("X", 2.3, "clear", -0.4), 2),
        (group("X", 2.45, "probable", -0.2), 2),
        # Clearly above the rest and not at the department's lowest level: out.
        (group("X", 3.0, "clear", 0.5), 3),
    ]
    rows = [
        DepartmentRow(
            dimension=d,
            group=g,
            level=level(number),
            recommendation=f"Department step for {d.id}.",
        )
        for d, (g, number) in zip(dims, groups, strict=True)
    ]
    view = make_view(dims, department=department("X", "Department X", rows))
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
    view = replace(view, overall=replace(OVERALL, uncertain=True, range=(level(2), level(3))))
    text = " ".join(sentences(summarise(view, NullTranslations())))
    assert "from level 2 (Observing) to level 3 (Conversing)" in text
    assert "provisional" in text


def test_low_response_and_an_open_survey_are_said_in_words():
    view = make_view(
        [dimension("a", 2.2, 2, 20.0)],
        campaign=campaign(status="open", responses=15, headcount=80, response_rate=0.1875),
    )
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
    view = make_view(dims, previous_campaign=previous("Last year", 30))
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
    view = make_view(dims, previous_campaign=previous("Last year", 30))
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
        previous_campaign=previous("Last year", 30),
    ),
    "withheld": lambda: make_view(
        [],
        published=False,
        overall=NO_OVERALL,
        campaign=campaign(responses=None, headcount=80, response_rate=None),
    ),
    "no benchmark, no previous, no headcount": lambda: make_view(
        [dimension("a", 2.2, 2)],
        campaign=campaign(responses=40, headcount=None, response_rate=None),
    ),
    "previous without comparison": lambda: make_view(
        [dimension("a", 2.2, 2)], previous_campaign=previous("Last year", None)
    ),
    "every dimension withheld": lambda: make_view(
        [withheld_dimension("w", "fewer than 5 answers")],
        overall=Overall(n=6),
    ),
    "department": lambda: make_view(
        [dimension("a", 2.2, 2, 20.0)],
        departments=(
            DepartmentInfo(
                code="X",
                name="Department X",
                suppressed=False,
                responses=12,
                headcount=20,
                response_rate=0.6,
            ),
        ),
        department=department(
            "X",
            "Department X",
            [
                DepartmentRow(
                    dimension=dimension("a", 2.2, 2, 20.0),
                    group=group("X", 2.0),
                    level=level(2),
                    recommendation="Step.",
                )
            ],
        ),
    ),
    "department withheld": lambda: make_view(
        [dimension("a", 2.2, 2, 20.0)],
        department=department(
            "X",
            "Department X",
            [
                DepartmentRow(
                    dimension=dimension("a", 2.2, 2, 20.0),
                    group=GroupRow(
                        code="X", name="Department X", suppressed=True, reason="fewer than 5"
                    ),
                )
            ],
        ),
    ),
}


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("state", list(STATES))
def test_every_state_has_sentences_without_gaps(state, lang):
    view = replace(STATES[state](), lang=lang)
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
    dutch = sentences(summarise(replace(view, lang="nl"), DUTCH))
    descriptions = {lv.description for lv in LEVELS}  # the view's own, already localised
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
    from surveyapp.reporting.model import build_view
    from surveyapp.services.questionnaires import questionnaire_for
    from surveyapp.services.reporting import released_report

    with in_app() as make:
        results = build_results(make)
        campaign = db.session.get(Campaign, results.campaign_id)
        report = released_report(campaign)
        views = {
            lang: build_view(report, questionnaire_for(campaign.questionnaire_version), lang)
            for lang in ("en", "nl")
        }
    return results, views


def test_demo_summary_matches_the_view_model(demo_view):
    _results, views = demo_view
    view = views["en"]
    summary = summarise(view, NullTranslations())
    text = " ".join(sentences(summary))
    assert format_number(view.overall.mean) in text
    assert f"{view.campaign.responses} people responded" in text or (
        f"{view.campaign.responses} of {view.campaign.headcount} staff" in text
    )
    shown = view.shown_dimensions
    names = [d.name for d in shown]
    change = next(p for p in summary.paragraphs if p.topic == "change").sentences
    # Every dimension a change sentence claims went up or down has that verdict.
    for sentence in change:
        match = re.search(r"(clearly|probably) went (up|down)", sentence)
        claimed = named_in(sentence, names) if match else set()
        for d in shown:
            if d.name in claimed:
                verdict = {"clearly": "clear", "probably": "probable"}[match.group(1)]
                assert d.change.certainty == verdict, (sentence, d.name)
                assert (d.change.diff > 0) == (match.group(2) == "up")
    unclear = [d.name for d in shown if d.change and d.change.certainty == "unclear"]
    for sentence in change:
        if any(word in sentence for word in VERDICT_WORDS):
            assert not named_in(sentence, names) & set(unclear), sentence
    # The priorities are the first three of the documented order.
    assert 1 <= len(summary.priorities) <= 3
    for priority in summary.priorities:
        d = next(x for x in shown if x.id == priority.dimension_id)
        assert priority.level == d.maturity.level.number
        assert priority.recommendation == d.recommendation
        lowest = min(x.maturity.level.number for x in shown)
        percentile = d.benchmark.percentile if d.benchmark else None
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


# --------------------------------------------------------------------------- one dimension


def one_dimension_view(change_certainty: str) -> ReportView:
    departments = [group("X", 2.0, "clear", -0.5), group("Y", 3.0, "unclear", 0.1)]
    dims = [
        dimension(
            "a",
            2.2,
            2,
            20.0,
            change=difference(0.4, change_certainty),
            gap=difference(0.1, "unclear"),
            departments=departments,
        )
    ]
    return make_view(dims, previous_campaign=previous("Last year", 30))


def test_one_dimension_is_named_not_counted():
    clear = summarise(one_dimension_view("clear"), NullTranslations())
    unclear = summarise(one_dimension_view("unclear"), NullTranslations())
    change = next(p for p in clear.paragraphs if p.topic == "change").sentences
    assert change == ("Since Last year, Dimension A clearly went up.",)
    change = next(p for p in unclear.paragraphs if p.topic == "change").sentences
    assert change == ("On Dimension A there is no clear difference with Last year.",)
    groups = next(p for p in clear.paragraphs if p.topic == "groups").sentences
    assert groups == (
        "Departments that score clearly lower than the rest of the organisation on the one "
        "dimension shown: Department X (1 dimension).",
        "On Dimension A there is no clear difference between top management and the rest of "
        "the staff.",
    )


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.parametrize("certainty", ["clear", "unclear"])
def test_no_sentence_counts_one_dimension_in_the_plural(lang, certainty):
    view = replace(one_dimension_view(certainty), lang=lang)
    text = " ".join(sentences(summarise(view, translations(lang))))
    assert not re.search(r"\b1 (dimensions|dimensies)\b", text), text
    assert not re.search(r"\ball 1\b|\balle 1\b|\b1 of the 1\b|\b1 van de 1\b", text), text
