"""Alembic migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from surveyapp.extensions import db, schema_object_is_ours


def test_upgrade_matches_models_and_downgrade_empties(app):
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "render_as_batch": True,
                    # As the app's Migrate is set up: the job queue's tables are Huey's.
                    "include_name": schema_object_is_ours,
                },
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == [], f"models and migrations differ: {differences}"
        downgrade(revision="base")
        tables = {
            name
            for name in sa.inspect(db.engine).get_table_names()
            if schema_object_is_ours(name, "table", {})
        } - {"alembic_version"}
        assert tables == set()
        upgrade()


def test_upgrade_keeps_data_that_other_tables_reference(app):
    """Rebuilding a referenced table (SQLite batch mode) must not trip its foreign keys."""
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:  # a shared PostgreSQL keeps it between tests
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(revision="b7e41c2a9f10")
        with db.engine.begin() as connection:
            run = connection.exec_driver_sql
            run(
                "INSERT INTO organisation (id, name, sector, size_band, created_on) "
                "VALUES (1, 'Acme', 'government', '1-49', '2026-01-01')"
            )
            run(
                "INSERT INTO questionnaire_version (id, key, version, checksum, scale_min, "
                "scale_max) VALUES (1, 'q', 1, 'x', 1, 5)"
            )
            run(
                "INSERT INTO department (id, organisation_id, code, name) "
                "VALUES (1, 1, 'COM', 'Communication')"
            )
            run(
                "INSERT INTO campaign (id, organisation_id, questionnaire_version_id, name, "
                "opens_on, closes_on, status, min_group_size, min_comment_group_size) "
                "VALUES (1, 1, 1, 'Spring', '2026-01-01', '2026-02-01', 'open', 5, 10)"
            )
            run(
                "INSERT INTO campaign (id, organisation_id, questionnaire_version_id, name, "
                "opens_on, closes_on, status, min_group_size, min_comment_group_size) "
                "VALUES (2, 1, 1, 'Autumn', '2025-10-01', '2025-11-01', 'closed', 5, 10)"
            )
            run(
                "INSERT INTO invitation (id, campaign_id, department_id, token_hash, used) "
                "VALUES (1, 1, 1, 'h', false)"
            )
            run(
                "INSERT INTO response (id, campaign_id, department_id, questionnaire_version_id, "
                "role_level, language, source, submitted_on) "
                "VALUES (1, 1, 1, 1, 'employee', 'nl', 'web', '2026-01-05')"
            )
            run(
                "INSERT INTO user_account (id, email, password_hash, role, organisation_id) "
                "VALUES (1, 'm@acme.example', 'x', 'manager', 1)"
            )
        upgrade()
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM response").scalar() == 1
            run = connection.exec_driver_sql
            assert {r[0] for r in run("SELECT max_reminders FROM campaign")} == {2}
            # A campaign closed before closed_on existed gets its planned closing day.
            closed = dict(run("SELECT id, closed_on FROM campaign").all())
            assert closed[1] is None and str(closed[2]) == "2025-11-01"
        downgrade(revision="base")
