"""Shared helpers for the benchmark scripts: machine description, timing, a large database."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": dt.date.today().isoformat(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "numpy": np.__version__,
    }


def best_of(function, repeat: int = 3) -> tuple[float, object]:
    """Fastest wall-clock time of ``repeat`` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM; unlike ru_maxrss on Linux, it does
    not carry over the parent's peak into a freshly executed child process)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def metric(
    name: str,
    value: float,
    unit: str,
    baseline_name: str | None = None,
    baseline: float | None = None,
    target: str | None = None,
    met: bool | None = None,
) -> dict[str, object]:
    """One entry of a results file's ``metrics`` list, which ``benchmarks/run.py`` collects.

    ``baseline`` is the fair floor (or the code before) measured in the same run;
    ``ratio`` is value / baseline. ``target`` is a short text such as "<= 2x floor".
    """
    ratio = None
    if baseline is not None and value is not None and baseline != 0:
        ratio = float(f"{float(value) / float(baseline):.4g}")
    return {
        "name": name,
        "value": None if value is None else float(value),
        "unit": unit,
        "baseline_name": baseline_name if baseline is not None else None,
        "baseline": None if baseline is None else float(baseline),
        "ratio": ratio,
        "target": target,
        "met": None if met is None else bool(met),
    }


def write_results(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **payload}, indent=2) + "\n")
    return path


def _schema_template() -> Path:
    """Where the migrated empty SQLite database of the imported app's migrations is kept
    (the ``migrations`` folder beside its ``surveyapp`` package, which may be another
    checkout's, as in bench_mailing's baseline runs): named by a hash of the migration
    files, so a changed or added migration builds a new one."""
    import surveyapp

    digest = hashlib.sha256()
    migrations = Path(surveyapp.__file__).resolve().parent.parent / "migrations"
    for path in sorted(migrations.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(migrations)).encode() + b"\0" + path.read_bytes())
    folder = Path(tempfile.gettempdir()) / "surveyapp-bench-schema"
    return folder / f"{digest.hexdigest()[:16]}.sqlite3"


def copy_schema_template(database_path: Path | str) -> bool:
    """Give a new SQLite file the migrated schema by copying the template built by an
    earlier ``benchmark_app`` (the same bytes the migrations wrote, without running them
    again in every process); False if there is no template yet or the file exists."""
    path, template = Path(database_path), _schema_template()
    if path.exists() or not template.exists():
        return False
    shutil.copyfile(template, path)
    return True


def _keep_schema_template(database_path: Path) -> None:
    """Save a just-migrated empty SQLite file as the template (SQLite's backup API, so
    the copy is consistent whatever the journal mode; renamed into place at once)."""
    template = _schema_template()
    if template.exists():
        return
    template.parent.mkdir(exist_ok=True)
    partial = template.with_name(f"{template.stem}.{os.getpid()}.partial")
    source, target = sqlite3.connect(database_path), sqlite3.connect(partial)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    os.replace(partial, template)


@contextmanager
def benchmark_app(database_path: Path | str):
    """An app bound to a SQLite file (created if missing), or a database URL, with its tables.

    A new SQLite file gets the schema of the migrations: by running them the first time,
    then by copying that result (``copy_schema_template``), which saves each benchmark
    process a second or more of start-up; nothing is measured in here.
    """
    from surveyapp import create_app

    url = str(database_path)
    file = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else None
    file = url if "://" not in url else file
    copied = file is not None and copy_schema_template(file)
    new_file = file is not None and not Path(file).exists()
    app = create_app(
        {
            "SECRET_KEY": "benchmark",
            "SQLALCHEMY_DATABASE_URI": url if "://" in url else f"sqlite:///{url}",
            "QUESTIONNAIRE_DIR": str(ROOT / "questionnaires"),
            "LANGUAGES": ("nl", "en"),
            "BABEL_DEFAULT_LOCALE": "en",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        if not copied:
            upgrade()  # the same schema as production, built by the migrations
            if new_file:
                _keep_schema_template(Path(file))
        yield app


def build_large_campaign(
    database_path: Path, respondents: int, departments: int, seed: int = 1
) -> int:
    """Create one organisation with a campaign of ``respondents`` synthetic responses.

    Rows are written with sqlite3's executemany for speed; returns the campaign id.
    """
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.campaigns import create_campaign, open_campaign
    from surveyapp.services.matrix import pack_matrix
    from surveyapp.services.organisations import create_organisation, import_departments
    from surveyapp.services.questionnaires import latest_questionnaire

    rng = np.random.default_rng(seed)
    q = latest_questionnaire("social-business-maturity")
    existing = db.session.scalar(db.select(Campaign.id))
    if existing is not None:
        return existing
    org = create_organisation("Benchmark organisation", "government", "1000+")
    lines = ["code,name,parent_code,headcount"]
    for d in range(departments):
        lines.append(f"D{d:03d},Department {d},,{respondents // departments + 50}")
    import_departments(org, "\n".join(lines), "departments.csv")
    campaign = create_campaign(org, q, "Benchmark", dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    open_campaign(campaign)
    db.session.commit()
    department_ids = [u.department_id for u in campaign.units]
    roles = np.array(["top_management", "middle_management", "employee", "conversation_team"])
    role_index = rng.choice(4, size=respondents, p=[0.04, 0.15, 0.78, 0.03])
    dept_index = rng.integers(0, len(department_ids), size=respondents)
    item_ids = [item.id for item in q.items]
    latent = rng.normal(3.2, 0.6, size=(respondents, 1)) + rng.normal(0, 0.3, (1, len(item_ids)))
    values = np.clip(np.rint(latent + rng.normal(0, 0.8, latent.shape)), 1, 5).astype(int)
    missing = rng.random(values.shape) < 0.04
    version_id = campaign.questionnaire_version_id
    campaign_id = campaign.id
    # Each response's packed copy of its answers, from the same values as its answer rows.
    packed = pack_matrix(values, dont_know=missing)
    connection = sqlite3.connect(database_path)
    with connection:
        connection.executemany(
            "INSERT INTO response (id, campaign_id, department_id, questionnaire_version_id,"
            " role_level, language, source, submitted_on, answer_codes)"
            " VALUES (?, ?, ?, ?, ?, 'en', 'import', '2026-06-01', ?)",
            (
                (
                    r + 1,
                    campaign_id,
                    department_ids[dept_index[r]],
                    version_id,
                    roles[role_index[r]],
                    packed[r],
                )
                for r in range(respondents)
            ),
        )
        connection.executemany(
            "INSERT INTO answer (response_id, item_id, questionnaire_version_id, value)"
            " VALUES (?, ?, ?, ?)",
            (
                (r + 1, item_ids[j], version_id, None if missing[r, j] else int(values[r, j]))
                for r in range(respondents)
                for j in range(len(item_ids))
            ),
        )
    connection.close()
    return campaign_id


def bare_csv_writer_packed(database_path: Path | str, campaign_id: int) -> int:
    """The answer file's floor: a bare ``csv.writer`` over the SELECT of each response's
    id, department, role and packed answers (what the file reads), to /dev/null."""
    connection = sqlite3.connect(database_path)
    rows = connection.execute(
        "SELECT id, department_id, role_level, answer_codes FROM response WHERE campaign_id = ?",
        (campaign_id,),
    )
    with open(os.devnull, "w", encoding="utf-8") as sink:
        writer = csv.writer(sink)
        for response_id, department_id, role_level, codes in rows:
            writer.writerow([response_id, department_id, role_level, *codes])
    connection.close()
    return 0
