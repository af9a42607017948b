"""Guards on request input that apply to every route."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach the request guards to ``app``."""
