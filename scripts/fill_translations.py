"""Fill empty msgstr entries of the Dutch catalogue from a Python dict (maintenance aid)."""

from __future__ import annotations

import runpy
import sys

from babel.messages.pofile import read_po, write_po

po_path, dict_path = sys.argv[1], sys.argv[2]
translations = runpy.run_path(dict_path)["NL"]
with open(po_path, "rb") as handle:
    catalog = read_po(handle)
missing = []
for message in catalog:
    if not message.id:
        continue
    if message.id in translations:
        message.string = translations[message.id]
        message.flags.discard("fuzzy")
    elif not message.string:
        missing.append(message.id)
with open(po_path, "wb") as handle:
    write_po(handle, catalog, width=100)
for m in missing:
    print("untranslated:", m)
