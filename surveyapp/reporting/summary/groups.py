"""Departments and roles that differ, and whether staff agree within departments."""

from __future__ import annotations

from ..certainty import Certainty
from .base import (
    MAX_NAMED,
    SEVERAL_DIMENSIONS,
    Paragraph,
    _shown,
    _verdict,
    _WriterBase,
)


class GroupParagraphs(_WriterBase):
    """Departments and roles, top management, and agreement within departments."""

    def groups(self) -> Paragraph:
        _ = self.gettext
        sentences = self.departments_differ() + self.top_management()
        return Paragraph("groups", _("Departments and roles"), tuple(sentences))

    def departments_differ(self) -> list[str]:
        _ = self.gettext
        shown = _shown(self.view)
        counts: dict[str, dict[int, int]] = {}
        names: dict[str, str] = {}
        for d in shown:
            for group in d.departments:
                if group.suppressed:
                    continue
                names[group.code] = group.name
                verdict, sign = _verdict(group.vs_rest)
                per = counts.setdefault(group.code, {1: 0, -1: 0})
                if verdict is Certainty.CLEAR:
                    per[sign] += 1
        if len(names) < 2:
            return [
                _(
                    "Departments are not compared: fewer than two departments have enough "
                    "respondents to be shown."
                )
            ]
        several = max(1, min(SEVERAL_DIMENSIONS, len(shown)))
        sentences = []
        for sign in (1, -1):
            hits = sorted(
                ((code, per[sign]) for code, per in counts.items() if per[sign] >= several),
                key=lambda hit: -hit[1],
            )
            if not hits:
                continue
            listed = [
                self.ngettext("%(name)s (%(num)d dimension)", "%(name)s (%(num)d dimensions)", n)
                % {"name": names[code], "num": n}
                for code, n in hits[:MAX_NAMED]
            ]
            if len(hits) > MAX_NAMED:
                rest = len(hits) - MAX_NAMED
                listed.append(
                    self.ngettext("%(num)d other department", "%(num)d other departments", rest)
                    % {"num": rest}
                )
            sentences.append(
                self.ngettext(
                    "Departments that score %(verdict)s than the rest of the organisation on "
                    "the one dimension shown: %(departments)s.",
                    "Departments that score %(verdict)s than the rest of the organisation on "
                    "%(min)d or more dimensions: %(departments)s.",
                    several,
                )
                % {
                    "verdict": self.claim(Certainty.CLEAR, sign),
                    "min": several,
                    "departments": self.names(listed),
                }
            )
        if not sentences:
            sentences.append(
                self.ngettext(
                    "No department scores clearly higher or clearly lower than the rest of "
                    "the organisation on the one dimension shown.",
                    "No department scores clearly higher or clearly lower than the rest of "
                    "the organisation on %(min)d or more dimensions.",
                    several,
                )
                % {"min": several}
            )
        return sentences

    def top_management(self) -> list[str]:
        _ = self.gettext
        rows = [(d, d.gap) for d in _shown(self.view) if d.gap]
        if not rows:
            return [
                _(
                    "Top management and the rest of the staff are not compared: too few "
                    "people in top management, or too few others, answered to compare them "
                    "without revealing individual answers."
                )
            ]
        return self.differences(
            rows,
            higher=_("more positively"),
            lower=_("less positively"),
            first=_(
                "Top management sees %(num)d of the %(total)d dimensions %(verdict)s than "
                "the rest of the staff: %(dimensions)s."
            ),
            more=_("It sees %(num)d of the %(total)d dimensions %(verdict)s: %(dimensions)s."),
            none=lambda total: self.ngettext(
                "On %(dimensions)s there is %(verdict)s between top management and the rest "
                "of the staff.",
                "On all %(total)d dimensions there is %(verdict)s between top management "
                "and the rest of the staff.",
                total,
            ),
            every=lambda total: self.ngettext(
                "Top management sees %(dimensions)s %(verdict)s than the rest of the staff.",
                "Top management sees all %(total)d dimensions %(verdict)s than the rest of "
                "the staff.",
                total,
            ),
        )

    def agreement(self) -> Paragraph | None:
        _ = self.gettext
        title = _("Agreement within departments")
        disagree: dict[str, list[str]] = {}
        names: dict[str, str] = {}
        known = 0
        for d in _shown(self.view):
            for group in d.departments:
                if group.suppressed or group.agreement_ok is None:
                    continue
                known += 1
                names[group.code] = group.name
                if group.agreement_ok is False:
                    disagree.setdefault(group.code, []).append(d.name)
        if not known:
            return None
        if not disagree:
            return Paragraph(
                "agreement",
                title,
                (
                    _(
                        "Within every department shown, staff largely agree with each other, "
                        "so each department's average is a fair summary of its answers."
                    ),
                ),
            )
        listed = [
            _("%(name)s (on %(dimensions)s)")
            % {"name": names[code], "dimensions": self.names(dims)}
            if len(dims) <= 3
            else self.ngettext(
                "%(name)s (on %(num)d dimension)", "%(name)s (on %(num)d dimensions)", len(dims)
            )
            % {"name": names[code], "num": len(dims)}
            for code, dims in sorted(disagree.items(), key=lambda item: -len(item[1]))
        ]
        return Paragraph(
            "agreement",
            title,
            (
                _(
                    "Staff do not agree with each other in %(departments)s: some answer "
                    "positively, others negatively, so the average hides opposing views."
                )
                % {"departments": self.names(listed)},
                _("Talk with these teams before acting on their figures."),
            ),
        )
