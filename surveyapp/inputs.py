"""Guards on request input that apply to every route.

- Control characters (other than tab, newline and carriage return) in the address, the
  query string or a form are refused with a 400 page that says so, before any view
  runs: PostgreSQL cannot store NUL at all, and none of them belongs in a survey
  answer, a name or a code. A view whose form shows the problem beside the field
  itself names that field with :func:`checked_by_form`.
- ``<int:...>`` URL segments only match numbers the database's integer ids can hold,
  so ``/campaigns/99999999999999999999`` is a 404 instead of an overflow.

The text checks are plain functions in ``text_checks``, used by the CSV readers too.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, ValidationError

# The text checks live apart, so the CSV readers use them without loading Werkzeug.
from .text_checks import (  # noqa: F401 (re-exported)
    CONTROL_CHARACTERS,
    control_character_name,
    describe_control_character,
)

if TYPE_CHECKING:
    from flask import Flask

# The largest id an INTEGER primary key holds: PostgreSQL's is 32-bit, SQLite's 64-bit.
POSTGRES_INTEGER_MAX = 2**31 - 1
SQLITE_INTEGER_MAX = 2**63 - 1

_CHECKED_BY_FORM = "control_characters_checked_by_form"
View = TypeVar("View", bound=Callable)


class RefusedInput(BadRequest):
    """A 400 whose description is a sentence for the user (the error pages show it)."""


def checked_by_form(*fields: str) -> Callable[[View], View]:
    """Mark form ``fields`` whose control characters the view's form reports inline."""

    def mark(view: View) -> View:
        setattr(view, _CHECKED_BY_FORM, frozenset(fields))
        return view

    return mark


def refuse_control_characters() -> None:
    """Before every request: refuse control characters in the path, query and form."""
    from flask import current_app, request

    view = current_app.view_functions.get(request.endpoint or "")
    inline = getattr(view, _CHECKED_BY_FORM, frozenset())
    if CONTROL_CHARACTERS.search(request.path):
        _refuse(request.path, where="path")
    _check_fields(request.args.items(multi=True), "query", frozenset())
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        _check_fields(request.form.items(multi=True), "form", inline)
        for key, upload in request.files.items(multi=True):
            _check_fields([(key, upload.filename or "")], "form", frozenset())


def _check_fields(pairs: Iterable[tuple[str, str]], where: str, inline: frozenset[str]) -> None:
    for key, value in pairs:
        if CONTROL_CHARACTERS.search(key):
            _refuse(key, where="name")
        if key not in inline and CONTROL_CHARACTERS.search(value):
            _refuse(value, where=where, field=key)


def _refuse(text: str, *, where: str, field: str = "") -> None:
    from flask_babel import gettext as _

    character = control_character_name(text)
    field = field if len(field) <= 40 else field[:39] + "…"
    places = {
        "path": _("in the address of the page"),
        "name": _("in the name of a form field"),
        "query": _("in the address of the page (“%(field)s”)", field=field),
        "form": _("in the field “%(field)s”", field=field),
    }
    raise RefusedInput(
        _(
            "What you sent contains an invisible control character (%(character)s, "
            "%(where)s) that cannot be stored. Nothing was saved. Remove it, for example "
            "by typing the text again instead of pasting it, and send it again.",
            character=character,
            where=places[where],
        )
    )


class DatabaseIntegerConverter(IntegerConverter):
    """``int`` in URL rules, bounded by the database's integer ids (set by init_app)."""

    largest = POSTGRES_INTEGER_MAX

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002
        largest = self.largest if max is None else builtins.min(max, self.largest)
        super().__init__(map, fixed_digits, min, largest, signed)

    def to_python(self, value: str) -> int:
        # Far too many digits: int() itself refuses strings over 4,300 digits (a 500).
        if len(value.lstrip("-0")) > len(str(self.largest)):
            raise ValidationError()
        return super().to_python(value)


def largest_integer_id(backend: str) -> int:
    """The largest value an INTEGER id column holds in this database ("sqlite", ...)."""
    return SQLITE_INTEGER_MAX if backend == "sqlite" else POSTGRES_INTEGER_MAX


def init_app(app: Flask) -> None:
    """Attach the request guards to ``app`` (before any blueprint adds its URL rules)."""
    from sqlalchemy.engine import make_url

    backend = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    largest = largest_integer_id(backend)
    app.url_map.converters["int"] = type(
        "DatabaseIntegerConverter", (DatabaseIntegerConverter,), {"largest": largest}
    )
    app.before_request(refuse_control_characters)
