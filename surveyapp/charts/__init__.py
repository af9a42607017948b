"""Charts as SVG built from plain numbers, shared by the web pages and the PDF.

Every function is pure: it takes numbers, strings and the typed parts of the report's view
(``reporting.view``: ``DimensionView``, ``GroupRow``, ``HeatRow``, ``Level`` …) and returns a
:class:`markupsafe.Markup` string holding one ``<svg>`` element, so a Jinja template can
write ``{{ chart }}`` as is.

Conventions shared by all charts

* ``viewBox`` sizing: the ``width``/``height`` attributes give the natural size in CSS
  pixels; give the element ``width: 100%; height: auto`` to scale it (360 px phones, print).
* Accessible: ``role="img"``, an ``aria-label`` and a ``<title>`` stating what the chart
  shows, and a ``<desc>`` with the figures in words.
* Colour-blind safe and legible in black and white: the Okabe–Ito palette, one sequential
  blue ramp for the heatmap, blue/orange for answer shares, and every colour distinction
  repeated by a shape, a pattern or text (triangles for significant differences, a hollow
  diamond for "no agreement", hatching and a dash for withheld groups).
* Every label is escaped (department names come from CSV files) and long labels are
  wrapped to at most two lines and shortened with an ellipsis, never drawn over each other.
* Words drawn in a chart come from ``TEXT`` (English); pass ``text=chart_text(gettext)``
  for the reader's language and ``lang="nl"`` for decimal commas.
* A withheld (suppressed) group is drawn without any number.

Layout of the package: ``svg`` (a tiny element builder: attributes escaped, numbers
rounded once), ``layout`` (every size, font and colour by name), ``text`` (label widths
and wrapping), ``marks`` (axes, whiskers, triangles, diamonds, hatching, legends),
``colours``, ``words`` (``TEXT``), and one module per chart family: ``bars``,
``intervals``, ``distribution``, ``heatmap``, ``differences``. Numbers are printed by
``surveyapp.reporting.formatting``, as everywhere else.
"""

from __future__ import annotations

from ..reporting.formatting import format_number, format_percent
from .bars import dimension_bars
from .colours import answer_colours
from .differences import change_bars, difference_bars, gap_bars
from .distribution import distribution_bar, distribution_legend
from .heatmap import heatmap
from .intervals import group_intervals
from .layout import BLUES, CHAR_WIDTH, DIVERGING, FONT, FONT_SIZE, LINE_HEIGHT, PALETTE
from .text import text_width, wrap_label
from .words import N_, TEXT, chart_text

__all__ = [
    "BLUES",
    "CHAR_WIDTH",
    "DIVERGING",
    "FONT",
    "FONT_SIZE",
    "LINE_HEIGHT",
    "N_",
    "PALETTE",
    "TEXT",
    "answer_colours",
    "change_bars",
    "chart_text",
    "difference_bars",
    "dimension_bars",
    "distribution_bar",
    "distribution_legend",
    "format_number",
    "format_percent",
    "gap_bars",
    "group_intervals",
    "heatmap",
    "text_width",
    "wrap_label",
]
