"""The Excel writer streams: bytes leave with the first rows, and Excel's readers accept it."""

from __future__ import annotations

import io
import os
import zipfile
from types import SimpleNamespace

from openpyxl import load_workbook

from surveyapp.services.answer_files import answers_xlsx
from surveyapp.services.spreadsheet import XlsxStream


def written(build) -> bytes:
    """The whole workbook that ``build(book)`` writes, chunk by chunk."""
    book = XlsxStream()
    chunks = [*build(book), book.close()]
    return b"".join(chunks)


def test_cells_keep_their_type_position_and_text():
    def build(book):
        with book.sheet("Data & more", freeze_header=True, widths={"B": 40}) as sheet:
            sheet.append(["name", "value", "note"])
            sheet.extend(
                [
                    ["=1+2", 3, "  spaced  "],
                    [None, -1, "a < b & c > d"],
                    ["", 2.5, "bell\x07 here"],
                    ["'quoted", True, "multi\nline"],
                ]
            )
            sheet.auto_filter(3)
        yield book.take()

    sheet = load_workbook(io.BytesIO(written(build)))["Data & more"]

    rows = list(sheet.iter_rows(values_only=True))
    assert rows == [
        ("name", "value", "note"),
        ("'=1+2", 3, "  spaced  "),
        (None, -1, "a < b & c > d"),
        (None, 2.5, "bell\ufffd here"),
        ("'quoted", True, "multi\nline"),
    ]
    assert sheet["A2"].data_type == "s"  # a formula's text, quoted, never a formula
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:C5"
    assert sheet.column_dimensions["B"].width == 40


def test_the_zip_is_written_without_seeking_back():
    def build(book):
        with book.sheet("One") as sheet:
            sheet.append(["a"])
        yield book.take()

    data = written(build)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    # Bit 3: sizes and checksum follow the data, as a stream that cannot seek requires.
    assert all(info.flag_bits & 0x08 for info in archive.infolist())
    assert set(archive.namelist()) >= {
        "[Content_Types].xml",
        "_rels/.rels",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/styles.xml",
        "xl/worksheets/sheet1.xml",
    }


def fake_answer_file(batches: int, rows_per_batch: int, progress: list[int]):
    """An answer file's shape without a database: ``progress`` counts batches read."""
    names = ["department", "role_level", "q1", "q2", "comment", "reason"]

    def make_batches():
        for b in range(batches):
            progress.append(b)
            # Comments that do not compress away, so each batch makes compressed bytes.
            yield [
                ["COM", "employee", (b + r) % 5 + 1, -1, f"{b}.{r} {os.urandom(24).hex()}", ""]
                for r in range(rows_per_batch)
            ]

    codebook = SimpleNamespace(
        names=names,
        header=lambda: ["variable", "label"],
        rows=lambda: iter([["q1", "First question"], ["q2", "Second question"]]),
        notes=("Small departments are folded into the one above.",),
        reasons=(SimpleNamespace(text="withheld", explanation="fewer than 5 people"),),
        lang="en",
        organisation="Acme",
        campaign="Spring survey",
    )
    return SimpleNamespace(codebook=codebook, batches=make_batches)


def test_an_answer_workbook_sends_bytes_while_it_reads_the_rows(ctx):
    progress: list[int] = []
    read_when_sent = []
    for chunk in answers_xlsx(fake_answer_file(6, 1000, progress)):
        assert chunk, "no empty chunks"
        read_when_sent.append(len(progress))
    # The zip's first bytes leave before any row is read, and more leave between batches:
    # the workbook is not built whole first.
    assert read_when_sent[0] == 0
    assert {1, 2, 3, 4, 5} & set(read_when_sent[1:])
    assert len(read_when_sent) >= 4


def test_an_answer_workbook_reads_back_with_every_sheet(ctx):
    data = b"".join(answers_xlsx(fake_answer_file(3, 4, [])))

    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Answers", "Codebook", "What is withheld"]
    answers = book["Answers"]
    assert answers.freeze_panes == "A2"
    assert answers.auto_filter.ref == "A1:F13"
    assert answers.max_row == 13
    assert list(answers.iter_rows(min_row=2, max_row=2, values_only=True)) == [
        ("COM", "employee", 1, -1, answers["E2"].value, None)
    ]
    assert answers["E2"].value.startswith("0.0 ")
    assert book["Codebook"].column_dimensions["A"].width == 34
    notes = [row[0] for row in book["What is withheld"].iter_rows(values_only=True)]
    assert notes[0].startswith("How this file protects the people who answered (Acme")
    assert "fewer than 5 people" in notes
