"""Staff comments: released with the results, text only, never for a group under the
comment threshold, safe against differencing, hideable by consultants only."""

from __future__ import annotations

import json
import random
import shutil
import subprocess

import pytest
import sqlalchemy as sa

from .dashboard_data import (
    CONSULTANT,
    MANAGER,
    csrf_token,
    fast_password_hashes,  # noqa: F401 (fixture)
    fresh_report_cache,  # noqa: F401 (fixture)
    login,
    responses_csv,
)
from .openapi_check import OpenApiCheckedClient

# The factory's tree: COM, HR, IT with IT-OPS under it. Enough responses everywhere that
# the numbers are published; the comments decide what the comment lists show.
COUNTS = {"COM": 14, "HR": 6, "IT": 14, "IT-OPS": 14}
HEAD = ("head.it@acme.example", "it-head-password-77")


def remarks(prefix: str, n: int) -> list[str]:
    """``n`` comments that match no dimension's keywords."""
    return [f"{prefix} remark number {i:02d}" for i in range(n)]


def build(make, comments: dict[str, list[str]], *, close: bool = True) -> int:
    """Acme with one campaign; ``comments`` per department code, in submission order."""
    from surveyapp.extensions import db
    from surveyapp.models import Response
    from surveyapp.services.campaigns import close_campaign
    from surveyapp.services.responses import import_responses
    from surveyapp.services.users import create_user, find_department, set_department

    organisation = make.organisation("Acme")
    campaign = make.campaign(organisation, name="This year")
    import_responses(campaign, responses_csv(make.questionnaire(), COUNTS, seed=5), "now.csv")
    for code, texts in comments.items():
        department = find_department(organisation, code)
        ids = db.session.scalars(
            sa.select(Response.id)
            .where(Response.campaign_id == campaign.id, Response.department_id == department.id)
            .order_by(Response.id)
        ).all()
        assert len(ids) >= len(texts), code
        for response_id, text in zip(ids, texts, strict=False):
            db.session.execute(
                sa.update(Response).where(Response.id == response_id).values(comment=text)
            )
    if close:
        close_campaign(campaign)
    create_user(*MANAGER, "manager", organisation)
    create_user(*CONSULTANT, "consultant")
    head = create_user(*HEAD, "manager", organisation)
    set_department(head, find_department(organisation, "IT"))
    make.commit()
    return campaign.id


def released(campaign_id: int, lang: str = "en", **kwargs):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services.comments import campaign_comments

    return campaign_comments(db.session.get(Campaign, campaign_id), lang, **kwargs)


def all_texts(result) -> set[str]:
    lists = ([result.organisation] if result.organisation else []) + list(result.departments)
    return {text for entry in lists for group in entry.groups for text in group.comments}


def codes(result) -> set[str]:
    return {entry.code for entry in result.departments}


def hide(campaign_id: int, text: str) -> None:
    from surveyapp.extensions import db
    from surveyapp.models import Campaign, User
    from surveyapp.services.comments import hide_comment, review_comments

    campaign = db.session.get(Campaign, campaign_id)
    ref = next(c.ref for c in review_comments(campaign) if c.text == text)
    consultant = db.session.scalar(sa.select(User).where(User.role == "consultant"))
    hide_comment(campaign, ref, consultant)
    db.session.commit()


@pytest.fixture
def make(factory, fast_password_hashes):  # noqa: F811
    return factory


# ------------------------------------------------------------------ the threshold


def test_nine_comments_show_nothing_and_no_count(make):
    result = released(build(make, {"COM": remarks("com", 9)}))
    assert result.state == "too_few"
    assert result.organisation is None and result.departments == ()
    body = json.dumps(result.to_dict())
    assert "remark" not in body and "9" not in body.replace('"threshold": 10', "")


def test_ten_comments_are_shown_for_the_organisation(make):
    result = released(build(make, {"COM": remarks("com", 10)}))
    assert result.state == "shown"
    assert result.organisation.count == 10
    assert all_texts(result) == set(remarks("com", 10))
    assert codes(result) == {"COM"}  # its list equals the organisation's: remainder 0


def test_no_comment_at_all_has_its_own_state(make):
    result = released(build(make, {"COM": ["   ", "\n"]}))  # blank comments are none
    assert result.state == "none" and result.organisation is None


def test_hidden_comments_are_left_out_and_counted_after_hiding(make):
    campaign_id = build(make, {"COM": remarks("com", 11)})
    hide(campaign_id, "com remark number 03")
    result = released(campaign_id)
    assert result.organisation.count == 10
    assert "com remark number 03" not in all_texts(result)
    hide(campaign_id, "com remark number 04")
    assert released(campaign_id).state == "too_few"  # 11 written, 9 visible


# ------------------------------------------------------- differencing between lists


def test_a_department_is_withheld_when_the_rest_would_be_a_small_group(make):
    # Organisation 13, COM 10: the organisation's list minus COM's would be IT's 3.
    result = released(build(make, {"COM": remarks("com", 10), "IT": remarks("it", 3)}))
    assert result.organisation.count == 13
    assert codes(result) == set()


def test_departments_whose_remainders_are_empty_or_large_are_shown(make):
    result = released(build(make, {"COM": remarks("com", 10), "IT": remarks("it", 10)}))
    assert codes(result) == {"COM", "IT"}


def test_a_sub_department_is_withheld_when_its_parent_minus_it_is_small(make):
    # IT's subtree 14 = IT's own 4 + IT-OPS 10: IT minus IT-OPS would show IT's own 4.
    comments = {"COM": remarks("com", 10), "IT": remarks("it", 4), "IT-OPS": remarks("ops", 10)}
    result = released(build(make, comments))
    assert codes(result) == {"COM", "IT"}


def test_hiding_never_brings_out_a_department_the_full_set_kept_withheld(make):
    # Before hiding, COM (10) is withheld because of IT's single comment. Hiding that
    # comment would leave remainder 0; showing COM then would tie IT's comment, which a
    # reader saw in the organisation's list before, to the rest of the organisation.
    campaign_id = build(make, {"COM": remarks("com", 10), "IT": ["it remark"]})
    assert codes(released(campaign_id)) == set()
    hide(campaign_id, "it remark")
    result = released(campaign_id)
    assert result.organisation.count == 10
    assert codes(result) == set()


def _atoms_are_safe(parents, counts, shown, threshold) -> bool:
    """Brute force: every shown list minus the shown lists right under it is 0 or >= k."""

    def subtree(node):
        below = {d for d in parents if d == node}
        grew = True
        while grew:
            grew = False
            for d, parent in parents.items():
                if parent in below and d not in below:
                    below.add(d)
                    grew = True
        return below

    def under(node):
        members = set(parents) if node is None else subtree(node)
        return {d for d in shown if d in members and d != node}

    if sum(counts.values()) < threshold:  # the organisation's list itself is not shown
        return not shown
    for node in [None, *shown]:
        inner = under(node)
        tops = {d for d in inner if not any(d in subtree(o) and d != o for o in inner)}
        own = set(parents) if node is None else subtree(node)
        remainder = sum(counts.get(d, 0) for d in own) - sum(
            counts.get(m, 0) for t in tops for m in subtree(t)
        )
        if 0 < remainder < threshold:
            return False
    return all(sum(counts.get(m, 0) for m in subtree(d)) >= threshold for d in shown)


def test_every_remainder_is_empty_or_large_on_random_trees():
    from surveyapp.services.comments import shown_departments

    rng = random.Random(20261214)
    for _ in range(300):
        size = rng.randint(1, 9)
        parents = {
            d: (rng.choice([None, *range(1, d)]) if d > 1 else None) for d in range(1, size + 1)
        }
        counts = {d: rng.choice([0, 0, 1, 3, 6, 9, 10, 12, 20]) for d in parents}
        threshold = rng.choice([3, 5, 10])
        shown = shown_departments(parents, counts, threshold)
        assert _atoms_are_safe(parents, counts, shown, threshold), (parents, counts, shown)
        allowed = set(rng.sample(sorted(parents), rng.randint(0, size)))
        limited = shown_departments(parents, counts, threshold, allowed)
        assert limited <= allowed
        assert _atoms_are_safe(parents, counts, limited, threshold)


# ------------------------------------------------------------ order and grouping


def test_order_does_not_follow_submission_and_is_stable(make, app):
    written = remarks("com", 12)
    campaign_id = build(make, {"COM": written})
    first = released(campaign_id).organisation.groups[-1].comments
    assert set(first) == set(written)
    assert list(first) not in (written, written[::-1])
    assert released(campaign_id).organisation.groups[-1].comments == first
    app.config["SECRET_KEY"] = "another secret key for another installation"
    assert released(campaign_id).organisation.groups[-1].comments != first


def test_comments_are_grouped_by_dimension_keywords(make):
    comments = [
        "Ik VERTROUW mijn chef niet meer.",  # trust, hierarchy
        "De hiërarchie is te streng.",  # hierarchy, accent and case folded
        "Co-creatie met klanten werkt goed.",  # co_creation (hyphen read as a space)
        "The coffee machine is broken.",  # none
        *remarks("com", 6),
    ]
    result = released(build(make, {"COM": comments}), "nl")
    groups = {group.dimension: group for group in result.organisation.groups}
    assert set(groups["trust"].comments) == {comments[0]}
    assert set(groups["hierarchy"].comments) == {comments[0], comments[1]}
    assert set(groups["co_creation"].comments) == {comments[2]}
    assert set(groups[None].comments) == {comments[3], *remarks("com", 6)}
    assert groups["trust"].name == "Cultuur van vertrouwen"  # the reader's language
    order = [group.dimension for group in result.organisation.groups]
    assert order[-1] is None  # "Other comments" last
    assert result.organisation.count == 10  # a comment in two groups counts once


# ------------------------------------------------------------------ readers


def test_a_department_head_sees_the_organisation_and_their_subtree(app, client, in_app):
    comments = {"COM": remarks("com", 10), "IT": remarks("it", 10), "IT-OPS": remarks("ops", 10)}
    with in_app() as make:
        campaign_id = build(make, comments)
    login(client, HEAD)
    page = client.get(f"/results/campaigns/{campaign_id}/comments")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "IT operations" in text and "com remark number 00" in text  # in the organisation's
    assert "Communication" not in text
    body = client.get(f"/api/v1/campaigns/{campaign_id}/comments").get_json()
    assert {d["code"] for d in body["departments"]} == {"IT", "IT-OPS"}
    assert body["organisation"]["comments"] == 30


def test_the_page_shows_text_escaped_and_nothing_below_the_threshold(client, in_app):
    with in_app() as make:
        shown_id = build(make, {"COM": ["<b>bold</b> " + "x" * 300, *remarks("com", 9)]})
    login(client, MANAGER)
    text = client.get(f"/results/campaigns/{shown_id}/comments").get_data(as_text=True)
    assert "&lt;b&gt;bold&lt;/b&gt;" in text and "<b>bold</b>" not in text
    assert 'class="review-comment"' in text  # the class that wraps long words


def test_the_page_of_a_campaign_below_the_threshold_says_when_comments_appear(client, in_app):
    with in_app() as make:
        campaign_id = build(make, {"COM": remarks("com", 9)})
    login(client, MANAGER)
    text = client.get(f"/results/campaigns/{campaign_id}/comments").get_data(as_text=True)
    assert "Comments are shown from 10 comments on" in text
    assert "remark" not in text


def test_an_open_campaign_answers_409_on_the_page_and_the_api(client, in_app):
    with in_app() as make:
        campaign_id = build(make, {"COM": remarks("com", 12)}, close=False)
    login(client, MANAGER)
    page = client.get(f"/results/campaigns/{campaign_id}/comments")
    assert page.status_code == 409 and "remark" not in page.get_data(as_text=True)
    api = client.get(f"/api/v1/campaigns/{campaign_id}/comments")
    assert api.status_code == 409 and "remark" not in api.get_data(as_text=True)


def test_the_review_of_an_open_campaign_shows_text_without_a_count(client, in_app):
    with in_app() as make:
        campaign_id = build(make, {"COM": remarks("com", 12)}, close=False)
    login(client, CONSULTANT)
    page = client.get(f"/consultant/campaigns/{campaign_id}/comments").get_data(as_text=True)
    assert "remark" in page and "Comments so far" in page
    assert "12 comments" not in page


@pytest.mark.parametrize(
    ("written", "state"),
    [({"COM": 12, "IT": 10}, "shown"), ({"COM": 9}, "too_few"), ({}, "none")],
    ids=["shown", "too-few", "none"],
)
def test_the_api_answers_match_the_openapi_document(app, in_app, written, state):
    with in_app() as make:
        campaign_id = build(make, {code: remarks(code, n) for code, n in written.items()})
    app.test_client_class = OpenApiCheckedClient
    client = app.test_client()
    login(client, MANAGER)
    response = client.get(f"/api/v1/campaigns/{campaign_id}/comments")  # checked on receipt
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == state
    assert (body["organisation"] is None) == (state != "shown")


# ------------------------------------------------------------------ hiding


def test_managers_cannot_review_or_hide(client, in_app):
    with in_app() as make:
        campaign_id = build(make, {"COM": remarks("com", 10)})
    login(client, MANAGER)
    assert client.get(f"/consultant/campaigns/{campaign_id}/comments").status_code == 403
    hide_url = f"/consultant/campaigns/{campaign_id}/comments/hide"
    token = csrf_token(client.get("/auth/account").get_data(as_text=True))
    refused = client.post(hide_url, data={"comment": "0" * 16, "csrf_token": token})
    assert refused.status_code == 403


def test_a_consultant_hides_a_comment_after_a_check_and_the_log_holds_no_text(app, client, in_app):
    with in_app() as make:
        campaign_id = build(make, {"COM": ["Jan Jansen shouts at us", *remarks("com", 10)]})
    login(client, CONSULTANT)
    review = client.get(f"/consultant/campaigns/{campaign_id}/comments").get_data(as_text=True)
    assert "Jan Jansen shouts at us" in review
    start = review.index("Jan Jansen shouts at us")
    link = review[start:].split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    check = client.get(link)
    assert check.status_code == 200 and "Hiding cannot be undone" in check.get_data(as_text=True)
    ref = link.rsplit("comment=", 1)[1]
    done = client.post(
        link, data={"comment": ref, "csrf_token": csrf_token(check.get_data(as_text=True))}
    )
    assert done.status_code == 302
    page = client.get(f"/results/campaigns/{campaign_id}/comments").get_data(as_text=True)
    assert "Jan Jansen" not in page and "com remark number 00" in page
    with app.app_context():
        from surveyapp.extensions import db
        from surveyapp.models import AuditEvent

        events = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.event == "comment_hidden")
        ).all()
    assert len(events) == 1
    assert f"campaign {campaign_id}" in events[0].detail
    assert "Jan" not in events[0].detail and "shouts" not in events[0].detail
    again = client.get(link)  # already hidden: back to the list, nothing changes
    assert again.status_code == 302


def test_an_unknown_reference_changes_nothing(client, in_app):
    with in_app() as make:
        campaign_id = build(make, {"COM": remarks("com", 10)})
    login(client, CONSULTANT)
    response = client.get(
        f"/consultant/campaigns/{campaign_id}/comments/hide?comment=ffffffffffffffff",
        follow_redirects=True,
    )
    assert "There is no comment with that reference" in response.get_data(as_text=True)


# ------------------------------------------------------------------ the PDF


def _pdf_text(data: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
@pytest.mark.parametrize("written", [10, 9])
def test_the_pdf_holds_a_comment_only_when_it_is_shown(make, written):
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.pdf import render_campaign_pdf

    texts = ["Zebrafinches sing in the canteen", *remarks("com", written - 1)]
    campaign_id = build(make, {"COM": texts})
    text = _pdf_text(render_campaign_pdf(db.session.get(Campaign, campaign_id), "en"))
    assert "Staff comments" in text
    if written >= 10:
        assert "Zebrafinches sing in the canteen" in text
    else:
        assert "Zebrafinches" not in text
        assert "Comments are shown from 10 comments" in " ".join(text.split())
