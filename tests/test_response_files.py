"""The response CSV reader: the column-wise path for plain files and the row-by-row path
give the same result, and every file the plain path does not take is still read or
refused exactly as before."""

from __future__ import annotations

import numpy as np
import pytest

from surveyapp.questionnaires import load_questionnaire
from surveyapp.services.csvfiles import CSVFileError
from surveyapp.services.response_files import (
    META_COLUMNS,
    _MetaRules,
    _parse_plain,
    _parse_rows,
    parse_responses,
)

QUESTIONNAIRE = "questionnaires/social-business-maturity-v1.toml"


@pytest.fixture(scope="module")
def questionnaire():
    return load_questionnaire(QUESTIONNAIRE)


def rules(questionnaire, required=("department", "role_level"), departments=None):
    return _MetaRules(
        required=tuple(required),
        departments=None if departments is None else frozenset(departments),
        role_levels=frozenset(
            o.id for o in questionnaire.background_question("role_level").options
        ),
        languages=tuple(questionnaire.languages),
    )


def sample(questionnaire, rows=40, seed=3, sep=",", end="\n", order=None) -> str:
    rng = np.random.default_rng(seed)
    ids = [item.id for item in questionnaire.items]
    if order is not None:
        ids = [ids[i] for i in order]
    lines = [sep.join(["department", "role_level", "language", *ids, "comment"])]
    for r in range(rows):
        values = [str(v) if rng.random() > 0.2 else "" for v in rng.integers(1, 6, len(ids))]
        if r % 7 == 0:
            values[0] = f"{values[0] or 3}.0"
        role = ("employee", "top_management", "middle_management")[r % 3]
        language = ("en", "nl", "")[r % 3]
        comment = ("", "Fine", "  '=SUM(A1)  ", "Dank je wel")[r % 4]
        lines.append(sep.join([f" D{r % 4} ", role, language, *values, comment]))
    return end.join(lines) + end


def both(questionnaire, text, **kw):
    """The plain path's result (must not be None) and the row-by-row path's."""
    r = rules(questionnaire, **kw)
    fast = _parse_plain(questionnaire, text, r, META_COLUMNS)
    assert fast is not None, "a plain file must take the column-wise path"
    slow = _parse_rows(questionnaire, text, "in.csv", r, META_COLUMNS)
    return fast, slow


def assert_same(fast, slow):
    assert fast.item_ids == slow.item_ids
    np.testing.assert_array_equal(fast.matrix, slow.matrix)
    assert fast.columns == slow.columns
    assert fast.meta == slow.meta


@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"sep": ";"},
        {"end": "\r\n"},
        {"order": list(range(45, -1, -1))},  # item columns in another order
        {"rows": 1},
    ],
)
def test_plain_files_read_the_same_both_ways(questionnaire, variant):
    text = sample(questionnaire, **variant)
    assert_same(*both(questionnaire, text))
    assert_same(*both(questionnaire, text.encode("utf-8")))
    assert_same(*both(questionnaire, "\ufeff" + text))
    assert_same(*both(questionnaire, text.rstrip("\r\n")))  # no final newline


def test_meta_cells_are_stripped_and_unquoted_as_by_the_row_reader(questionnaire):
    fast, slow = both(questionnaire, sample(questionnaire))
    assert fast.columns["department"][0] == "D0"
    assert "=SUM(A1)" in fast.columns["comment"]
    assert_same(fast, slow)


def test_long_and_multibyte_meta_cells_read_the_same_both_ways(questionnaire):
    """Cells longer than the fixed-width comparison takes, and non-ASCII cells that end
    the file, as the last column (read up to the file's very end)."""
    text = sample(questionnaire, rows=30)
    lines = text.split("\n")
    lines[1] = lines[1].rsplit(",", 1)[0] + "," + "Veel te lange opmerking " * 5
    lines[-2] = lines[-2].rsplit(",", 1)[0] + ",Overleg é"
    assert_same(*both(questionnaire, "\n".join(lines)))
    lines[1] = lines[1].rsplit(",", 1)[0] + ",kort"
    assert_same(*both(questionnaire, "\n".join(lines).rstrip("\n")))


def test_a_line_of_empty_cells_goes_row_by_row_and_is_skipped(questionnaire):
    text = sample(questionnaire)
    width = text.split("\n", 1)[0].count(",")
    text = text.replace("\n", "\n" + "," * width + "\n", 1)
    assert _parse_plain(questionnaire, text, rules(questionnaire), META_COLUMNS) is None
    assert parse_responses(questionnaire, text, "in.csv").matrix.shape[0] == 40


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda t: t.replace("D1", '"D1"', 1), "a quoted cell"),
        (lambda t: t.replace("\n", "\n\n", 3), "a blank line"),
        (lambda t: t.replace("\n", "\n,,,,\n", 1), "a line of the wrong length"),
        (lambda t: t.replace(",4,", ", 4,", 1), "an answer with a blank"),
        (lambda t: t.replace(",4,", ",04,", 1), "a leading zero"),
        (lambda t: t.replace(",4,", ",4.5,", 1), "between two points"),
        (lambda t: t.replace(",4,", ",9,", 1), "off the scale"),
        (lambda t: t.replace(",4,", ",.0,", 1), "a suffix alone"),
        (lambda t: t.replace("employee", "intern", 1), "an unknown role"),
        (lambda t: t.replace(",en,", ",fr,", 1), "an unknown language"),
        (lambda t: t.replace("Fine", "Fi\x07ne", 1), "a control character"),
        (lambda t: t.replace("Fine", "Fi\x85ne", 1), "a C1 control character"),
        (lambda t: t.replace("Fine", "Fi\rne", 1), "a lone carriage return"),
        (lambda t: t.replace("comment", "remark", 1), "an unknown column"),
    ],
)
def test_any_other_file_goes_row_by_row(questionnaire, change, why):
    text = change(sample(questionnaire))
    assert _parse_plain(questionnaire, text, rules(questionnaire), META_COLUMNS) is None, why
    try:
        expected = _parse_rows(questionnaire, text, "in.csv", rules(questionnaire), META_COLUMNS)
    except CSVFileError as exc:
        with pytest.raises(CSVFileError) as raised:
            parse_responses(questionnaire, text, "in.csv")
        assert str(raised.value) == str(exc), why
    else:
        assert_same(parse_responses(questionnaire, text, "in.csv"), expected)


def test_a_blank_line_is_skipped_as_before(questionnaire):
    text = sample(questionnaire).replace("\n", "\n\n", 3)
    parsed = parse_responses(questionnaire, text, "in.csv")
    assert parsed.matrix.shape[0] == 40


def test_unknown_department_is_named_with_its_row(questionnaire):
    text = sample(questionnaire)
    with pytest.raises(CSVFileError, match=r"row 2, column 'department': 'D0' is not a depart"):
        parse_responses(questionnaire, text, "in.csv", departments=["D1", "D2", "D3"])
    parsed = parse_responses(questionnaire, text, "in.csv", departments=["D0", "D1", "D2", "D3"])
    assert parsed.columns["department"][:4] == ("D0", "D1", "D2", "D3")


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["10", "0", "7.0", "10.0", "", "3"], [10, 0, 7, 10, np.nan, 3]),
        (["010"], None),
        (["11"], None),
        (["1.00"], None),
        (["-1"], None),
    ],
)
def test_two_digit_scale_points(cells, expected):
    """A 0-10 scale: answers of one and two digits, with and without ``.0``."""
    from types import SimpleNamespace

    from surveyapp.services.response_files import _plain_answers

    scale = SimpleNamespace(points=[SimpleNamespace(value=v) for v in range(11)])
    text = ",".join(cells).encode() + b"\n" * 5
    starts, position = [], 0
    for cell in cells:
        starts.append(position)
        position += len(cell) + 1
    values = _plain_answers(
        np.frombuffer(text, np.uint8),
        np.array([starts]),
        np.array([[len(c) for c in cells]]),
        SimpleNamespace(scale=scale),
    )
    if expected is None:
        assert values is None
    else:
        np.testing.assert_array_equal(values, [expected])
