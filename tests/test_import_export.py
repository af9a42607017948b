"""Response CSV import (all or nothing) and the anonymised export."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, Department, Organisation, Response
from surveyapp.services import ServiceError
from surveyapp.services.campaigns import close_campaign
from surveyapp.services.csvfiles import CSVFileError
from surveyapp.services.organisations import import_departments
from surveyapp.services.responses import export_responses, import_responses


def response_csv(questionnaire, rows):
    ids = [item.id for item in questionnaire.items]
    lines = [",".join(["department", "role_level", *ids])]
    for department, role, value in rows:
        lines.append(",".join([department, role, *([str(value)] * len(ids))]))
    return "\n".join(lines) + "\n"


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_import_stores_every_row(factory):
    q = factory.questionnaire()
    campaign = factory.campaign()
    text = response_csv(
        q, [("COM", "employee", 4), ("IT", "top_management", 5), ("HR", "employee", "")]
    )
    assert import_responses(campaign, text, "paper.csv") == 3
    assert count(Response) == 3
    assert count(Answer) == 2 * len(q.items)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace("COM,employee,4", "COM,employee,7", 1), "row 2, column"),
        (
            lambda t: t.replace("IT,top_management", "XX,top_management"),
            "row 3, column 'department'",
        ),
        (lambda t: t.replace("IT,top_management", "IT,boss"), "row 3, column 'role_level'"),
        (
            lambda t: (
                t.replace("department,", "department,shoe_size,")
                .replace("\nCOM,", "\nCOM,42,")
                .replace("\nIT,", "\nIT,43,")
                .replace("\nHR,", "\nHR,44,")
            ),
            "column 'shoe_size': unknown column",
        ),
        (lambda t: t.replace("COM,employee,4", "COM,employee,4.5", 1), "row 2"),
        (lambda t: t + "HR,employee\n", "row 5"),
        (lambda t: "\x00\x01binary", "not a text (CSV) file"),
        (lambda t: "", "the file is empty"),
    ],
)
def test_bad_import_is_rejected_whole(factory, mutate, expected):
    q = factory.questionnaire()
    campaign = factory.campaign()
    text = mutate(
        response_csv(
            q, [("COM", "employee", 4), ("IT", "top_management", 5), ("HR", "employee", 3)]
        )
    )
    with pytest.raises(CSVFileError) as info:
        import_responses(campaign, text, "bad.csv")
    db.session.rollback()
    message = str(info.value)
    assert "bad.csv: rejected, nothing was stored" in message
    assert expected in message
    assert count(Response) == 0 and count(Answer) == 0


def test_non_utf8_file_is_rejected_with_advice(factory):
    campaign = factory.campaign()
    with pytest.raises(CSVFileError, match="save the file as CSV UTF-8"):
        import_responses(campaign, "department;naïve\n".encode("latin-1"), "latin.csv")


def test_export_shows_published_departments_and_roles_in_every_row_or_none(factory):
    q = factory.questionnaire()
    campaign = factory.campaign()
    rows = [("COM", "employee", 4)] * 6 + [("COM", "top_management", 5)] * 2
    rows += [("IT-OPS", "employee", 3)] * 2 + [("IT", "employee", 2)] * 4
    import_responses(campaign, response_csv(q, rows), "in.csv")
    close_campaign(campaign)  # answer files wait for the campaign to close
    header, data = export_responses(campaign)
    exported = list(
        csv.reader(
            io.StringIO(
                "\n".join(",".join("" if v is None else str(v) for v in row) for row in data)
            )
        )
    )
    assert header[:2] == ["department", "role_level"]
    departments = [row[0] for row in exported]
    # Only COM (8) is published on its own; IT (4) and IT-OPS (2) are withheld, so their
    # 6 rows share an empty department (never IT-OPS folded into IT: IT's published
    # figures would single out the folded rows).
    assert departments.count("COM") == 8
    assert departments.count("IT") == departments.count("IT-OPS") == 0
    assert departments.count("") == 6
    # COM has 2 top managers: the role is then left out of every row, not only theirs.
    assert {row[1] for row in exported} == {""}
    assert all(len(row) == len(header) for row in exported)


def test_export_refuses_a_campaign_below_threshold(factory):
    q = factory.questionnaire()
    campaign = factory.campaign()
    import_responses(campaign, response_csv(q, [("COM", "employee", 4)] * 3), "in.csv")
    close_campaign(campaign)
    with pytest.raises(ServiceError, match="fewer than its anonymity threshold"):
        export_responses(campaign)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code,name\nA,Alpha\nA,Again\n", "row 3, column 'code': 'A' already used on row 2"),
        ("code,name,parent_code\nA,Alpha,Z\n", "'Z' is neither in this file nor known"),
        ("code,name,parent_code\nA,Alpha,B\nB,Beta,A\n", "the parents form a cycle"),
        ("code,name,headcount\nA,Alpha,-3\n", "row 2, column 'headcount'"),
        ("name\nAlpha\n", "column 'code': required column is missing"),
    ],
)
def test_bad_department_file_is_rejected_whole(factory, text, expected):
    org = factory.organisation()
    before = count(Department)
    with pytest.raises(CSVFileError) as info:
        import_departments(org, text, "deps.csv")
    db.session.rollback()
    assert expected in str(info.value)
    assert count(Department) == before
    assert count(Organisation) == 1
