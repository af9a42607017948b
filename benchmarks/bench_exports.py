"""Answer-file exports from SQLite: time, time to the first byte, and flat memory.

Usage: python benchmarks/bench_exports.py [--respondents 50000] [--departments 50] [--quick]
Writes benchmarks/results/exports.json (with the ``metrics`` list) and prints a table.

Two campaigns are built with the 46-item questionnaire: one of 21,740 respondents
(1,000,000 answers) and one of ``--respondents`` (50,000: 2,300,000 answers); ``--quick``
makes them 2,174 and 5,000 (and the 5,000-response CSV and its baselines are timed once
instead of best of three). For each, a fresh process prepares the answer file (the
release decision, the codebook and the row order) and then writes the whole file to
/dev/null, recording the time to its first byte and its peak memory after start-up,
after preparing and after the last row: memory that stays flat while writing shows the
rows are streamed. The fresh process also has to compute the campaign's report, which
the release decision reads; it then prepares and writes the file a second time, as a
worker does that has already shown the results page (the report in its cache). A
separate process, run first, measures the parts of the peak one at a time (start-up, the
release decision, preparing, writing); its release decision computes and stores each
campaign's report, so the timed processes read the stored report, as after a close.

Baselines in the same run: the 50,000-response CSV against two bare ``csv.writer`` loops
with no codebook, no release and no row order, one over the SELECT of every answer row,
one over the SELECT of each response's packed answers (what the file reads now); the
target is LimeSurvey's 11.9 s for 50,000 responses divided by ten, 1.19 s. The Excel
workbook against openpyxl's write-only workbook of the same rows (the writer before),
and its first byte against the CSV's; peak memory against the process's size after
start-up, and the 2.3 million answers' peak against the 1 million answers'.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    bare_csv_writer_packed as common_bare_csv_writer_packed,
)
from benchmarks.common import (
    benchmark_app,
    best_of,
    build_large_campaign,
    metric,
    peak_rss_mib,
    write_results,
)

LIMESURVEY_50K_CSV_S = 11.9
TARGET_S = LIMESURVEY_50K_CSV_S / 10
MILLION_ANSWERS_RESPONDENTS = 21_740  # × 46 items = 1,000,040 answers
PEAK_TARGET_MB = 200


def rss_mib() -> float:
    """This process's resident memory now (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def consume(chunks, start: float | None = None) -> tuple[int, float | None]:
    """Write every chunk to /dev/null; the number of characters or bytes, and the time
    from ``start`` to the first chunk."""
    size, first = 0, None
    with open(os.devnull, "wb") as sink:
        for chunk in chunks:
            if first is None and start is not None:
                first = time.perf_counter() - start
            size += len(chunk)
            sink.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
    return size, first


def openpyxl_workbook(file) -> int:
    """The writer before: openpyxl's write-only workbook of the same rows, saved to a
    temporary file (its first byte exists only once the whole workbook is saved)."""
    import tempfile as temporary

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Answers")
    sheet.append(file.codebook.names)
    for batch in file.batches():
        for row in batch:
            sheet.append(row)
    with temporary.TemporaryFile() as spool:
        workbook.save(spool)
        return spool.tell()


def measure_child(path: Path, fmt: str) -> None:
    """Child process: prepare, then write one file; print times and memory as JSON."""
    start_rss = None
    with benchmark_app(path):
        from surveyapp.extensions import db
        from surveyapp.models import Campaign
        from surveyapp.services.answer_files import (
            DIALECTS,
            answer_file,
            answers_csv,
            answers_xlsx,
        )

        campaign = db.session.scalar(db.select(Campaign))
        start_rss = rss_mib()
        start_peak = peak_rss_mib()
        if fmt == "parts":
            return measure_parts(campaign, start_rss, start_peak)
        start = time.perf_counter()
        file = answer_file(campaign, "en")
        prepared = time.perf_counter() - start
        before = peak_rss_mib()
        if fmt == "openpyxl":
            written = time.perf_counter()
            size, first = openpyxl_workbook(file), None
        else:
            body = answers_csv(file, DIALECTS["semicolon"]) if fmt == "csv" else answers_xlsx(file)
            written = time.perf_counter()
            size, first = consume(body, start)
        seconds = time.perf_counter() - start
        writing = time.perf_counter() - written
        # The same download again in this process: the campaign's report, which the
        # release decision reads, is now in the process's cache, as it is in a worker
        # that has shown the results page.
        start = time.perf_counter()
        again = answer_file(campaign, "en")
        warm_prepared = time.perf_counter() - start
        if fmt == "csv":
            consume(answers_csv(again, DIALECTS["semicolon"]))
        warm = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": round(seconds, 3),
                "prepare_s": round(prepared, 3),
                "writing_s": round(writing, 3),
                "first_byte_s": None if first is None else round(first, 3),
                "warm_seconds": round(warm, 3),
                "warm_prepare_s": round(warm_prepared, 3),
                "size": size,
                "rss_after_start_mib": round(start_rss),
                "peak_rss_after_start_mib": round(start_peak),
                "peak_rss_before_rows_mib": round(before),
                "peak_rss_mib": round(peak_rss_mib()),
            }
        )
    )


def measure_parts(campaign, start_rss: float, start_peak: float) -> None:
    """Where the peak comes from: memory after each step, the release decision first."""
    from surveyapp.services.answer_files import DIALECTS, answer_file, answers_csv
    from surveyapp.services.release import answer_file_release

    steps = {"start-up (app, services imported)": (start_rss, start_peak)}
    answer_file_release(campaign)
    steps["release decision (computes the campaign's report)"] = (rss_mib(), peak_rss_mib())
    file = answer_file(campaign, "en")
    steps["preparing the file (codebook, order, codes)"] = (rss_mib(), peak_rss_mib())
    consume(answers_csv(file, DIALECTS["semicolon"]))
    steps["writing the CSV"] = (rss_mib(), peak_rss_mib())
    print(
        json.dumps(
            {
                name: {"rss_mib": round(a), "peak_rss_mib": round(b)}
                for name, (a, b) in steps.items()
            }
        )
    )


def child(path: Path, fmt: str) -> dict:
    run = subprocess.run(
        [sys.executable, __file__, "--database", str(path), "--child", fmt],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def build(
    path: Path, respondents: int, departments: int, store_report: bool = False
) -> tuple[int, int]:
    """A closed campaign of this size; with ``store_report``, its report computed and
    stored by the release decision, as closing a campaign does."""
    with benchmark_app(path):
        campaign_id = build_large_campaign(path, respondents, departments)
        from surveyapp.extensions import db
        from surveyapp.models import Campaign
        from surveyapp.services.release import answer_file_release

        campaign = db.session.get(Campaign, campaign_id)
        campaign.status = "closed"  # answer files exist for closed campaigns only
        db.session.commit()
        if store_report:
            answer_file_release(campaign)
            db.session.commit()
    answers = sqlite3.connect(path).execute("SELECT count(*) FROM answer").fetchone()[0]
    return campaign_id, answers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=50_000)
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick", action="store_true", help="2,174 and 5,000 respondents, CSV timed once"
    )
    parser.add_argument(
        "--child", choices=("csv", "xlsx", "openpyxl", "parts"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        return measure_child(args.database, args.child)
    million_respondents = MILLION_ANSWERS_RESPONDENTS
    if args.quick:
        args.respondents, args.departments = 5_000, 20
        million_respondents = MILLION_ANSWERS_RESPONDENTS // 10
    folder = Path(tempfile.mkdtemp())
    million = folder / "million.sqlite3"
    large = folder / "large.sqlite3"
    start = time.perf_counter()
    _, million_answers = build(million, million_respondents, args.departments)
    # The large campaign's report is stored here; the million's by its "parts" process.
    campaign_id, large_answers = build(large, args.respondents, args.departments, store_report=True)
    built = time.perf_counter() - start

    def bare_csv_writer() -> int:
        connection = sqlite3.connect(large)
        rows = connection.execute(
            "SELECT a.response_id, a.item_id, a.value FROM answer a"
            " JOIN response r ON r.id = a.response_id WHERE r.campaign_id = ?",
            (campaign_id,),
        )
        with open(os.devnull, "w", encoding="utf-8") as sink:
            csv.writer(sink).writerows(rows)
        connection.close()
        return 0

    def bare_csv_writer_packed() -> int:
        return common_bare_csv_writer_packed(large, campaign_id)

    load_before = os.getloadavg()
    # First, untimed for the files: where the peak comes from, step by step. The release
    # decision computes each campaign's report here once and stores it (as closing a
    # campaign does), so every timed process below reads the stored report.
    parts = child(million, "parts")
    repeat = 1 if args.quick else 3  # the baselines as often as the CSV they stand against
    baseline, _ = best_of(bare_csv_writer, repeat)
    packed_baseline, _ = best_of(bare_csv_writer_packed, repeat)
    runs = [child(large, "csv") for _ in range(repeat)]
    large_csv = min(runs, key=lambda r: r["seconds"])
    million_csv = child(million, "csv")
    million_xlsx = child(million, "xlsx")
    million_openpyxl = child(million, "openpyxl")
    result = {
        "quick": args.quick,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "questionnaire_items": 46,
        "million_answers": million_answers,
        "large_respondents": args.respondents,
        "large_answers": large_answers,
        "build_databases_s": round(built, 1),
        "bare_csv_writer_answer_rows_s": round(baseline, 3),
        "bare_csv_writer_packed_rows_s": round(packed_baseline, 3),
        "csv_50k": large_csv,
        "csv_1m_answers": million_csv,
        "xlsx_1m_answers": million_xlsx,
        "openpyxl_1m_answers": million_openpyxl,
        "peak_by_step_1m_answers": parts,
        "limesurvey_50k_csv_s": LIMESURVEY_50K_CSV_S,
        "target_s": round(TARGET_S, 2),
    }
    result["metrics"] = export_metrics(result)
    out = write_results("exports", result)
    print("| measure | value | baseline | ratio | target met |\n|---|---:|---:|---:|---|")
    for entry in result["metrics"]:
        print(
            f"| {entry['name']} | {entry['value']} {entry['unit']} | {entry['baseline']} "
            f"| {entry['ratio']} | {entry['met']} |"
        )
    print(json.dumps(parts, indent=1))
    print(f"\nwritten to {out}")


def export_metrics(result: dict) -> list[dict]:
    """The figures of the issue's targets, each against its same-run baseline."""
    large = f"{result['large_respondents']:,} responses"
    million = f"{result['million_answers']:,} answers"
    csv_large, csv_m = result["csv_50k"], result["csv_1m_answers"]
    xlsx_m, before = result["xlsx_1m_answers"], result["openpyxl_1m_answers"]
    return [
        metric(
            f"answer-file CSV, {large}, fresh process",
            csv_large["seconds"],
            "s",
            "bare csv.writer over the packed rows",
            result["bare_csv_writer_packed_rows_s"],
            f"< {TARGET_S:.2f} s (LimeSurvey / 10)",
            csv_large["seconds"] < TARGET_S,
        ),
        metric(
            f"answer-file CSV, {large}, report cached",
            csv_large["warm_seconds"],
            "s",
            "bare csv.writer over the packed rows",
            result["bare_csv_writer_packed_rows_s"],
            f"< {TARGET_S:.2f} s (LimeSurvey / 10)",
            csv_large["warm_seconds"] < TARGET_S,
        ),
        metric(
            f"answer-file CSV peak memory, {million}",
            csv_m["peak_rss_mib"] * 2**20 / 1e6,
            "MB",
            "the same process after start-up",
            csv_m["peak_rss_after_start_mib"] * 2**20 / 1e6,
            f"< {PEAK_TARGET_MB} MB",
            csv_m["peak_rss_mib"] * 2**20 / 1e6 < PEAK_TARGET_MB,
        ),
        metric(
            f"answer-file CSV peak memory, {large} ({result['large_answers']:,} answers)",
            csv_large["peak_rss_mib"],
            "MiB",
            f"the same file of {million}",
            csv_m["peak_rss_mib"],
            "<= 1.1x (flat)",
            csv_large["peak_rss_mib"] <= 1.1 * csv_m["peak_rss_mib"],
        ),
        metric(
            f"Excel workbook peak memory, {million}",
            xlsx_m["peak_rss_mib"] * 2**20 / 1e6,
            "MB",
            "the same process after start-up",
            xlsx_m["peak_rss_after_start_mib"] * 2**20 / 1e6,
            f"< {PEAK_TARGET_MB} MB",
            xlsx_m["peak_rss_mib"] * 2**20 / 1e6 < PEAK_TARGET_MB,
        ),
        metric(
            f"Excel workbook, first byte, {million}",
            xlsx_m["first_byte_s"],
            "s",
            "the CSV's first byte (same file)",
            csv_m["first_byte_s"],
            "<= 1.5x the CSV's (streams from the first byte)",
            xlsx_m["first_byte_s"] <= 1.5 * csv_m["first_byte_s"],
        ),
        metric(
            f"Excel workbook, writing the rows, {million}",
            xlsx_m["writing_s"],
            "s",
            "openpyxl write-only workbook of the same rows (the writer before)",
            before["writing_s"],
            "<= 1x the writer before",
            xlsx_m["writing_s"] <= before["writing_s"],
        ),
        metric(
            f"Excel workbook, whole download, {million}",
            xlsx_m["seconds"],
            "s",
            "the CSV of the same file",
            csv_m["seconds"],
            None,
            None,
        ),
    ]


if __name__ == "__main__":
    main()
