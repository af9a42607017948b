"""Shared helpers for the statistics-engine tests (no app, no database)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture(scope="session")
def reference() -> Callable[[str], dict[str, Any]]:
    """Load a TOML file of published reference values from ``tests/scoring/reference``."""

    def load(name: str) -> dict[str, Any]:
        with (REFERENCE / name).open("rb") as handle:
            return tomllib.load(handle)

    return load
