"""The SPSS answer file against the CSV export and the database.

The ``.sav`` holds the CSV's rows: same variables (a comment over 32,767 bytes
continued in ``comment_2``), same codes, same texts, read back by pyreadstat and by
PSPP. Writing it needs no data-frame library.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Campaign, Response
from surveyapp.services.release import answer_file_release

from . import dashboard_data, test_answer_files
from .dashboard_data import CONSULTANT, login

# The answer-file tests' fixtures: Acme's closed campaign, and a consultant signed in.
results = test_answer_files.results
consultant = test_answer_files.consultant
fast_password_hashes = dashboard_data.fast_password_hashes

pyreadstat = pytest.importorskip("pyreadstat", reason="pyreadstat is in the test extra")

needs_pspp = pytest.mark.skipif(
    shutil.which("pspp-convert") is None,
    reason="PSPP is not installed (Debian package 'pspp', in scripts/system-packages.sh test)",
)

# Comments as people and imports write them: past one SPSS segment (255 bytes), past the
# widest SPSS string (32,767 bytes, an imported transcript), Dutch, emoji, and formulas.
SEGMENT_LONG = "Het overleg ging over één ding: " + "ideeën delen 🙂 " * 20
VERY_LONG = "Verslag van de bijeenkomst. " + "Iedereen kreeg het woord, ook Eëlco. 🗣️ " * 900
FORMULA = '=HYPERLINK("http://evil.example","Open")'


@pytest.fixture
def long_comments(results, in_app):
    """Three responses in a department whose comments the file shows get these comments."""
    with in_app() as make:
        campaign = db.session.get(Campaign, results.campaign_id)
        release = answer_file_release(campaign)
        ids = [
            rid
            for rid, department_id in db.session.execute(
                sa.select(Response.id, Response.department_id)
                .where(Response.campaign_id == campaign.id)
                .order_by(Response.id)
            )
            if release.comments_shown(department_id)
        ]
        for rid, text in zip(ids, (SEGMENT_LONG, VERY_LONG, FORMULA), strict=False):
            db.session.execute(sa.update(Response).where(Response.id == rid).values(comment=text))
        make.commit()
    assert len(VERY_LONG.encode()) > 32767
    return results


def download(client, campaign_id: int, tmp_path: Path, lang: str = "nl") -> Path:
    response = client.get(f"/results/campaigns/{campaign_id}/responses.sav?lang={lang}")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_streamed
    assert response.headers["Content-Type"] == "application/x-spss-sav"
    path = tmp_path / "answers.sav"
    path.write_bytes(response.get_data())
    return path


def csv_rows(client, campaign_id: int, lang: str = "nl") -> Counter:
    response = client.get(f"/results/campaigns/{campaign_id}/responses.csv?lang={lang}")
    header, *rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    return Counter(tuple(row) for row in rows)


def sav_rows(path: Path) -> tuple[Counter, object]:
    """The file's rows as the CSV writes them: codes as whole numbers, comment parts joined."""
    frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    names = meta.column_names
    parts = [i for i, name in enumerate(names) if name == "comment" or name.startswith("comment_")]
    rows = Counter()
    for record in frame.itertuples(index=False):
        values = [str(int(v)) if isinstance(v, float) else v for v in record]
        comment = "".join(values[i] for i in parts)
        rows[tuple([*values[: parts[0]], comment, *values[parts[-1] + 1 :]])] += 1
    return rows, meta


def test_sav_holds_the_csv_rows_with_long_dutch_emoji_and_formula_comments(
    consultant, long_comments, tmp_path
):
    rows, meta = sav_rows(download(consultant, long_comments.campaign_id, tmp_path))
    assert rows == csv_rows(consultant, long_comments.campaign_id)
    comments = {row[-2] for row in rows}
    assert {SEGMENT_LONG.strip(), VERY_LONG.strip(), "'" + FORMULA} <= comments
    # The longest comment needs two SPSS strings of at most 32,767 bytes.
    assert meta.column_names[-3:] == ["comment", "comment_2", "reason"]
    assert meta.variable_storage_width["comment"] == 32767
    assert meta.column_names_to_labels["comment_2"].endswith("(2/2)")


def test_sav_dictionary_matches_the_codebook(consultant, results, in_app, tmp_path):
    from surveyapp.services.answer_files import answer_file

    _, meta = sav_rows(download(consultant, results.campaign_id, tmp_path, lang="en"))
    with in_app():
        codebook = answer_file(db.session.get(Campaign, results.campaign_id), "en").codebook
    assert meta.column_names == codebook.names
    for variable in codebook.variables:
        assert meta.column_names_to_labels[variable.name] == variable.label
        expected = "ordinal" if variable.kind == "item" else "nominal"
        assert meta.variable_measure[variable.name] == expected
        labels = {
            (float(v.value) if variable.numeric else v.value): v.label for v in variable.values
        }
        assert meta.variable_value_labels.get(variable.name, {}) == labels
        missing = {float(v.value) for v in variable.values if v.missing}
        assert {r["lo"] for r in meta.missing_ranges.get(variable.name, [])} == missing
    assert meta.file_label == f"{codebook.organisation}: {codebook.campaign}"


@needs_pspp
def test_pspp_reads_the_csv_rows_and_the_documents(consultant, long_comments, tmp_path):
    path = download(consultant, long_comments.campaign_id, tmp_path, lang="en")
    out = tmp_path / "answers.csv"
    result = subprocess.run(
        ["pspp-convert", str(path), str(out)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and not result.stderr, result.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    comment = header.index("comment")
    joined = Counter(
        tuple([*row[:comment], row[comment] + row[comment + 1], *row[comment + 2 :]])
        for row in rows
    )
    assert joined == csv_rows(consultant, long_comments.campaign_id, lang="en")
    script = tmp_path / "documents.sps"
    script.write_text(f"GET FILE='{path}'.\nDISPLAY DOCUMENTS.\n", encoding="utf-8")
    listing = subprocess.run(
        ["pspp", "-O", "format=txt", "-O", "width=200", str(script), "-o", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listing.returncode == 0, listing.stderr
    text = (tmp_path / "d").read_text(encoding="utf-8")
    assert "warning" not in text.lower(), text
    assert "The column 'reason' says for each row what was withheld and why." in text


def test_too_few_responses_get_no_sav(client, in_app, fast_password_hashes):
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.users import create_user

    with in_app() as make:
        campaign = make.campaign(make.organisation("Small"))
        close_campaign(campaign)
        create_user(*CONSULTANT, "consultant")
        make.commit()
        campaign_id = campaign.id
    login(client, CONSULTANT)
    response = client.get(f"/results/campaigns/{campaign_id}/responses.sav?lang=en")
    assert response.status_code == 409
    assert "fewer responses than its anonymity threshold" in response.get_data(as_text=True)


def test_writing_a_sav_needs_no_data_frame_library(consultant, results, monkeypatch):
    # A module set to None in sys.modules cannot be imported: any import of pandas,
    # pyreadstat (or polars) during the download would raise ImportError.
    for name in ("pandas", "pyreadstat", "polars", "narwhals"):
        monkeypatch.setitem(sys.modules, name, None)
    response = consultant.get(f"/results/campaigns/{results.campaign_id}/responses.sav?lang=nl")
    assert response.status_code == 200
    assert response.get_data()[:4] == b"$FL2"
