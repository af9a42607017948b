"""Every interface and report text has a Dutch translation in the compiled catalogue."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.support import Translations

ROOT = Path(__file__).resolve().parent.parent
METHODS = [
    ("surveyapp/**.py", "python"),
    ("surveyapp/templates/**.html", "jinja2"),
    ("surveyapp/templates/**.txt", "jinja2"),
    ("reports/**.html", "jinja2"),
]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def test_every_text_has_a_dutch_translation():
    catalogue = Translations.load(str(ROOT / "surveyapp" / "translations"), ["nl"])
    missing = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            message = message[0]
        # A catalogue entry may equal its English ("Status"); only absence is missing.
        if message not in catalogue._catalog:
            missing.add(message)
    assert not missing, (
        "untranslated (run scripts/merge_translations.py with the Dutch texts): "
        f"{sorted(missing)[:20]}"
    )
