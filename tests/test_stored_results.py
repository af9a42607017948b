"""Results stored once for every process: a closed campaign's report and its PDFs."""

from __future__ import annotations

import datetime as dt
import pickle
import threading
import time

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models import Campaign, StoredResult
from surveyapp.services import reporting, stored_results
from surveyapp.services.reporting import cached_campaign_report, released_report

from .dashboard_data import fast_password_hashes  # noqa: F401 (fixture)
from .test_pdf import fill_campaign


def rows(kind: str | None = None) -> list[StoredResult]:
    query = sa.select(StoredResult).order_by(StoredResult.id)
    if kind is not None:
        query = query.where(StoredResult.kind == kind)
    return list(db.session.scalars(query))


@pytest.fixture
def computations(monkeypatch):
    """Counts every real computation of a campaign's report."""
    calls: list[int] = []
    real = reporting.analyse_campaign

    def counted(campaign):
        calls.append(campaign.id)
        return real(campaign)

    monkeypatch.setattr(reporting, "analyse_campaign", counted)
    return calls


def new_process() -> None:
    """What another worker process starts with: none of this process's cached reports."""
    reporting._CACHE.clear()
    db.session.expire_all()


def test_a_closed_campaigns_report_is_computed_once_and_read_back_equal(factory, computations):
    campaign = fill_campaign(factory)
    first = released_report(campaign)
    assert computations == [campaign.id]
    [row] = rows("report")
    assert row.campaign_id == campaign.id and len(row.key) == 64
    new_process()
    second = released_report(db.session.get(Campaign, campaign.id))
    assert computations == [campaign.id], "the second process read the stored report"
    assert second is not first
    assert second.to_dict() == first.to_dict()
    assert second.norm_labels == first.norm_labels
    assert second.memo == {}


def test_a_renamed_organisation_makes_a_new_version_and_one_row(factory, computations):
    campaign = fill_campaign(factory)
    released_report(campaign)
    campaign.organisation.name = "Gemeente Nieuwstad"
    factory.commit()
    new_process()
    report = released_report(db.session.get(Campaign, campaign.id))
    assert report.organisation["name"] == "Gemeente Nieuwstad"
    assert len(computations) == 2
    assert len(rows("report")) == 1, "the out-of-date report is dropped"


def test_a_renamed_previous_campaign_makes_a_new_version(factory, computations):
    first = fill_campaign(factory)
    second = factory.campaign(
        first.organisation,
        status="closed",
        name="Autumn survey",
        opens_on=dt.date.today() - dt.timedelta(days=1),
    )
    released_report(second)
    first.name = "Spring survey, first wave"
    factory.commit()
    new_process()
    report = released_report(db.session.get(Campaign, second.id))
    assert report.previous_campaign["name"] == "Spring survey, first wave"
    assert computations == [second.id, second.id]


def test_a_campaign_still_open_is_never_stored(factory, computations):
    campaign = factory.campaign(factory.organisation(), status="open")
    cached_campaign_report(campaign)
    assert rows() == []


def test_a_row_that_does_not_verify_is_never_unpickled(factory, computations, monkeypatch):
    campaign = fill_campaign(factory)
    released_report(campaign)
    [row] = rows("report")

    class Trap:
        def __reduce__(self):
            return (pytest.fail, ("a payload without the app's signature was unpickled",))

    row.payload = pickle.dumps(Trap())  # somebody who can write to the database
    factory.commit()
    new_process()
    report = released_report(db.session.get(Campaign, campaign.id))
    assert len(computations) == 2, "computed again instead of trusting the row"
    assert report.campaign["id"] == campaign.id
    [row] = rows("report")
    assert stored_results._signature("report", row.key, row.payload) == row.signature


def test_another_secret_key_computes_again(app, factory, computations):
    campaign = fill_campaign(factory)
    released_report(campaign)
    new_process()
    app.config["SECRET_KEY"] = "another-secret-key"
    released_report(db.session.get(Campaign, campaign.id))
    assert len(computations) == 2


def test_a_code_change_makes_a_new_key(factory, computations, monkeypatch):
    campaign = fill_campaign(factory)
    released_report(campaign)
    new_process()
    monkeypatch.setattr(stored_results, "_code_fingerprint", "0" * 64)
    released_report(db.session.get(Campaign, campaign.id))
    assert len(computations) == 2


def test_readers_at_the_same_time_wait_for_one_computation(app, factory, monkeypatch):
    """Two workers asking at once: one computes, the other waits and reads it."""
    campaign_id = fill_campaign(factory).id
    calls: list[int] = []
    real = reporting.analyse_campaign

    def slow(campaign):
        calls.append(campaign.id)
        time.sleep(0.5)  # long enough for the other reader to arrive while it runs
        return real(campaign)

    monkeypatch.setattr(reporting, "analyse_campaign", slow)
    new_process()
    db.session.remove()
    results: list[dict] = []
    errors: list[BaseException] = []

    def reader():
        try:
            with app.app_context():
                # Each thread is its own worker: no shared in-process cache.
                report = stored_results.stored_report(
                    db.session.get(Campaign, campaign_id),
                    reporting.campaign_version(db.session.get(Campaign, campaign_id)),
                    lambda: reporting.analyse_campaign(db.session.get(Campaign, campaign_id)),
                )
                results.append(report.to_dict())
                db.session.remove()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == 2 and results[0] == results[1]
    assert calls == [campaign_id]


def test_a_pdf_is_rendered_once_and_again_when_its_html_changes(
    factory,
    monkeypatch,
    fast_password_hashes,  # noqa: F811
):
    from surveyapp import pdf
    from surveyapp.services.action_plans import dimension_choices, set_focus
    from surveyapp.services.users import create_user

    campaign = fill_campaign(factory)
    renders: list[int] = []
    real = pdf.write_pdf

    def counted(html):
        renders.append(len(html))
        return real(html)

    monkeypatch.setattr(pdf, "write_pdf", counted)
    first = pdf.render_campaign_pdf(campaign, "en")
    assert first.startswith(b"%PDF") and len(renders) == 1
    new_process()
    again = pdf.render_campaign_pdf(db.session.get(Campaign, campaign.id), "en")
    assert again == first and len(renders) == 1, "served from storage"
    pdf.render_campaign_pdf(db.session.get(Campaign, campaign.id), "nl")
    assert len(renders) == 2, "another language is another document"
    # A change that reaches the HTML (here the action plan) renders it again.
    consultant = create_user("adviser@example.org", "a long pass phrase 2026", "consultant")
    campaign = db.session.get(Campaign, campaign.id)
    set_focus(campaign, [dimension_choices(campaign, "en")[0].id], consultant)
    factory.commit()
    changed = pdf.render_campaign_pdf(db.session.get(Campaign, campaign.id), "en")
    assert len(renders) == 3 and changed != first
    assert len(rows("pdf")) == 3


def test_at_most_the_newest_pdfs_are_kept(factory, monkeypatch):
    campaign = fill_campaign(factory)
    monkeypatch.setattr(stored_results, "PDFS_KEPT", 2)
    for n in range(4):
        stored_results.stored_pdf(campaign, f"<p>{n}</p>", lambda n=n: b"%PDF-" + bytes([n]))
    kept = rows("pdf")
    assert [r.payload for r in kept] == [b"%PDF-\x02", b"%PDF-\x03"]


def test_without_a_writable_lock_file_the_report_is_still_computed(
    factory, computations, monkeypatch
):
    campaign = fill_campaign(factory)
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the lock file is SQLite's; PostgreSQL uses an advisory lock")
    real_open = stored_results.os.open

    def refuse_lock_files(path, *args, **kwargs):
        if str(path).endswith(".lock"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(stored_results.os, "open", refuse_lock_files)
    report = released_report(campaign)
    assert report.campaign["id"] == campaign.id and computations == [campaign.id]
    assert len(rows("report")) == 1
