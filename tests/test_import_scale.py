"""Response imports read as a stream: checked and written a batch at a time, all or nothing."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, Response
from surveyapp.services import responses as responses_service
from surveyapp.services.csvfiles import CSVFileError
from surveyapp.services.matrix import packed_mismatches
from surveyapp.services.responses import import_responses

BATCH = 3  # rows per batch in these tests, so that a file of a dozen rows takes several


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(responses_service, "IMPORT_BATCH", BATCH)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def response_file(questionnaire, rows: int, *, bad: dict[int, str] | None = None) -> str:
    """``rows`` responses numbered in their comment; ``bad`` replaces row n's first answer."""
    ids = [item.id for item in questionnaire.items]
    lines = [",".join(["department", "role_level", "comment", *ids])]
    for r in range(rows):
        values = ["" if (r + j) % 5 == 0 else str(1 + (r + j) % 5) for j in range(len(ids))]
        if bad and r + 2 in bad:
            values[0] = bad[r + 2]
        lines.append(",".join([("COM", "HR", "IT")[r % 3], "employee", f"row {r + 2}", *values]))
    return "\n".join(lines) + "\n"


def test_a_file_of_many_batches_is_stored_whole_in_file_order(factory, small_batches):
    q = factory.questionnaire()
    campaign = factory.campaign()
    text = response_file(q, 4 * BATCH + 1)

    assert import_responses(campaign, text.encode(), "paper.csv") == 4 * BATCH + 1

    comments = db.session.scalars(sa.select(Response.comment).order_by(Response.id)).all()
    assert comments == [f"row {n}" for n in range(2, 4 * BATCH + 3)]
    expected_answers = sum(
        1 for line in text.splitlines()[1:] for cell in line.split(",")[3:] if cell
    )
    assert count(Answer) == expected_answers
    assert packed_mismatches(campaign) == []


def test_each_batch_is_checked_with_at_most_the_batch_in_memory(
    factory, small_batches, monkeypatch
):
    q = factory.questionnaire()
    campaign = factory.campaign()
    sizes: list[int] = []
    parse = responses_service.parse_responses

    def counting(questionnaire, text, name, **kwargs):
        parsed = parse(questionnaire, text, name, **kwargs)
        sizes.append(len(parsed.meta))
        return parsed

    monkeypatch.setattr(responses_service, "parse_responses", counting)
    import_responses(campaign, io.BytesIO(response_file(q, 10).encode()), "paper.csv")
    assert sizes == [3, 3, 3, 1]


def test_a_bad_row_in_a_later_batch_stores_nothing_and_names_its_row(factory, small_batches):
    q = factory.questionnaire()
    campaign = factory.campaign()
    first = q.items[0].id
    text = response_file(q, 12, bad={9: "7", 13: "x"})

    with pytest.raises(CSVFileError) as info:
        import_responses(campaign, text, "paper.csv")

    message = str(info.value)
    assert "paper.csv: rejected, nothing was stored (2 problems)" in message
    assert f"row 9, column '{first}': '7' is not a whole number" in message
    assert f"row 13, column '{first}': 'x' is not a whole number" in message
    # Nothing stays behind even before the caller rolls back: the batches written
    # before the bad row went with the savepoint.
    assert count(Response) == 0 and count(Answer) == 0


def test_a_rejected_import_leaves_the_callers_transaction_usable(factory, small_batches):
    q = factory.questionnaire()
    campaign = factory.campaign()
    with pytest.raises(CSVFileError):
        import_responses(campaign, response_file(q, 9, bad={10: "9"}), "paper.csv")
    assert import_responses(campaign, response_file(q, 4), "again.csv") == 4
    db.session.commit()
    assert count(Response) == 4


def test_a_successful_import_is_undone_by_the_callers_rollback(factory, small_batches):
    q = factory.questionnaire()
    campaign = factory.campaign()
    import_responses(campaign, response_file(q, 7), "paper.csv")
    db.session.rollback()
    assert count(Response) == 0 and count(Answer) == 0


def test_header_problems_are_listed_once_however_many_batches(factory, small_batches):
    q = factory.questionnaire()
    campaign = factory.campaign()
    text = response_file(q, 10).replace("comment,", "shoe_size,", 1)

    with pytest.raises(CSVFileError) as info:
        import_responses(campaign, text, "paper.csv")

    assert str(info.value).count("column 'shoe_size': unknown column") == 1
    assert info.value.errors == [e for e in info.value.errors if e.row == 1]


def test_multi_line_comments_and_blank_lines_keep_the_row_numbers(factory, small_batches):
    q = factory.questionnaire()
    campaign = factory.campaign()
    ids = [item.id for item in q.items]
    lines = [",".join(["department", "role_level", "comment", *ids])]
    for r in range(7):
        comment = '"two\nlines, and a ""quote"""' if r == 2 else "plain"
        lines.append(",".join(["COM", "employee", comment, *["3"] * len(ids)]))
    lines.insert(3, "")  # a blank row 3
    lines.append(",".join(["COM", "boss", "late", *["3"] * len(ids)]))  # row 10
    lines += ["", ",,", ""]

    with pytest.raises(CSVFileError) as info:
        import_responses(campaign, "\n".join(lines) + "\n", "paper.csv")
    assert [(e.row, e.column) for e in info.value.errors] == [(10, "role_level")]

    assert import_responses(campaign, "\n".join(lines[:-4]) + "\n", "paper.csv") == 7
    stored = db.session.scalars(sa.select(Response.comment).order_by(Response.id)).all()
    assert stored[2] == 'two\nlines, and a "quote"'


def test_bytes_that_are_not_utf8_deep_in_a_file_are_named_by_position(factory, small_batches):
    q = factory.questionnaire()
    campaign = factory.campaign()
    text = response_file(q, 10).encode()
    where = text.index(b"row 10")
    data = text[:where] + b"caf\xe9" + text[where:]

    with pytest.raises(CSVFileError) as info:
        import_responses(campaign, io.BytesIO(data), "latin.csv")

    assert f"not UTF-8 text (byte {where + 3}); save the file as CSV UTF-8" in str(info.value)
    assert count(Response) == 0


def test_a_file_with_only_blank_rows_after_the_header_has_no_responses(factory, small_batches):
    q = factory.questionnaire()
    campaign = factory.campaign()
    header = ",".join(["department", "role_level", *(item.id for item in q.items)])
    with pytest.raises(CSVFileError, match="the file has a header but no responses"):
        import_responses(campaign, header + "\n\n,,\n\n\n\n\n", "empty.csv")


def test_a_file_full_of_problems_stops_at_the_limit_and_says_so(factory, monkeypatch):
    monkeypatch.setattr(responses_service, "IMPORT_BATCH", 4)
    monkeypatch.setattr(responses_service, "MAX_PROBLEMS", 10)
    q = factory.questionnaire()
    campaign = factory.campaign()
    text = response_file(q, 20).replace(",employee,", ",boss,")

    with pytest.raises(CSVFileError) as info:
        import_responses(campaign, text, "paper.csv")

    first = info.value.errors[0]
    assert first.row == 0
    assert "10 problems or more, so reading stopped at row 13" in first.reason
    assert max(e.row for e in info.value.errors) == 13
    assert count(Response) == 0


def test_the_command_line_reads_the_file_as_a_stream(app, factory, runner, tmp_path):
    q = factory.questionnaire()
    campaign = factory.campaign()
    campaign_id = campaign.id
    factory.commit()
    path = tmp_path / "paper.csv"
    path.write_text(response_file(q, 5), encoding="utf-8")

    result = runner.invoke(args=["responses", "import", "--campaign", str(campaign_id), str(path)])

    assert result.exit_code == 0, result.output
    assert "Imported 5 responses" in result.output
    missing = runner.invoke(
        args=["responses", "import", "--campaign", str(campaign_id), str(tmp_path / "no.csv")]
    )
    assert missing.exit_code == 1
    assert "no.csv: cannot be read (No such file or directory)." in missing.output
