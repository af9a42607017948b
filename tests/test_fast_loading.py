"""Reading a campaign's answers the fast way returns the same rows as the plain query."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Response
from surveyapp.services import ServiceError
from surveyapp.services.matrix import _rows_query, load_matrix
from surveyapp.services.responses import import_responses

ROLES = ("employee", "middle_management", "top_management")
DEPARTMENTS = ("COM", "HR", "IT", "IT-OPS")


def _file(item_ids, rows):
    lines = [",".join(["department", "role_level", *item_ids])]
    for department, role, values in rows:
        answers = ["" if np.isnan(v) else str(int(v)) for v in values]
        lines.append(",".join([department, role, *answers]))
    return "\n".join(lines) + "\n"


def _rows(rng, n, n_items):
    values = rng.integers(1, 6, size=(n, n_items)).astype(float)
    values[rng.random(values.shape) < 0.1] = np.nan
    return [
        (DEPARTMENTS[rng.integers(len(DEPARTMENTS))], ROLES[rng.integers(len(ROLES))], row)
        for row in values
    ]


@pytest.fixture
def interleaved(factory):
    """Two campaigns whose responses alternate in id order: one response of ``sparse``
    for every two of ``dense``, so ``dense`` fills two thirds of the id range it spans
    and ``sparse`` a third of its own."""
    item_ids = [item.id for item in factory.questionnaire().items]
    sparse = factory.campaign(factory.organisation("Sparse"))
    dense = factory.campaign(factory.organisation("Dense"))
    rng = np.random.default_rng(13)
    expected = {sparse.id: [], dense.id: []}
    for _ in range(12):
        for campaign, n in ((sparse, 1), (dense, 2)):
            rows = _rows(rng, n, len(item_ids))
            import_responses(campaign, _file(item_ids, rows), "in.csv")
            expected[campaign.id] += rows
    db.session.flush()
    return sparse, dense, expected


def _check_loaded(campaign, rows):
    loaded = load_matrix(campaign)
    ids = db.session.scalars(
        sa.select(Response.id).where(Response.campaign_id == campaign.id).order_by(Response.id)
    ).all()
    np.testing.assert_array_equal(loaded.response_ids, ids)
    np.testing.assert_array_equal(loaded.matrix, np.array([values for _, _, values in rows]))
    assert loaded.role_levels.tolist() == [role for _, role, _ in rows]
    codes = {u.department_id: u.code for u in campaign.units}
    assert [codes[d] for d in loaded.department_ids.tolist()] == [d for d, _, _ in rows]


def test_interleaved_campaigns_load_their_own_rows_in_id_order(interleaved):
    sparse, dense, expected = interleaved
    _check_loaded(sparse, expected[sparse.id])
    _check_loaded(dense, expected[dense.id])


def test_sqlite_reads_the_id_range_only_when_the_campaign_fills_most_of_it(interleaved):
    sparse, dense, _ = interleaved
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        pytest.skip("the range read is SQLite's; PostgreSQL always gets the plain query")

    def sql(campaign):
        return str(_rows_query(connection, campaign.id).compile(connection))

    assert "BETWEEN" in sql(dense)  # two thirds of its id range: read the range
    assert "BETWEEN" not in sql(sparse)  # a third: look its rows up through the index


def test_the_collector_runs_again_after_loading_even_when_loading_fails(factory):
    item_ids = [item.id for item in factory.questionnaire().items]
    campaign = factory.campaign()
    rows = _rows(np.random.default_rng(5), 3, len(item_ids))
    import_responses(campaign, _file(item_ids, rows), "in.csv")
    assert gc.isenabled()
    load_matrix(campaign)
    assert gc.isenabled()
    first = db.session.scalar(sa.select(Response).where(Response.campaign_id == campaign.id))
    first.answer_codes = first.answer_codes[:-1]  # one code short
    db.session.flush()
    with pytest.raises(ServiceError, match="check-answers"):
        load_matrix(campaign)
    assert gc.isenabled()


def test_a_packed_row_too_long_beside_one_too_short_is_refused(factory):
    """The total length alone would match: the check must look at every row."""
    item_ids = [item.id for item in factory.questionnaire().items]
    campaign = factory.campaign()
    rows = _rows(np.random.default_rng(6), 2, len(item_ids))
    import_responses(campaign, _file(item_ids, rows), "in.csv")
    first, second = db.session.scalars(
        sa.select(Response).where(Response.campaign_id == campaign.id).order_by(Response.id)
    ).all()
    first.answer_codes, second.answer_codes = (
        first.answer_codes[:-1],
        second.answer_codes + b"\x01",
    )
    db.session.flush()
    with pytest.raises(ServiceError, match="one code"):
        load_matrix(campaign)
