"""gunicorn settings for the survey benchmark (benchmarks/bench_survey.py), both apps.

With ``BENCH_SQL_COUNT_DIR`` set, each worker counts the SQL statements SQLite runs for it
(``sqlite3``'s trace callback: every statement SQLite executes, BEGIN, COMMIT and each row
of an executemany included, whether the ORM or plain ``sqlite3`` sent it) and writes the
count to ``<dir>/<pid>`` when it stops. The benchmark sets it only for its counting run;
the timed runs have no counter. On PostgreSQL the benchmark reads pg_stat_statements
instead, which sees the same things from the server's side.
"""

from __future__ import annotations

import os
import sqlite3
import sqlite3.dbapi2
from pathlib import Path

_statements = [0]


def post_fork(server, worker) -> None:
    """Install the counter before the worker loads its app and opens a connection."""
    if not os.environ.get("BENCH_SQL_COUNT_DIR"):
        return
    connect = sqlite3.connect

    def counted_connect(*args, **kwargs):
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(_count)
        return connection

    # SQLAlchemy's dialect calls sqlite3.dbapi2.connect, the floor sqlite3.connect.
    sqlite3.connect = sqlite3.dbapi2.connect = counted_connect


def _count(_statement: str) -> None:
    _statements[0] += 1


def worker_exit(server, worker) -> None:
    directory = os.environ.get("BENCH_SQL_COUNT_DIR")
    if directory:
        (Path(directory) / str(os.getpid())).write_text(str(_statements[0]))
