"""The PDF report of a large organisation: end to end against WeasyPrint alone.

Usage: python benchmarks/bench_pdf.py [--respondents 5000] [--departments 30]
Writes benchmarks/results/pdf.json and prints a Markdown table.

End to end = load the answers from SQLite, analyse, build the view, render the HTML and
let WeasyPrint lay it out and write the PDF (``analyse_campaign`` → ``build_view`` →
``create_pdf``, without the cache). The floor is WeasyPrint alone on the same HTML: what
any report of this length and these charts costs, whatever produced it. Both are timed
in a fresh child process (best of 3, after one warm-up run that pays for imports and font
loading), whose peak resident memory is the figure reported.
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


def measure(path: Path, lang: str) -> None:
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

        end_to_end()  # warm-up: imports, fonts, template compilation
        for values in steps.values():
            values.clear()
        total, document = best_of(end_to_end)
        # The "html" step is timed on its own for the table; create_pdf renders the HTML
        # again itself, so "pdf" is Jinja + WeasyPrint and the end-to-end time counts it once
        # more than a real request would (about the "html" figure).
        html = last["html"]

        def weasyprint_alone() -> bytes:
            return HTML(
                string=html, base_url=pdf.REPORTS.as_uri() + "/", url_fetcher=pdf.url_fetcher()
            ).write_pdf()

        floor, floor_pdf = best_of(weasyprint_alone)
        pages = HTML(
            string=html, base_url=pdf.REPORTS.as_uri() + "/", url_fetcher=pdf.url_fetcher()
        ).render()
        result = {
            "seconds": round(total, 3),
            "steps_s": {k: round(min(v), 3) for k, v in steps.items()},
            "weasyprint_alone_s": round(floor, 3),
            "ratio": round(total / floor, 2),
            "pages": len(pages.pages),
            "html_kib": round(len(html.encode()) / 1024),
            "pdf_kib": round(len(document) / 1024),
            "charts_us": _chart_timings(last["view"]),
            "peak_rss_mib": round(peak_rss_mib()),
        }
        assert len(floor_pdf) > 0
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=5_000)
    parser.add_argument("--departments", type=int, default=30)
    parser.add_argument("--lang", default="nl")
    parser.add_argument("--database", type=Path, help="reuse this SQLite file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return measure(args.database, args.lang)
    path = args.database or Path(tempfile.mkdtemp()) / "bench.sqlite3"
    with benchmark_app(path):
        build_large_campaign(path, args.respondents, args.departments)
    child = subprocess.run(
        [sys.executable, __file__, "--database", str(path), "--lang", args.lang, "--child"],
        check=True,
        capture_output=True,
        text=True,
    )
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    result = {
        "respondents": args.respondents,
        "departments": args.departments,
        "lang": args.lang,
        **measured,
    }
    out = write_results("pdf", result)
    steps = measured["steps_s"]
    print("| measure | seconds |\n|---|---:|")
    print(f"| load + analyse (`analyse_campaign`) | {steps['analyse']} |")
    print(f"| build view (`build_view`) | {steps['view']} |")
    print(f"| HTML with charts (Jinja) | {steps['html']} |")
    print(f"| PDF (`create_pdf`: Jinja + WeasyPrint) | {steps['pdf']} |")
    print(f"| **end to end** | **{measured['seconds']}** |")
    print(f"| WeasyPrint alone on the same HTML (floor) | {measured['weasyprint_alone_s']} |")
    print(
        f"\nratio end to end / floor = {measured['ratio']}; {measured['pages']} pages, "
        f"{measured['html_kib']} KiB HTML, {measured['pdf_kib']} KiB PDF; peak RSS "
        f"{measured['peak_rss_mib']} MiB; charts (µs per call): {measured['charts_us']}; "
        f"written to {out}"
    )


if __name__ == "__main__":
    main()
