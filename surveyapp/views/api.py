"""Read-only JSON API, ``/api/v1``: the campaigns a user may see and their analysis.

Authenticated by the browser session (a signed-in manager or consultant) or by an API
token in ``Authorization: Bearer <token>``. Every error is JSON. The OpenAPI 3.1
description is served at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from ..extensions import csrf, db
from ..models import Campaign, Organisation
from ..services.release import (
    ResultsNotReleased,
    opaque_tag,
    participation,
    response_counts,
    visible_response_count,
)
from ..services.reporting import campaign_version, memoised, released_report
from ..services.tokens import user_for_token
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
}


@bp.before_request
def authenticate():
    """Token first (a script), then the session (a browser); the public document needs none."""
    if request.endpoint in ("api.openapi", "api.index", "api.not_found"):
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, secret = header.partition(" ")
        user = user_for_token(secret.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            abort(401)
        db.session.commit()  # the token's "last used" day
        g.user = user
    elif g.get("user") is None:
        abort(401)
    return None


@bp.errorhandler(HTTPException)
def json_error(error: HTTPException):
    code = error.code or 500
    response = jsonify(
        {
            "error": {
                "status": code,
                "title": error.name,
                "detail": ERRORS.get(code, error.description),
            }
        }
    )
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="surveyapp"'
    if code == 405:
        response.headers["Allow"] = "GET, HEAD"
    return response


@bp.errorhandler(ResultsNotReleased)
def results_not_released(error: ResultsNotReleased):
    response = jsonify(
        {
            "error": {
                "status": 409,
                "title": "Results not released",
                "detail": str(error),
                "participation_url": url_for(
                    "api.campaign_participation",
                    campaign_id=request.view_args["campaign_id"],
                    _external=True,
                ),
            }
        }
    )
    response.status_code = 409
    return response


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
    query = sa.select(Campaign).order_by(Campaign.opens_on.desc(), Campaign.id.desc())
    if g.user.role != "consultant":
        query = query.where(Campaign.organisation_id == g.user.organisation_id)
    organisation = request.args.get("organisation", type=int)
    if organisation is not None:
        query = query.where(Campaign.organisation_id == organisation)
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


@bp.get("/campaigns/<int:campaign_id>/results")
def campaign_results(campaign_id: int):
    """The campaign's analysis: ``CampaignReport.to_dict()`` (docs/analysis-json.md).

    409 while the campaign is open: results are released once, when it closes.
    """
    campaign = _visible_campaign(campaign_id)
    # The ETag is an HMAC of the report's version: it changes when the figures do and
    # says nothing about counts or ids.
    etag = opaque_tag(current_app.config["SECRET_KEY"], "results", *campaign_version(campaign))
    if campaign.status == "closed" and etag in request.if_none_match:
        return Response(status=304, headers={"ETag": f'"{etag}"'})
    report = released_report(campaign)
    body = memoised(
        report,
        ("api",),
        lambda: json.dumps(report.to_dict(), allow_nan=False, ensure_ascii=False),
    )
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.get("/campaigns/<int:campaign_id>/participation")
def campaign_participation(campaign_id: int):
    """An open campaign's participation, rounded down to multiples of the threshold."""
    campaign = _visible_campaign(campaign_id)
    if campaign.status != "open":
        response = jsonify(
            {
                "error": {
                    "status": 409,
                    "title": "Not open",
                    "detail": f"Campaign {campaign.id} is {campaign.status}; participation is "
                    "reported while a campaign is open. A closed campaign's response counts "
                    "are in its results.",
                }
            }
        )
        response.status_code = 409
        return response
    response = jsonify(participation(campaign).to_dict())
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _visible_campaign(campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
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
