"""Bad input gets a clear 400 (or a file's row and column), never a 500, never a partial write.

Control characters: PostgreSQL cannot store NUL at all, so a NUL in a survey comment
used to fail at submission with a 500. Oversized ids: ``/results/campaigns/9999...``
overflowed SQLite's and PostgreSQL's integers. And what is sent must never reach the
log, not through SQL parameters and not through an error's message.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
import sqlalchemy as sa

from surveyapp.extensions import csrf, db
from surveyapp.inputs import DatabaseIntegerConverter
from surveyapp.models import Answer, Department, Organisation, Response
from surveyapp.services.csvfiles import CSVFileError

from .test_import_export import response_csv
from .test_survey import (  # noqa: F401 (fixtures)
    link,
    open_campaign,
    questionnaire,
    respondent,
    saved_draft,
)

REFUSED = "invisible control character"
SECRET = "s3cret-Pa55word-4f9a"
CONTROLS = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"]


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- the survey ------------------------------------------------------------------


def test_comment_with_a_control_character_is_refused_beside_the_field(
    respondent,  # noqa: F811
    questionnaire,  # noqa: F811
    saved_draft,  # noqa: F811
):
    respondent.answer_all(questionnaire, comment="first words")
    for control in CONTROLS:
        for action in ("next", "back"):
            page = respondent.post(
                "comment", {"comment": f"Fine{control} thanks", "action": action}
            )
            assert page.status_code == 400, repr(control)
            html = text_of(page)
            assert 'class="error-message"' in html and REFUSED in html, repr(control)
            assert "There is a problem" in html  # the summary at the top links to the field
            assert saved_draft(respondent.token).comment == "first words"


def test_tab_newline_and_carriage_return_are_kept(respondent, questionnaire, app):  # noqa: F811
    respondent.answer_all(questionnaire)
    comment = "Two things:\tfirst\r\nsecond"
    page = respondent.post("comment", {"comment": comment, "action": "next"})
    assert page.status_code == 200
    assert respondent.submit().status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Response.comment)) == comment


def test_a_draft_saved_with_a_nul_is_not_submitted(
    respondent,  # noqa: F811
    questionnaire,  # noqa: F811
    app,
    saved_draft,  # noqa: F811
    count,
):
    """A draft from before the comment page refused NUL: a clear message, not a 500."""
    from surveyapp.services.drafts import draft_key
    from surveyapp.services.invitations import find_invitation
    from surveyapp.services.responses import save_draft

    respondent.answer_all(questionnaire)
    with app.app_context():
        invitation = find_invitation(respondent.token)
        key = draft_key(respondent.token)
        save_draft(invitation, key, replace(saved_draft(respondent.token), comment="a\x00b"))
        db.session.commit()
    page = respondent.submit()
    assert page.status_code == 400
    assert "invisible control character" in text_of(page)
    assert count(Response) == 0 and count(Answer) == 0


@pytest.mark.parametrize(
    "data",
    [
        {"language": "en\x00"},
        {"language": "en", "extra\x01": "1"},
        {"language": "en", "comment": "x", "note": "\x1b[31m"},
    ],
)
def test_control_characters_in_other_form_fields_are_refused_before_the_view(
    respondent,  # noqa: F811
    saved_draft,  # noqa: F811
    data,
):
    respondent.get()
    page = respondent.post("language", data)
    assert page.status_code == 400
    html = text_of(page)
    assert REFUSED in html and "Nothing was saved" in html
    assert saved_draft(respondent.token).language is None


@pytest.mark.parametrize(
    "address",
    [
        "/s/abc%00def",
        "/s/abc/language?lang=%01",
        "/auth/login?next=%00",
        "/results/campaigns/1?department=IT%1b",
        "/s/done?lang%00=nl",
        "/nowhere/%7f",
    ],
)
def test_control_characters_in_the_address_are_refused(client, address):
    response = client.get(address)
    assert response.status_code == 400
    assert REFUSED in text_of(response)


# --- CSV imports -------------------------------------------------------------------


def test_department_file_with_a_control_character_names_row_and_column(factory, count):
    org = factory.organisation()
    before = count(Department)
    text = "code,name,parent_code\nNEW,New one,\nBAD,Bad\x00name,\nUGLY,Ugly,\x1b\n"
    with pytest.raises(CSVFileError) as info:
        from surveyapp.services.organisations import import_departments

        import_departments(org, text, "deps.csv")
    db.session.rollback()
    message = str(info.value)
    assert "row 3, column 'name': contains the invisible control character U+0000" in message
    assert "row 4, column 'parent_code'" in message and "U+001B" in message
    assert count(Department) == before


def test_response_file_with_a_control_character_names_row_and_column(factory, count):
    from surveyapp.services.responses import import_responses

    campaign = factory.campaign()
    text = response_csv(factory.questionnaire(), [("COM", "employee", 3)] * 3).splitlines()
    text[0] += ",comment"
    text[1] += ",fine"
    text[2] += ",not\x0cfine"
    text[3] = text[3].replace("COM", "CO\x7fM", 1) + ","
    with pytest.raises(CSVFileError) as info:
        import_responses(campaign, "\n".join(text) + "\n", "paper.csv")
    db.session.rollback()
    message = str(info.value)
    assert "row 3, column 'comment'" in message and "U+000C" in message
    assert "row 4, column 'department'" in message and "U+007F (DEL)" in message
    assert count(Response) == 0


def test_the_cli_refuses_a_department_file_with_a_control_character(runner, factory, tmp_path):
    factory.organisation("Voorbeeld")
    path = tmp_path / "deps.csv"
    path.write_text("code,name\nX,Ex\x01tra\n", encoding="utf-8")
    result = runner.invoke(args=["departments", "import", "--org", "Voorbeeld", str(path)])
    assert result.exit_code == 1
    assert "row 2, column 'name'" in result.output and "nothing was stored" in result.output


def test_a_binary_file_is_still_called_one(factory):
    from surveyapp.services.organisations import import_departments

    with pytest.raises(CSVFileError, match="not a text"):
        import_departments(factory.organisation(), "c\x00o\x00d\x00e\x00\n\x00", "utf16.csv")


def test_a_column_named_like_the_row_number_is_refused(factory):
    from surveyapp.services.organisations import import_departments

    with pytest.raises(CSVFileError, match="reserved"):
        import_departments(factory.organisation(), "code,name,__row__\nA,Alpha,x\n", "d.csv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code,name\nA," + "n" * 201 + "\n", "column 'name': longer than 200 characters"),
        ("code,name,headcount\nA,Alpha,99999999999\n", "not a whole number from 0 to"),
        ("code,name,headcount\nA,Alpha,\u0661\u0662\n", "not a whole number from 0 to"),
    ],
)
def test_department_values_beyond_the_columns_are_refused(factory, count, text, expected):
    """On PostgreSQL these were errors from the database (a traceback from the CLI)."""
    from surveyapp.services.organisations import import_departments

    organisation = factory.organisation()
    before = count(Department)
    with pytest.raises(CSVFileError, match=expected):
        import_departments(organisation, text, "d.csv")
    db.session.rollback()
    assert count(Department) == before


def test_an_organisation_name_beyond_its_column_is_refused(factory):
    from surveyapp.services import ServiceError
    from surveyapp.services.organisations import create_organisation

    with pytest.raises(ServiceError, match="longer than 200"):
        create_organisation("x" * 201, "government", "1-49")
    with pytest.raises(ServiceError, match="control character"):
        create_organisation("Tab\x0bCo", "government", "1-49")


@pytest.mark.parametrize("reference", ["99999999999999999999", "\u00b2", "0"])
def test_an_unknown_organisation_reference_is_a_clear_error(factory, reference):
    from surveyapp.services import ServiceError
    from surveyapp.services.organisations import find_organisation

    with pytest.raises(ServiceError, match="No organisation"):
        find_organisation(reference)


# --- oversized ids -----------------------------------------------------------------


def _int_rules(app):
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, DatabaseIntegerConverter) for c in rule._converters.values()):
            yield rule


def _largest_id(app) -> int:
    with app.app_context():
        return 2**63 - 1 if db.engine.dialect.name == "sqlite" else 2**31 - 1


def test_every_int_segment_is_bounded_by_the_database(app, client):
    largest = _largest_id(app)
    rules = list(_int_rules(app))
    assert len(rules) >= 5, [r.rule for r in app.url_map.iter_rules()]
    for rule in rules:
        for number in (largest + 1, 10**30, "9" * 5000):
            values = {
                name: (number if isinstance(conv, DatabaseIntegerConverter) else "x")
                for name, conv in rule._converters.items()
            }
            path = rule.rule
            for name, value in values.items():
                path = path.replace(f"<int:{name}>", str(value)).replace(f"<{name}>", str(value))
            for method in sorted((rule.methods or {"GET"}) - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method)
                assert response.status_code == 404, (method, path[:80], response.status_code)
        path = rule.rule
        for name in rule._converters:
            path = path.replace(f"<int:{name}>", str(largest)).replace(f"<{name}>", "x")
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)


def test_the_largest_id_is_a_clean_not_found_when_signed_in(app, client, in_app):
    from .dashboard_data import CONSULTANT, login

    with in_app():
        from surveyapp.services.users import create_user

        create_user(*CONSULTANT, "consultant")
        db.session.commit()
    largest = _largest_id(app)
    login(client, CONSULTANT)
    for path in (
        f"/results/campaigns/{largest}",
        f"/results/organisations/{largest}",
        f"/results/campaigns/{largest}/results.csv",
        f"/results/campaigns/{largest + 1}",
    ):
        assert client.get(path).status_code == 404, path


def test_a_value_the_database_cannot_hold_is_a_400_not_a_500(app, client, caplog):
    """The last line of defence, for a value no check caught (here: a test-only route)."""

    @csrf.exempt
    def lookup():
        from flask import request

        db.session.get(Organisation, int(request.form["id"]))
        return "found"

    app.add_url_rule("/test-only/lookup", "lookup", lookup, methods=["POST"])
    response = client.post("/test-only/lookup", data={"id": str(10**30)})
    assert response.status_code == 400
    assert "too large a number" in text_of(response)
    assert str(10**30) not in caplog.text


# --- nothing sent reaches the log ----------------------------------------------------


def _failing_routes(app):
    """Test-only routes that fail with the posted value inside the error, three ways."""
    from flask import request

    @csrf.exempt
    def duplicate():
        for _ in range(2):  # PostgreSQL's message repeats the duplicate key
            db.session.add(Organisation(name=request.form["value"], sector="x", size_band="1-49"))
            db.session.flush()
        return "unreachable"

    @csrf.exempt
    def orphan():
        value = request.form["value"]
        db.session.add(Department(organisation_id=987654, code=value[:40], name=value))
        db.session.flush()
        return "unreachable"

    @csrf.exempt
    def parse():
        return str(int(request.form["value"]))

    for name, view in (("duplicate", duplicate), ("orphan", orphan), ("parse", parse)):
        app.add_url_rule(f"/test-only/{name}", name, view, methods=["POST"])


@pytest.mark.parametrize("how", ["duplicate", "orphan", "parse"])
def test_an_unexpected_error_logs_where_not_what(app, client, caplog, how):
    _failing_routes(app)
    caplog.set_level(logging.DEBUG)  # SQLAlchemy logs statements and parameters at INFO
    response = client.post(f"/test-only/{how}", data={"value": SECRET, "other": SECRET + "-2"})
    assert response.status_code == 500
    assert SECRET not in text_of(response)
    assert "unhandled error at POST /test-only/" in caplog.text
    assert ("IntegrityError" if how != "parse" else "ValueError") in caplog.text
    assert SECRET not in caplog.text


def test_sql_parameters_are_hidden_from_database_errors(app):
    with app.app_context():
        assert db.engine.hide_parameters
        db.session.add(Department(organisation_id=987654, code="X", name=SECRET))
        with pytest.raises(sa.exc.IntegrityError) as info:
            db.session.flush()
        db.session.rollback()
    assert "SQL parameters hidden" in str(info.value)
    assert SECRET not in str(info.value)
