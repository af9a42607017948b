"""What the app keeps about respondents: nothing that identifies them."""

from __future__ import annotations

import io
import logging

import sqlalchemy as sa

from surveyapp import register_logging
from surveyapp.extensions import db


def test_access_log_has_no_survey_link_or_address():
    register_logging()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("werkzeug")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        logger.info(
            '%s - - [%s] "%s" %s -',
            "192.0.2.7",
            "23/Nov/2026 11:00:00",
            "GET /s/Zq3kR8v0xYbT2mWc9LpN4aHs6dEf1gJu7iKo5nMl0Qw/page-2 HTTP/1.1",
            200,
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    line = stream.getvalue()
    assert "192.0.2.7" not in line
    assert "Zq3kR8v0" not in line
    assert "/s/<link>/page-2" in line


def test_no_column_could_identify_a_respondent(app):
    with app.app_context():
        inspector = sa.inspect(db.engine)
        for table in ("response", "answer", "invitation"):
            columns = {c["name"] for c in inspector.get_columns(table)}
            assert not columns & {"ip", "ip_address", "user_agent", "email", "name"}, table
        response_columns = {c["name"] for c in inspector.get_columns("response")}
        assert not any("invitation" in c or "token" in c for c in response_columns)
        invitation_columns = {c["name"] for c in inspector.get_columns("invitation")}
        assert not any(c.endswith(("_at", "_on")) for c in invitation_columns), (
            "an invitation must not record when it was used"
        )
        submitted = next(
            c for c in inspector.get_columns("response") if c["name"] == "submitted_on"
        )
        assert isinstance(submitted["type"], sa.Date), "submission time is kept to the day"
