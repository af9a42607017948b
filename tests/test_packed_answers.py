"""Every response's packed answers agree with its answer rows, whoever wrote them."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from surveyapp.extensions import db
from surveyapp.models import Answer, Campaign, Response
from surveyapp.services import ServiceError
from surveyapp.services.answer_files import answer_file
from surveyapp.services.codebook import DONT_KNOW, NO_ANSWER
from surveyapp.services.matrix import (
    PACKED_DONT_KNOW,
    PACKED_NO_ANSWER,
    answer_table_codes,
    load_matrix,
    pack_answers,
    pack_matrix,
    packed_mismatches,
    repack_answers,
)
from surveyapp.services.responses import import_responses

from .conftest import Factory
from .test_survey import Respondent

BEFORE_PACKED = "b4d6f8a1c023"  # the migration before response.answer_codes
WEB_VALUES = ("1", "2", "3", "4", "5", "dk")


def _import(make: Factory, campaign: Campaign) -> None:
    """Twelve rows with every item's value cycling through the scale and some left open."""
    item_ids = [item.id for item in make.questionnaire().items]
    lines = [",".join(["department", "role_level", *item_ids])]
    for r in range(12):
        values = [
            "" if (r + j) % 7 == 0 else str(1 + (r * 3 + j) % 5) for j in range(len(item_ids))
        ]
        lines.append(",".join([("COM", "HR", "IT")[r % 3], "employee", *values]))
    import_responses(campaign, "\n".join(lines) + "\n", "paper.csv")


def _all_mismatches() -> dict[int, list[int]]:
    return {
        campaign.id: packed_mismatches(campaign)
        for campaign in db.session.scalars(sa.select(Campaign).order_by(Campaign.id))
    }


def _answer_table_matrix(campaign: Campaign, n_items: int) -> np.ndarray:
    """The matrix as the answer table alone gives it (NaN for "don't know" and no answer)."""
    ids = np.array(
        db.session.scalars(
            sa.select(Response.id).where(Response.campaign_id == campaign.id).order_by(Response.id)
        ).all(),
        dtype=np.int64,
    )
    codes = answer_table_codes(campaign, ids, n_items).astype(float)
    codes[codes > 100] = np.nan
    return codes


# --------------------------------------------------------------------------- codes


def test_pack_answers_writes_one_byte_per_item_in_questionnaire_order():
    packed = pack_answers(["a", "b", "c", "d"], {"d": 100, "a": 0, "b": None})
    assert packed == bytes([0, PACKED_DONT_KNOW, PACKED_NO_ANSWER, 100])


@pytest.mark.parametrize("answers", [{"a": 101}, {"a": -1}, {"z": 3}])
def test_pack_answers_refuses_what_no_byte_can_mean(answers):
    with pytest.raises(ValueError):
        pack_answers(["a", "b"], answers)


def test_pack_matrix_keeps_no_answer_over_dont_know():
    values = np.array([[1.0, np.nan, 5.0], [0.0, 2.0, np.nan]])
    dont_know = np.array([[False, True, True], [False, False, False]])
    assert pack_matrix(values, dont_know=dont_know) == [
        bytes([1, PACKED_NO_ANSWER, PACKED_DONT_KNOW]),
        bytes([0, 2, PACKED_NO_ANSWER]),
    ]


def test_pack_matrix_refuses_fractions():
    with pytest.raises(ValueError):
        pack_matrix(np.array([[2.5]]))


# --------------------------------------------------------------------------- writers


def test_every_write_path_stores_packed_answers_that_agree(client, in_app, runner, monkeypatch):
    from werkzeug.security import generate_password_hash

    from surveyapp.services.demo import load_demo

    monkeypatch.setattr(
        "surveyapp.services.users.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )
    with in_app() as make:
        questionnaire = make.questionnaire()
        campaign = make.campaign()
        campaign_id = campaign.id
        token = make.link(campaign)
        _import(make, campaign)
        make.commit()

    # The web survey, through the pages, with a "don't know" among the answers.
    respondent = Respondent(client, token)
    respondent.post("language", {"language": "en"})
    respondent.post("intro", {"action": "next"})
    respondent.post("about", {"role_level": "employee", "action": "next"})
    expected: dict[str, int | None] = {}
    position = 0
    for number, dimension in enumerate(questionnaire.dimensions, start=1):
        answers = {}
        for item in dimension.items:
            choice = WEB_VALUES[position % len(WEB_VALUES)]
            answers[f"item-{item.id}"] = choice
            expected[item.id] = None if choice == "dk" else int(choice)
            position += 1
        assert respondent.post(f"page-{number}", {**answers, "action": "next"}).status_code == 200
    respondent.post("comment", {"comment": "", "action": "next"})
    assert "Thank you" in respondent.submit().get_data(as_text=True)

    with in_app():
        load_demo(scale=0.05)
        db.session.commit()
        web = db.session.scalar(
            sa.select(Response).where(Response.campaign_id == campaign_id, Response.source == "web")
        )
        item_ids = [item.id for item in questionnaire.items]
        assert web.answer_codes == pack_answers(item_ids, expected)
        mismatches = _all_mismatches()
        assert len(mismatches) > 5 and set(map(len, mismatches.values())) == {0}
        # What the readers see is what the answer table holds.
        for campaign in db.session.scalars(sa.select(Campaign)):
            loaded = load_matrix(campaign)
            np.testing.assert_array_equal(
                loaded.matrix, _answer_table_matrix(campaign, len(loaded.item_ids))
            )
        dont_know = db.session.scalar(
            sa.select(sa.func.count()).select_from(Answer).where(Answer.value.is_(None))
        )
        assert dont_know > 0  # the demo's "don't know" answers were among those compared
    result = runner.invoke(args=["db", "check-answers"])
    assert result.exit_code == 0, result.output
    assert "every packed answer agrees with the answer table" in result.output


def test_answer_file_codes_come_from_the_packed_answers(in_app):
    with in_app() as make:
        campaign = make.campaign(min_group_size=3, min_comment_group_size=3)
        _import(make, campaign)
        first = db.session.scalar(
            sa.select(Response.id).where(Response.campaign_id == campaign.id).order_by(Response.id)
        )
        item_ids = [item.id for item in make.questionnaire().items]
        db.session.execute(
            sa.update(Answer)
            .where(Answer.response_id == first, Answer.item_id == item_ids[1])
            .values(value=None)
        )
        assert repack_answers(campaign) == 1
        make.commit()
        from surveyapp.services.campaigns import close_campaign

        close_campaign(campaign)
        make.commit()
        file = answer_file(campaign, "en")
        row = file.codes[list(file.response_ids).index(first)]
        # Row 0 of the import: item 0 was left open, item 1 is now "don't know".
        assert row[0] == NO_ANSWER and row[1] == DONT_KNOW and row[2] == 1 + 2 % 5


# --------------------------------------------------------------------------- the check


def _corrupt_one(make: Factory) -> tuple[int, int]:
    campaign = make.campaign()
    _import(make, campaign)
    make.commit()
    victim = db.session.scalar(
        sa.select(Response).where(Response.campaign_id == campaign.id).order_by(Response.id.desc())
    )
    codes = bytearray(victim.answer_codes)
    codes[5] = 4 if codes[5] != 4 else 3
    victim.answer_codes = bytes(codes)
    make.commit()
    return campaign.id, victim.id


def test_a_corrupted_packed_value_is_found_and_repaired(in_app, runner):
    with in_app() as make:
        campaign_id, victim = _corrupt_one(make)
        assert packed_mismatches(db.session.get(Campaign, campaign_id)) == [victim]

    result = runner.invoke(args=["db", "check-answers"])
    assert result.exit_code == 1
    assert f"Campaign {campaign_id}: 1 responses whose packed answers differ" in result.output
    assert f"(response ids {victim})" in result.output

    result = runner.invoke(args=["db", "check-answers", "--campaign", str(campaign_id), "--repair"])
    assert result.exit_code == 0, result.output
    assert "1 responses rebuilt from the answer table" in result.output
    with in_app():
        assert packed_mismatches(db.session.get(Campaign, campaign_id)) == []


def test_a_packed_copy_of_the_wrong_length_is_found_and_stops_the_readers(in_app, runner):
    with in_app() as make:
        campaign = make.campaign()
        _import(make, campaign)
        victim = db.session.scalar(sa.select(Response).where(Response.campaign_id == campaign.id))
        victim.answer_codes = victim.answer_codes[:-1]
        make.commit()
        assert packed_mismatches(campaign) == [victim.id]
        with pytest.raises(ServiceError, match="surveyapp db check-answers"):
            load_matrix(campaign)


def test_check_answers_names_a_campaign_that_does_not_exist(app, runner):
    result = runner.invoke(args=["db", "check-answers", "--campaign", "999"])
    assert result.exit_code == 1
    assert "No campaign with id 999." in result.output


# --------------------------------------------------------------------------- migration


def test_migration_fills_packed_answers_from_the_answer_rows_and_goes_back(app):
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as connection:  # a shared PostgreSQL keeps it between tests
            connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade(revision=BEFORE_PACKED)
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
            for position, item in enumerate(("q1", "q2", "q3")):
                run(
                    "INSERT INTO questionnaire_item (questionnaire_version_id, item_id, "
                    f"dimension_id, reverse, position) VALUES (1, '{item}', 'd', false, "
                    f"{position})"
                )
            for value in range(1, 6):
                run(
                    f"INSERT INTO scale_point (questionnaire_version_id, value) VALUES (1, {value})"
                )
            run(
                "INSERT INTO department (id, organisation_id, code, name) "
                "VALUES (1, 1, 'COM', 'Communication')"
            )
            run(
                "INSERT INTO campaign (id, organisation_id, questionnaire_version_id, name, "
                "opens_on, closes_on, status, min_group_size, min_comment_group_size, "
                "max_reminders) VALUES (1, 1, 1, 'Spring', '2026-01-01', '2026-02-01', "
                "'closed', 5, 10, 2)"
            )
            for response_id in (1, 2, 3):
                run(
                    "INSERT INTO response (id, campaign_id, department_id, "
                    "questionnaire_version_id, role_level, language, source, submitted_on) "
                    f"VALUES ({response_id}, 1, 1, 1, 'employee', 'nl', 'web', '2026-01-05')"
                )
            # Response 1 answered everything, 2 said "don't know" once and left q3 open,
            # 3 answered nothing.
            for response_id, item, value in (
                (1, "q1", "5"),
                (1, "q2", "1"),
                (1, "q3", "3"),
                (2, "q2", "NULL"),
                (2, "q1", "2"),
            ):
                run(
                    "INSERT INTO answer (response_id, item_id, questionnaire_version_id, value) "
                    f"VALUES ({response_id}, '{item}', 1, {value})"
                )
        upgrade()
        with db.engine.connect() as connection:
            stored = dict(connection.exec_driver_sql("SELECT id, answer_codes FROM response").all())
        assert {key: bytes(value) for key, value in stored.items()} == {
            1: bytes([5, 1, 3]),
            2: bytes([2, PACKED_DONT_KNOW, PACKED_NO_ANSWER]),
            3: bytes([PACKED_NO_ANSWER] * 3),
        }
        assert packed_mismatches(db.session.get(Campaign, 1)) == []
        db.session.rollback()  # PostgreSQL: the check's read lock would block the downgrade
        columns = {c["name"]: c for c in sa.inspect(db.engine).get_columns("response")}
        assert columns["answer_codes"]["nullable"] is False

        downgrade(revision=BEFORE_PACKED)
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("response")}
        assert "answer_codes" not in columns
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM answer").scalar() == 5
            assert connection.exec_driver_sql("SELECT count(*) FROM response").scalar() == 3
        downgrade(revision="base")
