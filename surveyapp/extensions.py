"""Flask extensions, created unbound and attached in :func:`surveyapp.create_app`."""

from __future__ import annotations

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


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, include_name=schema_object_is_ours)
csrf = CSRFProtect()
babel = Babel()
