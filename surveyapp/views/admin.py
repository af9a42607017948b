"""Where a signed-in user starts: consultants at all organisations, managers at their own."""

from __future__ import annotations

from flask import Blueprint, g, redirect, url_for

from .auth import login_required

bp = Blueprint("admin", __name__)


@bp.route("/")
def index():
    if g.user is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.home"))


@bp.route("/organisations")
@login_required
def home():
    if g.user.role == "consultant":
        return redirect(url_for("consultant.organisations"))
    return redirect(url_for("dashboard.organisation", organisation_id=g.user.organisation_id))
