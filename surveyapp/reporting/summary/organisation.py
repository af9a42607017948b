"""The organisation's paragraphs: its level, who responded, change and the norm group."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..certainty import Certainty
from ..view import (
    Difference,
    DimensionView,
    VersusRest,
)
from .base import (
    _CLAIMS,
    LOW_RESPONSE_RATE,
    Paragraph,
    _capital,
    _department_rows,
    _shown,
    _verdict,
    _WriterBase,
)


class OrganisationParagraphs(_WriterBase):
    """Overall level, response, change since the last campaign, and the benchmark."""

    def overall(self, subject_is_organisation: bool = True) -> Paragraph:
        _ = self.gettext
        view, overall = self.view, self.view.overall
        level = overall.level
        sentences: list[str] = []
        if level is None:
            sentences.append(
                _(
                    "No overall level can be given: too few people answered enough "
                    "statements to score the dimensions."
                )
            )
        else:
            values = {
                "number": level.number,
                "total": len(view.levels),
                "name": level.name,
            }
            if subject_is_organisation:
                sentences.append(
                    _("Overall, the organisation is at level %(number)d of %(total)d: %(name)s.")
                    % values
                )
                sentences.append(level.description)
            else:
                sentences.append(
                    _("The organisation as a whole is at level %(number)d of %(total)d: %(name)s.")
                    % values
                )
            figures = {
                "mean": self.num(overall.mean),
                "min": view.scale.min,
                "max": view.scale.max,
            }
            if overall.ci:
                sentences.append(
                    _(
                        "Its average score is %(mean)s on a scale from %(min)d to %(max)d "
                        "(95%% interval %(low)s to %(high)s)."
                    )
                    % {
                        **figures,
                        "low": self.num(overall.ci[0]),
                        "high": self.num(overall.ci[1]),
                    }
                )
            else:
                sentences.append(
                    _("Its average score is %(mean)s on a scale from %(min)d to %(max)d.") % figures
                )
            if overall.uncertain and overall.range:
                low, high = overall.range
                sentences.append(
                    _(
                        "The interval reaches from %(low)s to %(high)s, so with these answers "
                        "either level is possible: treat the level as provisional."
                    )
                    % {"low": self.level_name(low), "high": self.level_name(high)}
                )
            elif overall.ci:
                sentences.append(
                    _("The whole interval lies within this level, so the level is certain.")
                )
        withheld = sum(1 for d in view.dimensions if d.suppressed)
        if withheld and subject_is_organisation:
            sentences.append(
                self.ngettext(
                    "The results of %(num)d dimension are withheld: too few people answered "
                    "its statements.",
                    "The results of %(num)d dimensions are withheld: too few people answered "
                    "their statements.",
                    withheld,
                )
                % {"num": withheld}
            )
        return Paragraph("overall", _("Overall level"), tuple(sentences))

    def response(self) -> Paragraph:
        _ = self.gettext
        campaign = self.view.campaign
        sentences: list[str] = []
        rate = campaign.response_rate
        if campaign.responses is not None:
            if campaign.headcount and rate is not None:
                sentences.append(
                    _("%(n)d of %(staff)d staff responded: a response rate of %(rate)s.")
                    % {
                        "n": campaign.responses,
                        "staff": campaign.headcount,
                        "rate": self.pct(rate),
                    }
                )
            else:
                sentences.append(
                    _(
                        "%(n)d people responded. The number of staff was not entered, so "
                        "there is no response rate."
                    )
                    % {"n": campaign.responses}
                )
        department = self.department_response()
        if department is not None:
            sentences.append(department[0])
            rate = department[1] if department[1] is not None else rate
        sentences.extend(self.caveats(rate))
        return Paragraph("response", _("Who responded"), tuple(sentences))

    def caveats(self, rate: float | None) -> list[str]:
        _ = self.gettext
        out = []
        if self.view.campaign.status == "open":
            out.append(
                _(
                    "The survey is still open, so these figures are interim: they will "
                    "change as more people respond."
                )
            )
        if rate is not None and rate < LOW_RESPONSE_RATE:
            out.append(
                _(
                    "With fewer than %(limit)s of staff responding, the figures may not "
                    "represent everyone: read them as the views of those who answered."
                )
                % {"limit": self.pct(LOW_RESPONSE_RATE)}
            )
        return out

    def change(self) -> Paragraph:
        _ = self.gettext
        title = _("Change since the previous survey")
        previous = self.view.previous_campaign
        if not previous:
            return Paragraph(
                "change",
                title,
                (
                    _(
                        "This is the organisation's first survey with this questionnaire, "
                        "so there is no change to report yet."
                    ),
                ),
            )
        rows = [(d, d.change) for d in _shown(self.view) if d.change]
        if not rows:
            return Paragraph(
                "change",
                title,
                (
                    _(
                        "The change since %(previous)s cannot be shown: too few people "
                        "answered to compare the two surveys without revealing individual "
                        "answers."
                    )
                    % {"previous": previous.name},
                ),
            )
        sentences = self.differences(
            rows,
            higher=_("went up"),
            lower=_("went down"),
            first=_(
                "Since %(previous)s, %(num)d of the %(total)d dimensions %(verdict)s: "
                "%(dimensions)s."
            ),
            more=_("%(num)d of the %(total)d dimensions %(verdict)s: %(dimensions)s."),
            none=lambda total: self.ngettext(
                "On %(dimensions)s there is %(verdict)s with %(previous)s.",
                "On all %(total)d dimensions there is %(verdict)s with %(previous)s.",
                total,
            ),
            every=lambda total: self.ngettext(
                "Since %(previous)s, %(dimensions)s %(verdict)s.",
                "Since %(previous)s, all %(total)d dimensions %(verdict)s.",
                total,
            ),
            extra={"previous": previous.name},
        )
        return Paragraph("change", title, tuple(sentences))

    def differences(
        self,
        rows: Sequence[tuple[DimensionView, Difference | VersusRest]],
        *,
        higher: str,
        lower: str,
        first: str,
        more: str,
        none: Callable[[int], str],
        every: Callable[[int], str],
        extra: Mapping[str, str] | None = None,
    ) -> list[str]:
        """Sentences counting and naming the dimensions per verdict and direction.

        ``first`` and ``more`` are translated templates with ``num``, ``total``,
        ``verdict`` and ``dimensions``; ``every`` (one verdict holds for all dimensions)
        and ``none`` (no clear difference on any) give the template for ``total``
        dimensions (``ngettext``: with one dimension the sentence names it instead of
        counting). When most dimensions share a verdict, the few others are named instead
        ("all except …").
        """
        _ = self.gettext
        total = len(rows)
        values = dict(extra or {})
        sentences = []
        named = 0
        for verdict, sign in _CLAIMS:
            hits = [d.name for d, e in rows if _verdict(e) == (verdict, sign)]
            if not hits:
                continue
            claim = self.claim(verdict, sign, higher, lower)
            if len(hits) == total:
                return [
                    every(total)
                    % {**values, "total": total, "verdict": claim, "dimensions": self.names(hits)}
                ]
            if len(hits) > 3 and total - len(hits) < len(hits):
                others = [d.name for d, e in rows if _verdict(e) != (verdict, sign)]
                listed = _("all except %(dimensions)s") % {"dimensions": self.names(others)}
            else:
                listed = self.names(hits)
            template = first if not sentences else more
            sentences.append(
                template
                % {
                    **values,
                    "num": len(hits),
                    "total": total,
                    "verdict": claim,
                    "dimensions": listed,
                }
            )
            named += len(hits)
        unclear = self.claim(Certainty.UNCLEAR, 0)
        if not sentences:
            everything = self.names(d.name for d, _e in rows)
            return [
                none(total)
                % {**values, "total": total, "verdict": unclear, "dimensions": everything}
            ]
        if named < total:
            rest = total - named
            sentences.append(
                self.ngettext(
                    "On the other dimension there is %(verdict)s.",
                    "On the other %(num)d dimensions there is %(verdict)s.",
                    rest,
                )
                % {"num": rest, "verdict": unclear}
            )
        return sentences

    def benchmark(self, subject: str | None = None) -> Paragraph:
        """Where the organisation (or the department ``subject``) stands in its norm group."""
        _ = self.gettext
        title = _("Against the norm group")
        norm = self.view.norm_group
        if not self.view.has_benchmark:
            return Paragraph(
                "benchmark",
                title,
                (
                    _(
                        "There is no benchmark yet: too few other organisations have used "
                        "this questionnaire to compare with."
                    ),
                ),
            )
        if subject is None:
            entries = [(d.name, d.mean, d.benchmark) for d in _shown(self.view) if d.benchmark]
        else:
            entries = [
                (r.dimension.name, r.group.mean, r.dimension.benchmark)
                for r in _department_rows(self.view)
                if r.dimension.benchmark
            ]
        entries = [e for e in entries if e[2].q1 is not None and e[2].q3 is not None]
        if not entries:
            return Paragraph(
                "benchmark",
                title,
                (_("None of the dimensions shown has a benchmark yet."),),
            )
        sentences = [
            _("The norm group is %(num)d organisations (%(group)s).")
            % {
                "num": norm.organisations or entries[0][2].organisations,
                "group": norm.description,
            }
        ]
        above = [e for e in entries if e[1] > e[2].q3]
        below = [e for e in entries if e[1] < e[2].q1]
        name = subject or _("the organisation")

        def listed(group):
            if subject is not None:
                return self.names(n for n, _mean, _bench in group)
            return self.names(
                _("%(name)s (percentile %(percentile)s)")
                % {"name": n, "percentile": self.num(bench.percentile, 0)}
                for n, _mean, bench in group
                if bench.percentile is not None
            ) or self.names(n for n, _mean, _bench in group)

        if above:
            sentences.append(
                _("%(subject)s scores above the middle half of the norm group on %(dimensions)s.")
                % {"subject": _capital(name), "dimensions": listed(above)}
            )
        if below:
            sentences.append(
                _("%(subject)s scores below the middle half of the norm group on %(dimensions)s.")
                % {"subject": _capital(name), "dimensions": listed(below)}
            )
        within = len(entries) - len(above) - len(below)
        if not above and not below:
            sentences.append(
                _("On every dimension %(subject)s scores within the middle half of the norm group.")
                % {"subject": name}
            )
        elif within:
            sentences.append(
                self.ngettext(
                    "On the other dimension it scores within the middle half.",
                    "On the other %(num)d dimensions it scores within the middle half.",
                    within,
                )
                % {"num": within}
            )
        if subject is not None:
            sentences.append(
                _(
                    "The norm group consists of whole organisations; the department is "
                    "set against them as if it were one."
                )
            )
        return Paragraph("benchmark", title, tuple(sentences))
