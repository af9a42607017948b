"""The SPSS system-file writer, read back by pyreadstat (ReadStat) and by PSPP.

No app: the writer takes plain variables and rows. Every file is checked by a reader
that was not written for it: pyreadstat for the dictionary and the data, and, where
Debian's ``pspp`` package is installed, ``pspp-convert`` and ``pspp`` itself (which
warns about anything in a system file it finds out of order).
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import shutil
import subprocess
from pathlib import Path

import pytest

from surveyapp.services import spss_format
from surveyapp.services.spss import split_text
from surveyapp.services.spss_format import SavVariable, segment_widths, write_sav

pyreadstat = pytest.importorskip("pyreadstat", reason="pyreadstat is in the test extra")

needs_pspp = pytest.mark.skipif(
    shutil.which("pspp-convert") is None,
    reason="PSPP is not installed (Debian package 'pspp', in scripts/system-packages.sh test)",
)

SCALE = ((1.0, "Helemaal oneens"), (5.0, "Helemaal eens"), (-1.0, "Weet niet"), (-2.0, "Leeg"))
BORDER = "a" * 254 + "ë" + "🙂" * 3  # a two-byte character across the first segment's end


def write(path: Path, variables, batches, **kwargs) -> Path:
    cases = kwargs.pop("cases", sum(len(batch) for batch in batches))
    with path.open("wb") as handle:
        for chunk in write_sav(variables, batches, cases=cases, **kwargs):
            handle.write(chunk)
    return path


def read(path: Path):
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    return [list(row) for row in frame.itertuples(index=False)], meta


def plain(value):
    """A value as pyreadstat gives it, with NaN (system-missing) as ``None``."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def pspp(tmp_path: Path, syntax: str) -> str:
    script = tmp_path / "check.sps"
    script.write_text(syntax, encoding="utf-8")
    out = tmp_path / "out.txt"
    result = subprocess.run(
        ["pspp", "-O", "format=txt", str(script), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "warning" not in text.lower() and "error" not in text.lower(), text
    return text


VARIABLES = (
    SavVariable("department", "Afdeling", width=6, value_labels=(("IT", "ICT-afdeling"),)),
    SavVariable(
        "role_level", "Functieniveau", width=17, value_labels=(("employee", "Medewerker 👷"),)
    ),
    SavVariable(
        "open_decision_reasons_explained_to_everyone",
        "Beslissingen worden uitgelegd – ook de moeilijke (één vraag)",
        measure="ordinal",
        value_labels=SCALE,
        missing=(-1.0, -2.0),
    ),
    SavVariable("q2", "Tweede", measure="ordinal", value_labels=SCALE, missing=(-1.0, -2.0)),
    SavVariable("score", "Een getal", measure="scale"),
    SavVariable("comment", "Opmerking", width=600),
    SavVariable("reason", "Reden", width=8),
)
ROWS = [
    ["IT", "employee", 1, 5, 2.5, BORDER, "r"],
    ["", "", -1, -2, None, "", ""],
    ["IT", "", 5, 1, -1e300, '=HYPERLINK("http://evil.example","x")', "12345678"],
    ["ÉÉN", "employee", -2, -1, 151.0, "ë" * 300, "ëëëë"],
    ["", "employee", 3, 3, 152.0, "", ""],
    ["IT", "", 3, 3, -99.0, "a" * 600, ""],
    ["IT", "", 3, 3, -100.0, "😀" * 150, "z"],
]


def test_dictionary_reads_back(tmp_path):
    path = write(tmp_path / "a.sav", VARIABLES, [ROWS], label="Acme: meting één 🙂")
    rows, meta = read(path)
    assert meta.column_names == [v.name for v in VARIABLES]
    assert meta.column_names_to_labels == {v.name: v.label for v in VARIABLES}
    assert meta.file_label == "Acme: meting één 🙂"
    assert meta.number_rows == len(ROWS)
    long_name = VARIABLES[2].name
    assert meta.variable_value_labels[long_name] == dict(SCALE)
    assert meta.variable_value_labels["q2"] == dict(SCALE)
    assert meta.variable_value_labels["department"] == {"IT": "ICT-afdeling"}
    assert meta.variable_value_labels["role_level"] == {"employee": "Medewerker 👷"}
    assert {r["lo"] for r in meta.missing_ranges[long_name]} == {-1.0, -2.0}
    assert set(meta.missing_ranges) == {long_name, "q2"}
    assert meta.variable_measure == {v.name: v.measure for v in VARIABLES}
    assert meta.readstat_variable_types["comment"] == "string"
    assert meta.variable_storage_width["comment"] == 600


def test_data_reads_back_exactly(tmp_path):
    path = write(tmp_path / "a.sav", VARIABLES, [ROWS[:2], ROWS[2:]])
    rows, _ = read(path)
    assert [[plain(v) for v in row] for row in rows] == ROWS


def test_very_long_strings_cross_segments_intact(tmp_path):
    widths = [256, 504, 505, 20000, spss_format.MAX_STRING_BYTES]
    variables = [SavVariable(f"s{w}", width=w) for w in widths]
    texts = []
    for w in widths:
        text = ("ë🙂" * w).encode()[: w - 3].decode("utf-8", "ignore")
        texts.append(text)
    rows = [texts, ["x"] * len(widths), [""] * len(widths)]
    rows, _ = read(write(tmp_path / "long.sav", variables, [rows]))
    assert rows == [texts, ["x"] * len(widths), [""] * len(widths)]


@pytest.mark.parametrize(
    ("width", "expected"),
    [(255, [255]), (256, [255, 4]), (504, [255, 252]), (505, [255, 255, 1]),
     (20000, [255] * 79 + [92])],
)  # fmt: skip
def test_segments_follow_the_format(width, expected):
    # 20,000 bytes: 80 segments, the last 92 wide (the PSPP guide's example).
    assert segment_widths(width) == expected


def test_rows_stream_batch_by_batch(tmp_path, monkeypatch):
    """The header comes before any row is asked for; each block of rows is sent as it comes."""
    monkeypatch.setattr(spss_format, "BLOCK_BYTES", 64)  # a few rows per block
    asked = []

    def batches():
        for start in range(0, 60, 20):
            asked.append(start)
            yield [
                [f"D{i % 3}", "employee", i % 7 - 2, (i * 3) % 7 - 2, i / 4, "x" * (i % 11), ""]
                for i in range(start, start + 20)
            ]

    chunks = write_sav(VARIABLES, batches(), cases=60)
    header = next(chunks)
    assert header.startswith(b"$FL2") and asked == []
    data = b"".join(chunks)
    assert asked == [0, 20, 40]
    path = tmp_path / "stream.sav"
    path.write_bytes(header + data)
    rows, meta = read(path)
    assert meta.number_rows == 60
    expected = [r for batch in batches() for r in batch]
    assert [[plain(v) for v in row] for row in rows] == expected


def test_bad_rows_are_refused(tmp_path):
    too_wide = [["IT", "employee", 1, 1, 1, "x", "123456789"]]
    with pytest.raises(ValueError, match="reason: a value of 9 bytes"):
        write(tmp_path / "x.sav", VARIABLES, [too_wide])
    with pytest.raises(ValueError, match="2 rows written where 3 cases"):
        write(tmp_path / "x.sav", VARIABLES, [ROWS[:2]], cases=3)
    with pytest.raises(ValueError, match="More rows than the 1 cases"):
        write(tmp_path / "x.sav", VARIABLES, [ROWS[:2]], cases=1)


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        (SavVariable("s", width=4, missing=(1.0,)), "for numbers only"),
        (SavVariable("n", missing=(1.0, 2.0, 3.0, 4.0)), "up to three"),
        (SavVariable("s", width=2, value_labels=(("abc", "x"),)), "wider than the variable"),
        (SavVariable("n", value_labels=(("a", "x"),)), "not of the variable's type"),
        (SavVariable("x" * 65), "1 to 64 bytes"),
        (SavVariable("2nd"), "not one SPSS accepts"),
        (SavVariable("with"), "not one SPSS accepts"),
        (SavVariable("open question"), "not one SPSS accepts"),
        (SavVariable("s", width=32768), "1 to 32767"),
        (SavVariable("n", measure="interval"), "measure 'interval'"),
    ],
)
def test_bad_dictionaries_are_refused_before_anything_is_written(variable, message):
    with pytest.raises(ValueError, match=message):
        write_sav([variable], [], cases=0)


def test_names_that_differ_only_in_case_are_refused():
    with pytest.raises(ValueError, match="used twice"):
        write_sav([SavVariable("Q1"), SavVariable("q1")], [], cases=0)


def test_short_names_stay_unique_for_long_names_alike(tmp_path):
    names = [f"open_decision_{i}" for i in range(12)] + ["open_decision", "open_decisio"]
    variables = [SavVariable(n) for n in names]
    rows, meta = read(write(tmp_path / "n.sav", variables, [[list(range(len(names)))]]))
    assert meta.column_names == names
    assert rows == [[float(i) for i in range(len(names))]]


def test_header_says_what_and_when():
    created = dt.datetime(2026, 3, 9, 14, 5, 7)
    header = next(write_sav(VARIABLES, [], cases=0, created=created))
    assert header[:4] == b"$FL2"
    assert header[4:64].decode().rstrip() == spss_format.PRODUCT
    assert header[92:109] == b"09 Mar 2614:05:07"


@pytest.mark.parametrize(
    ("parts", "limit", "text", "expected"),
    [
        (1, 10, "abc", ["abc"]),
        (3, 4, "ab🙂c", ["ab", "🙂", "c"]),  # the emoji does not fit after "ab"
        (3, 4, "ëëëë", ["ëë", "ëë", ""]),
    ],
)
def test_split_text_cuts_between_characters(parts, limit, text, expected):
    pieces = split_text(text, parts, limit)
    assert pieces == expected
    assert all(len(p.encode()) <= limit for p in pieces) and "".join(pieces) == text


def test_split_text_refuses_what_does_not_fit():
    with pytest.raises(ValueError, match="more than 2 pieces"):
        split_text("ëëë", 2, 3)  # a 3-byte part holds one two-byte character


@needs_pspp
def test_pspp_reads_the_same_data(tmp_path):
    path = write(tmp_path / "a.sav", VARIABLES, [ROWS])
    out = tmp_path / "a.csv"
    result = subprocess.run(
        ["pspp-convert", str(path), str(out)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert header == [v.name for v in VARIABLES]
    strings = [0, 1, 5, 6]
    for got, row in zip(rows, ROWS, strict=True):
        assert [got[i] for i in strings] == [row[i] for i in strings]
        assert [float(got[i]) for i in (2, 3)] == [row[2], row[3]]
    assert rows[1][4].strip() == ""  # system-missing


@needs_pspp
def test_pspp_finds_nothing_to_warn_about(tmp_path):
    path = write(
        tmp_path / "a.sav",
        VARIABLES,
        [ROWS],
        label="Acme",
        documents=["Rows are in random order. " * 8, "Tweede alinea met ë en 🙂."],
    )
    text = pspp(
        tmp_path,
        f"GET FILE='{path}'.\nDISPLAY DICTIONARY.\nDISPLAY DOCUMENTS.\nFREQUENCIES VARIABLES=q2.\n",
    )
    assert "Tweede alinea met ë en 🙂." in text
    assert "Beslissingen worden uitgelegd" in text
    assert "Ordinal" in text and "Scale" in text
    assert "-1; -2" in text  # the missing values
