"""Consultants' answer files: every format read back and compared with the database.

Rows carry no id and are shuffled, so a file is compared with the database as a multiset
of rows: department and role as the release decides them, one code per question
(value, -1 "don't know", -2 no answer), the comment and the reason.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tempfile
from collections import Counter

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, AuditEvent, Campaign, CampaignDepartment, Response
from surveyapp.services.answer_files import answer_file
from surveyapp.services.codebook import DONT_KNOW, NO_ANSWER
from surveyapp.services.matrix import repack_answers
from surveyapp.services.questionnaires import questionnaire_for
from surveyapp.services.release import ROLE_WITHHELD, answer_file_release

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)

COMMENT = "Goed dat we dit eindelijk bespreken"
HIDDEN = "Jan van de nachtdienst zegt nooit iets"
HOSTILE_NAME = '=HYPERLINK("http://evil.example","Open")'


@pytest.fixture
def results(in_app, fast_password_hashes):  # noqa: F811
    """Acme's closed campaign with some "don't know", unanswered questions and comments."""
    with in_app() as make:
        results = build_results(make)
        campaign_id = results.campaign_id
        ids = list(
            db.session.scalars(
                sa.select(Response.id)
                .where(Response.campaign_id == campaign_id)
                .order_by(Response.id)
            )
        )
        q = questionnaire_for(db.session.get(Campaign, campaign_id).questionnaire_version)
        first, second = q.items[0].id, q.items[1].id
        # Test data only: a closed campaign refuses every write through the services.
        db.session.execute(
            sa.update(Answer)
            .where(Answer.response_id.in_(ids[::3]), Answer.item_id == first)
            .values(value=None)
        )
        db.session.execute(
            sa.delete(Answer).where(Answer.response_id.in_(ids[1::4]), Answer.item_id == second)
        )
        # The packed copy the files are read from, rebuilt from the changed answer rows.
        repack_answers(db.session.get(Campaign, campaign_id))
        db.session.execute(
            sa.update(Response).where(Response.id.in_(ids[::2])).values(comment=COMMENT)
        )
        db.session.execute(
            sa.update(Response)
            .where(Response.id == ids[1])
            .values(comment=HIDDEN, comment_hidden=True)
        )
        db.session.execute(
            sa.update(CampaignDepartment)
            .where(CampaignDepartment.campaign_id == campaign_id, CampaignDepartment.code == "IT")
            .values(name=HOSTILE_NAME)
        )
        make.commit()
    return results


@pytest.fixture
def consultant(client, results):
    login(client, CONSULTANT)
    return client


def expected_rows(in_app, campaign_id: int, lang: str) -> Counter:
    """The rows the file must hold, worked out from the database and the release."""
    with in_app():
        campaign = db.session.get(Campaign, campaign_id)
        release = answer_file_release(campaign)
        codebook = answer_file(campaign, lang).codebook
        codes = {u.department_id: u.code for u in campaign.units}
        answers = {
            (r, i): v
            for r, i, v in db.session.execute(
                sa.select(Answer.response_id, Answer.item_id, Answer.value)
            )
        }
        rows: Counter = Counter()
        for r in db.session.scalars(sa.select(Response).where(Response.campaign_id == campaign_id)):
            shown = release.department(r.department_id)
            values = []
            for item_id in codebook.item_ids:
                if (r.id, item_id) not in answers:
                    values.append(NO_ANSWER)
                elif answers[(r.id, item_id)] is None:
                    values.append(DONT_KNOW)
                else:
                    values.append(answers[(r.id, item_id)])
            comment = (
                r.comment
                if r.comment and not r.comment_hidden and release.comments_shown(r.department_id)
                else ""
            )
            reason = codebook.reason_text(release.reasons(r.department_id, r.role_level))
            rows[
                (
                    "" if shown is None else codes[shown],
                    release.role(r.department_id, r.role_level) or "",
                    *(str(v) for v in values),
                    comment,
                    reason,
                )
            ] += 1
        return rows


def as_text(value) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize(("dialect", "delimiter"), [("comma", ","), ("semicolon", ";")])
def test_csv_holds_the_database_rows_in_both_dialects(
    consultant, results, in_app, dialect, delimiter
):
    url = f"/results/campaigns/{results.campaign_id}/responses.csv?lang=nl&dialect={dialect}"
    response = consultant.get(url)
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=delimiter)
    header, *rows = list(reader)
    with in_app():
        q = questionnaire_for(db.session.get(Campaign, results.campaign_id).questionnaire_version)
    assert header == ["department", "role_level", *(i.id for i in q.items), "comment", "reason"]
    assert Counter(tuple(row) for row in rows) == expected_rows(in_app, results.campaign_id, "nl")
    flat = [cell for row in rows for cell in row]
    assert str(DONT_KNOW) in flat and str(NO_ANSWER) in flat
    assert COMMENT in flat and HIDDEN not in raw.decode("utf-8-sig")


def test_reason_column_is_the_release_decision_and_explains_every_blank(
    consultant, results, in_app
):
    text = consultant.get(f"/results/campaigns/{results.campaign_id}/responses.csv?lang=en")
    rows = list(csv.DictReader(io.StringIO(text.get_data().decode("utf-8-sig"))))
    with in_app():
        campaign = db.session.get(Campaign, results.campaign_id)
        release = answer_file_release(campaign)
        words = {r.code: r.text for r in answer_file(campaign, "en").codebook.reasons}
    assert any(row["department"] == "" for row in rows)  # HR and what hides it
    assert any(row["role_level"] == "" and row["department"] for row in rows)
    for row in rows:
        reasons = row["reason"].split("; ") if row["reason"] else []
        assert (row["department"] == "") == (words["department_withheld"] in reasons), row
        assert (row["role_level"] == "") == (words[ROLE_WITHHELD] in reasons), row
    # Every department and role shown covers at least the threshold of rows.
    threshold = release.threshold
    assert all(n >= threshold for n in Counter(r["department"] for r in rows).values())
    shown = Counter((r["department"], r["role_level"]) for r in rows)
    assert all(n >= threshold for n in shown.values()), shown


def test_xlsx_has_answers_codebook_and_withheld_sheets(consultant, results, in_app):
    from openpyxl import load_workbook

    response = consultant.get(f"/results/campaigns/{results.campaign_id}/responses.xlsx?lang=en")
    assert response.status_code == 200 and response.is_streamed
    book = load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Answers", "Codebook", "What is withheld"]
    data = book["Answers"]
    assert data.freeze_panes == "A2"
    assert data.auto_filter.ref == f"A1:{data.cell(1, data.max_column).column_letter}{data.max_row}"
    rows = [tuple(as_text(v) for v in row) for row in data.iter_rows(min_row=2, values_only=True)]
    assert Counter(rows) == expected_rows(in_app, results.campaign_id, "en")
    codebook = list(book["Codebook"].iter_rows(values_only=True))
    assert codebook[0][:3] == ("variable", "label", "type")
    assert ("department", None, None, None, None, None, "IT", "'" + HOSTILE_NAME, None) in codebook
    notes = [row[0] for row in book["What is withheld"].iter_rows(values_only=True) if row[0]]
    assert any("fewer than 5 people" in note for note in notes)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"


def test_sav_has_labels_value_labels_and_missing_values(consultant, results, in_app):
    import pyreadstat

    response = consultant.get(f"/results/campaigns/{results.campaign_id}/responses.sav?lang=nl")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('-nl.sav"')
    with tempfile.NamedTemporaryFile(suffix=".sav") as handle:
        handle.write(response.get_data())
        handle.flush()
        frame, meta = pyreadstat.read_sav(handle.name, user_missing=True)
    with in_app():
        q = questionnaire_for(db.session.get(Campaign, results.campaign_id).questionnaire_version)
    first = q.items[0]
    assert meta.column_names_to_labels[first.id] == first.text["nl"]
    assert meta.variable_value_labels[first.id][-1.0] == q.scale.dont_know["nl"]
    assert meta.variable_value_labels[first.id][1.0] == q.scale.points[0].label["nl"]
    assert {r["lo"] for r in meta.missing_ranges[first.id]} == {-1.0, -2.0}
    assert meta.variable_value_labels["role_level"]["employee"] == "Medewerker"
    assert meta.variable_measure[first.id] == "ordinal"
    rows = Counter(
        tuple(as_text(int(v)) if isinstance(v, float) else as_text(v) for v in record)
        for record in frame.itertuples(index=False)
    )
    assert rows == expected_rows(in_app, results.campaign_id, "nl")


def test_codebook_describes_every_column_in_the_chosen_language(consultant, results, in_app):
    files = {}
    for lang in ("nl", "en"):
        response = consultant.get(
            f"/results/campaigns/{results.campaign_id}/codebook.csv?lang={lang}&dialect=semicolon"
        )
        assert response.status_code == 200
        files[lang] = response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
        header, *body = rows
        assert len(header) == 9
        variables = {row[0]: row for row in body if row[1]}
        with in_app():
            q = questionnaire_for(
                db.session.get(Campaign, results.campaign_id).questionnaire_version
            )
        yes = "ja" if lang == "nl" else "yes"
        for item in q.items:
            row = variables[item.id]
            assert row[1] == item.text[lang]
            assert row[3] == item.dimension
            assert row[4] == q.dimension(item.dimension).name[lang]
            assert (row[5] == yes) == item.reverse
            codes = {r[6]: r for r in body if r[0] == item.id and not r[1]}
            assert codes[str(DONT_KNOW)][8] == yes and codes[str(NO_ANSWER)][8] == yes
            assert codes["1"][7] == q.scale.points[0].label[lang] and codes["1"][8] == ""
        assert {"department", "role_level", "comment", "reason"} <= set(variables)
        reasons = [r for r in body if r[0] == "reason" and not r[1]]
        assert len(reasons) == 3 and all(r[6] and r[7] for r in reasons)
    assert files["nl"] != files["en"]
    assert "acme-this-year-codebook-nl.csv" in files["nl"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("responses.csv?dialect=tab", "dialect"),
        ("responses.csv?lang=de", "lang"),
        ("answer-files?format=pdf&lang=en", "format"),
        ("answer-files?format=csv&lang=xx&dialect=comma", "lang"),
    ],
)
def test_bad_parameters_get_a_clear_400_and_record_nothing(
    consultant, results, in_app, query, field
):
    with in_app():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    response = consultant.get(f"/results/campaigns/{results.campaign_id}/{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and f'href="#{field}"' in page
    with in_app():
        after = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    assert after == before


def test_answer_file_page_offers_the_choices_and_sends_to_the_file(consultant, results):
    page = consultant.get(f"/results/campaigns/{results.campaign_id}/answer-files")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for value in ("csv", "xlsx", "sav", "codebook", "comma", "semicolon", "nl", "en"):
        assert f'value="{value}"' in html
    response = consultant.get(
        f"/results/campaigns/{results.campaign_id}/answer-files?format=csv&lang=nl&dialect=semicolon"
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/results/campaigns/{results.campaign_id}/responses.csv?lang=nl&dialect=semicolon"
    )
    campaign = consultant.get(f"/results/campaigns/{results.campaign_id}").get_data(as_text=True)
    assert "answer-files" in campaign


def test_managers_get_no_answer_files(client, results):
    login(client, MANAGER)
    for path in ("answer-files", "responses.sav", "codebook.csv"):
        assert client.get(f"/results/campaigns/{results.campaign_id}/{path}").status_code == 403


def test_importing_the_app_loads_neither_pandas_nor_pyreadstat():
    code = (
        "import sys\n"
        "from surveyapp import create_app\n"
        "import surveyapp.views.dashboard, surveyapp.services.answer_files\n"
        "create_app({'SECRET_KEY': 'x', 'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
        "print(sorted(m for m in ('pandas', 'pyreadstat') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("seed", range(6))
def test_the_answer_file_groups_are_the_published_groups(in_app, seed):
    """Each department of the file is a published department exactly (never a published
    one plus a few rows), the rows without one are none or at least the threshold, and
    the role is shown in every row or in none."""
    import numpy as np

    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.reporting import released_report
    from surveyapp.services.responses import import_responses

    rng = np.random.default_rng(seed)
    roles = ("top_management", "middle_management", "employee", "conversation_team")
    with in_app() as make:
        q = make.questionnaire()
        campaign = make.campaign(make.organisation(f"Random {seed}"))
        ids = [item.id for item in q.items]
        lines = ["department,role_level," + ",".join(ids)]
        for department in ("COM", "HR", "IT", "IT-OPS"):
            for _ in range(int(rng.integers(0, 14))):
                role = roles[int(rng.choice(4, p=[0.1, 0.2, 0.6, 0.1]))]
                lines.append(f"{department},{role}," + ",".join(["3"] * len(ids)))
        if len(lines) < 6:
            lines += [f"COM,employee,{','.join(['3'] * len(ids))}"] * 5
        import_responses(campaign, "\n".join(lines) + "\n", "random.csv")
        close_campaign(campaign)
        responses = db.session.execute(
            sa.select(Response.id, Response.department_id, Response.role_level).where(
                Response.campaign_id == campaign.id
            )
        ).all()
        release = answer_file_release(campaign)
        threshold = campaign.min_group_size
        published = {
            d["code"]: d["responses"]
            for d in released_report(campaign).departments
            if not d["suppressed"]
        }
        codes = {u.department_id: u.code for u in campaign.units}
        in_file = Counter(codes.get(release.department(d)) for _, d, _ in responses)
        for code, rows in in_file.items():
            if code is None:
                assert rows >= threshold, "the rows without a department are too few"
            else:
                assert published.get(code) == rows, (code, rows, published)
        shown_roles = {release.role(d, role) is not None for _, d, role in responses}
        assert len(shown_roles) == 1, "the role is shown in some rows and not in others"
        if shown_roles == {True}:
            cells = Counter((release.department(d), role) for _, d, role in responses)
            assert min(cells.values()) >= threshold
