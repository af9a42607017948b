"""Check answers of the JSON API against its OpenAPI document with jsonschema.

``check_response(method, path, response)`` asserts that the document describes the
status code, the media type, the body (OpenAPI 3.1 schemas are JSON Schema 2020-12) and
the required headers of one answer. ``OpenApiCheckedClient`` is a Flask test client that
does this for every answer under ``/api/v1`` it receives, so a test module that uses it
cannot get an answer the document does not describe.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

DOCUMENT_PATH = Path(__file__).resolve().parent.parent / "surveyapp" / "static" / "openapi.json"
PREFIX = "/api/v1"
# Answers to an address or method the document does not list are errors of this shape.
UNDOCUMENTED = "#/components/schemas/Error"


@cache
def document() -> dict[str, Any]:
    return json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


def closed(node: Any) -> Any:
    """A copy of a schema in which every object lists all its members.

    The published document leaves objects open (a client must accept members added within a
    version); the tests close them, so that a member the document forgets fails here.
    """
    if isinstance(node, list):
        return [closed(value) for value in node]
    if not isinstance(node, dict):
        return node
    out = {key: closed(value) for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def inlined(node: Any, root: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """A copy of ``node`` with every ``$ref`` into ``root`` replaced by what it points at.

    The document has no recursive schemas; inlining saves jsonschema a registry lookup per
    reference, which makes checking a campaign's results about a third faster.
    """
    if isinstance(node, list):
        return [inlined(value, root, seen) for value in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        pointer = node["$ref"]
        assert pointer not in seen, f"recursive reference {pointer}"
        return inlined(_lookup(root, pointer), root, (*seen, pointer))
    return {key: inlined(value, root, seen) for key, value in node.items()}


def _lookup(root: dict[str, Any], pointer: str) -> Any:
    node: Any = root
    for part in pointer.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@cache
def _strict_document() -> dict[str, Any]:
    return closed(document())


@cache
def _validator(pointer: str) -> Draft202012Validator:
    """A validator for the closed schema at ``pointer`` ("#/…") of the document."""
    root = _strict_document()
    return Draft202012Validator(
        inlined(_lookup(root, pointer), root),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _resolve(node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
    """Follow an OpenAPI ``$ref`` (a response object, not a schema) within the document."""
    while "$ref" in node:
        pointer = node["$ref"]
        node = _lookup(document(), pointer)
    return node, pointer


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    templates = []
    for template in document()["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        templates.append((re.compile(pattern), template))
    return templates


def path_template(path: str) -> str | None:
    """The document's path for an address under /api/v1, or None if it lists none."""
    relative = path.split("?", 1)[0].removeprefix(PREFIX) or "/"
    for pattern, template in _templates():
        if pattern.fullmatch(relative):
            return template
    return None


@dataclass(frozen=True)
class Expected:
    """What the document promises for one method, path and status."""

    status_documented: bool
    media_types: tuple[str, ...]
    schema_pointer: str | None
    # Headers the answer must have, each with the schema of its value.
    required_headers: tuple[tuple[str, dict[str, Any]], ...]


def expected(method: str, path: str, status: int) -> Expected:
    """The document's promise for ``method path`` answered with ``status``."""
    template = path_template(path)
    operation = None
    if template is not None and method in ("GET", "HEAD"):
        # HEAD is GET without the body.
        operation = document()["paths"][template].get("get")
    if operation is None:
        # Not an operation of the API: only a JSON error may come back.
        return Expected(status >= 400, ("application/json",), UNDOCUMENTED, ())
    responses = operation["responses"]
    key = next(
        (k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses),
        None,
    )
    if key is None:
        return Expected(False, (), None, ())
    base = f"#/paths/{_escape(template)}/get/responses/{key}"
    response, pointer = _resolve(responses[key], base)
    content = response.get("content", {})
    media_types = tuple(content)
    schema_pointer = None
    if "application/json" in content and "schema" in content["application/json"]:
        schema_pointer = f"{pointer}/content/{_escape('application/json')}/schema"
    required = tuple(
        (name, header.get("schema", {}))
        for name, header in response.get("headers", {}).items()
        if header.get("required")
    )
    return Expected(True, media_types, schema_pointer, required)


def check_response(method: str, path: str, response) -> None:
    """Assert that the document describes ``response`` to ``method path`` exactly."""
    where = f"{method} {path} -> {response.status_code}"
    promise = expected(method, path, response.status_code)
    assert promise.status_documented, f"{where}: status not in the OpenAPI document"
    for header, schema in promise.required_headers:
        assert header in response.headers, f"{where}: header {header} missing"
        value = response.headers[header]
        assert Draft202012Validator(schema).is_valid(value), f"{where}: {header}: {value}"
    if not promise.media_types:
        assert not response.get_data(), f"{where}: body where the document describes none"
        return
    assert response.mimetype in promise.media_types, f"{where}: {response.mimetype}"
    if method == "HEAD" or promise.schema_pointer is None:
        return
    body = json.loads(response.get_data(as_text=True))
    errors = sorted(_validator(promise.schema_pointer).iter_errors(body), key=lambda e: e.json_path)
    assert not errors, f"{where}: " + "; ".join(
        f"at {e.json_path}: {e.message[:300]}" for e in errors[:5]
    )


class OpenApiCheckedClient(FlaskClient):
    """A test client that checks every /api/v1 answer against the OpenAPI document."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.checked = 0

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = response.request
        # (/api/v1 itself only redirects to /api/v1/.)
        if request.path.startswith(PREFIX + "/"):
            check_response(request.method, request.path, response)
            self.checked += 1
        return response
