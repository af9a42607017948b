"""Refresh the message catalogue and merge Dutch translations delivered as Python dicts.

Usage: python scripts/merge_translations.py [DICT_FILE ...]
Each DICT_FILE defines ``NL = {english msgid: dutch text}``. The script extracts the
messages from the code and templates, updates ``nl/LC_MESSAGES/messages.po``, fills in
the given translations, and lists what is still untranslated.
"""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "surveyapp" / "translations"
POT = TRANSLATIONS / "messages.pot"
PO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po"
PYBABEL = [sys.executable, "-m", "babel.messages.frontend"]


def main(dict_files: list[str]) -> int:
    subprocess.run(
        [
            *PYBABEL,
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "--sort-output",
            "-o",
            str(POT),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *PYBABEL,
            "update",
            "-i",
            str(POT),
            "-d",
            str(TRANSLATIONS),
            "-l",
            "nl",
            "--no-fuzzy-matching",
            "--ignore-obsolete",
        ],
        check=True,
        capture_output=True,
    )
    translations: dict[str, str] = {}
    for path in dict_files:
        translations.update(runpy.run_path(path)["NL"])
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in translations:
            message.string = translations[key]
            message.flags.discard("fuzzy")
        elif not message.string:
            missing.append(key)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False)
    for key in missing:
        print("untranslated:", key)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
