"""The statistics engine: arrays in, frozen results out.

A pure layer (NumPy and SciPy only; no Flask, SQLAlchemy or Jinja): services load a
respondents x items matrix and call :func:`analyse`; reports, the dashboard and the JSON
API all read the resulting :class:`Analysis`. ``docs/statistics.md`` states the methods and
policies, ``docs/analysis-json.md`` the JSON.
"""

from __future__ import annotations

from surveyapp.scoring.analysis import Analysis, Design, Grouping, GroupingAnalysis, analyse
from surveyapp.scoring.disclosure import CellInterval, DisclosureAudit, audit_disclosure

__all__ = [
    "Analysis",
    "CellInterval",
    "Design",
    "DisclosureAudit",
    "Grouping",
    "GroupingAnalysis",
    "analyse",
    "audit_disclosure",
]
