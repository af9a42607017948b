"""surveyapp.scoring is the pure layer: importing it must not pull in the web stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The package's parent ``surveyapp/__init__.py`` belongs to the Flask app (create_app) and
# may import Flask; what is checked here is what *scoring* itself imports. So the parent
# package is registered as a bare namespace first and only surveyapp.scoring is executed.
PROBE = f"""
import importlib, json, sys, types
parent = types.ModuleType("surveyapp")
parent.__path__ = [{str(ROOT / "surveyapp")!r}]
sys.modules["surveyapp"] = parent
importlib.import_module("surveyapp.scoring")
import surveyapp.scoring.analysis, surveyapp.scoring.gap, surveyapp.scoring.suppression
print(json.dumps(sorted(sys.modules)))
"""

FORBIDDEN = ("flask", "sqlalchemy", "jinja2", "werkzeug", "flask_sqlalchemy", "weasyprint")


def test_importing_scoring_loads_no_web_or_database_module():
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = json.loads(out.stdout)
    offenders = sorted({m for m in loaded for f in FORBIDDEN if m == f or m.startswith(f + ".")})
    assert offenders == [], f"surveyapp.scoring imports {offenders}"
    assert "numpy" in loaded and "scipy" in loaded
