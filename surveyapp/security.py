"""Security headers and caching rules applied to every response."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Attach the response hooks to ``app``."""
