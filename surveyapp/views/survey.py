"""The staff survey: invitation link → language → introduction → pages → comment → review."""

from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh

from ..extensions import db
from ..forms.survey import (
    COMMENT_LIMIT,
    CommentForm,
    LanguageForm,
    LanguageSwitchForm,
    SubmitForm,
    SurveyForm,
    answers_from,
    background_form,
    dimension_form,
)
from ..i18n import localised
from ..inputs import checked_by_form
from ..models import Campaign, Invitation, today
from ..services import ServiceError
from ..services.drafts import DraftContent, DraftKey, DraftUnreadable, draft_key
from ..services.invitations import find_survey_invitation
from ..services.questionnaires import questionnaire_for
from ..services.responses import (
    AlreadySubmitted,
    NotAccepting,
    discard_draft,
    empty_write_ahead_log,
    get_or_create_draft,
    read_draft,
    save_draft,
    save_draft_answers,
    submit_response,
)

bp = Blueprint("survey", __name__, url_prefix="/s")

# The thank-you page comes after the link is spent: the session remembers which campaign
# it was (never the invitation), so the page can say when the results will be shared.
DONE_CAMPAIGN = "survey_done_campaign"
# A page opened from the review's "Change" link carries ?from=review, and its form posts
# back to the same address, so "Continue" returns to the review (GOV.UK check answers).
FROM_REVIEW = "review"


class SurveyStop(Exception):
    """A link that cannot be used now: rendered as a page in the respondent's language."""

    def __init__(self, template: str, status: int, **context):
        self.template, self.status, self.context = template, status, context


@bp.before_request
def _keep_loaded_rows_after_commit() -> None:
    """A step commits its draft and then shows the next page from the invitation and
    campaign loaded at the start of the request: without this, the commit expires them
    and the page loads each again (three SELECTs after every step's POST)."""
    db.session().expire_on_commit = False


@bp.errorhandler(SurveyStop)
def _stop(stop: SurveyStop):
    return render_template(stop.template, today=today(), **stop.context), stop.status


def _load(token: str) -> tuple[Invitation, DraftKey, DraftContent | None]:
    """The invitation for this link, if it can still be answered, its draft's key and draft."""
    invitation = find_survey_invitation(token)
    if invitation is None:
        raise SurveyStop("survey/unknown_link.html", 404)
    key = draft_key(token)
    draft = _readable_draft(invitation, key)
    if draft is not None and draft.language:
        g.survey_language = draft.language
    campaign = invitation.campaign
    if invitation.used:
        raise SurveyStop("survey/already_received.html", 410)
    if campaign.status == "closed" or (campaign.status == "open" and today() > campaign.closes_on):
        raise SurveyStop("survey/closed.html", 410, campaign=campaign)
    if campaign.status == "draft" or today() < campaign.opens_on:
        raise SurveyStop("survey/not_open.html", 403, campaign=campaign)
    g.questionnaire = questionnaire_for(campaign.questionnaire_version)
    return invitation, key, draft


def _readable_draft(invitation: Invitation, key: DraftKey) -> DraftContent | None:
    try:
        return read_draft(invitation, key)
    except DraftUnreadable as exc:
        # Only this link's key can open the draft and it does not, so no one can ever
        # read it: keeping it would only lock the respondent out. They start afresh.
        current_app.logger.warning("survey draft discarded: %s", exc)
        discard_draft(invitation)
        db.session.commit()
        return None


def _steps(questionnaire) -> list[str]:
    return [
        "language",
        "intro",
        "about",
        *(f"page-{i}" for i in range(1, len(questionnaire.dimensions) + 1)),
        "comment",
        "review",
    ]


def _go(token: str, step: str):
    return redirect(url_for("survey.step", token=token, step=step))


def _neighbour(steps: list[str], step: str, offset: int) -> str:
    return steps[max(0, min(len(steps) - 1, steps.index(step) + offset))]


def _from_review() -> bool:
    return request.args.get("from") == FROM_REVIEW


def _refuse_extra_fields(form: SurveyForm) -> list[str]:
    unexpected = form.unexpected_fields(request.form)
    if unexpected:
        return [
            _(
                "The form contained fields it does not have (%(names)s); nothing was saved. "
                "Reload the page and answer again.",
                names=", ".join(unexpected[:3]),
            )
        ]
    return []


def _replace_choice_errors(form: SurveyForm) -> None:
    for field in form:
        if any("Not a valid choice" in str(e) for e in field.errors):
            field.errors = [_("That answer is not one of the options. Choose one of the options.")]


@bp.route("/<token>")
def start(token: str):
    """Entry point from the invitation e-mail: the step where the respondent stopped.

    Shown at once rather than redirected to: the page's form posts to the step's own
    address, and survey.js puts that address in the browser's history.
    """
    invitation, key, draft = _load(token)
    if draft is None:
        draft = get_or_create_draft(invitation, key)
        db.session.commit()
    step = draft.step if draft.step in _steps(g.questionnaire) else "language"
    if not draft.language:
        step = "language"
    return _show(token, step, invitation, key, draft)


@bp.route("/<token>/<step>", methods=["GET", "POST"])
@checked_by_form("comment")  # the comment page shows a control character beside the field
def step(token: str, step: str):
    """One step: a GET shows it; a POST saves it and answers with the page that follows.

    A step's POST answers with the next page itself instead of redirecting to it, so a
    survey takes one request per step, not two. That is safe to repeat: a step's POST
    writes that step's answers and where the respondent is, and sending the same form
    twice (a double click, a reload without JavaScript) writes the same thing again. Only
    the final submission, which cannot be repeated, still redirects (to the thank-you
    page). With JavaScript, survey.js replaces the history entry's address with the
    shown step's, so reload and the browser's Back button fetch pages with a GET.
    """
    invitation, key, draft = _load(token)
    questionnaire = g.questionnaire
    steps = _steps(questionnaire)
    if step not in steps:
        abort(404)
    if draft is None:
        draft = get_or_create_draft(invitation, key)
    if step != "language" and not draft.language:
        return _go(token, "language")
    from_review = _from_review()
    if request.method != "POST":
        return _show(token, step, invitation, key, draft, from_review=from_review)
    action = request.form.get("action", "next")
    if action not in ("next", "back", "submit"):
        abort(400)
    lang = draft.language or _browser_language()
    context = _context(token, invitation, step, lang, from_review)

    if step == "language":
        form = LanguageForm(data={"language": draft.language or lang})
        errors = _refuse_extra_fields(form)
        if not errors and form.validate_on_submit():
            saved = save_draft(
                invitation, key, replace(draft, language=form.language.data, step="intro")
            )
            return _move_to(token, "intro", invitation, key, saved)
        return _render("survey/language.html", form, errors, context)

    if step == "intro":
        form = SubmitForm()
        if form.validate_on_submit():
            saved = save_draft(invitation, key, replace(draft, step="about"))
            return _move_to(token, "about", invitation, key, saved)
        return _render("survey/intro.html", form, [], context)

    if step == "about":
        form = background_form(questionnaire.background, lang, {"role_level": draft.role_level})
        errors = _refuse_extra_fields(form)
        if not errors:
            if action == "back":
                going = "review" if from_review else "intro"
                saved = save_draft(invitation, key, replace(draft, step=going))
                return _move_to(token, going, invitation, key, saved)
            if form.validate_on_submit():
                going = "review" if from_review else "page-1"
                saved = save_draft(
                    invitation, key, replace(draft, role_level=form.role_level.data, step=going)
                )
                return _move_to(token, going, invitation, key, saved)
            _replace_choice_errors(form)
        return _render("survey/about.html", form, errors, context)

    if step.startswith("page-"):
        number = int(step.removeprefix("page-"))
        dimension = questionnaire.dimensions[number - 1]
        form = dimension_form(questionnaire, dimension, lang, draft.answers)
        context["dimension"] = dimension
        context["page_number"] = number
        errors = _refuse_extra_fields(form)
        if not errors:
            if action == "back":
                # Going back keeps whatever valid answers this page already has.
                form.validate()
                previous = "review" if from_review else _neighbour(steps, step, -1)
                answers = answers_from_valid(form, dimension)
                saved = save_draft_answers(invitation, key, questionnaire, answers, previous)
                return _move_to(token, previous, invitation, key, saved)
            if form.validate_on_submit():
                following = "review" if from_review else _neighbour(steps, step, 1)
                answers = answers_from(form, dimension)
                saved = save_draft_answers(invitation, key, questionnaire, answers, following)
                return _move_to(token, following, invitation, key, saved)
            _replace_choice_errors(form)
        return _render("survey/page.html", form, errors, context)

    if step == "comment":
        form = CommentForm(data={"comment": draft.comment or ""})
        errors = _refuse_extra_fields(form)
        if not errors and form.validate_on_submit():
            comment = (form.comment.data or "").strip() or None
            going = "review" if action != "back" or from_review else _neighbour(steps, step, -1)
            saved = save_draft(invitation, key, replace(draft, comment=comment, step=going))
            return _move_to(token, going, invitation, key, saved)
        _comment_context(context, invitation)
        return _render("survey/comment.html", form, errors, context)

    # review
    form = SubmitForm()
    errors = _refuse_extra_fields(form)
    if not errors and form.validate_on_submit():
        if action == "back":
            previous = _neighbour(steps, step, -1)
            saved = save_draft(invitation, key, replace(draft, step=previous))
            return _move_to(token, previous, invitation, key, saved)
        missing = _unanswered(questionnaire, draft)
        if missing:
            errors = [_("Some pages are not complete yet. Answer the statements listed below.")]
        elif draft.role_level is None:
            return _go(token, "about")
        else:
            try:
                submit_response(invitation, key)
            except AlreadySubmitted:
                db.session.rollback()
                raise SurveyStop("survey/already_received.html", 409) from None
            except NotAccepting:
                db.session.rollback()
                raise SurveyStop("survey/closed.html", 410, campaign=invitation.campaign) from None
            except ServiceError as exc:
                db.session.rollback()
                current_app.logger.warning("survey submission refused: %s", exc)
                errors = [str(exc)]
            else:
                db.session.commit()
                # After the commit, so the log holds no page that still has the draft.
                empty_write_ahead_log()
                session[DONE_CAMPAIGN] = invitation.campaign_id
                # The one redirect left: a reload of the thank-you page must not submit.
                return redirect(url_for("survey.done", lang=lang))
    return _show_review(invitation, key, draft, form, errors, context)


def _browser_language() -> str:
    return request.accept_languages.best_match(("nl", "en")) or "en"


def _context(token: str, invitation: Invitation, step: str, lang: str, from_review: bool) -> dict:
    """What every step's template is given."""
    steps = _steps(g.questionnaire)
    position = steps.index(step)
    address = {"from": FROM_REVIEW} if from_review else {}
    return {
        "token": token,
        "questionnaire": g.questionnaire,
        "campaign": invitation.campaign,
        "step": step,
        "lang": lang,
        "progress": (max(0, position - 2), len(steps) - 3),
        "back_step": _neighbour(steps, step, -1) if position > 0 else None,
        "from_review": from_review,
        # The form posts to its own step's address, whatever address showed the page.
        "step_url": url_for("survey.step", token=token, step=step, **address),
        # The header's switch to the other language: two hidden fields written by the
        # layout (a form object per page cost about 6 % of a survey request's CPU); the
        # switch's own view checks what comes back with LanguageSwitchForm.
        "switch_to": "en" if lang == "nl" else "nl",
    }


def _move_to(token: str, step: str, invitation: Invitation, key: DraftKey, draft: DraftContent):
    """After a step's POST is saved: commit, and answer with the page of ``step``."""
    db.session.commit()
    return _show(token, step, invitation, key, draft)


def _show(
    token: str,
    step: str,
    invitation: Invitation,
    key: DraftKey,
    draft: DraftContent,
    from_review: bool = False,
):
    """The page of ``step`` as a GET shows it, filled in from the draft."""
    if step != "language" and not draft.language:
        step = "language"
    questionnaire = g.questionnaire
    if draft.language and draft.language != g.get("survey_language"):
        # The language step's POST answers in the language just chosen.
        g.survey_language = draft.language
        refresh()
    lang = draft.language or _browser_language()
    context = _context(token, invitation, step, lang, from_review)
    # Forms only to show: filled from the draft, never from this request's posted fields
    # (a POST of another step, whose fields may share a name, such as the language).
    if step == "language":
        form = LanguageForm(formdata=None, data={"language": draft.language or lang})
        return _render("survey/language.html", form, [], context)
    if step == "intro":
        return _render("survey/intro.html", SubmitForm(formdata=None), [], context)
    if step == "about":
        saved = {"role_level": draft.role_level}
        form = background_form(questionnaire.background, lang, saved, shown=True)
        return _render("survey/about.html", form, [], context)
    if step.startswith("page-"):
        number = int(step.removeprefix("page-"))
        dimension = questionnaire.dimensions[number - 1]
        context["dimension"] = dimension
        context["page_number"] = number
        form = dimension_form(questionnaire, dimension, lang, draft.answers, shown=True)
        return _render("survey/page.html", form, [], context)
    if step == "comment":
        _comment_context(context, invitation)
        form = CommentForm(formdata=None, data={"comment": draft.comment or ""})
        return _render("survey/comment.html", form, [], context)
    return _show_review(invitation, key, draft, SubmitForm(formdata=None), [], context)


def _comment_context(context: dict, invitation: Invitation) -> None:
    context["comment_threshold"] = invitation.campaign.min_comment_group_size
    context["comment_limit"] = COMMENT_LIMIT


def _show_review(invitation, key, draft, form, errors, context):
    questionnaire = g.questionnaire
    context["missing"] = _unanswered(questionnaire, draft)
    context["draft"] = draft
    context["background"] = _background_answers(questionnaire, draft, context["lang"])
    if draft.step != "review":
        # Only when it changes: re-sealing would write a new blob on every view of the page.
        save_draft(invitation, key, replace(draft, step="review"))
    db.session.commit()
    return _render("survey/review.html", form, errors, context)


def answers_from_valid(form: SurveyForm, dimension) -> dict[str, int | None]:
    """Answers of fields that passed validation (used when going back from a page)."""
    from ..forms.survey import DONT_KNOW, item_field_name

    answers: dict[str, int | None] = {}
    for item in dimension.items:
        field = form[item_field_name(item.id)]
        if field.errors or field.data in (None, "", "None"):
            continue
        answers[item.id] = None if field.data == DONT_KNOW else int(field.data)
    return answers


def _background_answers(questionnaire, draft: DraftContent, lang: str) -> list[tuple[str, str]]:
    """(question, chosen option) for each background question, as the review lists them."""
    saved = {"role_level": draft.role_level}
    rows = []
    for question in questionnaire.background:
        chosen = next((o for o in question.options if o.id == saved.get(question.id)), None)
        rows.append(
            (
                localised(question.text, lang),
                localised(chosen.label, lang) if chosen else None,
            )
        )
    return rows


def _unanswered(questionnaire, draft: DraftContent) -> list[tuple[int, object]]:
    answers = draft.answers
    return [
        (number, item)
        for number, dimension in enumerate(questionnaire.dimensions, start=1)
        for item in dimension.items
        if item.id not in answers
    ]


def _render(template: str, form: SurveyForm, errors: list[str], context: dict):
    status = 400 if errors or form.errors else 200
    return render_template(template, form=form, extra_errors=errors, **context), status


@bp.route("/<token>/<step>/language", methods=["POST"])
def switch_language(token: str, step: str):
    """The header's language switch: change the draft's language and stay on the page."""
    invitation, key, draft = _load(token)
    steps = _steps(g.questionnaire)
    if step not in steps:
        abort(404)
    form = LanguageSwitchForm()
    if form.unexpected_fields(request.form) or not form.validate_on_submit():
        abort(400)
    if draft is None:
        draft = get_or_create_draft(invitation, key)
    # Only the language changes: answers, role level, comment and step are kept.
    save_draft(invitation, key, replace(draft, language=form.language.data))
    db.session.commit()
    if request.args.get("from") == FROM_REVIEW:
        return redirect(url_for("survey.step", token=token, step=step, **{"from": FROM_REVIEW}))
    return _go(token, step)


@bp.route("/done")
def done():
    if request.args.get("lang") in ("nl", "en"):
        g.survey_language = request.args["lang"]
    campaign_id = session.get(DONE_CAMPAIGN)
    campaign = db.session.get(Campaign, campaign_id) if isinstance(campaign_id, int) else None
    return render_template(
        "survey/done.html",
        campaign=campaign,
        language_link=lambda other: url_for("survey.done", lang=other),
    )


@bp.record_once
def _favicon_rule(state) -> None:
    # Browsers ask for /favicon.ico at the site's root whatever the page links to.
    state.app.add_url_rule("/favicon.ico", "survey.favicon", _favicon)


def _favicon():
    return redirect(url_for("static", filename="favicon.svg"), 301)
