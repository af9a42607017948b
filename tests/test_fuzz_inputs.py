"""Generated input, good and bad: a success or a clear refusal, never a 500, never half a write.

Property tests (Hypothesis) over the survey's POSTs, the two CSV imports and the
questionnaire loader. Each test builds its app once and resets what an example changed;
the numbers of examples keep the whole file to some twenty seconds.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import math
import tomllib

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from surveyapp.extensions import db
from surveyapp.inputs import CONTROL_CHARACTERS
from surveyapp.models import Answer, Department, Draft, Response
from surveyapp.services import ServiceError

from .conftest import QUESTIONNAIRES
from .test_survey import csrf_of, saved_draft  # noqa: F401 (fixture)


def fuzz(examples: int):
    """Settings for these tests: no deadline (a database is involved), no example files."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# What breaks parsers and databases, mixed into ordinary text.
NASTY = st.sampled_from(
    [
        "\x00",
        "\x01",
        "\x1b",
        "\x7f",
        "\x85",
        "\t",
        "\r",
        "\n",
        "\r\n",
        '"',
        ",",
        ";",
        "'",
        "=",
        "+",
        "-",
        "@",
        "\uff1d",
        "\ufeff",
        "\u202e",
        "\u2028",
        "\U0001f600",
        "é",
        " ",
        "9" * 25,
        "-1",
        "1.5",
        "x" * 300,
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=12), NASTY), max_size=8).map("".join)


def mostly(valid: st.SearchStrategy, bad: st.SearchStrategy = TEXT, odds: int = 10):
    """``valid`` except about once in ``odds``: input gets far enough to reach later checks.

    Hypothesis favours the ends of a range (and so the last branch of ``one_of``); the
    rare case is the middle value.
    """
    return st.integers(0, odds - 1).flatmap(lambda k: bad if k == odds // 2 else valid)


def now_and_then(draw, odds: int = 6) -> bool:
    """True about once in ``odds`` (see :func:`mostly`)."""
    return draw(st.integers(0, odds - 1)) == odds // 2


def count_of(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# --- the survey --------------------------------------------------------------------


@pytest.fixture
def survey(app, in_app):
    """An open campaign, the questionnaire, and a way to make a link at a given state."""
    from surveyapp.services.drafts import DraftContent, draft_key
    from surveyapp.services.invitations import find_invitation, issue_invitations
    from surveyapp.services.responses import save_draft

    with in_app() as make:
        campaign_id = make.campaign().id
        questionnaire = make.questionnaire()
    complete = {item.id: 3 for item in questionnaire.items}
    presets = {
        "new": None,
        "language": DraftContent(language="en", step="intro"),
        "complete": DraftContent(
            language="nl", role_level="employee", answers=complete, comment="ok", step="review"
        ),
    }

    def link(preset: str) -> str:
        with in_app():
            from surveyapp.models import Campaign

            campaign = db.session.get(Campaign, campaign_id)
            token = issue_invitations(campaign, 1, ["COM"])[0].token
            if presets[preset] is not None:
                save_draft(find_invitation(token), draft_key(token), presets[preset])
            db.session.commit()
        return token

    return questionnaire, link


def _steps(questionnaire) -> list[str]:
    pages = [f"page-{n}" for n in range(1, len(questionnaire.dimensions) + 1)]
    return ["language", "intro", "about", *pages, "comment", "review"]


@st.composite
def survey_posts(draw, questionnaire):
    """A step and a form for it: often what the page expects, often not."""
    steps = _steps(questionnaire)
    step = draw(
        st.sampled_from(["language", "intro", "about", "page", "comment", "review", "unknown"])
    )
    if step == "page":
        step = draw(st.sampled_from([s for s in steps if s.startswith("page-")]))
    elif step == "unknown":
        step = draw(st.sampled_from(["page-0", "page-99", "x", "Review"]))
    fields: dict[str, str] = {}
    if draw(st.booleans()):
        fields["action"] = draw(mostly(st.sampled_from(["next", "back", "submit"])))
    wanted = {"language": "language", "about": "role_level", "comment": "comment"}.get(step)
    expected: list[tuple[str, st.SearchStrategy[str]]] = [
        ("language", st.sampled_from(["nl", "en", "de", ""])),
        ("role_level", st.sampled_from(["employee", "top_management", "boss", ""])),
        ("comment", TEXT),
    ]
    if step.startswith("page-") and step in steps:
        dimension = questionnaire.dimensions[int(step.removeprefix("page-")) - 1]
        values = st.sampled_from(["1", "3", "5", "dk", "0", "6", "", "3.0"])
        expected += [(f"item-{item.id}", values) for item in dimension.items]
    for name, values in expected:
        # The page's own fields, mostly; another page's only now and then (then: a 400).
        if name == wanted or name.startswith("item-"):
            if not now_and_then(draw):
                fields[name] = draw(mostly(values) if name != "comment" else TEXT)
        elif now_and_then(draw, 12):
            fields[name] = draw(values)
    if now_and_then(draw, 12):
        fields[draw(TEXT)] = draw(TEXT)
    preset = draw(st.sampled_from(["new", "language", "complete"]))
    return step, fields, preset, draw(st.integers(0, 9)) > 0  # mostly with a CSRF token


NUL_COMMENT = ("comment", {"comment": "fine\x00thanks", "action": "next"}, "complete", True)


def test_survey_posts_never_fail_or_half_save(app, client, survey, saved_draft):  # noqa: F811
    questionnaire, make_link = survey
    first = make_link("language")
    token = csrf_of(client.get(f"/s/{first}/intro").get_data(as_text=True))
    items = len(questionnaire.items)

    def stored() -> tuple[int, int, int]:
        with app.app_context():
            return count_of(Response), count_of(Answer), count_of(Draft)

    @fuzz(80)
    @example(post=NUL_COMMENT)  # stored, then a 500 from PostgreSQL on submission
    @example(post=("review", {"action": "submit"}, "complete", True))
    @given(post=survey_posts(questionnaire))
    def check(post):
        step, fields, preset, with_csrf = post
        link = make_link(preset)
        before_draft = saved_draft(link)
        before = stored()
        data = {**fields, **({"csrf_token": token} if with_csrf else {})}
        response = client.post(f"/s/{link}/{step}", data=data)
        event(
            f"{step if step in _steps(questionnaire) else 'unknown step'}: {response.status_code}"
        )
        after = stored()
        assert response.status_code in (200, 302, 400, 404, 409, 410), response.status_code
        draft = saved_draft(link)
        if response.status_code >= 400:
            assert after == before, (response.status_code, before, after)
            if before_draft is not None and draft is not None:
                assert replace_step(draft) == replace_step(before_draft)
        submitted = after[0] - before[0]
        assert submitted in (0, 1)
        if submitted:
            assert response.status_code == 302 and "/s/done" in response.headers["Location"]
            assert after[1] - before[1] == items and draft is None
        if draft is not None:
            assert not CONTROL_CHARACTERS.search(draft.comment or ""), draft.comment
            assert draft.language in (None, "nl", "en")
            assert set(draft.answers) <= {item.id for item in questionnaire.items}

    check()


def replace_step(draft):
    """A draft without its step: the review page records a visit even on a refused POST."""
    from dataclasses import replace

    return replace(draft, step="")


# --- CSV imports -------------------------------------------------------------------


def _csv_text(draw, header: list[str], rows: list[list[str]]) -> str:
    """Proper CSV most of the time; sometimes cells joined raw (broken quoting and all)."""
    delimiter = draw(st.sampled_from([",", ";"]))
    if draw(st.integers(0, 4)) == 0:
        return "\n".join(delimiter.join(cells) for cells in [header, *rows]) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=delimiter, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))
    )
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@st.composite
def department_files(draw) -> str | bytes:
    if now_and_then(draw, 10):
        return draw(st.binary(max_size=200))
    optional = [c for c in ("parent_code", "headcount") if draw(st.booleans())]
    header = draw(st.permutations(["code", "name", *optional]))
    if now_and_then(draw, 8):
        header.insert(draw(st.integers(0, len(header))), draw(TEXT))
    rows, codes = [], []
    for number in range(draw(st.integers(1, 4))):
        # Distinct codes, parents among the rows before: mostly a file that can be stored.
        code = draw(mostly(st.just(f"D{number}"), st.one_of(TEXT, st.sampled_from(codes or ["Z"]))))
        cells = {
            "code": code,
            "name": draw(mostly(st.sampled_from(["Alpha", "Beta"]), st.one_of(TEXT, LONG_NAMES))),
            "parent_code": draw(
                mostly(st.sampled_from(["", *codes]), st.sampled_from([code, "Q"]))
            ),
            "headcount": draw(
                mostly(
                    st.one_of(st.just(""), st.integers(0, 500).map(str)),
                    st.one_of(
                        st.integers(-5, 10**12).map(str),
                        st.sampled_from(["2147483648", "1e3", "\u0661", "-0"]),
                        TEXT,
                    ),
                )
            ),
        }
        codes.append(code)
        rows.append([cells[column] if column in cells else draw(TEXT) for column in header])
    return _csv_text(draw, header, rows)


LONG_NAMES = st.integers(195, 260).map(lambda n: "N" * n)
HOSTILE_DEPARTMENTS = [
    "code,name\nA,Al\x00pha\n",  # PostgreSQL cannot store NUL
    "code,name\nA,Al\x1bpha\n",
    "code,name\nA," + "N" * 201 + "\n",  # longer than the column
    "code,name,headcount\nA,Alpha,99999999999\n",  # beyond PostgreSQL's integer
]


def test_department_imports_store_all_or_nothing(app, factory):
    from surveyapp.services.organisations import import_departments

    organisation = factory.organisation()
    baseline = count_of(Department)

    @fuzz(100)
    @example(data=HOSTILE_DEPARTMENTS[0])
    @example(data=HOSTILE_DEPARTMENTS[1])
    @example(data=HOSTILE_DEPARTMENTS[2])
    @example(data=HOSTILE_DEPARTMENTS[3])
    @given(data=department_files())
    def check(data):
        try:
            stored = import_departments(organisation, data, "departments.csv")
            event("stored")
        except ServiceError as exc:
            event("refused")
            assert "departments.csv" in str(exc)
            assert count_of(Department) == baseline
        else:
            names = db.session.scalars(sa.select(Department.name)).all()
            assert not any(CONTROL_CHARACTERS.search(name) for name in names)
            assert baseline <= count_of(Department) <= baseline + stored
        finally:
            db.session.rollback()
        assert count_of(Department) == baseline

    check()


@st.composite
def response_files(draw, questionnaire) -> str | bytes:
    if now_and_then(draw, 10):
        return draw(st.binary(max_size=200))
    item_ids = [item.id for item in questionnaire.items]
    # A few question columns are enough to reach every check; all 46 only slow the search.
    items = draw(st.lists(st.sampled_from(item_ids), min_size=1, max_size=4, unique=True))
    optional = [c for c in ("language", "submitted_on", "comment") if draw(st.booleans())]
    required = [c for c in ("department", "role_level") if not now_and_then(draw, 12)]
    header = draw(st.permutations([*required, *items, *optional]))
    if now_and_then(draw, 8):
        header.insert(draw(st.integers(0, len(header))), draw(TEXT))
    cells = {
        "department": mostly(st.sampled_from(["COM", "HR", "IT", "IT-OPS"])),
        "role_level": mostly(st.sampled_from(["employee", "top_management"])),
        "language": mostly(st.sampled_from(["nl", "en", ""])),
        "submitted_on": mostly(
            st.one_of(st.just(""), st.dates().map(str)), st.sampled_from(["2026-02-30", "x"])
        ),
        "comment": mostly(st.text(max_size=30)),
    }
    answer = mostly(
        st.sampled_from(["1", "2", "3", "4", "5", "", "3.0"]),
        st.one_of(st.sampled_from(["0", "6", "-1", "dk"]), TEXT),
        odds=12,
    )
    rows = draw(
        st.lists(
            st.tuples(*[cells.get(column, answer) for column in header]).map(list),
            min_size=1,
            max_size=3,
        )
    )
    return _csv_text(draw, header, rows)


def test_response_imports_store_all_or_nothing(app, factory):
    from surveyapp.services.responses import import_responses

    campaign = factory.campaign()
    questionnaire = factory.questionnaire()

    item = questionnaire.items[0].id
    nul_comment = f"department,role_level,{item},comment\nCOM,employee,3,a\x00b\n"

    @fuzz(100)
    @example(data=nul_comment)  # PostgreSQL cannot store NUL
    @given(data=response_files(questionnaire))
    def check(data):
        try:
            stored = import_responses(campaign, data, "paper.csv")
            event("stored")
        except ServiceError as exc:
            event("refused")
            assert "paper.csv" in str(exc)
            assert (count_of(Response), count_of(Answer)) == (0, 0)
        else:
            assert count_of(Response) == stored
            comments = db.session.scalars(sa.select(Response.comment)).all()
            assert not any(CONTROL_CHARACTERS.search(c or "") for c in comments)
        finally:
            db.session.rollback()
        assert (count_of(Response), count_of(Answer)) == (0, 0)

    check()


# --- the questionnaire loader ------------------------------------------------------

SOURCE = QUESTIONNAIRES / "social-business-maturity-v1.toml"
ORIGINAL = tomllib.loads(SOURCE.read_text("utf-8"))


def _toml_string(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def to_toml(value) -> str:
    """A TOML 1.0 document or value on one line per key (inline tables and arrays)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_string(k)} = {to_toml(v)}" for k, v in value.items()) + "}"
    return str(value)  # dates and times: TOML spells them as ISO 8601


def document(data: dict) -> str:
    return "".join(f"{_toml_string(k)} = {to_toml(v)}\n" for k, v in data.items())


KEYS = ["nl", "en", "id", "value", "text", "dimension", "level", "extra"]
TOML_VALUES = st.recursive(
    st.one_of(
        TEXT,
        st.sampled_from(["closed", "trust", "role_level", "employee", "nl", "en"]),
        st.integers(-(2**63), 2**63 - 1),
        st.integers(-3, 8),
        st.floats(),
        st.booleans(),
        st.dates(),
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.one_of(TEXT, st.sampled_from(["nl", "en", "id", "value"])), children, max_size=3
        )
    ),
    max_leaves=6,
)


@st.composite
def mutated_questionnaires(draw) -> bytes:
    raw = SOURCE.read_bytes()
    if draw(st.integers(0, 3)) == 0:
        # Damage the text itself: cut, insert or replace a piece.
        start = draw(st.integers(0, len(raw)))
        end = draw(st.integers(start, min(len(raw), start + 40)))
        piece = draw(st.one_of(st.binary(max_size=8), TEXT.map(lambda t: t.encode("utf-8"))))
        return raw[:start] + piece + raw[end:]
    data = copy.deepcopy(ORIGINAL)
    for _ in range(draw(st.integers(1, 3))):
        node = data
        for _depth in range(draw(st.integers(0, 4))):
            inner = [k for k, v in _children(node) if isinstance(v, dict | list) and v]
            if not inner:
                break
            node = node[draw(st.sampled_from(inner))]
        keys = [k for k, _ in _children(node)]
        operation = draw(st.sampled_from(["replace", "delete", "add", "copy"]))
        if not keys or operation == "add":
            if isinstance(node, dict):
                node[draw(st.one_of(TEXT, st.sampled_from(["id", "text", "extra"])))] = draw(
                    TOML_VALUES
                )
            else:
                node.append(draw(TOML_VALUES))
            continue
        key = draw(st.sampled_from(keys))
        if operation == "replace":
            node[key] = draw(TOML_VALUES)
        elif operation == "delete":
            del node[key]
        elif isinstance(node, list):
            node.append(json.loads(json.dumps(node[key], default=str)))
    return document(data).encode("utf-8")


def _children(node):
    return list(node.items()) if isinstance(node, dict) else list(enumerate(node))


def test_the_original_survives_the_round_trip_through_the_writer(tmp_path):
    from surveyapp.questionnaires import load_questionnaire

    path = tmp_path / "copy.toml"
    path.write_text(document(tomllib.loads(SOURCE.read_text("utf-8"))), encoding="utf-8")
    assert load_questionnaire(path).items == load_questionnaire(SOURCE).items


def test_questionnaire_files_load_or_say_what_is_wrong(tmp_path):
    from surveyapp.questionnaires import (
        Questionnaire,
        QuestionnaireError,
        load_questionnaire,
    )

    path = tmp_path / "mutated.toml"

    @fuzz(100)
    @given(content=mutated_questionnaires())
    def check(content: bytes):
        path.write_bytes(content)
        try:
            questionnaire = load_questionnaire(path)
            event("loaded")
        except QuestionnaireError as exc:
            event(f"refused: {exc.message[:30]}")
            assert str(exc).startswith(str(path)) and exc.message
        else:
            assert isinstance(questionnaire, Questionnaire)

    check()
