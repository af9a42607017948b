"""The words drawn inside charts, in English; ``chart_text`` translates them."""

from __future__ import annotations

from collections.abc import Callable, Mapping


def N_(message: str) -> str:
    """Mark a string for translation without translating it (read by ``pybabel extract``)."""
    return message


#: Words drawn inside charts. Keys are stable; values are the English msgids.
TEXT: dict[str, str] = {
    "withheld": N_("withheld"),
    "no_agreement": N_("no agreement"),
    "not_available": N_("not available"),
    "organisation": N_("organisation"),
    "interval": N_("95% interval"),
    "benchmark_median": N_("benchmark median"),
    "benchmark_band": N_("middle half of the benchmark"),
    "score": N_("score"),
    "above": N_("clearly above the rest of the organisation"),
    "below": N_("clearly below the rest of the organisation"),
    "significant": N_("clear difference"),
    "not_significant": N_("probable or no clear difference"),
    "gap_left": N_("staff see more"),
    "gap_right": N_("top management sees more"),
    "change_left": N_("lower than last time"),
    "change_right": N_("higher than last time"),
    "level": N_("level"),
}


def chart_text(gettext: Callable[[str], str]) -> dict[str, str]:
    """The chart words of ``TEXT`` translated with ``gettext`` (Flask-Babel's or Babel's)."""
    return {key: gettext(message) for key, message in TEXT.items()}


def merged(text: Mapping[str, str] | None) -> dict[str, str]:
    """``TEXT`` with the caller's words (``chart_text(...)`` or a few overrides) on top."""
    return {**TEXT, **(text or {})}
