"""Unfinished answers: encrypted with the link's key, and gone from the files once submitted."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from surveyapp.extensions import db
from surveyapp.models import Draft, Invitation, Response
from surveyapp.services.drafts import (
    DraftContent,
    DraftKey,
    DraftUnreadable,
    draft_key,
    open_draft,
)
from surveyapp.services.invitations import find_invitation
from surveyapp.services.responses import read_draft

from .conftest import Factory
from .test_survey import Respondent, shown_step

CANARY_IN_DRAFT_ONLY = "CANARY-7f3a9e41-first-thoughts"
CANARY_SUBMITTED = "CANARY-7f3a9e41-final-words"
# Cycles through the whole scale, so the plaintext JSON of the answers is unmistakable.
PATTERN = ("1", "5", "2", "4", "3")


@pytest.fixture
def questionnaire(app):
    with app.app_context():
        return Factory(app).questionnaire()


@pytest.fixture
def respondent(client, in_app):
    with in_app() as make:
        return Respondent(client, make.link(make.campaign()))


@pytest.fixture
def fetch(app):
    def run(query) -> list:
        with app.app_context():
            return db.session.scalars(query).all()

    return run


@pytest.fixture
def stored(app):
    """The draft row's ciphertext as it sits in the database, and the invitation's id."""

    def read(token: str) -> tuple[bytes, int]:
        with app.app_context():
            invitation = find_invitation(token)
            return invitation.draft.ciphertext, invitation.id

    return read


@pytest.fixture
def sqlite_files(app, database_backend):
    """The bytes of the SQLite database and its -wal, -journal and -shm files."""
    if database_backend != "sqlite":
        pytest.skip("reads SQLite files; PostgreSQL keeps old rows until VACUUM, as ciphertext")
    main = Path(sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database)

    def read() -> dict[str, bytes]:
        paths = [main, *(main.with_name(main.name + s) for s in ("-wal", "-journal", "-shm"))]
        return {p.name: p.read_bytes() for p in paths if p.exists()}

    return read


def holding(files: dict[str, bytes], needle: bytes) -> list[str]:
    return [name for name, content in files.items() if needle in content]


def answer_with_pattern(respondent: Respondent, questionnaire) -> None:
    respondent.post("language", {"language": "en"})
    respondent.post("intro", {"action": "next"})
    respondent.post("about", {"role_level": "conversation_team", "action": "next"})
    for number, dimension in enumerate(questionnaire.dimensions, start=1):
        answers = {
            f"item-{item.id}": PATTERN[i % len(PATTERN)] for i, item in enumerate(dimension.items)
        }
        page = respondent.post(f"page-{number}", {**answers, "action": "next"})
        assert page.status_code == 200, f"page {number} was refused"


def plaintext_markers(questionnaire) -> list[bytes]:
    """Byte strings that would show the draft's content if it were stored readable."""
    first = questionnaire.dimensions[0].items
    pair = (first[0].id, int(PATTERN[0]), first[1].id, int(PATTERN[1]))
    return [
        CANARY_IN_DRAFT_ONLY.encode(),
        CANARY_SUBMITTED.encode(),
        '"{}":{},"{}":{}'.format(*pair).encode(),
        '"{}": {}, "{}": {}'.format(*pair).encode(),
    ]


def test_stored_draft_is_ciphertext_that_only_the_link_opens(
    respondent, questionnaire, stored, app
):
    answer_with_pattern(respondent, questionnaire)
    respondent.post("comment", {"comment": CANARY_IN_DRAFT_ONLY, "action": "next"})
    ciphertext, invitation_id = stored(respondent.token)
    # The role level's name is also in the schema's CHECK constraints, so it is looked for
    # in the blob only, not in the database files.
    for marker in [*plaintext_markers(questionnaire), b"conversation_team"]:
        assert marker not in ciphertext, f"the stored draft shows {marker!r} in plain text"
    with app.app_context():
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("draft")}
    assert columns == {"invitation_id", "ciphertext", "updated_on"}, "a readable draft column"
    draft = open_draft(ciphertext, draft_key(respondent.token), invitation_id)
    assert (draft.language, draft.role_level, draft.comment, draft.step) == (
        "en",
        "conversation_team",
        CANARY_IN_DRAFT_ONLY,
        "review",
    )
    assert len(draft.answers) == len(questionnaire.items)


def test_resume_review_and_submit_work_from_the_encrypted_draft(respondent, questionnaire, fetch):
    answer_with_pattern(respondent, questionnaire)
    respondent.post("comment", {"comment": CANARY_SUBMITTED, "action": "next"})
    respondent.client.delete_cookie("session")
    review = respondent.get()
    assert shown_step(review) == "review"
    html = review.get_data(as_text=True)
    assert CANARY_SUBMITTED in html
    assert "Not answered" not in html
    assert respondent.submit().status_code == 200
    assert fetch(sa.select(Response.comment)) == [CANARY_SUBMITTED]
    assert fetch(sa.select(Response.role_level)) == ["conversation_team"]


def test_key_cannot_be_derived_from_the_stored_hash(respondent, stored, app):
    respondent.post("language", {"language": "nl"})
    ciphertext, invitation_id = stored(respondent.token)
    with app.app_context():
        token_hash = db.session.get(Invitation, invitation_id).token_hash
    assert token_hash == hashlib.sha256(respondent.token.encode()).hexdigest()
    assert draft_key(respondent.token).secret != bytes.fromhex(token_hash)
    with pytest.raises(DraftUnreadable):
        open_draft(ciphertext, draft_key(token_hash), invitation_id)
    with pytest.raises(DraftUnreadable):
        open_draft(ciphertext, DraftKey(bytes.fromhex(token_hash)), invitation_id)
    assert open_draft(ciphertext, draft_key(respondent.token), invitation_id).language == "nl"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda b: b[:-1] + bytes([b[-1] ^ 1]), id="one bit flipped"),
        pytest.param(lambda b: b[:20], id="cut short"),
        pytest.param(lambda b: bytes([2]) + b[1:], id="unknown format version"),
    ],
)
def test_tampered_draft_is_refused_with_a_clear_error(respondent, stored, tamper, app):
    respondent.post("language", {"language": "nl"})
    ciphertext, invitation_id = stored(respondent.token)
    with app.app_context():
        db.session.get(Draft, invitation_id).ciphertext = tamper(ciphertext)
        db.session.commit()
        invitation = db.session.get(Invitation, invitation_id)
        with pytest.raises(DraftUnreadable, match="start again"):
            read_draft(invitation, draft_key(respondent.token))


def test_draft_moved_to_another_invitation_does_not_open(client, in_app, stored, app):
    with in_app() as make:
        campaign = make.campaign()
        first, second = make.link(campaign), make.link(campaign)
    Respondent(client, first).post("language", {"language": "nl"})
    Respondent(client, second).post("language", {"language": "en"})
    ciphertext, first_id = stored(first)
    _, second_id = stored(second)
    # Even with the right link's key, a blob bound to another invitation is refused.
    with pytest.raises(DraftUnreadable, match="another link"):
        open_draft(ciphertext, draft_key(first), second_id)
    assert open_draft(ciphertext, draft_key(first), first_id).language == "nl"


def test_unreadable_draft_is_discarded_and_the_respondent_starts_again(
    respondent, stored, app, caplog
):
    respondent.post("language", {"language": "nl"})
    ciphertext, invitation_id = stored(respondent.token)
    with app.app_context():
        db.session.get(Draft, invitation_id).ciphertext = ciphertext[:-1] + b"\0"
        db.session.commit()
    page = respondent.get()
    assert page.status_code == 200
    assert shown_step(page) == "language"
    assert "survey draft discarded" in caplog.text
    assert respondent.token not in caplog.text
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        assert read_draft(invitation, draft_key(respondent.token)) == DraftContent()


def test_no_byte_of_a_submitted_draft_remains_in_the_sqlite_files(
    respondent, questionnaire, stored, sqlite_files, count
):
    markers = plaintext_markers(questionnaire)
    versions: list[bytes] = []

    def check_while_drafting() -> None:
        files = sqlite_files()
        for marker in markers:
            assert not holding(files, marker), f"{marker!r} readable while drafting"
        ciphertext, _ = stored(respondent.token)
        # The control: the grep does see what the database stores.
        assert holding(files, ciphertext), "the current draft blob is in no file"
        versions.append(ciphertext)

    answer_with_pattern(respondent, questionnaire)
    check_while_drafting()
    respondent.post("comment", {"comment": CANARY_IN_DRAFT_ONLY, "action": "next"})
    check_while_drafting()
    # The respondent goes back and rewrites the comment: the first version was only a draft.
    respondent.post("comment", {"comment": CANARY_SUBMITTED, "action": "next"})
    check_while_drafting()

    assert respondent.submit().status_code == 200
    assert count(Draft) == 0
    files = sqlite_files()
    assert not files.get("test.sqlite3-wal"), "the app's checkpoint left the WAL non-empty"
    assert holding(files, CANARY_SUBMITTED.encode()), "the submitted comment is stored"
    assert not holding(files, CANARY_IN_DRAFT_ONLY.encode())
    for number, ciphertext in enumerate(versions, start=1):
        # Any 64 bytes of a blob would do: AES-GCM output never repeats by chance.
        for start in range(0, len(ciphertext) - 64, 512):
            found = holding(files, ciphertext[start : start + 64])
            assert not found, f"draft version {number} (bytes {start}+) remains in {found}"


@pytest.fixture
def schema_before_encryption(app):
    """The database at the revision before drafts were encrypted; cleaned up afterwards."""
    with app.app_context():
        db.drop_all()
        upgrade(revision="5531c0ad63a9")
    yield
    with app.app_context():
        db.session.remove()
        downgrade(revision="base")
        # Leave no version row behind: the next test that migrates starts from nothing.
        with db.engine.begin() as connection:
            connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


def test_migration_deletes_readable_drafts(app, in_app, schema_before_encryption, count):
    with in_app():
        # Plain SQL: the models describe today's schema, not this old one.
        for statement in (
            "INSERT INTO organisation (id, name, sector, size_band, created_on) "
            "VALUES (1, 'Acme', 'government', '1-49', '2026-01-01')",
            "INSERT INTO questionnaire_version (id, key, version, checksum, scale_min, "
            "scale_max) VALUES (1, 'q', 1, 'x', 1, 5)",
            "INSERT INTO department (id, organisation_id, code, name) "
            "VALUES (1, 1, 'COM', 'Communication')",
            "INSERT INTO campaign (id, organisation_id, questionnaire_version_id, name, "
            "opens_on, closes_on, status, min_group_size, min_comment_group_size) "
            "VALUES (1, 1, 1, 'Spring', '2026-01-01', '2026-02-01', 'open', 5, 10)",
            "INSERT INTO invitation (id, campaign_id, department_id, token_hash, used) "
            "VALUES (1, 1, 1, 'h', false)",
        ):
            db.session.execute(sa.text(statement))
        invitation_id = 1
        db.session.execute(
            sa.text(
                "INSERT INTO draft (invitation_id, language, role_level, answers, comment, "
                "step, updated_on) VALUES (:id, 'nl', 'employee', '{}', :comment, 'about', "
                "CURRENT_DATE)"
            ),
            {"id": invitation_id, "comment": CANARY_IN_DRAFT_ONLY},
        )
        db.session.commit()
        db.session.remove()
        upgrade()
    assert count(Draft) == 0
    with in_app():
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("draft")}
    assert "comment" not in columns and "ciphertext" in columns
