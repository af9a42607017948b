"""Alembic migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from surveyapp.extensions import db


def test_upgrade_matches_models_and_downgrade_empties(app):
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations differ: {differences}"
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()
