"""Pages for managers (their organisation) and consultants (all organisations)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, g, redirect, render_template, url_for

from ..extensions import db
from ..models import Campaign, CampaignDepartment, Organisation, Response
from .auth import login_required

bp = Blueprint("admin", __name__)


def _visible_organisations() -> list[Organisation]:
    query = sa.select(Organisation).order_by(Organisation.name)
    if g.user.role == "manager":
        query = query.where(Organisation.id == g.user.organisation_id)
    return list(db.session.scalars(query))


@bp.route("/")
def index():
    if g.user is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for("admin.home"))


@bp.route("/organisations")
@login_required
def home():
    # The result pages replace these lists: consultants start at every organisation,
    # a manager at their own organisation's campaigns.
    if g.user.role == "consultant":
        return redirect(url_for("consultant.organisations"))
    organisations = _visible_organisations()
    if g.user.role == "manager" and len(organisations) == 1:
        return redirect(url_for("dashboard.organisation", organisation_id=organisations[0].id))
    counts = dict(
        db.session.execute(
            sa.select(Campaign.organisation_id, sa.func.count(Response.id))
            .join(Response, Response.campaign_id == Campaign.id)
            .group_by(Campaign.organisation_id)
        ).all()
    )
    return render_template("admin/organisations.html", organisations=organisations, counts=counts)


@bp.route("/organisations/<int:organisation_id>")
@login_required
def organisation(organisation_id: int):
    org = db.get_or_404(Organisation, organisation_id)
    if g.user.role == "manager" and g.user.organisation_id != org.id:
        abort(403)
    counts = dict(
        db.session.execute(
            sa.select(Response.campaign_id, sa.func.count(Response.id))
            .join(Campaign, Campaign.id == Response.campaign_id)
            .where(Campaign.organisation_id == org.id)
            .group_by(Response.campaign_id)
        ).all()
    )
    headcounts = dict(
        db.session.execute(
            sa.select(CampaignDepartment.campaign_id, sa.func.sum(CampaignDepartment.headcount))
            .join(Campaign, Campaign.id == CampaignDepartment.campaign_id)
            .where(Campaign.organisation_id == org.id)
            .group_by(CampaignDepartment.campaign_id)
        ).all()
    )
    return render_template(
        "admin/organisation.html", organisation=org, counts=counts, headcounts=headcounts
    )
