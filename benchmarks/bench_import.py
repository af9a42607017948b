"""Importing a response CSV at size: `surveyapp responses import` in a fresh process.

Usage: python benchmarks/bench_import.py [--respondents 50000] [--quick]
           [--postgresql auto|URL|none]
Writes benchmarks/results/import.json (with the ``metrics`` list) and prints a table.

A response file of ``--respondents`` rows (46 answers each, 4% left empty, one row in
ten with a comment) is imported by the real command line, ``surveyapp responses import``,
run as a child process on an empty open campaign: wall time from start to exit and the
child's peak resident memory (``wait4``'s ``ru_maxrss``), on SQLite (WAL, a file) and on
PostgreSQL (``--postgresql auto`` starts a throw-away cluster as the survey benchmark
does: fsync off).

Baselines in the same run, each a fresh process writing into its own empty campaign of
the same database:

* the floor: a bare ``executemany`` of the same rows with ``sqlite3`` or ``psycopg`` (the
  file read by ``csv.reader`` with no checks, then the response rows and the answer rows
  inserted, one commit), under the same schema and foreign keys;
* memory: the same import of a file a fifth as long; memory that does not grow with the
  file gives a ratio near 1.

``--quick``: 1,000 respondents, SQLite only (unless ``--postgresql`` is given): starting a
throw-away PostgreSQL cluster costs more than the quick imports themselves.

After each import the benchmark checks the counts and runs ``surveyapp db
check-answers`` (the packed answers agree with the answer rows).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, benchmark_app, metric, write_results  # noqa: E402

DEPARTMENTS = 50
TARGET_S = 5.0
ROLES = ("top_management", "middle_management", "employee", "conversation_team")
SURVEYAPP = str(Path(sys.executable).with_name("surveyapp"))


# ---------------------------------------------------------------------------- data


def new_database(kind: str, folder: Path, server_url: str | None) -> tuple[str, list[int]]:
    """An empty database with the app's schema and three open campaigns (the import, the
    import of a fifth of the file, the floor): its URL and the campaign ids."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'import.sqlite3'}"
    else:
        from benchmarks.bench_survey import postgres_database

        url = postgres_database(server_url, "bench_import")
    run = subprocess.run(
        [sys.executable, __file__, "--set-up", url], check=True, capture_output=True, text=True
    )
    return url, [int(n) for n in run.stdout.split()]


def set_up_campaigns(url: str) -> list[int]:
    """Schema, an organisation with DEPARTMENTS departments and three open campaigns."""
    with benchmark_app(url):
        from surveyapp.extensions import db
        from surveyapp.services.campaigns import create_campaign, open_campaign
        from surveyapp.services.organisations import create_organisation, import_departments
        from surveyapp.services.questionnaires import latest_questionnaire

        questionnaire = latest_questionnaire("social-business-maturity")
        organisation = create_organisation("Import benchmark", "government", "1000+")
        lines = ["code,name"] + [f"D{d:03d},Department {d}" for d in range(DEPARTMENTS)]
        import_departments(organisation, "\n".join(lines), "departments.csv")
        campaigns = []
        for name in ("Import", "Import of a fifth", "Floor"):
            campaign = create_campaign(
                organisation, questionnaire, name, dt.date(2026, 1, 1), dt.date(2026, 12, 31)
            )
            open_campaign(campaign)
            campaigns.append(campaign)
        db.session.commit()
        return [c.id for c in campaigns]


def write_file(path: Path, respondents: int, seed: int = 1) -> int:
    """A response CSV of ``respondents`` rows; returns the number of answers in it."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from surveyapp.questionnaires import load_questionnaire

    questionnaire = load_questionnaire(ROOT / "questionnaires" / "social-business-maturity-v1.toml")
    items = [item.id for item in questionnaire.items]
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 6, size=(respondents, len(items)))
    empty = rng.random(values.shape) < 0.04
    departments = rng.integers(0, DEPARTMENTS, size=respondents)
    roles = rng.choice(len(ROLES), size=respondents, p=[0.04, 0.15, 0.78, 0.03])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["department", "role_level", "submitted_on", "comment", *items])
        for r in range(respondents):
            comment = f"Paper form {r}: more time for questions, please." if r % 10 == 0 else ""
            cells = ["" if empty[r, j] else str(v) for j, v in enumerate(values[r].tolist())]
            writer.writerow(
                [f"D{departments[r]:03d}", ROLES[roles[r]], "2026-06-01", comment, *cells]
            )
    return int((~empty).sum())


# ---------------------------------------------------------------------------- runs


def timed(command: list[str], env: dict[str, str]) -> dict:
    """Wall time and peak resident memory of one child process; its output."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    # communicate() has reaped the child; its rusage is gone. Read it from a wrapper.
    return {"seconds": seconds, "code": process.returncode, "out": out, "err": err}


def measured(command: list[str], env: dict[str, str]) -> dict:
    """Run ``command`` under this script's ``--rusage`` wrapper: wall time and peak RSS."""
    run = timed([sys.executable, __file__, "--rusage", "--", *command], env)
    if run["code"] != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{run['err'][-2000:]}")
    report = json.loads(run["err"].strip().splitlines()[-1])
    return {**report, "out": run["out"]}


def rusage_wrapper(command: list[str]) -> None:
    """Run ``command``; print its wall time, exit status and peak RSS (MiB) on stderr."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    print(
        json.dumps(
            {"seconds": round(seconds, 3), "code": code, "peak_rss_mib": usage.ru_maxrss / 1024}
        ),
        file=sys.stderr,
    )
    sys.exit(code)


def app_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "SURVEYAPP_ENV": "development",
        "SURVEYAPP_DATABASE_URL": url,
        "SURVEYAPP_SECRET_KEY": "benchmark-import",
    }


def import_run(url: str, campaign_id: int, path: Path) -> dict:
    run = measured(
        [SURVEYAPP, "responses", "import", "--campaign", str(campaign_id), str(path)], app_env(url)
    )
    if "Imported" not in run["out"]:
        raise RuntimeError(f"the import did not report success: {run['out']}")
    return run


def check(url: str, expected: dict[int, tuple[int, int]]) -> None:
    """Every row and answer was stored in each campaign, and the packed copies agree."""
    run = subprocess.run(
        [sys.executable, __file__, "--count", url, *map(str, expected)],
        check=True,
        capture_output=True,
        text=True,
    )
    counts = json.loads(run.stdout.strip().splitlines()[-1])
    for campaign_id, (respondents, answers) in expected.items():
        if counts[str(campaign_id)] != [respondents, answers]:
            raise RuntimeError(
                f"campaign {campaign_id}: expected {respondents} responses and {answers} "
                f"answers; got {counts[str(campaign_id)]}"
            )
    checked = subprocess.run(
        [SURVEYAPP, "db", "check-answers"], env=app_env(url), capture_output=True, text=True
    )
    if checked.returncode != 0:
        raise RuntimeError(f"check-answers failed: {checked.stdout}{checked.stderr}")


def connect(url: str):
    """A plain driver connection (no app) and its parameter mark."""
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        connection.execute("PRAGMA foreign_keys=ON")
        return connection, "?"
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg", "postgresql")), "%s"


def count_rows(url: str, campaign_ids: list[int]) -> None:
    """Print each campaign's responses and answer rows as JSON."""
    connection, mark = connect(url)
    counts = {}
    for campaign_id in campaign_ids:
        responses = connection.execute(
            f"SELECT count(*) FROM response WHERE campaign_id = {mark}", (campaign_id,)
        ).fetchone()[0]
        answers = connection.execute(
            "SELECT count(*) FROM answer a JOIN response r ON r.id = a.response_id"
            f" WHERE r.campaign_id = {mark}",
            (campaign_id,),
        ).fetchone()[0]
        counts[campaign_id] = [responses, answers]
    connection.close()
    print(json.dumps(counts))


def bare_executemany(url: str, campaign_id: int, path: Path) -> None:
    """The floor: the file's rows inserted with the driver's executemany, no checks."""
    sys.path.insert(0, str(ROOT))
    from surveyapp.services.matrix import pack_matrix

    connection, mark = connect(url)
    version_id = connection.execute(
        f"SELECT questionnaire_version_id FROM campaign WHERE id = {mark}", (campaign_id,)
    ).fetchone()[0]
    # The floor runs after the imports: its ids follow theirs.
    first_id = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM response").fetchone()[0]
    units = dict(
        connection.execute(
            "SELECT d.code, d.id FROM department d JOIN campaign c"
            f" ON c.organisation_id = d.organisation_id WHERE c.id = {mark}",
            (campaign_id,),
        ).fetchall()
    )
    items = [
        row[0]
        for row in connection.execute(
            "SELECT item_id FROM questionnaire_item"
            f" WHERE questionnaire_version_id = {mark} ORDER BY position",
            (version_id,),
        )
    ]
    import numpy as np

    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        columns = [header.index(item) for item in items]
        rows = list(reader)
    values = np.array([[float(row[c]) if row[c] else np.nan for c in columns] for row in rows])
    packed = pack_matrix(values)
    responses = [
        (
            first_id + r,
            campaign_id,
            units[row[0]],
            version_id,
            row[1],
            "en",
            "import",
            row[2],
            row[3] or None,
            packed[r],
        )
        for r, row in enumerate(rows)
    ]
    answers = (
        (first_id + r, item, version_id, int(row[c]))
        for r, row in enumerate(rows)
        for item, c in zip(items, columns, strict=True)
        if row[c]
    )
    insert_response = (
        "INSERT INTO response (id, campaign_id, department_id, questionnaire_version_id,"
        " role_level, language, source, submitted_on, comment, answer_codes)"
        " VALUES ({})"
    )
    insert_answer = (
        "INSERT INTO answer (response_id, item_id, questionnaire_version_id, value) VALUES ({})"
    )
    with connection:
        cursor = connection.cursor()
        cursor.executemany(insert_response.format(",".join([mark] * 10)), responses)
        cursor.executemany(insert_answer.format(",".join([mark] * 4)), answers)
    connection.close()


# ---------------------------------------------------------------------------- main


def measure(kind: str, folder: Path, server_url: str | None, sizes: dict) -> dict:
    """Import, the same import of a fifth of the file, and the floor, on one database."""
    url, (campaign_id, small_id, bare_id) = new_database(kind, folder, server_url)
    run = import_run(url, campaign_id, sizes["path"])
    small = import_run(url, small_id, sizes["small_path"])
    bare = measured(
        [sys.executable, __file__, "--bare", url, str(bare_id), str(sizes["path"])],
        dict(os.environ),
    )
    check(
        url,
        {
            campaign_id: (sizes["respondents"], sizes["answers"]),
            small_id: (sizes["small_respondents"], sizes["small_answers"]),
            bare_id: (sizes["respondents"], sizes["answers"]),
        },
    )
    return {
        "import_s": run["seconds"],
        "import_peak_rss_mib": round(run["peak_rss_mib"], 1),
        "import_fifth_s": small["seconds"],
        "import_fifth_peak_rss_mib": round(small["peak_rss_mib"], 1),
        "bare_executemany_s": bare["seconds"],
        "bare_executemany_peak_rss_mib": round(bare["peak_rss_mib"], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--respondents", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="1,000 respondents, SQLite")
    parser.add_argument(
        "--postgresql", help="auto, a server URL, or none (default: auto; none with --quick)"
    )
    parser.add_argument("--rusage", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--set-up", help=argparse.SUPPRESS)
    parser.add_argument("--count", nargs="+", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.set_up:
        return print(*set_up_campaigns(args.set_up))
    if args.count:
        return count_rows(args.count[0], [int(n) for n in args.count[1:]])
    if args.rusage:
        return rusage_wrapper(rest[1:] if rest[:1] == ["--"] else rest)
    if args.bare:
        url, campaign_id, path = args.bare
        return bare_executemany(url, int(campaign_id), Path(path))
    if args.quick:
        args.respondents = 1_000
    if args.postgresql is None:
        args.postgresql = "none" if args.quick else "auto"
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    sizes = {
        "respondents": args.respondents,
        "path": folder / "responses.csv",
        "small_respondents": args.respondents // 5,
        "small_path": folder / "responses_fifth.csv",
    }
    sizes["answers"] = write_file(sizes["path"], args.respondents)
    sizes["small_answers"] = write_file(sizes["small_path"], args.respondents // 5, seed=2)
    load_before = os.getloadavg()
    results: dict[str, dict] = {"sqlite": measure("sqlite", folder, None, sizes)}
    stop = None
    server_url = args.postgresql
    if server_url == "auto":
        from benchmarks.bench_survey import new_postgres

        server_url, _, stop = new_postgres(Path(tempfile.mkdtemp(prefix="bench-pg-")))
    try:
        if server_url != "none":
            results["postgresql"] = measure("postgresql", folder, server_url, sizes)
    finally:
        if stop:
            subprocess.run(stop, capture_output=True)
    size = f"{args.respondents:,} responses x 46 items"
    metrics = []
    for kind, run in results.items():
        name = "SQLite" if kind == "sqlite" else "PostgreSQL"
        metrics.append(
            metric(
                f"responses import, {size}, {name}",
                run["import_s"],
                "s",
                "bare executemany of the same rows (same run)",
                run["bare_executemany_s"],
                f"< {TARGET_S:g} s",
                run["import_s"] < TARGET_S,
            )
        )
        metrics.append(
            metric(
                f"responses import peak memory, {size}, {name}",
                run["import_peak_rss_mib"],
                "MiB",
                f"the same import of {args.respondents // 5:,} responses",
                run["import_fifth_peak_rss_mib"],
                "<= 1.1x (flat)",
                run["import_peak_rss_mib"] <= 1.1 * run["import_fifth_peak_rss_mib"],
            )
        )
    payload = {
        "respondents": args.respondents,
        "answers": sizes["answers"],
        "file_bytes": sizes["path"].stat().st_size,
        "quick": args.quick,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "postgresql_settings": "throw-away cluster, fsync=off, synchronous_commit=off"
        if args.postgresql == "auto"
        else args.postgresql,
        **{kind: run for kind, run in results.items()},
        "metrics": metrics,
    }
    out = write_results("import", payload)
    print("| measure | value | baseline | ratio |\n|---|---:|---:|---:|")
    for entry in metrics:
        print(f"| {entry['name']} | {entry['value']} | {entry['baseline']} | {entry['ratio']} |")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
