"""Checks on text that any input path uses: pages, CSV files, the command line.

Plain functions with no web framework behind them, so that ``surveyapp analyze`` and the
CSV readers load them without Flask or Werkzeug.
"""

from __future__ import annotations

import re

# Unicode's control characters (C0, DEL and C1) except tab, newline and carriage return.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x0B: "VT", 0x0C: "FF", 0x1B: "ESC", 0x7F: "DEL"}


def control_character_name(text: str) -> str | None:
    """The first control character in ``text`` as ``U+0000 (NUL)``, or None if it has none."""
    found = CONTROL_CHARACTERS.search(text)
    if found is None:
        return None
    code = ord(found.group())
    name = _NAMES.get(code)
    return f"U+{code:04X}" + (f" ({name})" if name else "")


def describe_control_character(text: str) -> str | None:
    """Say where ``text`` has a control character (for a file's error list), or None."""
    found = CONTROL_CHARACTERS.search(text)
    if found is None:
        return None
    return (
        f"contains the invisible control character {control_character_name(found.group())} "
        f"at character {found.start() + 1}"
    )
