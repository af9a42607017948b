"""Flask extensions, created unbound and attached in :func:`surveyapp.create_app`."""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that Alembic migrations can drop and alter them on SQLite
# (batch mode) and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


JOB_QUEUE_TABLE_PREFIX = "huey_"


def schema_object_is_ours(name: str | None, type_: str, parent_names: dict) -> bool:
    """Whether Alembic should compare a table or index: not the job queue's own.

    With PostgreSQL the job queue (services/jobs.py) keeps its tables in the app's
    database; they belong to Huey, so autogenerate must neither drop nor recreate them.
    """
    table = name if type_ == "table" else parent_names.get("table_name")
    return not (table or "").startswith(JOB_QUEUE_TABLE_PREFIX)


# A pooled connection that went back to the pool less than this long ago is not pinged
# before its next use (see ping_idle_connections).
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "surveyapp.returned_at"


def ping_idle_connections(engine: sa.Engine, idle_seconds: float = PING_AFTER_IDLE_SECONDS) -> None:
    """Check a pooled connection before use only if it has been idle for ``idle_seconds``.

    What ``pool_pre_ping`` guards against is a connection the server or a proxy closed
    while it sat unused in the pool (an idle timeout, a restart). It pings before every
    checkout: on PostgreSQL one more round trip per request, which is a fixed cost of
    every survey page. A connection used a moment ago is very unlikely to have been
    closed since, so only one that has been idle is pinged. A connection that fails its
    ping is replaced before the request gets it, as with ``pool_pre_ping``.
    """

    @sa.event.listens_for(engine, "connect")
    def _opened(_dbapi_connection, record) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    @sa.event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
        returned = record.info.get(_RETURNED_AT)
        if returned is not None and time.monotonic() - returned < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and hands out a new one instead.
            raise sa.exc.DisconnectionError("The pooled connection failed its ping.") from exc


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, include_name=schema_object_is_ours)
csrf = CSRFProtect()
babel = Babel()
