"""The report's view model is typed and frozen: a misspelt field fails loudly, nothing that
reads the view can change it, and every page kind renders with strict templates."""

from __future__ import annotations

import dataclasses
import json

import pytest
from jinja2 import StrictUndefined, UndefinedError

from surveyapp.reporting.view import DimensionView, GroupRow, ReportView

from .dashboard_data import (
    MANAGER,
    build_results,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
)


@pytest.fixture
def demo(in_app, fast_password_hashes):  # noqa: F811
    """The demo-like campaign's results and its view (organisation and department IT)."""
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.reporting.model import build_view
    from surveyapp.services.questionnaires import questionnaire_for
    from surveyapp.services.reporting import released_report

    with in_app() as make:
        results = build_results(make)
        campaign = db.session.get(Campaign, results.campaign_id)
        questionnaire = questionnaire_for(campaign.questionnaire_version)
        report = released_report(campaign)
        views = {
            "organisation": build_view(report, questionnaire, "en"),
            "department": build_view(report, questionnaire, "nl", department="IT"),
        }
    return results, views


def parts(value, path="view"):
    """Every (path, value) reachable from ``value`` through dataclass fields and tuples."""
    yield path, value
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield from parts(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, tuple):
        for k, item in enumerate(value):
            yield from parts(item, f"{path}[{k}]")


def test_every_part_is_frozen_and_sequences_are_tuples(demo):
    _results, views = demo
    for view in views.values():
        seen = list(parts(view))
        mutable = [path for path, value in seen if isinstance(value, list | dict | set)]
        assert not mutable, f"mutable parts of the view: {mutable[:5]}"
        typed = [value for _path, value in seen if dataclasses.is_dataclass(value)]
        assert all(type(v).__dataclass_params__.frozen for v in typed)  # type: ignore[attr-defined]
        assert len(typed) > 100  # the walk really went through the whole report


def test_the_view_cannot_be_changed(demo):
    _results, views = demo
    view = views["organisation"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.published = False  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.dimensions[0].mean = 5.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.dimensions[0] = view.dimensions[1]  # type: ignore[index]


def test_a_misspelt_field_raises_instead_of_reading_none(demo):
    _results, views = demo
    view = views["organisation"]
    with pytest.raises(AttributeError):
        _ = view.overal  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = view.dimensions[0].maturity.levle  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        _ = view.dimensions[0].departments[0].vs_rets  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        GroupRow(code="IT", name="IT", men=3.0)  # type: ignore[call-arg]


def test_a_misspelt_field_in_a_print_template_raises(app, demo):
    from surveyapp.pdf import print_environment

    _results, views = demo
    with app.app_context():
        env = print_environment()
        assert env.from_string("{{ view.overall.n }}").render(view=views["organisation"])
        with pytest.raises(UndefinedError):
            env.from_string("{{ view.overall.nn }}").render(view=views["organisation"])


def test_the_view_has_one_plain_json_form(demo):
    _results, views = demo
    for view in views.values():
        plain = view.to_dict()
        assert json.loads(json.dumps(plain, allow_nan=False)) == json.loads(json.dumps(plain))
        assert plain["overall"]["mean"] == view.overall.mean
        assert [d["id"] for d in plain["dimensions"]] == [d.id for d in view.dimensions]


def test_department_view_reads_its_own_rows_and_statements(demo):
    _results, views = demo
    view = views["department"]
    department = view.department
    assert department is not None and department.code == "IT"
    first = view.dimensions[0]
    row = department.row(first.id)
    assert row is not None and row.dimension is first
    assert row.name == first.name and row.benchmark == first.benchmark
    shown_items = [i for i in first.items if not i.suppressed]
    own = department.item(shown_items[0].id)
    assert own is None or own.code == "IT"
    assert department.item("no-such-statement") is None
    assert view.dimension("no-such-dimension") is None
    assert isinstance(view.dimension(first.id), DimensionView)


def test_policy_thresholds_come_from_the_campaign_and_the_analysis(demo):
    _results, views = demo
    view = views["organisation"]
    assert view.policy.min_group_size == view.threshold == view.campaign.min_group_size
    assert view.policy.min_comment_group_size == view.campaign.min_comment_group_size
    assert view.policy.agreement == pytest.approx(0.70)
    assert view.policy.significance == pytest.approx(0.05)


def test_every_page_kind_renders_with_strict_templates(app, client, demo):
    """With StrictUndefined, a template reading a field the view lacks fails the page."""
    results, views = demo
    view: ReportView = views["organisation"]
    login(client, MANAGER)
    app.jinja_env.undefined = StrictUndefined  # this test's app only
    base = f"/results/campaigns/{results.campaign_id}"
    urls = [base, f"{base}/departments/IT"]
    urls += [f"{base}/dimensions/{d.id}" for d in view.dimensions]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
