"""Questionnaire files: the shipped instruments and the checker's messages."""

from __future__ import annotations

import ast
import copy
import dataclasses
import hashlib
import json
import math
import pickle
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import surveyapp.questionnaires as questionnaires_module
from surveyapp.questionnaires import (
    Questionnaire,
    QuestionnaireError,
    check_file,
    load_directory,
    load_questionnaire,
)

QUESTIONNAIRE_DIR = Path(__file__).resolve().parents[1] / "questionnaires"
V1 = QUESTIONNAIRE_DIR / "social-business-maturity-v1.toml"
SHIPPED = sorted(QUESTIONNAIRE_DIR.glob("*.toml"))
GOOD_DATA = tomllib.loads(V1.read_text(encoding="utf-8"))

CORE_DIMENSIONS = {
    "open_culture",
    "hierarchy",
    "trust",
    "top_management",
    "ambassadors",
    "conversation_team",
    "listening",
    "strategy",
}
# Words that make a reversed statement a double negative when someone disagrees.
NEGATIONS = re.compile(
    r"\b(not|no|never|nobody|nothing|without|niet|geen|nooit|niemand|niets|zonder)\b|n't",
    re.IGNORECASE,
)
# "and"/"en" joining two ideas; a heuristic, so it flags every use inside an item.
CONJUNCTIONS = re.compile(r"\b(and|en)\b", re.IGNORECASE)
MAX_ITEM_WORDS = 15  # roughly what a front-line reader takes in at a glance


# --------------------------------------------------------------------------- helpers


def to_toml(data: dict[str, Any]) -> str:
    """Write parsed TOML back as text: one `key = inline value` line per top-level key."""

    def key(name: str) -> str:
        return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else json.dumps(name)

    def value(item: Any) -> str:
        if isinstance(item, bool):
            return "true" if item else "false"
        if isinstance(item, int | float):
            return repr(item)
        if isinstance(item, str):
            return json.dumps(item, ensure_ascii=False)  # JSON escapes are valid TOML escapes
        if isinstance(item, list):
            return "[\n" + "".join(f"  {value(entry)},\n" for entry in item) + "]"
        if isinstance(item, dict):
            return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + " }"
        raise TypeError(type(item))

    return "".join(f"{key(name)} = {value(item)}\n" for name, item in data.items())


@pytest.fixture(scope="module")
def variant_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One directory for the whole module: a fresh tmp_path per case costs more than the case.
    return tmp_path_factory.mktemp("variants")


@pytest.fixture
def write_variant(
    request: pytest.FixtureRequest, variant_dir: Path
) -> Callable[[Callable[[dict], object]], Path]:
    """Return a function that writes the shipped v1 file, changed by `mutate`, to a new file."""
    stem = re.sub(r"\W+", "-", request.node.name).strip("-")

    def write(mutate: Callable[[dict], object], name: str | None = None) -> Path:
        data = copy.deepcopy(GOOD_DATA)
        mutate(data)
        path = variant_dir / (name or f"{stem}.toml")
        path.write_text(to_toml(data), encoding="utf-8")
        return path

    return write


def index_of_recommendation(data: dict, dimension: str, level: int) -> int:
    for index, entry in enumerate(data["recommendations"]):
        if entry["dimension"] == dimension and entry["level"] == level:
            return index
    raise LookupError((dimension, level))


# ------------------------------------------------------------ the shipped instruments


@pytest.fixture(scope="module")
def v1() -> Questionnaire:
    return load_questionnaire(V1)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_shipped_file_passes_the_checker(path: Path) -> None:
    assert check_file(path) == []


def test_shipped_directory_loads_with_unique_versions() -> None:
    loaded = load_directory(QUESTIONNAIRE_DIR)
    assert ("social-business-maturity", 1) in loaded
    assert len(loaded) == len(SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_shipped_file_follows_the_item_writing_rules(path: Path) -> None:
    questionnaire = load_questionnaire(path)
    for dimension in questionnaire.dimensions:
        assert 4 <= len(dimension.items) <= 6, dimension.id
        keyed = [item.reverse for item in dimension.items]
        assert any(keyed), f"{dimension.id} has no reverse-keyed item"
        assert not all(keyed), f"{dimension.id} has only reverse-keyed items"
    for item in questionnaire.items:
        for lang, text in item.text.items():
            where = f"{item.id} ({lang}): {text}"
            assert not CONJUNCTIONS.search(text), f"joins two ideas? {where}"
            assert not NEGATIONS.search(text), f"negation invites a double negative: {where}"
            assert len(text.split()) <= MAX_ITEM_WORDS, f"too long to read at a glance: {where}"
            assert text[0].isupper() and text.endswith("."), f"not one full sentence: {where}"
    for lang in questionnaire.languages:
        texts = [item.text[lang].casefold() for item in questionnaire.items]
        assert len(texts) == len(set(texts)), f"duplicate item text in {lang}"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.name)
def test_shipped_file_has_distinct_recommendations(path: Path) -> None:
    questionnaire = load_questionnaire(path)
    for lang in questionnaire.languages:
        texts = [text[lang] for text in questionnaire.recommendations.values()]
        assert len(texts) == len(set(texts)), f"a recommendation is repeated in {lang}"


def test_v1_header(v1: Questionnaire) -> None:
    assert (v1.id, v1.version, v1.languages) == ("social-business-maturity", 1, ("nl", "en"))
    assert v1.source == str(V1)
    without_keywords = b"".join(
        line
        for line in V1.read_bytes().splitlines(keepends=True)
        if not line.startswith(b"keywords.")
    )
    assert v1.checksum == hashlib.sha256(without_keywords).hexdigest()


def test_v1_declares_comment_keywords_for_every_dimension_and_language(v1: Questionnaire) -> None:
    for dimension in v1.dimensions:
        assert set(dimension.keywords) == set(v1.languages), dimension.id
        for lang, words in dimension.keywords.items():
            assert 8 <= len(words) <= 20, f"{dimension.id}.keywords.{lang} has {len(words)} words"


def test_checksum_ignores_keyword_lines_only(tmp_path: Path) -> None:
    original = V1.read_bytes()
    refined = original.replace(b'keywords.en = ["open", ', b'keywords.en = ["openness", ', 1)
    reworded = original.replace(b"Helemaal oneens", b"Volledig oneens", 1)
    spread = original.replace(b'keywords.nl = ["open", ', b'keywords.nl = [\n  "open", ', 1)
    checksums = {}
    for name, content in [("refined", refined), ("reworded", reworded), ("spread", spread)]:
        assert content != original, name
        path = tmp_path / f"{name}.toml"
        path.write_bytes(content)
        checksums[name] = load_questionnaire(path).checksum
    v1 = load_questionnaire(V1)
    assert checksums["refined"] == v1.checksum  # keywords may be tuned in a published version
    assert checksums["reworded"] != v1.checksum  # a text respondents saw may not
    assert checksums["spread"] != v1.checksum  # only one-line lists are left out


def test_v1_scale_is_fully_labelled_with_dont_know(v1: Questionnaire) -> None:
    assert (v1.scale.min, v1.scale.max) == (1, 5)
    assert [point.value for point in v1.scale.points] == [1, 2, 3, 4, 5]
    assert dict(v1.scale.points[0].label) == {"nl": "Helemaal oneens", "en": "Strongly disagree"}
    assert dict(v1.scale.points[-1].label) == {"nl": "Helemaal eens", "en": "Strongly agree"}
    assert dict(v1.scale.dont_know) == {"nl": "Weet ik niet", "en": "Don't know"}


def test_v1_measures_the_core_dimensions(v1: Questionnaire) -> None:
    assert {dimension.id for dimension in v1.dimensions} >= CORE_DIMENSIONS
    for dimension in v1.dimensions:
        assert set(dimension.name) == set(dimension.description) == {"nl", "en"}
        assert dimension.frame is not None and set(dimension.frame) == {"nl", "en"}


def test_v1_levels_are_five_equal_bands(v1: Questionnaire) -> None:
    assert [level.id for level in v1.levels] == [
        "closed",
        "observing",
        "conversing",
        "converting",
        "innovating",
    ]
    assert [level.number for level in v1.levels] == [1, 2, 3, 4, 5]
    assert [level.min_score for level in v1.levels] == pytest.approx([1.0, 1.8, 2.6, 3.4, 4.2])


def test_v1_has_a_recommendation_for_every_dimension_level_and_language(
    v1: Questionnaire,
) -> None:
    assert len(v1.recommendations) == len(v1.dimensions) * len(v1.levels)
    for dimension in v1.dimensions:
        for level in v1.levels:
            for lang in v1.languages:
                assert v1.recommendation(dimension.id, level.number, lang).strip()


def test_v1_asks_role_level(v1: Questionnaire) -> None:
    role = v1.background_question("role_level")
    assert role.required
    assert [option.id for option in role.options] == [
        "top_management",
        "middle_management",
        "employee",
        "conversation_team",
    ]


# ------------------------------------------------------------------------ the API


def test_items_follow_dimension_order(v1: Questionnaire) -> None:
    assert v1.items == tuple(item for dimension in v1.dimensions for item in dimension.items)
    assert all(item.dimension == dim.id for dim in v1.dimensions for item in dim.items)


def test_lookups_by_id(v1: Questionnaire) -> None:
    first = v1.items[0]
    assert v1.item(first.id) is first
    assert v1.dimension("trust").id == "trust"
    with pytest.raises(KeyError, match="no item 'nope'"):
        v1.item("nope")
    with pytest.raises(KeyError, match="no dimension 'nope'"):
        v1.dimension("nope")
    with pytest.raises(KeyError, match="no background question 'nope'"):
        v1.background_question("nope")
    with pytest.raises(KeyError, match="no recommendation"):
        v1.recommendation("trust", 9, "en")
    with pytest.raises(KeyError, match="language 'fr'"):
        v1.recommendation("trust", 1, "fr")


@pytest.mark.parametrize(
    ("score", "number"),
    [(1.0, 1), (1.79, 1), (1.8, 2), (9 / 5 - 1e-15, 2), (2.6, 3), (3.4, 4), (4.2, 5), (5.0, 5)],
)
def test_level_for_uses_minimum_scores(v1: Questionnaire, score: float, number: int) -> None:
    assert v1.level_for(score).number == number


def test_level_for_missing_and_impossible_scores(v1: Questionnaire) -> None:
    assert v1.level_for(math.nan) is None
    with pytest.raises(ValueError, match="outside the scale"):
        v1.level_for(5.5)


def test_loaded_objects_are_immutable_hashable_and_picklable(v1: Questionnaire) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        v1.version = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        v1.items[0].text["en"] = "changed"  # type: ignore[index]
    assert hash(v1) == hash(load_questionnaire(V1))
    assert pickle.loads(pickle.dumps(v1)) == v1


def test_module_needs_only_the_standard_library() -> None:
    source = Path(questionnaires_module.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            imported.add(node.module.partition(".")[0])
    assert imported <= sys.stdlib_module_names | {"__future__"}, imported


def test_readme_example_is_a_valid_questionnaire(tmp_path: Path) -> None:
    readme = (QUESTIONNAIRE_DIR / "README.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```toml\n(.*?)```", readme, flags=re.DOTALL)
    path = tmp_path / "example.toml"
    path.write_text(example, encoding="utf-8")
    assert check_file(path) == []


def test_round_trip_helper_keeps_the_content(write_variant) -> None:
    copied = load_questionnaire(write_variant(lambda data: None))
    assert copied.dimensions == load_questionnaire(V1).dimensions


# ------------------------------------------------------------- malformed variants


def _set(path: tuple, new: Any) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        target = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = new

    return mutate


def _delete(path: tuple) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        target = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return mutate


def _drop_items_of(dimension: str) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        data["items"] = [item for item in data["items"] if item["dimension"] != dimension]

    return mutate


def _drop_recommendation(dimension: str, level: int) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        del data["recommendations"][index_of_recommendation(data, dimension, level)]

    return mutate


def _duplicate_recommendation(data: dict) -> None:
    data["recommendations"].append(copy.deepcopy(data["recommendations"][0]))


def _copy_item_id(data: dict) -> None:
    data["items"][1]["id"] = data["items"][0]["id"]


def _copy_dimension_id(data: dict) -> None:
    data["dimensions"][1]["id"] = data["dimensions"][0]["id"]


def _copy_item_text(data: dict) -> None:
    data["items"][4]["text"]["en"] = data["items"][0]["text"]["en"]


def _role_level(data: dict) -> dict:
    return next(q for q in data["background"] if q["id"] == "role_level")


def _copy_option_id(data: dict) -> None:
    options = _role_level(data)["options"]
    options.append({"id": options[0]["id"], "label": {"nl": "Ander", "en": "Other"}})


def _drop_option(data: dict) -> None:
    _role_level(data)["options"].pop(1)


def _points(count: int) -> list[dict]:
    return [{"value": v, "label": {"nl": f"p{v}", "en": f"p{v}"}} for v in range(1, count + 1)]


MALFORMATIONS = [
    # (test id, mutation, key named in the message, words in the message)
    ("missing-top-key", _delete(("version",)), "version", "required key is missing"),
    ("missing-nested-key", _delete(("dimensions", 1, "name")), "dimensions[1].name", "missing"),
    ("unknown-top-key", _set(("titel",), {"nl": "x"}), "titel", "did you mean 'title'"),
    ("unknown-item-key", _set(("items", 0, "revers"), True), "items[0].revers", "'reverse'"),
    ("string-for-integer", _set(("version",), "1"), "version", "remove the quotes"),
    ("string-for-boolean", _set(("items", 2, "reverse"), "yes"), "items[2].reverse", "true or"),
    ("table-for-array", _set(("dimensions",), {"id": "x"}), "dimensions", "[[dimensions]]"),
    ("text-not-table", _set(("title",), "Scan"), "title", "table of texts"),
    ("missing-language", _delete(("items", 3, "text", "en")), "items[3].text.en", "'en'"),
    ("undeclared-language", _set(("title", "fr"), "Scan"), "title.fr", "not declared"),
    ("empty-text", _set(("levels", 0, "name", "nl"), "  "), "levels[0].name.nl", "is empty"),
    ("duplicate-language", _set(("languages",), ["nl", "nl"]), "languages[1]", "twice"),
    ("one-point-scale", _set(("scale", "points"), _points(1)), "scale.points", "at least 2"),
    ("huge-scale", _set(("scale", "points"), _points(102)), "scale.points", "2 to 101"),
    ("gap-in-scale", _set(("scale", "points", 2, "value"), 4), "scale.points[2].value", "consec"),
    ("scale-from-2", _set(("scale", "points", 0, "value"), 2), "scale.points[0].value", "0 or 1"),
    ("label-missing", _delete(("scale", "points", 1, "label", "nl")), "points[1].label.nl", "nl"),
    ("bad-id", _set(("items", 0, "id"), "Open-1"), "items[0].id", "not a valid id"),
    ("bad-questionnaire-id", _set(("id",), "Social Business"), "id", "hyphens"),
    ("duplicate-item-id", _copy_item_id, "items[1].id", "duplicate item id"),
    ("duplicate-dimension-id", _copy_dimension_id, "dimensions[1].id", "duplicate dimension"),
    ("duplicate-item-text", _copy_item_text, "items[4].text.en", "same text as items[0]"),
    (
        "unknown-dimension",
        _set(("items", 0, "dimension"), "open_cultur"),
        "items[0].dimension",
        "did you mean 'open_culture'",
    ),
    ("empty-dimension", _drop_items_of("strategy"), "dimensions[8]", "has no items"),
    ("level-not-rising", _set(("levels", 2, "min_score"), 1.8), "levels[2].min_score", "increase"),
    ("level-below-min", _set(("levels", 0, "min_score"), 1.5), "levels[0].min_score", "minimum"),
    ("level-above-max", _set(("levels", 4, "min_score"), 5.5), "levels[4].min_score", "outside"),
    ("level-numbering", _set(("levels", 1, "number"), 3), "levels[1].number", "expected 2"),
    (
        "missing-recommendation",
        _drop_recommendation("trust", 3),
        "recommendations",
        "no recommendation for dimension 'trust' at level 3",
    ),
    ("second-recommendation", _duplicate_recommendation, "recommendations[45]", "second"),
    (
        "recommendation-unknown-level",
        _set(("recommendations", 0, "level"), 6),
        "recommendations[0].level",
        "unknown level 6",
    ),
    ("no-role-level", _set(("background", 0, "id"), "role"), "background", "'role_level'"),
    ("duplicate-option", _copy_option_id, "background[0].options[4].id", "duplicate option"),
    ("role-option-missing", _drop_option, "background[0].options", "middle_management"),
    (
        "keywords-not-table",
        _set(("dimensions", 2, "keywords"), ["trust"]),
        "dimensions[2].keywords",
        "keyword lists per language",
    ),
    (
        "keywords-undeclared-language",
        _set(("dimensions", 2, "keywords", "fr"), ["confiance"]),
        "dimensions[2].keywords.fr",
        "not declared",
    ),
    (
        "keywords-not-a-list",
        _set(("dimensions", 2, "keywords", "en"), "trust"),
        "dimensions[2].keywords.en",
        "non-empty list of words",
    ),
    (
        "keywords-empty-list",
        _set(("dimensions", 2, "keywords", "nl"), []),
        "dimensions[2].keywords.nl",
        "non-empty list of words",
    ),
    (
        "keyword-empty",
        _set(("dimensions", 2, "keywords", "nl"), ["vertrouwen", " "]),
        "dimensions[2].keywords.nl[1]",
        "is empty",
    ),
    (
        "keyword-not-a-string",
        _set(("dimensions", 2, "keywords", "en"), ["trust", 3]),
        "dimensions[2].keywords.en[1]",
        "expected a string",
    ),
    (
        "keyword-repeated",
        _set(("dimensions", 2, "keywords", "en"), ["trust", "Trust"]),
        "dimensions[2].keywords.en[1]",
        "repeats dimensions[2].keywords.en[0]",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "key", "words"),
    [case[1:] for case in MALFORMATIONS],
    ids=[case[0] for case in MALFORMATIONS],
)
def test_malformation_is_reported_with_file_and_key(
    write_variant, mutate: Callable[[dict], None], key: str, words: str
) -> None:
    path = write_variant(mutate)
    messages = check_file(path)
    matching = [m for m in messages if re.search(rf"{re.escape(key)}: .*{re.escape(words)}", m)]
    assert matching, f"no message for {key!r} with {words!r} in {messages}"
    assert all(message.startswith(f"{path}: ") for message in messages)


def test_load_raises_the_first_problem_with_file_key_and_remedy(write_variant) -> None:
    path = write_variant(_delete(("items", 3, "text", "en")))
    with pytest.raises(QuestionnaireError) as raised:
        load_questionnaire(path)
    error = raised.value
    assert (error.path, error.key) == (str(path), "items[3].text.en")
    item_id = GOOD_DATA["items"][3]["id"]
    assert str(error) == (
        f"{path}: items[3].text.en: missing text for language 'en'; "
        f"add text.en = \"...\" (in item '{item_id}')"
    )
    assert check_file(path) == [str(error)]
    assert isinstance(error, ValueError)
    assert pickle.loads(pickle.dumps(error)).key == error.key


def test_checker_reports_every_problem_at_once(write_variant) -> None:
    def break_twice(data: dict) -> None:
        del data["version"]
        data["items"][0]["revers"] = True

    messages = check_file(write_variant(break_twice))
    assert len(messages) == 2


def test_invalid_toml_syntax_gives_line_and_column(tmp_path: Path) -> None:
    lines = V1.read_text(encoding="utf-8").splitlines()
    broken_line = next(n for n, line in enumerate(lines, 1) if line.startswith("version"))
    lines[broken_line - 1] = "version = "
    path = tmp_path / "broken.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    [message] = check_file(path)
    assert message.startswith(f"{path}: invalid TOML: ")
    assert f"line {broken_line}, column" in message


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('title.nl = "Volwassenheid ê"'.encode("latin-1"))
    [message] = check_file(path)
    assert "UTF-8" in message


def test_missing_file_is_a_message_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    [message] = check_file(path)
    assert message.startswith(f"{path}: cannot read the file")


def test_directory_rejects_the_same_version_twice(tmp_path: Path) -> None:
    text = to_toml(GOOD_DATA)
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    first.write_text(text, encoding="utf-8")
    second.write_text(text, encoding="utf-8")
    with pytest.raises(QuestionnaireError) as raised:
        load_directory(tmp_path)
    message = str(raised.value)
    assert str(first) in message
    assert message.startswith(f"{second}: version: ")


def test_directory_keys_by_id_and_version(tmp_path: Path) -> None:
    v2 = copy.deepcopy(GOOD_DATA)
    v2["version"] = 2
    (tmp_path / "social-business-maturity-v1.toml").write_bytes(V1.read_bytes())
    (tmp_path / "social-business-maturity-v2.toml").write_text(to_toml(v2), encoding="utf-8")
    assert sorted(load_directory(tmp_path)) == [
        ("social-business-maturity", 1),
        ("social-business-maturity", 2),
    ]


def test_directory_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(QuestionnaireError, match="is not a directory"):
        load_directory(tmp_path / "missing")
