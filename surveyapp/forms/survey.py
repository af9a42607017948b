"""Survey page forms, built from questionnaire data."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from babel import support
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import AnyOf, DataRequired, InputRequired, Optional, ValidationError

from ..i18n import localised
from ..inputs import control_character_name
from ..questionnaires import BackgroundQuestion, Dimension, Questionnaire

DONT_KNOW = "dk"
# The longest comment stored. Longer text is refused with a message, never cut: the
# textarea has no maxlength, which would make a browser drop the end of pasted text.
COMMENT_LIMIT = 2000
# Form buttons: which way the respondent is going. Anything else is refused.
ACTIONS = ("next", "back", "submit")


@lru_cache(maxsize=4)
def _wtforms_translations(locale: str) -> support.Translations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class SurveyForm(FlaskForm):
    """Base class: knows which field names it accepts, so forged extra fields are caught."""

    class Meta:
        def get_translations(self, form):
            # WTForms' own messages in the page's language. Flask-WTF reads the catalogue
            # from disk for every request; it never changes, so each process keeps one.
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_translations(str(get_locale()))

    def unexpected_fields(self, submitted: Mapping[str, object]) -> list[str]:
        allowed = {field.name for field in self} | {"action"}
        return sorted(name for name in submitted if name not in allowed)


class LanguageForm(SurveyForm):
    # Bilingual on purpose: it is read before a language has been chosen.
    language = RadioField(
        "Kies je taal · Choose your language",
        choices=[SelectChoice("nl", "Nederlands"), SelectChoice("en", "English")],
        validators=[InputRequired(message=_l("Choose the language you want to answer in."))],
    )


class LanguageSwitchForm(SurveyForm):
    """The header's one-button switch to the other language on every survey page."""

    language = HiddenField(validators=[AnyOf(("nl", "en"))])


def item_field_name(item_id: str) -> str:
    return f"item-{item_id}"


def dimension_form(
    questionnaire: Questionnaire,
    dimension: Dimension,
    lang: str,
    saved: Mapping[str, int | None],
    shown: bool = False,
) -> SurveyForm:
    """A form with one radio group per item of this dimension, pre-filled from the draft.

    ``shown``: a form only to show, filled from the draft alone, never from the request's
    posted fields (the page that answers another step's POST).
    """
    data = {}
    for item in dimension.items:
        if item.id in saved:
            value = saved[item.id]
            data[item_field_name(item.id)] = DONT_KNOW if value is None else str(value)
    form_class = _dimension_form_class(questionnaire, dimension, lang)
    return form_class(formdata=None, data=data) if shown else form_class(data=data)


# A published questionnaire version never changes (its checksum is checked against the
# database), so each page's form class is built once per process and language.
_DIMENSION_FORMS: dict[tuple[str, int, str, str, str], type[SurveyForm]] = {}


def _dimension_form_class(
    questionnaire: Questionnaire, dimension: Dimension, lang: str
) -> type[SurveyForm]:
    key = (questionnaire.id, questionnaire.version, questionnaire.checksum, dimension.id, lang)
    form_class = _DIMENSION_FORMS.get(key)
    if form_class is None:
        form_class = _DIMENSION_FORMS[key] = _build_dimension_form(questionnaire, dimension, lang)
    return form_class


def _build_dimension_form(
    questionnaire: Questionnaire, dimension: Dimension, lang: str
) -> type[SurveyForm]:
    choices = [
        SelectChoice(str(p.value), localised(p.label, lang)) for p in questionnaire.scale.points
    ]
    if questionnaire.scale.dont_know:
        choices.append(SelectChoice(DONT_KNOW, localised(questionnaire.scale.dont_know, lang)))

    class DimensionForm(SurveyForm):
        pass

    for item in dimension.items:
        field = RadioField(
            localised(item.text, lang),
            choices=choices,
            validators=[
                InputRequired(
                    message=_l(
                        "Choose an answer for this statement, or “don't know” if you "
                        "cannot judge it."
                    )
                )
            ],
        )
        setattr(DimensionForm, item_field_name(item.id), field)
    return DimensionForm


def answers_from(form: SurveyForm, dimension: Dimension) -> dict[str, int | None]:
    """The page's answers as the draft stores them (None = don't know); unanswered left out."""
    answers: dict[str, int | None] = {}
    for item in dimension.items:
        raw = form[item_field_name(item.id)].data
        if raw in (None, "", "None"):
            continue
        answers[item.id] = None if raw == DONT_KNOW else int(raw)
    return answers


def background_form(
    questions: tuple[BackgroundQuestion, ...],
    lang: str,
    saved: Mapping[str, str | None],
    shown: bool = False,
) -> SurveyForm:
    """The background questions, pre-filled; ``shown`` as for :func:`dimension_form`."""

    class BackgroundForm(SurveyForm):
        pass

    for question in questions:
        validators = (
            [DataRequired(message=_l("Choose the option that fits you best."))]
            if question.required
            else [Optional()]
        )
        setattr(
            BackgroundForm,
            question.id,
            RadioField(
                localised(question.text, lang),
                choices=[SelectChoice(o.id, localised(o.label, lang)) for o in question.options],
                validators=validators,
            ),
        )
    return (
        BackgroundForm(formdata=None, data=dict(saved))
        if shown
        else BackgroundForm(data=dict(saved))
    )


def no_control_characters(form: SurveyForm, field) -> None:
    """Refuse invisible control characters (pasted text can bring them; none can be stored)."""
    character = control_character_name(field.data or "")
    if character:
        raise ValidationError(
            _(
                "Your comment contains an invisible control character (%(character)s) that "
                "cannot be stored. Remove it, for example by typing that part again instead "
                "of pasting it.",
                character=character,
            )
        )


def within_comment_limit(form: SurveyForm, field) -> None:
    """Refuse a comment over the limit, saying how long it is (no silent cutting)."""
    # Browsers send a line break as two characters; the live count and a reader see one.
    length = len((field.data or "").replace("\r\n", "\n"))
    if length > COMMENT_LIMIT:
        raise ValidationError(
            _(
                "Your comment has %(count)d characters; the limit is %(limit)d. "
                "Shorten it by %(over)d characters.",
                count=length,
                limit=COMMENT_LIMIT,
                over=length - COMMENT_LIMIT,
            )
        )


class CommentForm(SurveyForm):
    comment = TextAreaField(
        _l("Comment (optional)"),
        validators=[Optional(), within_comment_limit, no_control_characters],
    )


class SubmitForm(SurveyForm):
    pass
