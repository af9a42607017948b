"""Cronbach's alpha, Feldt interval and item diagnostics against SPSS and pingouin output."""

from __future__ import annotations

import numpy as np
import pytest

from surveyapp.scoring.reliability import cronbach_alpha


def test_alpha_item_rest_and_alpha_if_deleted_match_spss(reference):
    ref = reference("engine_alpha.toml")["denis_spss"]
    r = cronbach_alpha(ref["items"])
    assert r.alpha == pytest.approx(ref["alpha"], abs=5e-4)
    np.testing.assert_allclose(r.item_rest_r, ref["item_rest_r"], atol=5e-4)
    np.testing.assert_allclose(r.alpha_if_deleted, ref["alpha_if_deleted"], atol=5e-4)
    assert cronbach_alpha(np.array(ref["items"])[:, :4]).alpha == pytest.approx(0.824, abs=5e-4)


def test_feldt_interval_matches_pingouin(reference):
    ref = reference("engine_alpha.toml")["pingouin_feldt"]
    r = cronbach_alpha(ref["items"])
    assert r.alpha == pytest.approx(ref["alpha"], rel=1e-12)
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(ref["ci95"]), abs=5e-4)
    assert r.n == 15 and r.n_items == 10


def test_listwise_deletion_reports_n(reference):
    items = np.array(reference("engine_alpha.toml")["denis_spss"]["items"], dtype=float)
    items[0, 2] = np.nan
    r = cronbach_alpha(items)
    assert r.n == 9
    assert r.alpha == pytest.approx(cronbach_alpha(items[1:]).alpha)


def test_single_item_and_constant_scales_have_no_alpha():
    one = cronbach_alpha(np.arange(10.0)[:, None])
    assert np.isnan(one.alpha) and one.n_items == 1
    flat = cronbach_alpha(np.full((6, 3), 4.0))
    assert np.isnan(flat.alpha)
    two = cronbach_alpha(np.array([[1.0, 2.0], [2.0, 2.0], [3.0, 5.0]]))
    assert np.isnan(two.alpha_if_deleted).all()  # one item would remain
