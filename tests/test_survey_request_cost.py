"""What a survey request costs the database and the CPU, without changing what it does.

One SELECT finds the link with its draft, campaign and questionnaire version; a draft is
decrypted once per request and saved with one UPDATE; the session cookie's serializer is
made once per secret key; a pooled connection is pinged only after it has been idle.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.orm.exc import StaleDataError

from surveyapp import create_app
from surveyapp.extensions import db, ping_idle_connections
from surveyapp.models import Draft, Invitation
from surveyapp.security import SignedCookieSessions
from surveyapp.services import responses
from surveyapp.services.drafts import DraftContent, DraftUnreadable, draft_key
from surveyapp.services.invitations import find_survey_invitation
from surveyapp.services.responses import read_draft, save_draft

from .conftest import app_config


@pytest.fixture
def link(in_app):
    with in_app() as make:
        return make.link(make.campaign())


@pytest.fixture
def other_link(in_app, link):
    """A link of another organisation's campaign."""
    with in_app() as make:
        return make.link(make.campaign(make.organisation("Other"), name="Autumn survey"))


@pytest.fixture
def statements(app):
    """The SQL statements the app's engine runs inside ``with statements() as seen:``."""
    import contextlib

    @contextlib.contextmanager
    def record():
        seen: list[str] = []

        def note(_conn, _cursor, statement, *_args):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", note)
        try:
            yield seen
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", note)

    return record


def _started(app, token: str, content: DraftContent) -> None:
    with app.app_context():
        save_draft(find_survey_invitation(token), draft_key(token), content)
        db.session.commit()


def test_survey_invitation_comes_with_its_draft_campaign_and_version_in_one_select(
    app, link, statements
):
    _started(app, link, DraftContent(language="en", step="intro"))
    with app.app_context():
        with statements() as seen:
            invitation = find_survey_invitation(link)
            assert invitation.draft is not None
            assert invitation.campaign.status == "open"
            assert invitation.campaign.questionnaire_version.key == "social-business-maturity"
        assert len(seen) == 1, seen


def test_survey_invitation_query_takes_each_token_as_a_parameter(app, link, other_link):
    with app.app_context():
        first, second = find_survey_invitation(link), find_survey_invitation(other_link)
        assert first.id != second.id
        assert first.campaign.name == "Spring survey"
        assert second.campaign.name == "Autumn survey"
        assert find_survey_invitation(link[:-1] + ("A" if link[-1] != "A" else "B")) is None
        assert find_survey_invitation("") is None
        assert find_survey_invitation("x" * 101) is None


def test_a_draft_read_twice_in_a_request_is_decrypted_once(app, link, monkeypatch):
    _started(app, link, DraftContent(language="nl", answers={"s1": 4}, step="page-2"))
    opened = []
    real = responses.open_draft

    def counting(*args):
        opened.append(1)
        return real(*args)

    monkeypatch.setattr(responses, "open_draft", counting)
    with app.app_context():
        invitation, key = find_survey_invitation(link), draft_key(link)
        first = read_draft(invitation, key)
        again = read_draft(invitation, key)
    assert first == again == DraftContent(language="nl", answers={"s1": 4}, step="page-2")
    assert len(opened) == 1


def test_a_draft_opened_with_one_key_does_not_open_with_another(app, link, other_link):
    """The content kept after decryption is bound to the key that opened it."""
    _started(app, link, DraftContent(language="en", comment="mine only"))
    with app.app_context():
        invitation = find_survey_invitation(link)
        assert read_draft(invitation, draft_key(link)).comment == "mine only"
        with pytest.raises(DraftUnreadable):
            read_draft(invitation, draft_key(other_link))


def test_a_saved_draft_reads_back_without_decrypting(app, link, monkeypatch):
    _started(app, link, DraftContent(language="en"))
    with app.app_context():
        invitation, key = find_survey_invitation(link), draft_key(link)
        saved = save_draft(invitation, key, DraftContent(language="en", step="about"))
        monkeypatch.setattr(responses, "open_draft", pytest.fail)
        assert read_draft(invitation, key) is saved


def test_saving_a_draft_is_one_update_of_its_row(app, link, statements):
    _started(app, link, DraftContent(language="en"))
    with app.app_context():
        invitation, key = find_survey_invitation(link), draft_key(link)
        before = invitation.draft.ciphertext
        with statements() as seen:
            save_draft(invitation, key, DraftContent(language="en", role_level="employee"))
        assert [s.split()[0] for s in seen] == ["UPDATE"], seen
        row = invitation.draft
        sealed, invitation_id = row.ciphertext, row.invitation_id
        assert sealed != before
        assert row.updated_on == dt.datetime.now(dt.UTC).date()
        db.session.commit()
    with app.app_context():
        stored = db.session.scalar(
            sa.select(Draft.ciphertext).filter_by(invitation_id=invitation_id)
        )
        assert stored == sealed
        again = read_draft(find_survey_invitation(link), draft_key(link))
        assert again == DraftContent(language="en", role_level="employee")


def test_saving_a_draft_that_was_deleted_meanwhile_fails_like_a_flush(app, link):
    """A draft submitted from another tab between the load and the save is not rewritten."""
    _started(app, link, DraftContent(language="en"))
    with app.app_context():
        invitation, key = find_survey_invitation(link), draft_key(link)
        with db.engine.begin() as other:
            other.execute(sa.delete(Draft).where(Draft.invitation_id == invitation.id))
        with pytest.raises(StaleDataError):
            save_draft(invitation, key, DraftContent(language="en", step="about"))
        db.session.rollback()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Draft)) == 0


def test_a_changed_draft_row_is_still_saved_by_the_unit_of_work(app, link):
    _started(app, link, DraftContent(language="en"))
    with app.app_context():
        invitation, key = find_survey_invitation(link), draft_key(link)
        invitation.draft.ciphertext = b"pending change"
        save_draft(invitation, key, DraftContent(language="nl"))
        db.session.commit()
    with app.app_context():
        assert read_draft(find_survey_invitation(link), draft_key(link)).language == "nl"


def test_the_first_draft_of_a_link_is_inserted(app, link):
    with app.app_context():
        invitation = find_survey_invitation(link)
        assert invitation.draft is None
        save_draft(invitation, draft_key(link), DraftContent(language="en"))
        db.session.commit()
    with app.app_context():
        invitation = db.session.scalar(sa.select(Invitation))
        assert read_draft(invitation, draft_key(link)) == DraftContent(language="en")


# ---------------------------------------------------------------------------
# The session cookie


def test_the_session_cookie_is_flasks_own(app):
    assert isinstance(app.session_interface, SignedCookieSessions)
    signed = app.session_interface.get_signing_serializer(app).dumps({"lang": "nl"})
    assert SecureCookieSessionInterface().get_signing_serializer(app).loads(signed) == {
        "lang": "nl"
    }


def test_the_session_serializer_is_made_once_per_secret_key(app):
    interface = app.session_interface
    first = interface.get_signing_serializer(app)
    assert interface.get_signing_serializer(app) is first
    signed = first.dumps({"lang": "nl"})
    app.config["SECRET_KEY_FALLBACKS"] = [app.secret_key]
    app.secret_key = "a new test secret key"
    rotated = interface.get_signing_serializer(app)
    assert rotated is not first
    # A cookie signed with the old key still opens while that key is a fallback.
    assert rotated.loads(signed) == {"lang": "nl"}


def test_a_session_saved_in_one_request_opens_in_the_next(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["lang"] = "nl"
    with client.session_transaction() as session:
        assert session["lang"] == "nl"


# ---------------------------------------------------------------------------
# Pinging pooled connections


@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'pool.sqlite3'}", poolclass=sa.QueuePool)
    yield engine
    engine.dispose()


@pytest.fixture
def pings(engine, monkeypatch):
    seen: list[object] = []
    real = engine.dialect.do_ping

    def ping(dbapi_connection):
        seen.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    return seen


def test_a_connection_back_a_moment_ago_is_not_pinged(engine, pings):
    ping_idle_connections(engine, idle_seconds=60)
    for _ in range(3):
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    assert pings == []


def test_a_connection_idle_for_longer_is_pinged_before_use(engine, pings):
    ping_idle_connections(engine, idle_seconds=0)
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    assert len(pings) == 2


def test_a_connection_that_fails_its_ping_is_replaced(engine, monkeypatch):
    ping_idle_connections(engine, idle_seconds=0)
    with engine.connect() as connection:
        first = connection.connection.dbapi_connection
    failed = []

    def dead(dbapi_connection):
        if dbapi_connection is first:
            failed.append(dbapi_connection)
            raise engine.dialect.loaded_dbapi.OperationalError("server closed the connection")
        return True

    monkeypatch.setattr(engine.dialect, "do_ping", dead)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT 1")).scalar() == 1
        assert connection.connection.dbapi_connection is not first
    assert failed == [first]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_the_apps_pre_ping_setting_pings_idle_connections_only(database_url, monkeypatch):
    from surveyapp import extensions

    clock = Clock()
    monkeypatch.setattr(extensions, "time", clock)
    config = app_config(database_url)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True, "hide_parameters": True}
    app = create_app(config)
    with app.app_context():
        seen = []
        monkeypatch.setattr(db.engine.dialect, "do_ping", lambda c: seen.append(c) or True)
        for _ in range(3):
            db.session.execute(sa.text("SELECT 1"))
            db.session.remove()
        assert seen == []
        clock.now += extensions.PING_AFTER_IDLE_SECONDS + 1
        db.session.execute(sa.text("SELECT 1"))
        db.session.remove()
        assert len(seen) == 1
        db.engine.dispose()
