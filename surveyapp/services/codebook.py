"""The codebook of an answer file: what every column and every code means, in one language.

Built from the questionnaire version the campaign used and from the answer file's
release decision (``release.answer_file_release``), so the codebook describes exactly
the file it comes with. The CSV, the Excel workbook and the SPSS file all take their
variable names, labels, value labels and missing codes from here.

Missing answers carry two codes, both negative: ``-1`` for "don't know" (the respondent
chose that option) and ``-2`` for no answer (the question was left open). Negative codes
can never be a scale value (a questionnaire's scale runs from 0 or 1 up to at most 100),
so the same two codes hold for every questionnaire version; 8 and 9, common in other
tools, are real answers on a 0-10 scale. The SPSS file declares both as missing values.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _

from ..models import Campaign
from ..questionnaires import Questionnaire, pick_text
from .campaigns import campaign_departments
from .release import (
    COMMENTS_WITHHELD,
    DEPARTMENT_WITHHELD,
    ROLE_WITHHELD,
    AnswerFileRelease,
)

DONT_KNOW = -1
NO_ANSWER = -2

# SPSS: names of at most 64 bytes, not one of its reserved words.
SPSS_NAME_BYTES = 64
SPSS_RESERVED = frozenset(
    ["all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to", "with"]
)


@dataclass(frozen=True, slots=True)
class ValueLabel:
    """One code of a variable and what it means; ``missing`` codes are not scores."""

    value: int | str
    label: str
    missing: bool = False


@dataclass(frozen=True, slots=True)
class Variable:
    """One column of the answer file."""

    name: str
    label: str
    kind: str  # department, role, item, comment or reason
    numeric: bool
    dimension: str = ""
    dimension_label: str = ""
    reverse: bool | None = None
    values: tuple[ValueLabel, ...] = ()


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason code as the file's reason column writes it, and what it means."""

    code: str
    text: str
    explanation: str


@dataclass(frozen=True, slots=True)
class Codebook:
    """Everything an answer file needs to be read without the app."""

    lang: str
    title: str
    organisation: str
    campaign: str
    questionnaire: str
    threshold: int
    comment_threshold: int
    variables: tuple[Variable, ...]
    item_ids: tuple[str, ...]
    reasons: tuple[Reason, ...]
    notes: tuple[str, ...]  # how the file protects respondents, in plain sentences
    words: Mapping[str, str]  # the codebook table's column titles and its yes/no words

    @property
    def names(self) -> list[str]:
        """The header row: one variable name per column."""
        return [v.name for v in self.variables]

    def reason_text(self, codes: tuple[str, ...]) -> str:
        """The reason column of a row with these reason codes."""
        texts = {r.code: r.text for r in self.reasons}
        return "; ".join(texts[code] for code in codes)

    def header(self) -> list[str]:
        """The column titles of :meth:`rows`."""
        return [
            self.words[key]
            for key in (
                "variable",
                "label",
                "type",
                "dimension",
                "dimension_label",
                "reverse",
                "value",
                "value_label",
                "missing",
            )
        ]

    def rows(self) -> Iterator[list[object]]:
        """The codebook as a table: a row per variable, then a row per code it uses."""
        yes, no = self.words["yes"], self.words["no"]
        for v in self.variables:
            kind = self.words["number" if v.numeric else "text"]
            reverse = "" if v.reverse is None else (yes if v.reverse else no)
            yield [v.name, v.label, kind, v.dimension, v.dimension_label, reverse, "", "", ""]
            for value in v.values:
                missing = yes if value.missing else ""
                yield [v.name, "", "", "", "", "", value.value, value.label, missing]
        for reason in self.reasons:
            yield ["reason", "", "", "", "", "", reason.text, reason.explanation, ""]


def variable_name(item_id: str, taken: set[str]) -> str:
    """An item id as a variable name that SPSS, R and Stata all accept, unique in ``taken``.

    Item ids are already lower-case letters, digits and underscores starting with a
    letter; only a reserved word or an id longer than 64 bytes needs changing.
    """
    name = item_id[:SPSS_NAME_BYTES]
    if name in SPSS_RESERVED:
        name += "_"
    base, number = name, 2
    while name in taken:
        suffix = f"_{number}"
        name = base[: SPSS_NAME_BYTES - len(suffix)] + suffix
        number += 1
    taken.add(name)
    return name


def build_codebook(
    campaign: Campaign,
    questionnaire: Questionnaire,
    release: AnswerFileRelease,
    lang: str,
) -> Codebook:
    """The codebook of ``campaign``'s answer file in ``lang`` (built eagerly, plain data)."""
    with force_locale(lang):
        return _build(campaign, questionnaire, release, lang)


def _build(
    campaign: Campaign, questionnaire: Questionnaire, release: AnswerFileRelease, lang: str
) -> Codebook:
    n, m = release.threshold, release.comment_threshold
    units = campaign_departments(campaign)
    listed = [u for u in units if u.department_id in release.rows_per_label]
    missing_codes = (
        ValueLabel(
            DONT_KNOW,
            pick_text(questionnaire.scale.dont_know, lang)
            if questionnaire.scale.dont_know
            else _("Don't know"),
            missing=True,
        ),
        ValueLabel(NO_ANSWER, _("No answer (question left open)"), missing=True),
    )
    scale = tuple(ValueLabel(p.value, pick_text(p.label, lang)) for p in questionnaire.scale.points)
    taken = {"department", "role_level", "comment", "reason"}
    items = []
    for item in questionnaire.items:
        dimension = questionnaire.dimension(item.dimension)
        items.append(
            Variable(
                name=variable_name(item.id, taken),
                label=pick_text(item.text, lang),
                kind="item",
                numeric=True,
                dimension=dimension.id,
                dimension_label=pick_text(dimension.name, lang),
                reverse=item.reverse,
                values=scale + missing_codes,
            )
        )
    role = questionnaire.background_question("role_level")
    variables = (
        Variable(
            name="department",
            label=_("Department (code); empty where withheld, see reason"),
            kind="department",
            numeric=False,
            values=tuple(ValueLabel(u.code, u.name) for u in listed),
        ),
        Variable(
            name="role_level",
            label=_("Role level; empty where withheld, see reason"),
            kind="role",
            numeric=False,
            values=tuple(ValueLabel(o.id, pick_text(o.label, lang)) for o in role.options),
        ),
        *items,
        Variable(
            name="comment",
            label=_("Comment in the respondent's own words"),
            kind="comment",
            numeric=False,
        ),
        Variable(
            name="reason",
            label=_("What is withheld in this row, and why"),
            kind="reason",
            numeric=False,
        ),
    )
    reasons = (
        Reason(
            DEPARTMENT_WITHHELD,
            _("department withheld: the results do not show this department on its own"),
            _(
                "A row shows its department only where the results show that department's "
                "own figures. The file is read beside those figures: a department of the "
                "file holding a few more people than the published one would give those "
                "few away. Rows of every other department share an empty department, and "
                "together they are at least %(n)d people.",
                n=n,
            ),
        ),
        Reason(
            ROLE_WITHHELD,
            _("role withheld: shown in every row or in none, and here in none"),
            _(
                "Some department has fewer than %(n)d people in a role level, so no row of "
                "this file shows its role. Emptying only the small groups would not protect "
                "them: the results show each role level of the whole organisation, and "
                "setting those figures against the rows that still show the role would "
                "single out the rest.",
                n=n,
            ),
        ),
        Reason(
            COMMENTS_WITHHELD,
            _("comments left out for this row's department"),
            _(
                "Comments are the most recognisable part of an answer. A row carries its "
                "comment only in a department with at least %(m)d people in this file and no "
                "department under it (a department's comment list on the results pages also "
                "holds its sub-departments' comments, so the difference would single those "
                "out). The comments page shows them in their protected lists. This applies "
                "to every row of the department, whether or not the person wrote a comment.",
                m=m,
            ),
        ),
    )
    notes = (
        _(
            "Each row holds one person's answers. The file has no names, e-mail addresses, "
            "links or dates, and the rows are in random order within each department."
        ),
        _(
            "Department: shown exactly where the results show that department's own "
            "figures; every other row has an empty department, together at least %(n)d "
            "people.",
            n=n,
        ),
        _(
            "Role level: shown in every row only when every department has no one or at "
            "least %(n)d people in each role level; otherwise left empty in every row.",
            n=n,
        ),
        _(
            "Comments appear only for departments with at least %(m)d people in this file and "
            "no department under them. Comments that a consultant hid because they could "
            "identify someone are left out.",
            m=m,
        ),
        _(
            "The column 'reason' says for each row what was withheld and why. Every row with "
            "the same department and role has the same reason, so the column tells nothing "
            "about a person that the other columns do not."
        ),
        _(
            "Answers are whole numbers from %(low)d to %(high)d. %(dk)d means 'don't know' and "
            "%(na)d means the question was left open: these are codes, not scores, so leave "
            "them out before computing a mean. The SPSS file declares them as missing values.",
            low=questionnaire.scale.min,
            high=questionnaire.scale.max,
            dk=DONT_KNOW,
            na=NO_ANSWER,
        ),
        _(
            "Statements marked 'reverse' are worded so that agreeing means less maturity. The "
            "file holds the answer as given; the reports score it as %(low)d + %(high)d minus "
            "the answer.",
            low=questionnaire.scale.min,
            high=questionnaire.scale.max,
        ),
    )
    return Codebook(
        lang=lang,
        title=pick_text(questionnaire.title, lang),
        organisation=campaign.organisation.name,
        campaign=campaign.name,
        questionnaire=f"{questionnaire.id} v{questionnaire.version}",
        threshold=n,
        comment_threshold=m,
        variables=variables,
        item_ids=tuple(item.id for item in questionnaire.items),
        reasons=reasons,
        notes=notes,
        words={
            "variable": _("variable"),
            "label": _("label"),
            "type": _("type"),
            "dimension": _("dimension"),
            "dimension_label": _("dimension name"),
            "reverse": _("reverse"),
            "value": _("value"),
            "value_label": _("value label"),
            "missing": _("missing"),
            "yes": _("yes"),
            "no": _("no"),
            "number": _("number"),
            "text": _("text"),
        },
    )
