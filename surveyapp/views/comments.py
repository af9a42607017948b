"""Staff comments: managers read the released ones, consultants review and hide them.

Two audiences, two blueprints: ``comments`` under /results (managers and consultants
read what ``services/comments.py`` releases, as the results pages do) and
``comment_review`` under /consultant (consultants read every comment of a campaign and
hide one that names a person, after a check page: hiding cannot be undone).
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField

from ..extensions import db
from ..models import Campaign
from ..services import ServiceError
from ..services.comments import campaign_comments, find_comment, hide_comment, review_comments
from ..services.release import ResultsNotReleased
from ..services.scope import department_scope
from .auth import consultant_required, login_required
from .dashboard import authorised_campaign, current_lang, results_not_released

bp = Blueprint("comments", __name__, url_prefix="/results")
review_bp = Blueprint("comment_review", __name__, url_prefix="/consultant")

# An open campaign's comments URL answers like every results URL: 409, results come later.
bp.register_error_handler(ResultsNotReleased, results_not_released)


@bp.route("/campaigns/<int:campaign_id>/comments")
@login_required
def comments(campaign_id: int):
    campaign = authorised_campaign(campaign_id)
    released = campaign_comments(campaign, current_lang(), department_scope(g.user, campaign))
    return render_template("comments/comments.html", campaign=campaign, comments=released)


class HideForm(FlaskForm):
    comment = HiddenField()


def _reviewable(campaign_id: int) -> Campaign | None:
    campaign = db.get_or_404(Campaign, campaign_id)
    if campaign.status == "draft":
        # A draft has no responses; say so rather than show an empty list.
        flash(_("This campaign has not opened yet, so there are no comments to review."))
        return None
    return campaign


@review_bp.route("/campaigns/<int:campaign_id>/comments")
@consultant_required
def review(campaign_id: int):
    campaign = _reviewable(campaign_id)
    if campaign is None:
        return redirect(url_for("setup.campaign", campaign_id=campaign_id))
    return render_template(
        "comments/review.html", campaign=campaign, comments=review_comments(campaign)
    )


@review_bp.route("/campaigns/<int:campaign_id>/comments/hide", methods=["GET", "POST"])
@consultant_required
def hide(campaign_id: int):
    campaign = _reviewable(campaign_id)
    if campaign is None:
        return redirect(url_for("setup.campaign", campaign_id=campaign_id))
    form = HideForm()
    ref = (form.comment.data if request.method == "POST" else request.args.get("comment")) or ""
    back = url_for("comment_review.review", campaign_id=campaign.id)
    try:
        comment = find_comment(campaign, ref.strip())
    except ServiceError as exc:
        flash(str(exc))
        return redirect(back)
    if comment.hidden:
        flash(_("This comment is already hidden; nothing was changed."))
        return redirect(back)
    error = None
    if form.validate_on_submit():
        try:
            hide_comment(campaign, comment.ref, g.user)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            flash(_("The comment is hidden. It no longer appears in any page, report or file."))
            return redirect(back)
    form.comment.data = comment.ref
    return render_template(
        "comments/hide.html", campaign=campaign, comment=comment, form=form, error=error
    )
