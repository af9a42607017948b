"""Read-only JSON API, ``/api/v1``: the campaigns a user may see and their analysis.

Authenticated by the browser session (a signed-in manager or consultant) or by an API
token in ``Authorization: Bearer <token>``. Every answer is JSON, errors included (also
an unexpected one: a 500 is ``{"error": ...}`` too, and its log line holds no request
data). The OpenAPI 3.1 description is served at ``/api/v1/openapi.json``; the tests
check every answer against it.
"""

from __future__ import annotations

import json
import re
import traceback
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, g, jsonify, request, url_for
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from ..extensions import csrf, db
from ..models import Campaign, Organisation
from ..services.release import (
    ResultsNotReleased,
    ensure_results_released,
    opaque_tag,
    participation,
    response_counts,
    visible_response_count,
)
from ..services.reporting import campaign_version, memoised, released_report
from ..services.scope import department_scope, scoped_participation, scoped_report
from ..services.tokens import TokenRefused, user_for_token
from .dashboard import may_see

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Nothing here changes state, and token requests carry no CSRF token.
csrf.exempt(bp)

OPENAPI = Path(__file__).resolve().parent.parent / "static" / "openapi.json"
ERRORS = {
    400: "The request could not be understood.",
    401: "Sign in, or send an API token in the header 'Authorization: Bearer <token>'.",
    403: "Your account may not see this organisation's results.",
    404: "There is nothing at this address. Check the id.",
    405: "This endpoint only answers GET.",
    500: "Something went wrong on our side; nothing was changed. Try again later, and if it "
    "keeps happening, tell the administrator the time it happened.",
}
PUBLIC_ENDPOINTS = ("api.openapi", "api.index", "api.not_found")
# An id in an address or a query: a whole number from 1. Ids in addresses are plain path
# segments, not <int:...>, because a converter that refuses a value (too many digits for
# the database) ends routing with the app's HTML 404; here the view answers a JSON one.
ID = re.compile(r"[1-9][0-9]{0,99}")
# The largest id a row can have (SQLite's 64-bit rowid). A larger number is no row, not an
# error: the SQLite driver would overflow on it.
LARGEST_ID = 2**63 - 1


def parse_id(text: str) -> int | None:
    """The id ``text`` spells, or None if it is not one (then no row has it)."""
    if not ID.fullmatch(text):
        return None
    value = int(text)
    return value if value <= LARGEST_ID else None


def id_is(column: sa.ColumnElement[int], value: int) -> sa.ColumnElement[bool]:
    """``column = value`` compared as BIGINT: PostgreSQL's ids are 32-bit, and a larger
    number sent as INTEGER is an error there, where it should simply match no row."""
    return column == sa.literal(value, sa.BigInteger)


def error_response(status: int, title: str, detail: str, **extra: str):
    """The one shape of every error: ``{"error": {"status", "title", "detail", ...}}``."""
    response = jsonify({"error": {"status": status, "title": title, "detail": detail, **extra}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="surveyapp"'
    if status == 405:
        response.headers["Allow"] = "GET, HEAD"
    return response


@bp.before_request
def authenticate():
    """Token first (a script), then the session (a browser); the public document needs none."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer":
            abort(401)
        try:
            g.user = user_for_token(secret.strip())
        except TokenRefused as refused:
            return error_response(401, "Unauthorized", str(refused))
        db.session.commit()  # the token's "last used" day
    elif g.get("user") is None or g.user.disabled:
        abort(401)
    return None


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException):
    """Werkzeug's errors in our words; a sentence raised on purpose (a refused input) as is."""
    code = error.code or 500
    detail = error.description
    if code in ERRORS and detail == type(error).description:
        detail = ERRORS[code]
    return error_response(code, error.name, detail or error.name)


@bp.errorhandler(Exception)
def unexpected_error(error: Exception):
    """A bug: JSON like every other answer, and a log line with where, never with what.

    The message of an exception can quote what was sent (a value that failed to parse), so
    the log gets the exception's type, the endpoint and the code locations only.
    """
    current_app.logger.error(
        "Unhandled %s in %s\n%s",
        type(error).__name__,
        request.endpoint,
        "".join(traceback.format_tb(error.__traceback__)),
    )
    return error_response(500, "Internal Server Error", ERRORS[500])


@bp.errorhandler(ResultsNotReleased)
def results_not_released(error: ResultsNotReleased):
    return error_response(
        409,
        "Results not released",
        str(error),
        participation_url=url_for(
            "api.campaign_participation",
            campaign_id=request.view_args["campaign_id"],
            _external=True,
        ),
    )


def _campaign_entry(campaign: Campaign, responses: int) -> dict:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "status": campaign.status,
        "opens_on": campaign.opens_on.isoformat(),
        "closes_on": campaign.closes_on.isoformat(),
        "organisation": {"id": campaign.organisation.id, "name": campaign.organisation.name},
        # Rounded while open, exact once closed, null under the threshold.
        "responses": visible_response_count(campaign, responses),
        "results_url": url_for("api.campaign_results", campaign_id=campaign.id, _external=True),
    }


@bp.get("/campaigns")
def campaigns():
    """The campaigns of the organisations the user may see, newest first."""
    query = (
        sa.select(Campaign)
        .options(selectinload(Campaign.organisation))
        .order_by(Campaign.opens_on.desc(), Campaign.id.desc())
    )
    if g.user.role != "consultant":
        query = query.where(Campaign.organisation_id == g.user.organisation_id)
    organisation = request.args.get("organisation")
    if organisation is not None:
        if not ID.fullmatch(organisation):
            return error_response(
                400,
                "Bad Request",
                "The parameter 'organisation' must be an organisation's id, a whole number "
                "from 1; the ids are in /api/v1/organisations.",
            )
        wanted = parse_id(organisation)
        query = query.where(id_is(Campaign.organisation_id, wanted) if wanted else sa.false())
    rows = list(db.session.scalars(query))
    counts = response_counts([c.id for c in rows])
    return jsonify({"campaigns": [_campaign_entry(c, int(counts.get(c.id, 0))) for c in rows]})


@bp.get("/organisations")
def organisations():
    """The organisations the user may see."""
    query = sa.select(Organisation).order_by(Organisation.name)
    if g.user.role != "consultant":
        query = query.where(Organisation.id == g.user.organisation_id)
    return jsonify(
        {
            "organisations": [
                {"id": o.id, "name": o.name, "sector": o.sector, "size_band": o.size_band}
                for o in db.session.scalars(query)
            ]
        }
    )


@bp.get("/campaigns/<campaign_id>/results")
def campaign_results(campaign_id: str):
    """The campaign's analysis: ``CampaignReport.to_dict()`` (docs/analysis-json.md).

    409 while the campaign is open: results are released once, when it closes.
    """
    campaign = _visible_campaign(campaign_id)
    # The ETag is an HMAC of the report's version: it changes when the figures do and
    # says nothing about counts or ids.
    # A department head reads their subtree only (services/scope.py); the tag names the
    # scope too, so a browser never reuses one reader's body for another.
    scope = department_scope(g.user, campaign)
    etag = opaque_tag(
        current_app.config["SECRET_KEY"],
        "results",
        *campaign_version(campaign),
        *sorted(scope if scope is not None else ("*",)),
    )
    if campaign.status == "closed" and etag in request.if_none_match:
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    report = scoped_report(released_report(campaign), scope)
    body = memoised(
        report,
        ("api",),
        lambda: json.dumps(report.to_dict(), allow_nan=False, ensure_ascii=False),
    )
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/campaigns/<campaign_id>/participation")
def campaign_participation(campaign_id: str):
    """An open campaign's participation, rounded down to multiples of the threshold."""
    campaign = _visible_campaign(campaign_id)
    if campaign.status != "open":
        return error_response(
            409,
            "Not open",
            f"Campaign {campaign.id} is {campaign.status}; participation is reported while a "
            "campaign is open. A closed campaign's response counts are in its results.",
        )
    result = scoped_participation(participation(campaign), department_scope(g.user, campaign))
    response = jsonify(result.to_dict())
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/campaigns/<campaign_id>/comments")
def campaign_comments(campaign_id: str):
    """Staff comments of a closed campaign, text only (services/comments.py); 409 while open."""
    from ..services.comments import campaign_comments as released_comments

    campaign = _visible_campaign(campaign_id)
    # Dimension ids, not names: the API is language-neutral, as the results are.
    result = released_comments(campaign, "en", department_scope(g.user, campaign))
    response = jsonify(result.to_dict())
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/campaigns/<campaign_id>/action-plan")
def campaign_action_plan(campaign_id: str):
    """A closed campaign's action plan, and the previous campaign's with each focus
    dimension's change since then (services/action_plans.py); 409 while open."""
    from ..services import action_plans

    campaign = _visible_campaign(campaign_id)
    ensure_results_released(campaign)
    # Dimension ids and status codes: the API is language-neutral, as the results are.
    plan = action_plans.plan_summary(campaign, "en")
    previous = action_plans.follow_up(campaign, "en")
    response = jsonify(
        {
            "campaign_id": campaign.id,
            "plan": plan.to_dict() if plan else None,
            "previous_plan": previous.to_dict() if previous else None,
        }
    )
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _visible_campaign(campaign_id: str) -> Campaign:
    """The campaign at this address: 404 if there is none, 403 if the user may not see it."""
    wanted = parse_id(campaign_id)
    campaign = None
    if wanted is not None:
        campaign = db.session.scalar(sa.select(Campaign).where(id_is(Campaign.id, wanted)))
    if campaign is None:
        abort(404)
    if not may_see(campaign.organisation_id):
        abort(403)
    return campaign


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return Response(OPENAPI.read_bytes(), mimetype="application/json")


@bp.get("/")
def index():
    """Where to start: the description of the API."""
    return jsonify({"openapi": url_for("api.openapi", _external=True)})


@bp.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(anything: str):
    """Unknown addresses and methods under /api/v1 answer in JSON too (the app's own error
    pages are HTML): every endpoint is read-only, so anything but GET is 405."""
    abort(404 if request.method == "GET" else 405)
