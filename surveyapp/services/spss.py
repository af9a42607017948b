"""The answer file as an SPSS ``.sav``: variable labels, value labels and missing values.

Written with pyreadstat, which needs a data frame (pandas). Both are imported inside
:func:`answers_sav` only, so starting the app, and every request that is not an SPSS
download, neither loads them nor pays for their memory (``tests/test_answer_files.py``
checks that importing the app imports neither).

Unlike the CSV and Excel files, a ``.sav`` is built whole: pyreadstat writes a data
frame, so the answers are held in memory as one array (8 bytes per answer, 8 MB per
million) while the file is written to a temporary file and then sent in chunks.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .answer_files import CHUNK_BYTES, AnswerFile
from .codebook import Codebook

# SPSS limits, in bytes of UTF-8: a file label 64, a variable label 256, a value label 120.
FILE_LABEL_BYTES = 64
VARIABLE_LABEL_BYTES = 256
VALUE_LABEL_BYTES = 120


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` bytes of UTF-8 without splitting a character."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def answers_sav(file: AnswerFile) -> Iterator[bytes]:
    """The answer file as an SPSS system file, in chunks."""
    import pandas as pd
    import pyreadstat

    codebook = file.codebook
    items = [v for v in codebook.variables if v.kind == "item"]
    texts: dict[str, list[str]] = {"department": [], "role_level": [], "comment": [], "reason": []}
    answers = np.empty((len(file), len(items)), dtype=np.float64)
    row = 0
    for batch in file.batches():
        for values in batch:
            texts["department"].append(values[0])
            texts["role_level"].append(values[1])
            texts["comment"].append(values[-2])
            texts["reason"].append(values[-1])
        answers[row : row + len(batch)] = [values[2:-2] for values in batch]
        row += len(batch)
    columns: dict[str, object] = {
        "department": texts["department"],
        "role_level": texts["role_level"],
    }
    for j, variable in enumerate(items):
        columns[variable.name] = answers[:, j]
    columns["comment"] = texts["comment"]
    columns["reason"] = texts["reason"]
    frame = pd.DataFrame(columns)
    labels, value_labels, missing, measure = _metadata(codebook)

    def chunks() -> Iterator[bytes]:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "answers.sav"
            pyreadstat.write_sav(
                frame,
                str(path),
                file_label=fit(f"{codebook.organisation}: {codebook.campaign}", FILE_LABEL_BYTES),
                column_labels=labels,
                variable_value_labels=value_labels,
                missing_ranges=missing,
                variable_measure=measure,
            )
            with path.open("rb") as handle:
                while block := handle.read(CHUNK_BYTES):
                    yield block

    return chunks()


def _metadata(codebook: Codebook):
    labels: dict[str, str] = {}
    value_labels: dict[str, dict] = {}
    missing: dict[str, list] = {}
    measure: dict[str, str] = {}
    for variable in codebook.variables:
        labels[variable.name] = fit(variable.label, VARIABLE_LABEL_BYTES)
        measure[variable.name] = "ordinal" if variable.kind == "item" else "nominal"
        if variable.values:
            value_labels[variable.name] = {
                (float(v.value) if variable.numeric else v.value): fit(v.label, VALUE_LABEL_BYTES)
                for v in variable.values
            }
        codes = [float(v.value) for v in variable.values if v.missing]
        if codes:
            missing[variable.name] = codes
    return labels, value_labels, missing, measure
