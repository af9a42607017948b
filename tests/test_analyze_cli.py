"""`surveyapp analyze`: a response CSV in, the documented JSON out, no database needed."""

from __future__ import annotations

import json

import numpy as np
import pytest

QUESTIONNAIRE = "questionnaires/social-business-maturity-v1.toml"


@pytest.fixture
def responses_csv(tmp_path):
    from surveyapp.questionnaires import load_questionnaire

    q = load_questionnaire(QUESTIONNAIRE)
    rng = np.random.default_rng(11)
    ids = [item.id for item in q.items]
    lines = [",".join(["team", "role_level", *ids])]
    for r in range(60):
        team = "Tiny" if r in (3, 7) else ("North", "South", "East")[r % 3]
        role = "top_management" if r % 10 == 0 else "employee"
        base = 2 + (r % 3)
        values = [str(int(np.clip(base + rng.integers(-1, 2), 1, 5))) for _ in ids]
        values[5] = ""  # a missing answer
        lines.append(",".join([team, role, *values]))
    path = tmp_path / "responses.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def run(runner, *args):
    return runner.invoke(args=["analyze", "--questionnaire", QUESTIONNAIRE, *args])


def test_analyze_writes_the_documented_json(runner, responses_csv):
    result = run(runner, "--responses", str(responses_csv), "--group-column", "team")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    dimension = data["dimensions"][0]
    for key in ("n", "mean", "sd", "ci95", "alpha", "alpha_ci95", "item_reliability"):
        assert key in dimension, key
    assert {"item_rest_r", "alpha_if_deleted"} <= set(dimension["item_reliability"][0])
    team = dimension["groupings"]["team"]
    assert {"icc1", "icc2", "welch_anova", "kruskal", "games_howell", "groups"} <= set(team)
    assert {"F", "df1", "df2", "p"} <= set(team["welch_anova"])
    assert {"H", "p"} <= set(team["kruskal"])
    assert {"a", "b", "diff", "ci95", "p"} <= set(team["games_howell"][0])
    shown = [g for g in team["groups"] if not g["suppressed"]]
    assert {"n", "mean", "sd", "ci95", "rwg_j", "vs_rest"} <= set(shown[0])
    assert {"diff", "p", "p_bh"} <= set(shown[0]["vs_rest"])
    tiny = next(g for g in team["groups"] if g["label"] == "Tiny")
    assert tiny["suppressed"] is True
    assert "mean" not in tiny and "n" not in tiny, "a suppressed group carries no numbers"
    item = data["items"][0]
    assert "rwg" in item["groupings"]["team"]["groups"][0]
    assert dimension["n"] == 60
    # Plumbing check: the first dimension's mean recomputed by hand from the file
    # (reverse-keyed items mirrored, a respondent's mean over the items answered).
    from surveyapp.questionnaires import load_questionnaire

    q = load_questionnaire(QUESTIONNAIRE)
    rows = [line.split(",") for line in responses_csv.read_text().splitlines()]
    header, body = rows[0], rows[1:]
    first = q.dimensions[0]
    per_person = []
    for row in body:
        values = [
            (6 - int(row[header.index(i.id)])) if i.reverse else int(row[header.index(i.id)])
            for i in first.items
            if row[header.index(i.id)]
        ]
        per_person.append(sum(values) / len(values))
    assert dimension["mean"] == pytest.approx(sum(per_person) / len(per_person), rel=1e-5)


def test_json_is_one_line_unless_indented_and_the_same_either_way(runner, responses_csv):
    args = ("--responses", str(responses_csv), "--group-column", "team")
    plain = run(runner, *args)
    indented = run(runner, *args, "--indent", "2")
    assert plain.exit_code == indented.exit_code == 0, plain.output + indented.output
    assert plain.output.count("\n") == 1 and ", " not in plain.output.split('"')[0]
    assert indented.output.startswith('{\n  "schema_version": 1,\n')
    assert json.loads(plain.output) == json.loads(indented.output)
    wrong = run(runner, *args, "--indent", "-1")
    assert wrong.exit_code == 2 and "--indent" in wrong.output


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda t: "\n".join(line + ",42" for line in t.splitlines()).replace(
                ",42", ",shoe_size", 1
            ),
            "column 'shoe_size': unknown column",
        ),
        (lambda t: "\x00\x01\x02 not a csv", "not a text (CSV) file"),
    ],
)
def test_bad_input_exits_nonzero_with_row_column_reason(runner, responses_csv, mutate, expected):
    responses_csv.write_text(mutate(responses_csv.read_text()))
    result = run(runner, "--responses", str(responses_csv), "--group-column", "team")
    assert result.exit_code == 1
    assert expected in result.output


def test_value_outside_scale_names_row_and_column(runner, responses_csv):
    lines = responses_csv.read_text().splitlines()
    cells = lines[4].split(",")
    cells[2] = "6"
    lines[4] = ",".join(cells)
    responses_csv.write_text("\n".join(lines) + "\n")
    result = run(runner, "--responses", str(responses_csv), "--group-column", "team")
    assert result.exit_code == 1
    header = lines[0].split(",")
    assert f"row 5, column '{header[2]}'" in result.output
    assert "not a whole number from 1 to 5" in result.output


def test_unknown_group_column(runner, responses_csv):
    result = run(runner, "--responses", str(responses_csv), "--group-column", "division")
    assert result.exit_code == 1
    assert "column 'division': required column is missing" in result.output
