"""Load and validate versioned questionnaire files.

A questionnaire is data, not code: one TOML file per instrument version in
``questionnaires/`` (the schema is documented in ``questionnaires/README.md``).
This module reads such a file with :mod:`tomllib`, checks every key, and returns
frozen dataclasses. It needs nothing beyond the standard library (no Flask), so
the CLI, the services and plain tests can all use it.

Every problem is reported as a :class:`QuestionnaireError` that names the file,
the key path inside it (``items[3].text.en``; array indexes count from 0) and
what to do about it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "BackgroundQuestion",
    "Dimension",
    "FrozenMap",
    "Item",
    "Level",
    "Option",
    "Questionnaire",
    "QuestionnaireError",
    "Scale",
    "ScalePoint",
    "check_file",
    "load_directory",
    "load_questionnaire",
]

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
QUESTIONNAIRE_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(?:-[A-Z]{2})?$")
MIN_SCALE_POINTS = 2
MAX_SCALE_POINTS = 101

#: The reports compare these groups (perception gap between the top and the
#: rest), so every questionnaire must ask for them.
ROLE_LEVEL_ID = "role_level"
ROLE_LEVEL_OPTIONS = ("top_management", "middle_management", "employee", "conversation_team")

#: A dimension score this close below a level's minimum still reaches the level:
#: means of whole numbers are not always exact in binary floating point.
SCORE_TOLERANCE = 1e-9

K = TypeVar("K")
V = TypeVar("V")


class QuestionnaireError(ValueError):
    """A questionnaire file that cannot be used: which file, which key, what to do."""

    def __init__(self, path: str | os.PathLike[str], key: str, message: str) -> None:
        # The three parts are the args, so the exception pickles and compares cleanly.
        super().__init__(os.fspath(path), key, message)
        self.path = os.fspath(path)
        self.key = key
        self.message = message

    def __str__(self) -> str:
        if self.key:
            return f"{self.path}: {self.key}: {self.message}"
        return f"{self.path}: {self.message}"


class FrozenMap(Mapping[K, V]):
    """A read-only mapping that, unlike ``MappingProxyType``, hashes, pickles and copies."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | Iterable[tuple[K, V]] = ()) -> None:
        self._data: dict[K, V] = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))


@dataclass(frozen=True, slots=True)
class ScalePoint:
    """One answer option of the agreement scale."""

    value: int
    label: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Scale:
    """The answer scale shared by all items; ``dont_know`` is stored as a missing answer."""

    min: int
    max: int
    points: tuple[ScalePoint, ...]
    dont_know: Mapping[str, str] | None


@dataclass(frozen=True, slots=True)
class Item:
    """One statement; ``reverse`` means agreeing indicates less maturity."""

    id: str
    dimension: str
    text: Mapping[str, str]
    reverse: bool


@dataclass(frozen=True, slots=True)
class Dimension:
    """A scale of items; ``frame`` is shown above its items (None if not given).

    ``keywords`` maps a language to the words that place a staff comment under this
    dimension (empty when the file declares none).
    """

    id: str
    name: Mapping[str, str]
    description: Mapping[str, str]
    frame: Mapping[str, str] | None
    items: tuple[Item, ...]
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: FrozenMap())


@dataclass(frozen=True, slots=True)
class Level:
    """A maturity level: the band of dimension scores from ``min_score`` up to the next level."""

    number: int
    id: str
    min_score: float
    name: Mapping[str, str]
    description: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Option:
    """One answer option of a background question."""

    id: str
    label: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class BackgroundQuestion:
    """A single-choice question about the respondent, such as ``role_level``."""

    id: str
    text: Mapping[str, str]
    options: tuple[Option, ...]
    required: bool


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """One validated questionnaire version, as loaded from ``source``."""

    id: str
    version: int
    title: Mapping[str, str]
    languages: tuple[str, ...]
    scale: Scale
    dimensions: tuple[Dimension, ...]
    levels: tuple[Level, ...]
    recommendations: Mapping[tuple[str, int], Mapping[str, str]]
    background: tuple[BackgroundQuestion, ...]
    source: str
    checksum: str
    _items: tuple[Item, ...] = field(init=False, repr=False, compare=False)
    _item_index: Mapping[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        items = tuple(item for dimension in self.dimensions for item in dimension.items)
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_item_index", FrozenMap((item.id, item) for item in items))

    @property
    def items(self) -> tuple[Item, ...]:
        """All items, dimension by dimension, in file order within each dimension."""
        return self._items

    def item(self, item_id: str) -> Item:
        """Return the item with this id; raise KeyError if there is none."""
        try:
            return self._item_index[item_id]
        except KeyError:
            raise KeyError(f"{self._label()} has no item {item_id!r}") from None

    def dimension(self, dim_id: str) -> Dimension:
        """Return the dimension with this id; raise KeyError if there is none."""
        for dimension in self.dimensions:
            if dimension.id == dim_id:
                return dimension
        raise KeyError(f"{self._label()} has no dimension {dim_id!r}")

    def background_question(self, qid: str) -> BackgroundQuestion:
        """Return the background question with this id; raise KeyError if there is none."""
        for question in self.background:
            if question.id == qid:
                return question
        raise KeyError(f"{self._label()} has no background question {qid!r}")

    def level_for(self, score: float) -> Level | None:
        """Return the maturity level whose band holds ``score``; None for NaN (no score).

        A score reaches a level when ``score >= min_score`` (within
        ``SCORE_TOLERANCE``). A score outside the scale is a programming error
        and raises ValueError.
        """
        if math.isnan(score):
            return None
        scale = self.scale
        if not scale.min - SCORE_TOLERANCE <= score <= scale.max + SCORE_TOLERANCE:
            raise ValueError(
                f"score {score} lies outside the scale {scale.min}..{scale.max} of {self._label()}"
            )
        for level in reversed(self.levels):
            if score >= level.min_score - SCORE_TOLERANCE:
                return level
        return self.levels[0]  # unreachable: the first level starts at the scale minimum

    def recommendation(self, dimension_id: str, level_number: int, lang: str) -> str:
        """Return the recommendation for a dimension at a level in one language."""
        try:
            texts = self.recommendations[(dimension_id, level_number)]
        except KeyError:
            raise KeyError(
                f"{self._label()} has no recommendation for dimension {dimension_id!r} "
                f"at level {level_number}"
            ) from None
        try:
            return texts[lang]
        except KeyError:
            raise KeyError(
                f"{self._label()} is not available in language {lang!r}; "
                f"choose one of {', '.join(self.languages)}"
            ) from None

    def _label(self) -> str:
        return f"questionnaire {self.id!r} version {self.version}"


def pick_text(texts: Mapping[str, str] | None, lang: str) -> str:
    """A text in ``lang``, else in English, else in any language the mapping has."""
    if not texts:
        return ""
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()))


def load_questionnaire(path: str | os.PathLike[str]) -> Questionnaire:
    """Load and validate one questionnaire file; raise QuestionnaireError on the first problem."""
    questionnaire, errors = _parse(path)
    if errors:
        raise errors[0]
    assert questionnaire is not None  # _parse returns one or the other
    return questionnaire


def load_directory(directory: str | os.PathLike[str]) -> dict[tuple[str, int], Questionnaire]:
    """Load every ``*.toml`` file in a directory, keyed by (id, version)."""
    folder = Path(directory)
    if not folder.is_dir():
        raise QuestionnaireError(
            folder, "", "is not a directory; point to the folder that holds the questionnaires"
        )
    found: dict[tuple[str, int], Questionnaire] = {}
    for path in sorted(folder.glob("*.toml")):
        questionnaire = load_questionnaire(path)
        key = (questionnaire.id, questionnaire.version)
        if key in found:
            raise QuestionnaireError(
                path,
                "version",
                f"questionnaire {questionnaire.id!r} version {questionnaire.version} is also "
                f"defined in {found[key].source}; a changed questionnaire needs a new file "
                "with the next version number",
            )
        found[key] = questionnaire
    return found


def check_file(path: str | os.PathLike[str]) -> list[str]:
    """Return every problem in a questionnaire file as a message; [] if it is valid."""
    return [str(error) for error in _parse(path)[1]]


# --------------------------------------------------------------------------- parsing

# Allowed keys per table: key -> example shown when a required key is missing
# (None marks an optional key).
_TOP_KEYS: dict[str, str | None] = {
    "id": 'id = "social-business-maturity"',
    "version": "version = 1",
    "languages": 'languages = ["nl", "en"]',
    "title": 'title.nl = "..." and title.en = "..."',
    "scale": "a [scale] table with [[scale.points]]",
    "dimensions": "at least one [[dimensions]] table",
    "items": "at least one [[items]] table",
    "levels": "at least one [[levels]] table",
    "recommendations": "one [[recommendations]] table per dimension and level",
    "background": 'a [[background]] table with id = "role_level"',
}
_SCALE_KEYS: dict[str, str | None] = {
    "points": "one [[scale.points]] table per answer option",
    "dont_know": None,
}
_POINT_KEYS: dict[str, str | None] = {
    "value": "value = 1",
    "label": 'label.nl = "..." and label.en = "..."',
}
_DIMENSION_KEYS: dict[str, str | None] = {
    "id": 'id = "trust"',
    "name": 'name.nl = "..." and name.en = "..."',
    "description": 'description.nl = "..." and description.en = "..."',
    "frame": None,
    "keywords": None,
}
_ITEM_KEYS: dict[str, str | None] = {
    "id": 'id = "trust_safe_to_raise_problems"',
    "dimension": 'dimension = "trust"',
    "text": 'text.nl = "..." and text.en = "..."',
    "reverse": None,
}
_LEVEL_KEYS: dict[str, str | None] = {
    "number": "number = 1",
    "id": 'id = "closed"',
    "min_score": "min_score = 1.0",
    "name": 'name.nl = "..." and name.en = "..."',
    "description": 'description.nl = "..." and description.en = "..."',
}
_RECOMMENDATION_KEYS: dict[str, str | None] = {
    "dimension": 'dimension = "trust"',
    "level": "level = 1",
    "text": 'text.nl = "..." and text.en = "..."',
}
_BACKGROUND_KEYS: dict[str, str | None] = {
    "id": 'id = "role_level"',
    "text": 'text.nl = "..." and text.en = "..."',
    "options": "one [[background.options]] table per answer option",
    "required": None,
}
_OPTION_KEYS: dict[str, str | None] = {
    "id": 'id = "employee"',
    "label": 'label.nl = "..." and label.en = "..."',
}


def _parse(path: str | os.PathLike[str]) -> tuple[Questionnaire | None, list[QuestionnaireError]]:
    """Read and validate a file; return the questionnaire or every problem found."""
    source = os.fspath(path)
    try:
        raw_bytes = Path(path).read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, [QuestionnaireError(source, "", f"cannot read the file ({reason})")]
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return None, [
            QuestionnaireError(
                source, "", f"is not UTF-8 text (byte {exc.start}); save the file as UTF-8"
            )
        ]
    except tomllib.TOMLDecodeError as exc:
        return None, [
            QuestionnaireError(source, "", f"invalid TOML: {exc}; fix the syntax at that position")
        ]
    return _Validator(source).questionnaire(data, content_checksum(raw_bytes))


# A whole-line keyword list, ``keywords.nl = ["...", ...]``: not part of what respondents
# answered, so the checksum leaves it out (see content_checksum).
_KEYWORD_LINE = re.compile(rb"^keywords\.[A-Za-z-]+[ \t]*=[ \t]*\[[^\n]*\][ \t]*\r?\n", re.M)


def content_checksum(raw_bytes: bytes) -> str:
    """SHA-256 of a file's bytes without its one-line comment keyword lists.

    Keywords only sort staff comments in the reports; respondents never see them, so they
    may be refined in a published version. Every other byte counts: a keyword list
    written over several lines, and any other edit, still changes the checksum.
    """
    return hashlib.sha256(_KEYWORD_LINE.sub(b"", raw_bytes)).hexdigest()


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def _describe(value: Any) -> str:
    """Name a TOML value's type for a message: 'the string "1"', 'a table', ..."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the float {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'the string "{shown}"'
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"  # dates and times


def _suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


class _Validator:
    """Walks the parsed TOML once, collecting every problem it can find."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[QuestionnaireError] = []
        # None until `languages` is valid; text tables then only get a shape check.
        self.languages: tuple[str, ...] | None = None
        # Array entry key -> (kind, id), e.g. "items[3]" -> ("item", "trust_safe").
        self.entry_names: dict[str, tuple[str, str]] = {}

    def error(self, key: str, message: str) -> None:
        named = self.entry_name(key)
        if named is not None and repr(named[1]) not in message:
            message = f"{message} (in {named[0]} {named[1]!r})"
        self.errors.append(QuestionnaireError(self.source, key, message))

    def name_entry(self, key: str, raw: Any, what: str) -> None:
        """Remember an array entry's id, so its messages say which entry it is."""
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            self.entry_names[key] = (what, raw["id"])

    def entry_name(self, key: str) -> tuple[str, str] | None:
        """Return (kind, id) of the innermost named entry that holds ``key``."""
        holders = [
            entry
            for entry in self.entry_names
            if key == entry or key.startswith((f"{entry}.", f"{entry}["))
        ]
        return self.entry_names[max(holders, key=len)] if holders else None

    # ---- generic checks; each returns None when the value is unusable

    def table(self, value: Any, key: str, keys: Mapping[str, str | None]) -> dict | None:
        """Check a table's type, its required keys and that it has no unknown keys."""
        if not isinstance(value, dict):
            self.error(key, f"expected a table, got {_describe(value)}")
            return None
        for name in value:
            if name not in keys:
                allowed = ", ".join(keys)
                self.error(
                    _join(key, name),
                    f"unknown key; {_suggest(name, keys)}allowed keys here are: {allowed}",
                )
        for name, example in keys.items():
            if example is not None and name not in value:
                self.error(_join(key, name), f"required key is missing; add {example}")
        return value

    def array_of_tables(
        self, value: Any, key: str, minimum: int = 1, header: str | None = None
    ) -> list[dict] | None:
        """Check that a value is an array of tables, written as [[header]] blocks."""
        header = header or key
        if not isinstance(value, list):
            self.error(key, f"expected [[{header}]] tables, got {_describe(value)}")
            return None
        if not all(isinstance(entry, dict) for entry in value):
            self.error(key, f"expected [[{header}]] tables, got an array of other values")
            return None
        if len(value) < minimum:
            tables = "table" if minimum == 1 else "tables"
            self.error(key, f"needs at least {minimum} [[{header}]] {tables}, found {len(value)}")
            return None
        return value

    def string(self, value: Any, key: str) -> str | None:
        if not isinstance(value, str):
            self.error(key, f"expected a string in double quotes, got {_describe(value)}")
            return None
        if not value.strip():
            self.error(key, "is empty; write the text")
            return None
        return value

    def integer(self, value: Any, key: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            hint = "; remove the quotes" if isinstance(value, str) else ""
            self.error(key, f"expected a whole number, got {_describe(value)}{hint}")
            return None
        return value

    def number(self, value: Any, key: str) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = "; remove the quotes" if isinstance(value, str) else ""
            self.error(key, f"expected a number such as 2.6, got {_describe(value)}{hint}")
            return None
        if not math.isfinite(value):
            self.error(key, f"expected a finite number, got {value}")
            return None
        return float(value)

    def boolean(self, value: Any, key: str) -> bool | None:
        if not isinstance(value, bool):
            self.error(key, f"expected true or false (without quotes), got {_describe(value)}")
            return None
        return value

    def identifier(self, value: Any, key: str) -> str | None:
        text = self.string(value, key)
        if text is None:
            return None
        if not ID_PATTERN.match(text):
            self.error(
                key,
                f"{text!r} is not a valid id; use lower-case letters, digits and underscores, "
                "starting with a letter (for example 'top_management')",
            )
            return None
        return text

    def text(self, value: Any, key: str) -> FrozenMap[str, str] | None:
        """Check a per-language text table: every declared language, no other."""
        if not isinstance(value, dict):
            self.error(
                key,
                "expected a table of texts per language "
                f'({key.rpartition(".")[2]}.{(self.languages or ("nl",))[0]} = "..."), '
                f"got {_describe(value)}",
            )
            return None
        ok = True
        texts: dict[str, str] = {}
        for lang, content in value.items():
            if self.languages is not None and lang not in self.languages:
                declared = ", ".join(json.dumps(code) for code in self.languages)
                self.error(
                    _join(key, lang),
                    f"language {lang!r} is not declared in languages = [{declared}]; "
                    "remove this text or declare the language",
                )
                ok = False
            elif (checked := self.string(content, _join(key, lang))) is None:
                ok = False
            else:
                texts[lang] = checked
        for lang in self.languages or ():
            if lang not in value:
                self.error(
                    _join(key, lang),
                    f"missing text for language {lang!r}; add "
                    f'{key.rpartition(".")[2]}.{lang} = "..."',
                )
                ok = False
        return FrozenMap(texts) if ok else None

    def unique(self, ids: list[tuple[str, str]], what: str) -> bool:
        """Report repeated ids and return whether all were unique; ``ids`` holds (key, id)."""
        first: dict[str, str] = {}
        ok = True
        for key, ident in ids:
            if ident in first:
                self.error(
                    key,
                    f"duplicate {what} id {ident!r}, already used at {first[ident]}; "
                    f"give every {what} its own id",
                )
                ok = False
            else:
                first[ident] = key
        return ok

    def read(self, raw: dict, key: str, name: str, check: Any, default: Any = None) -> Any:
        """Check ``raw[name]`` if present; a missing required key was reported by ``table``."""
        return check(raw[name], _join(key, name)) if name in raw else default

    # ---- the sections, in file order

    def questionnaire(
        self, data: dict[str, Any], checksum: str
    ) -> tuple[Questionnaire | None, list[QuestionnaireError]]:
        self.table(data, "", _TOP_KEYS)
        ident = self.read(data, "", "id", self.check_questionnaire_id)
        version = self.read(data, "", "version", self.check_version)
        languages = self.read(data, "", "languages", self.check_languages)
        title = self.read(data, "", "title", self.text)
        scale = self.read(data, "", "scale", self.check_scale)
        dims = self.read(data, "", "dimensions", self.check_dimensions)
        items = self.read(data, "", "items", lambda v, k: self.check_items(v, k, dims))
        levels = self.read(data, "", "levels", lambda v, k: self.check_levels(v, k, scale))
        recommendations = self.read(
            data,
            "",
            "recommendations",
            lambda v, k: self.check_recommendations(v, k, dims, levels),
        )
        background = self.read(data, "", "background", self.check_background)
        if self.errors:
            return None, self.errors

        dimensions = tuple(
            Dimension(
                id=dim_id,
                name=name,
                description=description,
                frame=frame,
                items=tuple(item for item in items if item.dimension == dim_id),
                keywords=keywords,
            )
            for dim_id, name, description, frame, keywords in dims
        )
        questionnaire = Questionnaire(
            id=ident,
            version=version,
            title=title,
            languages=languages,
            scale=scale,
            dimensions=dimensions,
            levels=levels,
            recommendations=recommendations,
            background=background,
            source=self.source,
            checksum=checksum,
        )
        return questionnaire, []

    def check_questionnaire_id(self, value: Any, key: str) -> str | None:
        ident = self.string(value, key)
        if ident is not None and not QUESTIONNAIRE_ID_PATTERN.match(ident):
            self.error(
                key,
                f"{ident!r} is not a valid questionnaire id; use lower-case words joined "
                "by hyphens (for example 'social-business-maturity')",
            )
            return None
        return ident

    def check_version(self, value: Any, key: str) -> int | None:
        version = self.integer(value, key)
        if version is not None and version < 1:
            self.error(key, f"must be 1 or higher, got {version}")
            return None
        return version

    def check_languages(self, value: Any, key: str) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not value:
            self.error(
                key,
                'expected a non-empty array of language codes such as ["nl", "en"], '
                f"got {_describe(value)}",
            )
            return None
        ok = True
        for index, lang in enumerate(value):
            lang_key = f"{key}[{index}]"
            if not isinstance(lang, str) or not LANGUAGE_PATTERN.match(lang):
                self.error(
                    lang_key,
                    f'expected a language code such as "nl" or "en", got {_describe(lang)}',
                )
                ok = False
            elif value.index(lang) != index:
                self.error(lang_key, f"language {lang!r} is listed twice; list each language once")
                ok = False
        if not ok:
            return None
        self.languages = tuple(value)
        return self.languages

    def check_scale(self, value: Any, key: str) -> Scale | None:
        raw = self.table(value, key, _SCALE_KEYS)
        if raw is None:
            return None
        dont_know = self.read(raw, key, "dont_know", self.text)
        points = self.read(raw, key, "points", self.check_points)
        if points is None or ("dont_know" in raw and dont_know is None):
            return None
        return Scale(min=points[0].value, max=points[-1].value, points=points, dont_know=dont_know)

    def check_points(self, value: Any, key: str) -> tuple[ScalePoint, ...] | None:
        entries = self.array_of_tables(value, key, MIN_SCALE_POINTS)
        if entries is None:
            return None
        if len(entries) > MAX_SCALE_POINTS:
            self.error(
                key,
                f"has {len(entries)} points; a scale has {MIN_SCALE_POINTS} to "
                f"{MAX_SCALE_POINTS} points",
            )
            return None
        points: list[ScalePoint] = []
        ok = True
        previous: int | None = None  # the value written on the point before, if readable
        for index, raw in enumerate(entries):
            point_key = f"{key}[{index}]"
            self.table(raw, point_key, _POINT_KEYS)
            number = self.read(raw, point_key, "value", self.integer)
            label = self.read(raw, point_key, "label", self.text)
            if index == 0 and number not in (None, 0, 1):
                self.error(
                    f"{point_key}.value", f"the first point must have value 0 or 1, got {number}"
                )
                ok = False
            elif None not in (number, previous) and number != previous + 1:
                self.error(
                    f"{point_key}.value",
                    f"expected {previous + 1}: values must be consecutive whole numbers "
                    f"in ascending order, got {number}",
                )
                ok = False
            previous = number
            if number is None or label is None:
                ok = False
                continue
            points.append(ScalePoint(value=number, label=label))
        return tuple(points) if ok else None

    def check_dimensions(self, value: Any, key: str) -> list[tuple[str, Any, Any, Any, Any]] | None:
        """Return (id, name, description, frame, keywords) per dimension, or None."""
        entries = self.array_of_tables(value, key)
        if entries is None:
            return None
        result = []
        ids = []
        ok = True
        for index, raw in enumerate(entries):
            dim_key = f"{key}[{index}]"
            self.name_entry(dim_key, raw, "dimension")
            self.table(raw, dim_key, _DIMENSION_KEYS)
            dim_id = self.read(raw, dim_key, "id", self.identifier)
            name = self.read(raw, dim_key, "name", self.text)
            description = self.read(raw, dim_key, "description", self.text)
            frame = self.read(raw, dim_key, "frame", self.text)
            keywords = self.read(raw, dim_key, "keywords", self.check_keywords, FrozenMap())
            if dim_id is not None:
                ids.append((f"{dim_key}.id", dim_id))
            if None in (dim_id, name, description, keywords) or ("frame" in raw and frame is None):
                ok = False
                continue
            result.append((dim_id, name, description, frame, keywords))
        ok = self.unique(ids, "dimension") and ok
        return result if ok else None

    def check_keywords(self, value: Any, key: str) -> FrozenMap[str, tuple[str, ...]] | None:
        """Check a dimension's comment keywords: per declared language, a list of words."""
        if not isinstance(value, dict):
            self.error(
                key,
                f"expected keyword lists per language (keywords.{(self.languages or ('nl',))[0]} "
                f'= ["...", "..."]), got {_describe(value)}',
            )
            return None
        ok = True
        lists: dict[str, tuple[str, ...]] = {}
        for lang, words in value.items():
            lang_key = _join(key, lang)
            if self.languages is not None and lang not in self.languages:
                declared = ", ".join(json.dumps(code) for code in self.languages)
                self.error(
                    lang_key,
                    f"language {lang!r} is not declared in languages = [{declared}]; "
                    "remove these keywords or declare the language",
                )
                ok = False
                continue
            if not isinstance(words, list) or not words:
                self.error(
                    lang_key,
                    f'expected a non-empty list of words such as ["trust", "afraid"], '
                    f"got {_describe(words)}",
                )
                ok = False
                continue
            seen: dict[str, int] = {}
            for position, word in enumerate(words):
                word_key = f"{lang_key}[{position}]"
                if self.string(word, word_key) is None:
                    ok = False
                    continue
                folded = " ".join(word.casefold().split())
                if folded in seen:
                    self.error(
                        word_key,
                        f"{word!r} repeats {lang_key}[{seen[folded]}]; remove one of them",
                    )
                    ok = False
                else:
                    seen[folded] = position
            lists[lang] = tuple(" ".join(word.split()) for word in words if isinstance(word, str))
        return FrozenMap(lists) if ok else None

    def check_dimension_ref(self, value: Any, key: str, dim_ids: list[str] | None) -> str | None:
        dimension = self.string(value, key)
        if dimension is not None and dim_ids is not None and dimension not in dim_ids:
            self.error(
                key,
                f"unknown dimension {dimension!r}; {_suggest(dimension, dim_ids)}"
                f"declared dimensions are: {', '.join(dim_ids)}",
            )
            return None
        return dimension

    def check_items(
        self, value: Any, key: str, dims: list[tuple[str, Any, Any, Any, Any]] | None
    ) -> list[Item] | None:
        entries = self.array_of_tables(value, key)
        if entries is None:
            return None
        dim_ids = [dim[0] for dim in dims] if dims is not None else None
        items: list[Item] = []
        ids = []
        first_with_text: dict[tuple[str, str], str] = {}
        ok = True
        for index, raw in enumerate(entries):
            item_key = f"{key}[{index}]"
            self.name_entry(item_key, raw, "item")
            self.table(raw, item_key, _ITEM_KEYS)
            item_id = self.read(raw, item_key, "id", self.identifier)
            dimension = self.read(
                raw, item_key, "dimension", lambda v, k: self.check_dimension_ref(v, k, dim_ids)
            )
            text = self.read(raw, item_key, "text", self.text)
            reverse = self.read(raw, item_key, "reverse", self.boolean, default=False)
            if item_id is not None:
                ids.append((f"{item_key}.id", item_id))
            for lang, content in (text or {}).items():
                # Copy-paste slips: two items with the same wording measure nothing new.
                wording = (lang, " ".join(content.lower().split()))
                if wording in first_with_text:
                    self.error(
                        f"{item_key}.text.{lang}",
                        f"same text as {first_with_text[wording]}; every item must ask "
                        "something different",
                    )
                    ok = False
                first_with_text.setdefault(wording, f"{item_key}.text.{lang}")
            if None in (item_id, dimension, text, reverse):
                ok = False
                continue
            items.append(Item(id=item_id, dimension=dimension, text=text, reverse=reverse))
        ok = self.unique(ids, "item") and ok
        if dims is not None and ok:
            used = {item.dimension for item in items}
            for index, (dim_id, *_) in enumerate(dims):
                if dim_id not in used:
                    self.error(
                        f"dimensions[{index}]",
                        f"dimension {dim_id!r} has no items; add [[items]] with "
                        f'dimension = "{dim_id}" or remove the dimension',
                    )
                    ok = False
        return items if ok else None

    def check_levels(self, value: Any, key: str, scale: Scale | None) -> tuple[Level, ...] | None:
        entries = self.array_of_tables(value, key)
        if entries is None:
            return None
        levels: list[Level] = []
        ids = []
        ok = True
        previous: float | None = None  # the last readable min_score, for the ordering check
        for index, raw in enumerate(entries):
            level_key = f"{key}[{index}]"
            self.name_entry(level_key, raw, "level")
            self.table(raw, level_key, _LEVEL_KEYS)
            number = self.read(raw, level_key, "number", self.integer)
            level_id = self.read(raw, level_key, "id", self.identifier)
            min_score = self.read(raw, level_key, "min_score", self.number)
            name = self.read(raw, level_key, "name", self.text)
            description = self.read(raw, level_key, "description", self.text)
            if level_id is not None:
                ids.append((f"{level_key}.id", level_id))
            if number is not None and number != index + 1:
                self.error(
                    f"{level_key}.number",
                    f"expected {index + 1}: levels are numbered 1, 2, 3, ... in file order, "
                    f"got {number}",
                )
                number = None
            if min_score is not None:
                min_score = self.check_min_score(
                    min_score, f"{level_key}.min_score", index, previous, scale
                )
                previous = min_score if min_score is not None else previous
            if None in (number, level_id, min_score, name, description):
                ok = False
                continue
            levels.append(
                Level(
                    number=number,
                    id=level_id,
                    min_score=min_score,
                    name=name,
                    description=description,
                )
            )
        ok = self.unique(ids, "level") and ok
        return tuple(levels) if ok else None

    def check_min_score(
        self, score: float, key: str, index: int, previous: float | None, scale: Scale | None
    ) -> float | None:
        if scale is not None and not scale.min <= score <= scale.max:
            self.error(key, f"{score:g} lies outside the scale {scale.min}..{scale.max}")
            return None
        if scale is not None and index == 0 and score != scale.min:
            self.error(
                key, f"the first level must start at the scale minimum {scale.min}, got {score:g}"
            )
            return None
        if previous is not None and score <= previous:
            self.error(
                key,
                f"{score:g} must be higher than the previous level's {previous:g}; "
                "min_score values must strictly increase",
            )
            return None
        return score

    def check_recommendations(
        self,
        value: Any,
        key: str,
        dims: list[tuple[str, Any, Any, Any, Any]] | None,
        levels: tuple[Level, ...] | None,
    ) -> FrozenMap[tuple[str, int], Mapping[str, str]] | None:
        entries = self.array_of_tables(value, key, minimum=0)
        if entries is None:
            return None
        dim_ids = [dim[0] for dim in dims] if dims is not None else None
        numbers = [level.number for level in levels] if levels is not None else None
        found: dict[tuple[str, int], Mapping[str, str]] = {}
        first_at: dict[tuple[str, int], str] = {}
        ok = True
        for index, raw in enumerate(entries):
            rec_key = f"{key}[{index}]"
            self.table(raw, rec_key, _RECOMMENDATION_KEYS)
            dimension = self.read(
                raw, rec_key, "dimension", lambda v, k: self.check_dimension_ref(v, k, dim_ids)
            )
            level = self.read(raw, rec_key, "level", self.integer)
            text = self.read(raw, rec_key, "text", self.text)
            if level is not None and numbers is not None and level not in numbers:
                self.error(
                    f"{rec_key}.level",
                    f"unknown level {level}; levels are numbered {numbers[0]} to {numbers[-1]}",
                )
                level = None
            if dimension is not None and level is not None:
                if (dimension, level) in first_at:
                    self.error(
                        rec_key,
                        f"a second recommendation for dimension {dimension!r} at level {level} "
                        f"(the first is {first_at[dimension, level]}); keep one",
                    )
                    ok = False
                first_at.setdefault((dimension, level), rec_key)
            if None in (dimension, level, text):
                ok = False
                continue
            found[(dimension, level)] = text
        for dim_id in dim_ids or ():
            for number in numbers or ():
                if (dim_id, number) not in first_at:
                    self.error(
                        key,
                        f"no recommendation for dimension {dim_id!r} at level {number}; "
                        f'add a [[recommendations]] table with dimension = "{dim_id}", '
                        f"level = {number} and a text per language",
                    )
                    ok = False
        return FrozenMap(found) if ok else None

    def check_background(self, value: Any, key: str) -> tuple[BackgroundQuestion, ...] | None:
        entries = self.array_of_tables(value, key)
        if entries is None:
            return None
        questions: list[BackgroundQuestion] = []
        ids = []
        ok = True
        for index, raw in enumerate(entries):
            question_key = f"{key}[{index}]"
            self.name_entry(question_key, raw, "background question")
            self.table(raw, question_key, _BACKGROUND_KEYS)
            qid = self.read(raw, question_key, "id", self.identifier)
            text = self.read(raw, question_key, "text", self.text)
            required = self.read(raw, question_key, "required", self.boolean, default=False)
            options = self.read(raw, question_key, "options", self.check_options)
            if qid is not None:
                ids.append((f"{question_key}.id", qid))
            if qid == ROLE_LEVEL_ID and options is not None:
                offered = {option.id for option in options}
                missing = [option for option in ROLE_LEVEL_OPTIONS if option not in offered]
                if missing:
                    self.error(
                        f"{question_key}.options",
                        f"{ROLE_LEVEL_ID} must offer the options {', '.join(ROLE_LEVEL_OPTIONS)} "
                        f"(the reports compare them); missing: {', '.join(missing)}",
                    )
                    options = None
            if None in (qid, text, required, options):
                ok = False
                continue
            questions.append(
                BackgroundQuestion(id=qid, text=text, options=options, required=required)
            )
        ok = self.unique(ids, "background question") and ok
        if ROLE_LEVEL_ID not in {ident for _, ident in ids}:
            self.error(
                key,
                f"the background question {ROLE_LEVEL_ID!r} is missing; the reports compare "
                f'role levels, so add a [[background]] table with id = "{ROLE_LEVEL_ID}"',
            )
            ok = False
        return tuple(questions) if ok else None

    def check_options(self, value: Any, key: str) -> tuple[Option, ...] | None:
        entries = self.array_of_tables(value, key, minimum=2, header="background.options")
        if entries is None:
            return None
        options: list[Option] = []
        ids = []
        ok = True
        for index, raw in enumerate(entries):
            option_key = f"{key}[{index}]"
            self.name_entry(option_key, raw, "option")
            self.table(raw, option_key, _OPTION_KEYS)
            option_id = self.read(raw, option_key, "id", self.identifier)
            label = self.read(raw, option_key, "label", self.text)
            if option_id is not None:
                ids.append((f"{option_key}.id", option_id))
            if None in (option_id, label):
                ok = False
                continue
            options.append(Option(id=option_id, label=label))
        ok = self.unique(ids, "option") and ok
        return tuple(options) if ok else None
