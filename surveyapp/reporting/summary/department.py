"""The paragraphs of a department's own report."""

from __future__ import annotations

from ..view import (
    Level,
)
from .base import (
    Paragraph,
    _department_rows,
    _WriterBase,
)


class DepartmentParagraphs(_WriterBase):
    """A department's response and its figures beside the organisation and the norm group."""

    def department_response(self) -> tuple[str, float | None] | None:
        """The department's own count and rate, in a department report."""
        _ = self.gettext
        department = self.view.department
        if not department:
            return None
        entry = next((d for d in self.view.departments if d.code == department.code), None)
        if entry is None or entry.suppressed or entry.responses is None:
            return None
        if entry.headcount and entry.response_rate is not None:
            return (
                _("In %(name)s, %(n)d of %(staff)d staff responded (%(rate)s).")
                % {
                    "name": department.name,
                    "n": entry.responses,
                    "staff": entry.headcount,
                    "rate": self.pct(entry.response_rate),
                },
                entry.response_rate,
            )
        return (
            _("In %(name)s, %(n)d people responded.")
            % {"name": department.name, "n": entry.responses},
            None,
        )

    def department(self) -> list[Paragraph]:
        _ = self.gettext
        department = self.view.department
        name = department.name
        rows = _department_rows(self.view)
        if not rows:
            return [
                Paragraph(
                    "department",
                    name,
                    (
                        _(
                            "The results of %(name)s are withheld to protect anonymity; its "
                            "answers do count in the organisation's figures."
                        )
                        % {"name": name},
                    ),
                )
            ]
        respondents = max(r.group.n or 0 for r in rows)
        sentences = [
            _(
                "This summary is about %(name)s, whose %(n)d respondents are set beside the "
                "organisation as a whole."
            )
            % {"name": name, "n": respondents}
        ]
        per_level: dict[int, tuple[Level, int]] = {}
        for row in rows:
            level = row.level
            if level is not None:
                seen = per_level.get(level.number, (level, 0))
                per_level[level.number] = (level, seen[1] + 1)
        if len(rows) == 1 and per_level:
            (only, _count), *_rest = per_level.values()
            sentences.append(
                _("On the one dimension shown, %(name)s reaches %(level)s.")
                % {"name": name, "level": self.level_name(only)}
            )
        elif per_level:
            levels = [
                _("%(level)s on %(num)d") % {"level": self.level_name(level), "num": count}
                for _number, (level, count) in sorted(per_level.items(), reverse=True)
            ]
            sentences.append(
                _("Of the %(num)d dimensions shown, %(name)s reaches %(levels)s.")
                % {"num": len(rows), "name": name, "levels": self.names(levels)}
            )
        withheld = sum(1 for r in department.rows if not r.dimension.suppressed and r not in rows)
        if withheld:
            sentences.append(
                self.ngettext(
                    "Its results on %(num)d dimension are withheld: too few of its "
                    "respondents answered those statements.",
                    "Its results on %(num)d dimensions are withheld: too few of its "
                    "respondents answered those statements.",
                    withheld,
                )
                % {"num": withheld}
            )
        paragraphs = [Paragraph("department", _("This department"), tuple(sentences))]

        compared = [(r.dimension, r.group.vs_rest) for r in rows if r.group.vs_rest]
        if compared:
            rest = self.differences(
                compared,
                higher=_("higher"),
                lower=_("lower"),
                first=_(
                    "Compared with the rest of the organisation, %(name)s scores "
                    "%(verdict)s on %(num)d of the %(total)d dimensions: %(dimensions)s."
                ),
                more=_("It scores %(verdict)s on %(num)d of the %(total)d: %(dimensions)s."),
                none=lambda total: self.ngettext(
                    "On %(dimensions)s there is %(verdict)s between %(name)s and the rest of "
                    "the organisation.",
                    "On all %(total)d dimensions there is %(verdict)s between %(name)s and "
                    "the rest of the organisation.",
                    total,
                ),
                every=lambda total: self.ngettext(
                    "Compared with the rest of the organisation, %(name)s scores %(verdict)s "
                    "on %(dimensions)s.",
                    "Compared with the rest of the organisation, %(name)s scores %(verdict)s "
                    "on all %(total)d dimensions.",
                    total,
                ),
                extra={"name": name},
            )
        else:
            rest = [
                _(
                    "%(name)s is not compared with the rest of the organisation: too few "
                    "others answered."
                )
                % {"name": name}
            ]
        paragraphs.append(Paragraph("rest", _("Against the rest of the organisation"), tuple(rest)))
        paragraphs.append(self.benchmark(subject=name))

        known = [r for r in rows if r.group.agreement_ok is not None]
        disagree = [r.dimension.name for r in known if r.group.agreement_ok is False]
        if disagree:
            agreement = (
                _(
                    "On %(dimensions)s the staff of %(name)s do not agree with each other: "
                    "some answer positively, others negatively, so the average hides "
                    "opposing views."
                )
                % {"dimensions": self.names(disagree), "name": name},
                _("Talk with the team before acting on these figures."),
            )
            paragraphs.append(
                Paragraph("agreement", _("Agreement within the department"), agreement)
            )
        elif known:
            paragraphs.append(
                Paragraph(
                    "agreement",
                    _("Agreement within the department"),
                    (
                        _(
                            "On every dimension shown, the staff of %(name)s largely agree "
                            "with each other, so its averages are a fair summary."
                        )
                        % {"name": name},
                    ),
                )
            )
        return paragraphs
