"""What each test pays for its fresh database: the schema built per test against a copy
of a template built once (tests/conftest.py).

Usage: python benchmarks/bench_test_database.py [--rounds 20] [--postgresql auto|yes|no]
       [--quick]

Per round, on SQLite and (when its programs are installed) on a throw-away PostgreSQL
server, both ways, one after the other so that both see the same load on the machine:

* ``create_all``: what tests/conftest.py did before: ``db.drop_all()`` and
  ``db.create_all()`` before the test, ``db.drop_all()`` after it (the baseline), in a
  new SQLite file per test or the one PostgreSQL database all tests shared;
* ``template``: what it does now: a file copy (SQLite) or ``CREATE DATABASE ...
  TEMPLATE`` (PostgreSQL) before the test, ``DROP DATABASE`` after it.

Both start from an app already created (``create_app``, paid per test either way, is
timed alone as ``create_app``). Reported: the median wall time per test of each way,
and their ratio. ``--quick``: 2 rounds, SQLite only unless ``--postgresql yes``.

Writes benchmarks/results/test_database.json (with the ``metrics`` list).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import metric, write_results  # noqa: E402


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def measure(backend: str, rounds: int, work: Path, server_url: str | None = None) -> dict:
    import psycopg

    from surveyapp import create_app
    from surveyapp.extensions import db
    from tests.conftest import app_config

    def url(name: str) -> str:
        if backend == "postgresql":
            return server_url.rsplit("/", 1)[0] + f"/{name}"
        return f"sqlite:///{work / name}.sqlite3"

    admin = None
    if backend == "postgresql":
        admin = psycopg.connect(server_url.replace("+psycopg", ""), autocommit=True)
        admin.execute("CREATE DATABASE bench_shared")
        admin.execute("CREATE DATABASE bench_template")
    template_app = create_app(app_config(url("bench_template")))
    with template_app.app_context():
        db.create_all()
        db.engine.dispose()
    if admin is not None:
        admin.execute("ALTER DATABASE bench_template WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")

    shared = create_app(app_config(url("bench_shared")))
    times: dict[str, list[float]] = {"create_all": [], "template": [], "create_app": []}
    for number in range(rounds):
        app_url = url(f"bench_app_{number}")
        times["create_app"].append(_timed(lambda app_url=app_url: create_app(app_config(app_url))))

        # As the tests had it: on SQLite a new file per test, on PostgreSQL one database.
        app = shared if admin is not None else create_app(app_config(url(f"bench_{number}_old")))

        def schema_per_test(app=app) -> None:
            with app.app_context():
                db.drop_all()
                db.create_all()
            with app.app_context():
                db.session.remove()
                db.drop_all()
                db.engine.dispose()

        def template_copy(name: str = f"bench_{number}") -> None:
            if admin is not None:
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE bench_template')
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            else:
                shutil.copyfile(work / "bench_template.sqlite3", work / f"{name}.sqlite3")
                (work / f"{name}.sqlite3").unlink()

        times["create_all"].append(_timed(schema_per_test))
        times["template"].append(_timed(template_copy))
    if admin is not None:
        admin.close()
    return {way: statistics.median(values) for way, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--postgresql", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds

    import tests.conftest as conftest

    results, metrics = {}, []
    backends = ["sqlite"]
    if args.postgresql == "yes":
        backends.append("postgresql")
    elif args.postgresql == "auto" and not args.quick:
        try:
            conftest._pg_bin("initdb")
            backends.append("postgresql")
        except RuntimeError:
            print("PostgreSQL is not installed: SQLite only.")
    with tempfile.TemporaryDirectory(prefix="bench-test-database-") as folder:
        for backend in backends:
            with contextlib.ExitStack() as stack:
                server_url = None
                if backend == "postgresql":  # the tests' own throw-away server
                    server_url = stack.enter_context(conftest.throwaway_postgres())
                results[backend] = measure(backend, rounds, Path(folder), server_url)
            found = results[backend]
            metrics.append(
                metric(
                    f"{backend}: fresh database per test (template copy)",
                    found["template"],
                    "s",
                    f"{backend}: drop_all + create_all + drop_all per test",
                    found["create_all"],
                    "<= 0.5x baseline",
                    found["template"] <= 0.5 * found["create_all"],
                )
            )
            metrics.append(metric(f"{backend}: create_app per test", found["create_app"], "s"))
            print(
                f"{backend}: per test {found['template'] * 1000:.1f} ms (template copy) against "
                f"{found['create_all'] * 1000:.0f} ms (create_all); create_app "
                f"{found['create_app'] * 1000:.0f} ms"
            )
    path = write_results(
        "test_database", {"rounds": rounds, "median_seconds": results, "metrics": metrics}
    )
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
