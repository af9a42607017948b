"""The SVG charts: well-formed, escaped, accessible, and drawn where the numbers say."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from markupsafe import Markup

from surveyapp import charts
from surveyapp.reporting.view import (
    Benchmark,
    Difference,
    DimensionView,
    GroupRow,
    HeatColumn,
    HeatRow,
    Level,
    VersusRest,
)

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert("x")</script> & Co\'s "team"'


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))


def find(root: ET.Element, tag: str, cls: str | None = None) -> list[ET.Element]:
    found = root.iter(SVG + tag)
    return [e for e in found if cls is None or cls in (e.get("class") or "").split()]


def texts(root: ET.Element) -> list[str]:
    return ["".join(e.itertext()) for e in find(root, "text")]


def group(name, mean, ci=None, **extra):
    return GroupRow(code=name, name=name, suppressed=False, mean=mean, n=20, ci=ci, **extra)


def withheld(name):
    return GroupRow(code=name, name=name, suppressed=True, reason="fewer than 5 respondents")


def versus(diff, significant):
    return VersusRest(
        diff=diff, significant=significant, certainty="clear" if significant else "unclear"
    )


def difference(diff, ci, significant):
    return Difference(
        diff=diff, ci=ci, significant=significant, certainty="clear" if significant else "unclear"
    )


def dimension(name, mean=None, ci=None, **extra):
    return DimensionView(id=name.lower(), name=name, mean=mean, ci=ci, **extra)


def columns(*names):
    return [HeatColumn(id=name, name=name) for name in names]


def heat_row(name, cells, parent=None):
    return HeatRow(code=name, name=name, cells=tuple(cells), parent=parent)


DIMENSIONS = [
    dimension(
        "Open culture",
        3.0,
        (2.8, 3.2),
        benchmark=Benchmark(q1=2.5, median=2.9, q3=3.4),
        gap=difference(0.4, (0.1, 0.7), True),
        change=difference(-0.1, (-0.3, 0.1), False),
    ),
    dimension("Trust", 4.0, (3.9, 4.1)),
    dimension("Hidden", suppressed=True),
]


def all_charts() -> dict[str, Markup]:
    rows = [
        group("Sales", 3.5, (3.1, 3.9), agreement_ok=True),
        group("Split", 2.5, (2.0, 3.0), agreement_ok=False),
        withheld("Tiny"),
    ]
    return {
        "dimension_bars": charts.dimension_bars(DIMENSIONS, 1, 5, title="Scores"),
        "group_intervals": charts.group_intervals(rows, 3.0, 1, 5, title="Departments"),
        "distribution_bar": charts.distribution_bar([0.1, 0.2, 0.3, 0.25, 0.15], list("ABCDE")),
        "distribution_legend": charts.distribution_legend(list("ABCDE")),
        "heatmap": charts.heatmap(
            columns("Open culture", "Trust"),
            [heat_row("Sales", [rows[0], rows[1]])],
            1,
            5,
        ),
        "gap_bars": charts.gap_bars(DIMENSIONS),
        "change_bars": charts.change_bars(DIMENSIONS),
    }


@pytest.mark.parametrize("name", sorted(all_charts()))
def test_every_chart_is_accessible_scalable_svg(name):
    root = parse(all_charts()[name])
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.find(SVG + "title") is not None and root.find(SVG + "title").text
    assert root.get("viewBox").startswith("0 0 ")
    assert "sans-serif" in root.get("font-family")


def test_labels_are_escaped():
    rows = [group(EVIL, 3.0, (2.5, 3.5))]
    for svg in (
        charts.group_intervals(rows, 3.0, 1, 5, title=EVIL),
        charts.dimension_bars([dimension(EVIL, 3.0)], 1, 5, title=EVIL),
        charts.heatmap(columns(EVIL), [heat_row(EVIL, rows)], 1, 5, title=EVIL),
        charts.gap_bars([dimension(EVIL)], title=EVIL),
        charts.distribution_bar([1.0], [EVIL], title=EVIL),
        charts.distribution_legend([EVIL]),
    ):
        assert "<script>" not in str(svg)
        root = parse(svg)  # would fail on an unescaped quote or ampersand
        assert not find(root, "script")


def test_svg_builder_escapes_attributes_and_rounds_numbers_once():
    from surveyapp.charts.svg import element

    assert element("rect", class_="a b", x=1.23456, y=2, width=3.0) == (
        '<rect class="a b" x="1.23" y="2" width="3"/>'
    )
    assert element("text", "x", fill=None, aria_label=EVIL) == (
        '<text aria-label="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; '
        'Co&#39;s &#34;team&#34;">x</text>'
    )


@pytest.mark.parametrize("name", ["style", "onload", "on_click"])
def test_svg_builder_refuses_what_the_content_security_policy_blocks(name):
    from surveyapp.charts.svg import element

    with pytest.raises(ValueError, match="may not write"):
        element("rect", **{name: "x"})


def test_mean_of_three_on_one_to_five_ends_mid_axis():
    root = parse(charts.dimension_bars([dimension("A", 3.0, (2.5, 3.5))], 1, 5))
    axis = find(root, "line", "axis")[0]
    x0, x1 = float(axis.get("x1")), float(axis.get("x2"))
    bar = find(root, "rect", "bar")[0]
    assert float(bar.get("x")) == pytest.approx(x0)
    assert float(bar.get("x")) + float(bar.get("width")) == pytest.approx((x0 + x1) / 2, abs=0.01)


def test_benchmark_band_spans_the_quartiles():
    root = parse(charts.dimension_bars(DIMENSIONS[:1], 1, 5))
    axis = find(root, "line", "axis")[0]
    x0, x1 = float(axis.get("x1")), float(axis.get("x2"))
    band = find(root, "rect", "benchmark-band")[0]
    assert float(band.get("x")) == pytest.approx(x0 + (2.5 - 1) / 4 * (x1 - x0), abs=0.01)
    assert float(band.get("width")) == pytest.approx(0.9 / 4 * (x1 - x0), abs=0.01)
    assert find(root, "path", "benchmark-median")
    assert not find(
        parse(charts.dimension_bars(DIMENSIONS[:1], 1, 5, benchmark=False)),
        "rect",
        "benchmark-band",
    )


def test_interval_whisker_ends_at_the_interval():
    root = parse(charts.group_intervals([group("A", 3.0, (2.0, 4.0))], None, 1, 5))
    axis = find(root, "line", "axis")[0]
    x0, x1 = float(axis.get("x1")), float(axis.get("x2"))
    d = find(root, "path", "whisker")[0].get("d")
    start, end = d[1:].split("H")[0].split()[0], d.split("H")[1].split("M")[0]
    assert float(start) == pytest.approx(x0 + 0.25 * (x1 - x0), abs=0.01)
    assert float(end) == pytest.approx(x0 + 0.75 * (x1 - x0), abs=0.01)
    circle = find(root, "circle", "mean")[0]
    assert float(circle.get("cx")) == pytest.approx((x0 + x1) / 2, abs=0.01)


def test_withheld_groups_carry_no_number():
    root = parse(
        charts.group_intervals(
            [withheld("Tiny"), group("Big", 3.25, (3.0, 3.5))], 3.0, 1, 5, lang="en"
        )
    )
    row_texts = [t for t in texts(root) if "withheld" in t]
    assert row_texts == ["withheld"]
    assert "3.25" in texts(root)


def test_suppressed_heatmap_cells_carry_no_number():
    cells = [withheld("Tiny"), replace(withheld("Tiny"), mean=4.44)]
    root = parse(charts.heatmap(columns("A", "B"), [heat_row("Tiny", cells)], 1, 5))
    assert len(find(root, "rect", "withheld")) == 2
    values = [t for t in texts(root) if any(ch.isdigit() for ch in t)]
    # Only the colour key's scale points are numbers: nothing from the withheld cells.
    assert "4.44" not in str(root) and "4.4" not in values
    assert [t for t in texts(root) if t == "–"] == ["–", "–"]


def test_heatmap_marks_significance_and_agreement_with_shapes():
    cells = [
        group("A", 3.9, agreement_ok=True, vs_rest=versus(0.5, True)),
        group("A", 2.1, agreement_ok=False, vs_rest=versus(-0.6, True)),
        group("A", 3.0, agreement_ok=True, vs_rest=versus(0.01, False)),
    ]
    root = parse(charts.heatmap(columns(*"XYZ"), [heat_row("A", cells)], 1, 5))
    # One triangle each in the cells, one each in the legend.
    assert len(find(root, "polygon", "above")) == 2
    assert len(find(root, "polygon", "below")) == 2
    assert len(find(root, "path", "no-agreement")) == 2
    assert {"3.90", "2.10", "3.00"} <= set(texts(root))


def test_no_agreement_group_has_its_own_symbol_and_words():
    root = parse(
        charts.group_intervals([group("Split", 2.5, (2, 3), agreement_ok=False)], 3.0, 1, 5)
    )
    assert find(root, "path", "no-agreement")
    assert not find(root, "circle", "mean")
    assert any("no agreement" in t for t in texts(root))


def test_long_labels_are_wrapped_without_overlap():
    long_name = "A department with a really remarkably long name that goes on and on " * 2
    rows = [
        dimension(long_name, 3.0),
        dimension("Short", 2.0),
    ]
    root = parse(charts.dimension_bars(rows, 1, 5))
    labels = find(root, "text", "chart-label")
    spans = [list(label) for label in labels]
    assert len(spans[0]) == 3  # wrapped to three lines, the row grown to hold them
    assert spans[0][2].text.endswith("…")
    max_chars = max(len(s.text) for s in spans[0])
    bar_x = float(find(root, "rect", "bar")[0].get("x"))
    assert charts.text_width("x" * max_chars) <= bar_x  # the label stays left of the plot
    last_line_of_first = float(spans[0][-1].get("y"))
    first_line_of_second = float(spans[1][0].get("y"))
    assert first_line_of_second - last_line_of_first >= charts.LINE_HEIGHT


def test_level_names_that_do_not_fit_become_numbers_named_in_the_legend():
    rows = [dimension("Open culture", 3.0, (2.8, 3.2))]
    wide = parse(charts.dimension_bars(rows, 1, 5, levels=LEVELS, width=640))
    names = [t.text for t in find(wide, "text", "level-name")]
    assert names == ["Closed", "Listening", "Conversing", "Social business"]
    narrow = parse(charts.dimension_bars(rows, 1, 5, levels=LEVELS, width=340))
    in_bands = [t.text for t in find(narrow, "text", "level-name")]
    # The four bands carry numbers (no cut names); the legend repeats each number once
    # beside the level's full name.
    assert in_bands[:4] == ["1", "2", "3", "4"]
    assert not any("…" in (t.text or "") for t in narrow.iter(f"{SVG}text"))
    legend_words = [t.text for t in narrow.iter(f"{SVG}text")]
    for level in LEVELS:
        assert level.name in legend_words


@pytest.mark.parametrize("width", [340, 640])
def test_group_names_of_ordinary_length_are_never_cut(width):
    names = [
        "Member of the conversation team",
        "Middle management or team leader",
        "Customer contact centre",
        "Human resources",
    ]
    rows = [
        group(name, 3.0 + k / 10, (2.8, 3.4), agreement_ok=False) for k, name in enumerate(names)
    ]
    root = parse(charts.group_intervals(rows, 3.1, 1, 5, width=width))
    drawn = " ".join(t.text or "" for t in root.iter(f"{SVG}tspan"))
    drawn += " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "…" not in drawn
    for name in names:
        assert all(word in drawn for word in name.split())


def test_wrap_label_cuts_long_words_and_limits_lines():
    assert charts.wrap_label("short", 10) == ["short"]
    assert charts.wrap_label("one two three", 7) == ["one two", "three"]
    lines = charts.wrap_label("Supercalifragilistic words here and more", 8, 2)
    assert len(lines) == 2 and all(len(line) <= 8 for line in lines)
    assert lines[-1].endswith("…")


def test_difference_bars_are_solid_only_when_significant():
    root = parse(charts.gap_bars(DIMENSIONS))
    assert len(find(root, "rect", "significant")) == 1
    assert len(find(root, "rect", "not-significant")) == 0  # Trust has no gap
    assert any("not available" in t for t in texts(root))
    axis = find(root, "line", "axis")[0]
    x0, x1 = float(axis.get("x1")), float(axis.get("x2"))
    bar = find(root, "rect", "significant")[0]
    assert float(bar.get("x")) == pytest.approx((x0 + x1) / 2, abs=0.01)  # starts at zero
    change = parse(charts.change_bars(DIMENSIONS))
    assert len(find(change, "rect", "not-significant")) == 1


def test_distribution_segments_add_up_to_the_width():
    root = parse(charts.distribution_bar([2, 3, 5, 0, 10], list("ABCDE"), width=200))
    widths = [float(r.get("width")) for r in find(root, "rect", "segment")]
    assert len(widths) == 4  # the empty answer has no segment
    assert sum(widths) == pytest.approx(200)
    assert "50%" in texts(root)


def test_numbers_follow_the_language():
    assert charts.format_number(3.14159, 2, "nl") == "3,14"
    assert charts.format_number(-0.25, 2, "en", signed=True) == "\u22120.25"
    assert charts.format_number(0.001, 2, "en", signed=True) == "0.00"
    assert charts.format_number(None) == "–"
    assert charts.format_percent(0.187, "nl") == "19%"
    root = parse(charts.dimension_bars([dimension("A", 3.256)], 1, 5, lang="nl"))
    assert "3,26" in texts(root)


def test_chart_text_translates_every_word():
    words = charts.chart_text(lambda s: s.upper())
    assert words["withheld"] == "WITHHELD"
    root = parse(charts.group_intervals([withheld("T")], None, 1, 5, text=words))
    assert "WITHHELD" in texts(root)


def test_identical_input_gives_identical_svg():
    assert all_charts() == all_charts()


def test_notes_fit_inside_the_chart_in_a_long_language():
    words = charts.chart_text(lambda s: s)
    words["no_agreement"] = "niet eensgezind, lees met zorg"
    rows = [group("Split", 2.5, (2, 3), agreement_ok=False, vs_rest=versus(-1, True))]
    root = parse(charts.group_intervals(rows, 3.0, 1, 5, text=words))
    width = float(root.get("viewBox").split()[2])
    value = find(root, "text", "value")[0]
    text = "".join(value.itertext())
    assert float(value.get("x")) + charts.text_width(text, 11) <= width


# --------------------------------------------------------------------------- golden SVG
# The SVG of every chart for fixed inputs, captured from the drawing code before it was
# split into a package, kept in tests/data/charts/. A change in any coordinate, colour or
# word shows up here; a deliberate change is accepted by rewriting the file with
# ``python -m tests.test_charts`` and reading the diff.

GOLDEN = Path(__file__).parent / "data" / "charts"

#: The chart words as they were when the files were captured: the golden files test the
#: drawing, and a reworded legend (``charts.TEXT``) must not make them fail.
WORDS = {
    "withheld": "withheld",
    "no_agreement": "no agreement",
    "not_available": "not available",
    "organisation": "organisation",
    "interval": "95% interval",
    "benchmark_median": "benchmark median",
    "benchmark_band": "middle half of the benchmark",
    "score": "score",
    "above": "above the rest of the organisation",
    "below": "below the rest of the organisation",
    "significant": "difference holds after adjustment",
    "not_significant": "difference may be chance",
    "gap_left": "staff see more",
    "gap_right": "top management sees more",
    "change_left": "lower than last time",
    "change_right": "higher than last time",
    "level": "level",
}

LEVELS = [
    Level(number=1, id="closed", min_score=1.0, name="Closed"),
    Level(number=2, id="listening", min_score=2.2, name="Listening"),
    Level(number=3, id="conversing", min_score=3.0, name="Conversing"),
    Level(number=4, id="social", min_score=3.8, name="Social business"),
]


def golden_charts() -> dict[str, Markup]:
    """Fixed inputs that reach every branch of every chart, in English and Dutch."""
    long_name = "Klantenservice en nazorg regio Noord-Holland"
    dimensions = [
        DIMENSIONS[0],
        replace(DIMENSIONS[1], mean=4.0123, ci=(3.71, 4.29)),
        DIMENSIONS[2],
        dimension(long_name, 1.5, (1.0, 2.05), benchmark=Benchmark(q1=None)),
        dimension(EVIL),
        dimension(
            "Change",
            2.75,
            benchmark=Benchmark(q1=2.0, median=3.3, q3=4.6),
            gap=difference(-0.73, (-1.2, -0.26), False),
            change=difference(1.104, (0.51, 1.7), True),
        ),
    ]
    # The first dimension's reference value (an organisation's mean beside a department's).
    references = [3.1]
    groups = [
        group("Sales", 3.5, (3.1, 3.9), agreement_ok=True, vs_rest=versus(0.4, True)),
        group(
            "Split",
            2.5,
            (2.0, 3.0),
            agreement_ok=False,
            vs_rest=versus(-0.6, True),
        ),
        group(long_name, 3.004, None, parent="Sales", vs_rest=versus(0.0, False)),
        withheld("Tiny"),
        group("Nothing", None),
    ]
    heads = columns("Open culture", long_name, EVIL)
    heat_rows = [
        heat_row("Sales", groups[:3]),
        heat_row(long_name, [groups[3], None], parent="Sales"),
        heat_row("Split", [groups[2], groups[4], replace(groups[0], mean=4.876)]),
    ]
    out: dict[str, Markup] = {}
    for lang, width in (("en", 720), ("nl", 340)):
        kw = {"text": WORDS, "lang": lang, "width": width}
        out[f"dimension_bars-{lang}"] = charts.dimension_bars(
            dimensions,
            1,
            5,
            levels=LEVELS,
            references=references,
            reference_label="Organisation",
            **kw,
        )
        out[f"dimension_bars-plain-{lang}"] = charts.dimension_bars(
            dimensions[:2], 1, 7, benchmark=False, references=references, title=EVIL, **kw
        )
        out[f"group_intervals-{lang}"] = charts.group_intervals(
            groups, 3.05, 1, 5, highlight="Split", **kw
        )
        out[f"group_intervals-no-org-{lang}"] = charts.group_intervals(
            groups[:1], None, 0, 10, **kw
        )
        out[f"heatmap-{lang}"] = charts.heatmap(heads, heat_rows, 1, 5, **kw)
        out[f"heatmap-domain-{lang}"] = charts.heatmap(
            heads * 4, heat_rows[:1], 1, 5, domain=(2.0, 4.5), **kw
        )
        out[f"gap_bars-{lang}"] = charts.gap_bars(dimensions, **kw)
        out[f"change_bars-{lang}"] = charts.change_bars(dimensions, limit=2, **kw)
        out[f"difference_bars-{lang}"] = charts.difference_bars(
            dimensions, key="gap", title="Gap", left="", right="more", **kw
        )
    out["distribution_bar-5"] = charts.distribution_bar(
        [0.1, 0.2, 0.3, 0.25, 0.15], list("ABCDE"), width=300
    )
    out["distribution_bar-7-nl"] = charts.distribution_bar(
        [3, 0, 1, float("nan"), 10, 2, 1], ["a", "b"], lang="nl", width=500, height=24
    )
    out["distribution_legend-5"] = charts.distribution_legend(list("ABCDE"))
    out["distribution_legend-7"] = charts.distribution_legend(
        [f"Answer {k} {EVIL}" for k in range(7)], width=340
    )
    return out


@pytest.mark.parametrize("name", sorted(golden_charts()))
def test_chart_svg_is_unchanged(name):
    expected = (GOLDEN / f"{name}.svg").read_text(encoding="utf-8")
    assert str(golden_charts()[name]) == expected, f"{name}.svg differs from the golden file"


def write_golden() -> None:
    """Rewrite the golden files from the current drawing code (review the diff after)."""
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, svg in golden_charts().items():
        (GOLDEN / f"{name}.svg").write_text(str(svg), encoding="utf-8")


if __name__ == "__main__":
    write_golden()
