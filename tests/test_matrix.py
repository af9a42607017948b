"""The campaign matrix loader returns exactly the stored answers, on both databases."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Answer, Response
from surveyapp.services.matrix import load_matrix, repack_answers
from surveyapp.services.responses import import_responses, parse_responses


def test_matrix_matches_imported_file(factory):
    q = factory.questionnaire()
    campaign = factory.campaign()
    rng = np.random.default_rng(7)
    ids = [item.id for item in q.items]
    lines = [",".join(["department", "role_level", *ids])]
    departments = ["COM", "HR", "IT", "IT-OPS"]
    for r in range(57):
        values = [str(v) if rng.random() > 0.15 else "" for v in rng.integers(1, 6, len(ids))]
        lines.append(",".join([departments[r % 4], "employee", *values]))
    text = "\n".join(lines) + "\n"
    import_responses(campaign, text, "in.csv")
    # One web-style "don't know" (NULL) answer.
    first = db.session.scalar(sa.select(Response.id).order_by(Response.id))
    db.session.execute(
        sa.update(Answer)
        .where(Answer.response_id == first, Answer.item_id == ids[0])
        .values(value=None)
    )
    # The packed copy the loader reads, rebuilt from the answer rows.
    repack_answers(campaign)
    expected = parse_responses(q, text, "in.csv").matrix.copy()
    expected[0, 0] = np.nan
    loaded = load_matrix(campaign)
    assert loaded.item_ids == tuple(ids)
    np.testing.assert_array_equal(loaded.matrix, expected)
    assert loaded.matrix.shape == (57, len(ids))
    assert list(loaded.role_levels) == ["employee"] * 57
    assert len(set(loaded.department_ids.tolist())) == 4


def test_matrix_loads_in_chunks(factory, monkeypatch):
    from surveyapp.services import matrix as module

    q = factory.questionnaire()
    campaign = factory.campaign()
    ids = [item.id for item in q.items]
    rows = [",".join(["department", "role_level", *ids])]
    rows += [
        ",".join(["COM", "employee", *[str(1 + (r + j) % 5) for j in range(len(ids))]])
        for r in range(25)
    ]
    import_responses(campaign, "\n".join(rows) + "\n", "in.csv")
    monkeypatch.setattr(module, "CHUNK", 4)
    loaded = load_matrix(campaign)
    expected = np.array([[1 + (r + j) % 5 for j in range(len(ids))] for r in range(25)], float)
    np.testing.assert_array_equal(loaded.matrix, expected)


def test_empty_campaign_gives_empty_matrix(factory):
    campaign = factory.campaign()
    loaded = load_matrix(campaign)
    assert loaded.matrix.shape == (0, len(factory.questionnaire().items))
