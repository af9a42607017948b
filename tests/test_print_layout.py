"""Where the printed report puts each dimension's departments chart, and what that does
to its pages: a dimension takes one page, its chart printed beside it when there is room
and otherwise in "Departments per dimension", to which its page points by page number."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from surveyapp import pdf
from surveyapp.reporting.print_layout import (
    ROWS_ON_DIMENSION_PAGE,
    departments_apart,
    departments_on_dimension_page,
)
from surveyapp.reporting.view import DimensionView, GroupRow, ItemView
from surveyapp.services.campaigns import close_campaign
from surveyapp.services.responses import import_responses

from .test_pdf import make_view

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftotext) is not installed; make install-test installs it",
)


def dimension(items: int, departments: int, shown: bool = True) -> DimensionView:
    return DimensionView(
        id="d",
        name="D",
        mean=3.0,
        items=tuple(ItemView(id=f"i{k}", text="s") for k in range(items)),
        departments=tuple(
            GroupRow(code=f"g{k}", name=f"G{k}", suppressed=not shown, mean=3.0 if shown else None)
            for k in range(departments)
        ),
    )


def test_the_chart_goes_apart_when_the_page_has_no_room_for_it():
    assert departments_on_dimension_page(dimension(5, 4))
    assert not departments_on_dimension_page(dimension(5, ROWS_ON_DIMENSION_PAGE - 4))
    # Every department withheld: there is no chart, on the page or apart.
    assert not departments_on_dimension_page(dimension(5, 3, shown=False))
    assert departments_apart([dimension(5, 3, shown=False), dimension(5, 4)]) == []
    assert len(departments_apart([dimension(5, 12), dimension(5, 2)])) == 1


def campaign_with(factory, departments: int, name: str):
    """A closed campaign of ``departments`` departments of 8 respondents each."""
    q = factory.questionnaire()
    tree = "code,name,parent_code,headcount\n" + "".join(
        f"D{k},Department number {k},,20\n" for k in range(departments)
    )
    campaign = factory.campaign(factory.organisation(name, tree))
    rng = np.random.default_rng(departments)
    ids = [item.id for item in q.items]
    lines = [",".join(["department", "role_level", *ids])]
    for k in range(departments):
        for person in range(8):
            role = "top_management" if person == 0 else "employee"
            level = rng.normal(3.0 + 0.1 * k, 0.5)
            values = np.clip(np.rint(level + rng.normal(0, 0.8, len(ids))), 1, 5).astype(int)
            lines.append(",".join([f"D{k}", role, *map(str, values)]))
    import_responses(campaign, "\n".join(lines) + "\n", "answers.csv")
    close_campaign(campaign)
    factory.commit()
    return campaign


def pages_of(document: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "report.pdf"
    path.write_bytes(document)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    return [re.sub(r"\s+", " ", page) for page in text.split("\f")]


def first_page_with(pages: list[str], heading: str, start: int = 0) -> int:
    for k in range(start, len(pages)):
        if re.search(rf"(^| ){re.escape(heading)} ", pages[k]):
            return k
    raise AssertionError(f"{heading!r} is on no page after page {start + 1}")


def dimension_pages(view, pages: list[str]) -> list[int]:
    """The page each shown dimension's chapter starts on, found after the contents."""
    shown = [d for d in view.dimensions if not d.suppressed]
    start = first_page_with(pages, shown[0].name, 3)
    found = []
    for d in shown:
        start = first_page_with(pages, d.name, start)
        found.append(start)
    return found


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_small_organisation_prints_each_dimension_with_its_chart_on_one_page(
    factory, tmp_path, lang
):
    view = make_view(campaign_with(factory, 4, "Vier Afdelingen"), lang)
    apart = departments_apart(view.dimensions)
    # Five statements and four departments fit on a page; only a dimension with more
    # statements sends its chart to "Departments per dimension".
    assert all(len(d.items) > 5 for d in apart)
    assert len(apart) < len(view.dimensions)
    pages = pages_of(pdf.create_pdf(view), tmp_path)
    starts = dimension_pages(view, pages)
    # One page each: every dimension starts on the page after the one before it, and the
    # page after the last one is the next chapter.
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [1] * (len(starts) - 1)
    heading = "Departments at a glance" if lang == "en" else "Afdelingen in één oogopslag"
    assert first_page_with(pages, heading, starts[-1]) == starts[-1] + 1


def test_a_larger_organisation_prints_its_charts_apart_and_points_to_them(factory, tmp_path):
    view = make_view(campaign_with(factory, 12, "Twaalf Afdelingen"), "en")
    apart = departments_apart(view.dimensions)
    assert apart, "twelve departments leave no room on the dimension's page"
    pages = pages_of(pdf.create_pdf(view), tmp_path)
    starts = dimension_pages(view, pages)
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [1] * (len(starts) - 1)
    chapter = first_page_with(pages, "Departments per dimension", starts[-1])
    for d, start in zip([d for d in view.dimensions if not d.suppressed], starts, strict=True):
        if d not in apart:
            continue
        said = re.search(
            r"The chart of every department on this dimension is on page (\d+)", pages[start]
        )
        assert said, f"{d.name}: its page does not say where its chart is"
        target = int(said.group(1)) - 1
        assert target >= chapter
        assert d.name in pages[target], f"{d.name}: page {target + 1} does not hold its chart"


def test_chapters_with_nothing_to_show_are_named_once_instead(factory, tmp_path):
    # Six respondents: the organisation is shown, its two departments (3 and 3) are not,
    # there is no earlier campaign and top management is too small to compare.
    q = factory.questionnaire()
    campaign = factory.campaign(factory.organisation("Zes Mensen"))
    ids = [item.id for item in q.items]
    lines = [",".join(["department", "role_level", *ids])]
    for k in range(6):
        lines.append(",".join(["COM" if k < 3 else "HR", "employee", *["3"] * len(ids)]))
    import_responses(campaign, "\n".join(lines) + "\n", "answers.csv")
    close_campaign(campaign)
    factory.commit()
    view = make_view(campaign, "en")
    pages = pages_of(pdf.create_pdf(view), tmp_path)
    text = " ".join(pages)
    assert "Departments at a glance" not in text
    assert "Departments per dimension" not in text
    chapter = first_page_with(pages, "What this report cannot show", 3)
    for reason in (
        "No department has enough respondents to be shown on its own",
        "There is no earlier survey of this organisation",
        "This comparison is not shown",
    ):
        assert reason in pages[chapter]
        assert text.count(reason) == 1, f"{reason!r} should be said once, not per dimension"


def test_the_summary_names_the_priorities_of_in_brief(factory, tmp_path):
    from flask_babel import force_locale, get_translations

    from surveyapp.reporting.summary import summarise

    campaign = campaign_with(factory, 4, "Prioriteiten")
    view = make_view(campaign, "en")
    with force_locale("en"):
        summary = summarise(view, get_translations())
    chosen = [p.name for p in summary.priorities]
    assert chosen, "four departments of eight give the summary its priorities"
    pages = pages_of(pdf.render_campaign_pdf(campaign, "en"), tmp_path)
    page = pages[first_page_with(pages, "Strengths", 2)]
    listed = page[page.index("Priorities") :]
    positions = [listed.find(name) for name in chosen]
    assert all(p >= 0 for p in positions), (chosen, listed[:400])
    assert positions == sorted(positions), "in the order of the rule"
