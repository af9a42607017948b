"""The PDF report of a large organisation: end to end against WeasyPrint alone.

Usage: python benchmarks/bench_pdf.py [--respondents 1000 5000 20000] [--departments 10 30 60]
       [--repeat 3] [--quick]
Writes benchmarks/results/pdf.json and prints a Markdown table: the report by size, one
campaign per ``--respondents`` figure (with the ``--departments`` figure in the same
place). ``--quick``: 300 respondents in 5 departments, best of 1, and a lighter warm-up
(below).

End to end = load the answers from SQLite, analyse, build the view, render the HTML and
let WeasyPrint lay it out and write the PDF (``analyse_campaign`` → ``build_view`` →
``create_pdf``, without the cache). The floor is WeasyPrint alone on the same HTML: what
any report of this length and these charts costs, whatever produced it. Both are timed
in a fresh child process (best of ``--repeat``, after one warm-up run that pays for imports and font
loading), whose peak resident memory is the figure reported. The quick run's warm-up
does not lay the whole report out: it analyses, builds the view and renders the HTML
once, then lets WeasyPrint lay out the first quarter of that HTML (the parser closes
what the cut leaves open), which loads the fonts and stylesheets both timed runs use.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    benchmark_app,
    best_of,
    build_large_campaign,
    metric,
    peak_rss_mib,
    write_results,
)


def _chart_timings(view) -> dict[str, float]:
    """Median microseconds per call of each chart function on this report's data."""
    from surveyapp import charts

    lo, hi = view.scale.min, view.scale.max
    dimension = next(d for d in view.dimensions if not d.suppressed)
    item = next(i for i in dimension.items if not i.suppressed)
    calls = {
        "dimension_bars": lambda: charts.dimension_bars(
            view.dimensions, lo, hi, levels=view.levels
        ),
        "group_intervals": lambda: charts.group_intervals(
            dimension.departments, dimension.mean, lo, hi
        ),
        "heatmap": lambda: charts.heatmap(view.heatmap.columns, view.heatmap.rows, lo, hi),
        "gap_bars": lambda: charts.gap_bars(view.dimensions),
        "distribution_bar": lambda: charts.distribution_bar(
            [p.share for p in item.distribution], view.scale.labels
        ),
    }
    out = {}
    for name, call in calls.items():
        samples = []
        for _ in range(50):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
        out[name] = round(statistics.median(samples) * 1e6, 1)
    return out


def measure(path: Path, lang: str, repeat: int = 3, light_warm_up: bool = False) -> None:
    """Child process: time the report end to end and WeasyPrint alone; print JSON."""
    with benchmark_app(path):
        from weasyprint import HTML

        from surveyapp import pdf
        from surveyapp.extensions import db
        from surveyapp.models import Campaign
        from surveyapp.reporting.model import build_view, department_participation
        from surveyapp.services.questionnaires import questionnaire_for
        from surveyapp.services.reporting import analyse_campaign

        campaign = db.session.scalar(db.select(Campaign))
        questionnaire = questionnaire_for(campaign.questionnaire_version)
        steps: dict[str, list[float]] = {"analyse": [], "view": [], "html": [], "pdf": []}
        last: dict[str, object] = {}

        def end_to_end() -> bytes:
            t0 = time.perf_counter()
            report = analyse_campaign(campaign)
            t1 = time.perf_counter()
            view = build_view(report, questionnaire, lang)
            view = replace(view, participation=department_participation(report, lang))
            t2 = time.perf_counter()
            html = pdf.report_html(view)
            t3 = time.perf_counter()
            document = pdf.create_pdf(view)
            t4 = time.perf_counter()
            for key, seconds in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                steps[key].append(seconds)
            last.update(view=view, html=html)
            return document

        if light_warm_up:
            # Imports, template compilation, fonts and stylesheets, without a whole layout.
            report = analyse_campaign(campaign)
            view = replace(
                build_view(report, questionnaire, lang),
                participation=department_participation(report, lang),
            )
            html = pdf.report_html(view)
            pdf.write_pdf(html[: len(html) // 4])
        else:
            end_to_end()  # warm-up: imports, fonts, template compilation
        for values in steps.values():
            values.clear()
        total, document = best_of(end_to_end, repeat)
        # The "html" step is timed on its own for the table; create_pdf renders the HTML
        # again itself, so "pdf" is Jinja + WeasyPrint and the end-to-end time counts it once
        # more than a real request would (about the "html" figure).
        html = last["html"]

        def weasyprint_alone() -> tuple[bytes, int]:
            # What HTML.write_pdf does (render, then write), keeping the page count.
            rendered = HTML(
                string=html, base_url=pdf.REPORTS.as_uri() + "/", url_fetcher=pdf.url_fetcher()
            ).render()
            return rendered.write_pdf(), len(rendered.pages)

        floor, (floor_pdf, pages) = best_of(weasyprint_alone, repeat)
        result = {
            "seconds": round(total, 3),
            "steps_s": {k: round(min(v), 3) for k, v in steps.items()},
            "weasyprint_alone_s": round(floor, 3),
            "ratio": round(total / floor, 2),
            "pages": pages,
            "html_kib": round(len(html.encode()) / 1024),
            "pdf_kib": round(len(document) / 1024),
            "charts_us": _chart_timings(last["view"]),
            "peak_rss_mib": round(peak_rss_mib()),
        }
        assert len(floor_pdf) > 0
    print(json.dumps(result))


def measure_size(
    respondents: int, departments: int, lang: str, repeat: int, light_warm_up: bool = False
) -> dict:
    """Build one campaign of this size and time its report in a fresh child process."""
    path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    with benchmark_app(path):
        build_large_campaign(path, respondents, departments)
    child = subprocess.run(
        [sys.executable, __file__, "--database", str(path), "--lang", lang, "--child"]
        + ["--repeat", str(repeat)]
        + (["--light-warm-up"] if light_warm_up else []),
        check=True,
        capture_output=True,
        text=True,
    )
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    return {"respondents": respondents, "departments": departments, "lang": lang, **measured}


def pdf_metrics(sizes: list[dict]) -> list[dict]:
    """End to end against WeasyPrint alone on the same HTML, for each size."""
    return [
        metric(
            f"PDF report end to end, {m['respondents']:,} respondents in {m['departments']} "
            f"departments ({m['pages']} pages)",
            m["seconds"],
            "s",
            "WeasyPrint alone on the same HTML",
            m["weasyprint_alone_s"],
            "<= 1.5x floor",
            m["seconds"] <= 1.5 * m["weasyprint_alone_s"],
        )
        for m in sizes
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, nargs="+", default=[1_000, 5_000, 20_000])
    parser.add_argument(
        "--departments", type=int, nargs="+", default=[10, 30, 60], help="one per size"
    )
    parser.add_argument("--lang", default="nl")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many")
    parser.add_argument("--database", type=Path, help="reuse this SQLite file (one size)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--light-warm-up", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="300 respondents, best of 1")
    args = parser.parse_args()
    if args.child:
        return measure(args.database, args.lang, args.repeat, args.light_warm_up)
    if args.quick:
        args.respondents, args.departments, args.repeat = [300], [5], 1
    if len(args.departments) != len(args.respondents):
        parser.error("give one --departments figure for each --respondents figure")
    sizes = [
        measure_size(n, d, args.lang, args.repeat, light_warm_up=args.quick)
        for n, d in zip(args.respondents, args.departments, strict=True)
    ]
    # The file keeps its earlier shape for 5,000 respondents (or the largest size measured).
    main_size = next((m for m in sizes if m["respondents"] == 5_000), sizes[-1])
    result = {**main_size, "by_size": sizes, "metrics": pdf_metrics(sizes)}
    out = write_results("pdf", result)
    print("| respondents | departments | pages | end to end (s) | WeasyPrint alone (s) | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for m in sizes:
        print(
            f"| {m['respondents']:,} | {m['departments']} | {m['pages']} | {m['seconds']} "
            f"| {m['weasyprint_alone_s']} | {m['ratio']} |"
        )
    steps = main_size["steps_s"]
    print(f"\n{main_size['respondents']:,} respondents, steps (s): {steps}")
    print(
        f"peak RSS {main_size['peak_rss_mib']} MiB; charts (µs per call): "
        f"{main_size['charts_us']}; written to {out}"
    )


if __name__ == "__main__":
    main()
