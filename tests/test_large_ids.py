"""Ids and sizes a long-lived deployment reaches: nothing packed into an integer overflows.

Response and campaign ids are global, so they grow with every campaign of every
organisation. The matrix loader and the norm table pack ids with other numbers; these
tests move the ids to where a 32-bit packing broke (response id 2^31 / 1024 / 128 =
16,384), to the largest id the column holds (2^31 − 1 in PostgreSQL's ``integer``; SQLite
keeps 64-bit ids), and load a campaign of 50,000 responses through close and report.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, Campaign, CampaignScore, QuestionnaireItem, Response
from surveyapp.services.matrix import CHUNK, MAX_SPAN, chunk_bounds, load_matrix, repack_answers
from surveyapp.services.responses import import_responses

POSTGRES_INT_MAX = 2**31 - 1
SQLITE_INT_MAX = 2**63 - 1


def _dialect() -> str:
    return db.engine.dialect.name


def _largest_id() -> int:
    return POSTGRES_INT_MAX if _dialect() == "postgresql" else SQLITE_INT_MAX


def _next_ids_from(model, first: int) -> None:
    """Make the database hand out ids from ``first`` on for ``model``'s table."""
    table = model.__tablename__
    if _dialect() == "postgresql":
        db.session.execute(
            sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), :v, false)"),
            {"v": first},
        )
        return
    # SQLite gives max(rowid) + 1: a placeholder row just below, removed afterwards.
    columns = ", ".join(c.name for c in model.__table__.columns)
    db.session.execute(
        sa.text(
            f"INSERT INTO {table} ({columns}) SELECT :first - 1, "
            + ", ".join(c.name for c in model.__table__.columns if c.name != "id")
            + f" FROM {table} ORDER BY id LIMIT 1"
        ),
        {"first": first},
    )


def _drop_placeholder(model, first: int) -> None:
    if _dialect() != "postgresql":
        db.session.execute(sa.delete(model).where(model.id == first - 1))


def _answers_csv(questionnaire, n: int, seed: int) -> tuple[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = [item.id for item in questionnaire.items]
    values = rng.integers(1, 6, (n, len(ids))).astype(float)
    values[rng.random(values.shape) < 0.1] = np.nan
    lines = [",".join(["department", "role_level", *ids])]
    for r in range(n):
        cells = ["" if np.isnan(v) else str(int(v)) for v in values[r]]
        lines.append(",".join(["COM" if r % 2 else "IT", "employee", *cells]))
    return "\n".join(lines) + "\n", values


def _seed_response(factory, campaign) -> None:
    """One stored response, so the SQLite placeholder has a row to copy."""
    text, _ = _answers_csv(factory.questionnaire(), 1, seed=0)
    import_responses(campaign, text, "seed.csv")


@pytest.mark.parametrize(
    "first_id",
    [
        pytest.param(2**31 // 1024 // 128 + 1, id="past-the-old-32-bit-packing"),
        pytest.param("largest", id="next-to-the-largest-id-the-column-holds"),
    ],
)
def test_matrix_is_exact_with_high_response_ids(factory, first_id):
    q = factory.questionnaire()
    campaign = factory.campaign()
    other = factory.campaign(organisation=campaign.organisation, name="Other")
    _seed_response(factory, other)
    n = 12
    first = _largest_id() - n - 1 if first_id == "largest" else first_id
    _next_ids_from(Response, first)
    text, expected = _answers_csv(q, n, seed=3)
    import_responses(campaign, text, "in.csv")
    _drop_placeholder(Response, first)
    factory.commit()

    loaded = load_matrix(campaign)
    assert loaded.response_ids.min() >= first
    np.testing.assert_array_equal(loaded.matrix, expected)


def test_matrix_is_exact_when_ids_of_one_campaign_lie_far_apart(factory):
    """SQLite ids can differ by more than a 64-bit code holds: the load is split."""
    if _dialect() == "postgresql":
        pytest.skip("PostgreSQL's integer ids cannot lie 2^46 apart")
    q = factory.questionnaire()
    campaign = factory.campaign()
    early, early_values = _answers_csv(q, 5, seed=4)
    import_responses(campaign, early, "early.csv")
    first = 2**62
    _next_ids_from(Response, first)
    late, late_values = _answers_csv(q, 6, seed=5)
    import_responses(campaign, late, "late.csv")
    _drop_placeholder(Response, first)
    factory.commit()

    loaded = load_matrix(campaign)
    assert loaded.response_ids[-1] - loaded.response_ids[0] > MAX_SPAN
    np.testing.assert_array_equal(loaded.matrix, np.vstack([early_values, late_values]))


def test_chunks_keep_their_id_span_inside_a_64_bit_code():
    ids = np.array([1, 2, 3, MAX_SPAN, MAX_SPAN + 1, 3 * MAX_SPAN, 2**63 - 1], dtype=np.int64)
    bounds = chunk_bounds(ids)
    assert bounds == [(0, 4), (4, 5), (5, 6), (6, 7)]
    for start, stop in bounds:
        assert ids[stop - 1] - ids[start] < MAX_SPAN
        # The largest code the chunk can produce still fits a signed 64-bit integer.
        assert ((int(ids[stop - 1] - ids[start]) * 1024 + 1023) * 128 + 127) < 2**63
    many = np.arange(CHUNK * 2 + 5, dtype=np.int64)
    assert chunk_bounds(many) == [(0, CHUNK), (CHUNK, 2 * CHUNK), (2 * CHUNK, 2 * CHUNK + 5)]


def test_norm_table_reads_campaign_ids_next_to_the_largest_exactly(factory):
    from surveyapp.services.aggregates import norm_table

    q = factory.questionnaire()
    small = factory.campaign(status="open")
    _seed_response(factory, small)
    first = _largest_id() - 10
    _next_ids_from(Campaign, first)
    organisations = [factory.organisation(name=f"Org {i}") for i in range(3)]
    campaigns = []
    for i, organisation in enumerate(organisations):
        campaign = factory.campaign(organisation=organisation, name=f"Wave {i}")
        text, _ = _answers_csv(q, 6 + i, seed=10 + i)
        import_responses(campaign, text, "in.csv")
        campaigns.append(campaign)
    _drop_placeholder(Campaign, first)
    from surveyapp.services.campaigns import close_campaign

    for campaign in campaigns:
        close_campaign(campaign)
    factory.commit()
    assert min(c.id for c in campaigns) >= first

    dimension_ids = tuple(d.id for d in q.dimensions)
    table = norm_table(campaigns[0].questionnaire_version_id, dimension_ids)
    assert sorted(table.organisation_ids.tolist()) == sorted(o.id for o in organisations)
    for campaign in campaigns:
        row = table.organisation_ids.tolist().index(campaign.organisation_id)
        stored = dict(
            db.session.execute(
                sa.select(CampaignScore.dimension_id, CampaignScore.mean).where(
                    CampaignScore.campaign_id == campaign.id
                )
            ).all()
        )
        assert table.means[row].tolist() == [stored[d] for d in dimension_ids]
        assert table.counts[row].min() >= 1


def test_fifty_thousand_responses_close_and_report(factory, runner, tmp_path):
    """The case that failed on PostgreSQL: 50,000 responses, ids far past 16,384."""
    q = factory.questionnaire()
    campaign = factory.campaign()
    departments = sorted(u.department_id for u in campaign.units)
    n = 50_000
    _insert_synthetic_responses(campaign, departments, n)
    factory.commit()

    result = runner.invoke(args=["campaign", "close", str(campaign.id)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "report.pdf"
    result = runner.invoke(
        args=["report", "--campaign", str(campaign.id), "--lang", "en", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")

    db.session.expire_all()
    loaded = load_matrix(db.session.get(Campaign, campaign.id))
    assert loaded.matrix.shape == (n, len(q.items))
    assert loaded.response_ids.max() > 2**31 // 1024 // 128
    # The synthetic answers are a known function of response id and item position.
    positions = np.arange(len(q.items))
    expected = 1 + (loaded.response_ids[:, None] * 7 + positions[None, :] * 3) % 5
    np.testing.assert_array_equal(loaded.matrix, expected.astype(float))
    scores = db.session.scalars(
        sa.select(CampaignScore.n).where(CampaignScore.campaign_id == campaign.id)
    ).all()
    assert scores and all(count == n for count in scores)


def _insert_synthetic_responses(campaign, departments: list[int], n: int) -> None:
    """``n`` responses with every item answered, generated inside the database."""
    version = campaign.questionnaire_version_id
    today = dt.date.today().isoformat()
    first = 2**31 // 1024 // 128 + 1
    if _dialect() == "postgresql":
        _next_ids_from(Response, first)
    numbers = (
        "SELECT generate_series(1, :n) AS k"
        if _dialect() == "postgresql"
        else "WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < :n) "
        "SELECT k FROM s"
    )
    department_case = " ".join(
        f"WHEN {i} THEN {department}" for i, department in enumerate(departments)
    )
    id_expression = "nextval(pg_get_serial_sequence('response', 'id'))"
    if _dialect() != "postgresql":
        id_expression = f"{first} + k"
    else:
        # Without PostgreSQL's row-by-row foreign key triggers (three per answer, some 7
        # million checks, most of this test's time); checked below in one query each.
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    db.session.execute(
        sa.text(
            "INSERT INTO response (id, campaign_id, department_id, questionnaire_version_id, "
            "role_level, language, source, submitted_on, answer_codes) "
            f"SELECT {id_expression}, :campaign, CASE k % {len(departments)} "
            f"{department_case} END, :version, "
            "CASE k % 4 WHEN 0 THEN 'top_management' WHEN 1 THEN 'middle_management' "
            "ELSE 'employee' END, 'en', 'import', :today, :pending "
            f"FROM ({numbers}) AS numbers"
        ).bindparams(sa.bindparam("pending", type_=sa.LargeBinary)),
        {"n": n, "campaign": campaign.id, "version": version, "today": today, "pending": b""},
    )
    db.session.execute(
        sa.insert(Answer).from_select(
            ["response_id", "item_id", "questionnaire_version_id", "value"],
            sa.select(
                Response.id,
                QuestionnaireItem.item_id,
                Response.questionnaire_version_id,
                1 + (Response.id * 7 + QuestionnaireItem.position * 3) % 5,
            )
            .join(
                QuestionnaireItem,
                QuestionnaireItem.questionnaire_version_id == Response.questionnaire_version_id,
            )
            .where(Response.campaign_id == campaign.id),
        )
    )
    if _dialect() == "postgresql":
        db.session.execute(sa.text("SET LOCAL session_replication_role = origin"))
        orphans = {**_rows_without_their_parent(Response), **_rows_without_their_parent(Answer)}
        assert orphans and set(orphans.values()) == {0}, orphans
    # Every response's packed copy, built from the answer rows generated above (the
    # answer table's own packing, in id chunks, is what ids this large test).
    assert repack_answers(campaign) == n


def _rows_without_their_parent(model) -> dict[str, int]:
    """Per foreign key of ``model``'s table, its rows whose referenced row is missing."""
    found = {}
    for key in model.__table__.foreign_key_constraints:
        pairs = [(element.parent.name, element.column.name) for element in key.elements]
        filled = " AND ".join(f"c.{child} IS NOT NULL" for child, _ in pairs)
        same = " AND ".join(f"p.{parent} = c.{child}" for child, parent in pairs)
        found[key.name] = db.session.scalar(
            sa.text(
                f"SELECT count(*) FROM {model.__tablename__} c WHERE {filled} AND NOT EXISTS "
                f"(SELECT 1 FROM {key.referred_table.name} p WHERE {same})"
            )
        )
    return found


def test_norm_keys_stay_exact_in_float64_window_by_window():
    from surveyapp.services.aggregates import _COUNT_SLOTS, _ID_WINDOW, _POSITIONS, id_windows

    ids = np.array([5, 7, 5 + _ID_WINDOW - 1, 5 + _ID_WINDOW, 2**62, 2**63 - 1], dtype=np.int64)
    windows = id_windows(ids)
    assert windows == [
        (5, 5 + _ID_WINDOW - 1),
        (5 + _ID_WINDOW, 5 + _ID_WINDOW),
        (2**62, 2**62),
        (2**63 - 1, 2**63 - 1),
    ]
    for first, last in windows:
        largest_key = ((last - first) * _POSITIONS + _POSITIONS - 1) * _COUNT_SLOTS + (
            _COUNT_SLOTS - 1
        )
        assert largest_key < 2**53  # every integer below 2^53 is exact in float64
        assert float(largest_key) == largest_key
