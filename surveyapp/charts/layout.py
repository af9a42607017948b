"""Named sizes and colours of every chart: change a look here, not in the drawing code.

All lengths are CSS pixels of the chart's natural size (``width`` is usually 640 or 720
on a desktop page, 340 on a phone); the SVG scales with its ``viewBox``.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- colours

#: Okabe & Ito (2008) colours, distinguishable with every common colour-vision deficiency.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#595959",
    "light": "#D9D9D9",
}

#: Sequential single-hue ramp (ColorBrewer "Blues") for heatmap cells, light to dark.
BLUES = ("#F7FBFF", "#DEEBF7", "#C6DBEF", "#9ECAE1", "#6BAED6", "#4292C6", "#2171B5", "#08519C")

#: Diverging orange → grey → blue ramp for answer shares (disagree → agree).
DIVERGING = ("#B35806", "#F1A340", "#E0E0E0", "#74A9CF", "#0B4F8A")

INK = "#000"  # text, outlines, whiskers
PAPER = "#fff"  # backgrounds, hollow symbols
GRID = "#E6E6E6"  # vertical grid lines, empty heatmap cells
HATCH_LINE = "#A6A6A6"  # stripes of withheld cells and of the benchmark band
HIGHLIGHT = "#FFF3D6"  # the row of the reader's own department
WITHHELD_INK = "#404040"  # the dash in a withheld heatmap cell
SWATCH_EDGE = "#999"  # outline of the heatmap's colour key
#: Luminance above which black text reads better than white on a fill.
INK_THRESHOLD = 0.45

# --------------------------------------------------------------------------- type

FONT = "'DejaVu Sans', 'Liberation Sans', Arial, Helvetica, sans-serif"
FONT_SIZE = 12
SMALL_SIZE = 11  # row labels of dense charts, values, axis ticks, legends, captions
TINY_SIZE = 10  # heatmap column heads, shares inside answer bars
LEVEL_SIZE = 9  # maturity level names above the dimension bars
#: Average advance of a character as a share of the font size (DejaVu Sans is wide).
CHAR_WIDTH = 0.6
LINE_HEIGHT = 14
#: From a text line's middle to its baseline (about a third of the font size).
BASELINE = 4
ELLIPSIS = "…"

# --------------------------------------------------------------------------- shared parts

LABEL_GAP = 14  # from the row labels to the plot
INDENT = 10  # sub-departments' labels
TICK_LABEL_OFFSET = 14  # from the axis line to its numbers' baseline
MIN_TICK_SPACING = 40  # pixels between axis ticks, at least
AXIS_TOP = 30  # from the last row to the legend's first baseline, less 4 px
WHISKER_CAP = 5
WHISKER_WIDTH = 1.4
MARK_SIZE = 5.5  # half the width of a triangle or diamond
REFERENCE_HALF = 12  # half the height of a reference line
HATCH_SPACING = 6
HATCH_WIDTH = 2.5
LEGEND_ROW = 18  # height of one legend line
LEGEND_SYMBOL = 22  # symbol and its gap before the words
LEGEND_GAP = 16  # after an entry's words
LEGEND_TEXT_X = 20
LEGEND_SYMBOL_X = 7

# --------------------------------------------------------------------------- dimension bars

BARS_LABEL_WIDTH = 210.0  # at most, and at most BARS_LABEL_SHARE of the width
BARS_LABEL_SHARE = 0.34
BARS_RIGHT = 52  # room right of the plot for the value
BARS_ROW = 34
BARS_BAR = 16
BARS_LEVELS_ROOM = 18  # above the plot, for the level names
BARS_TOP = 8
BARS_BAND_INSET = 3  # the benchmark band, inside its row
BARS_OPACITY = 0.85
BARS_MEDIAN = 6  # half the size of the benchmark median's diamond

# --------------------------------------------------------------------------- group intervals

GROUPS_LABEL_WIDTH = 190.0
GROUPS_LABEL_SHARE = 0.3
GROUPS_NOTE_SHARE = 0.3  # the notes right of the plot take at most this share
GROUPS_ROW = 24
GROUPS_TOP = 6
GROUPS_DOT = 4.5
GROUPS_DIAMOND = 6
GROUPS_TRIANGLE = 5
GROUPS_WHISKER_CAP = 4

# --------------------------------------------------------------------------- answer shares

SHARES_MIN_GAP = 4  # a share's label needs this much room beyond its width

# --------------------------------------------------------------------------- heatmap

HEAT_LABEL_WIDTH = 170.0
HEAT_LABEL_SHARE = 0.27
HEAT_CELL = 22  # row height
HEAT_HEADER_CHARS = 22  # column names run upwards, wrapped at this many characters
HEAT_WIDE_CELL = 44  # cells at least this wide show two decimals at 11 px
HEAT_NARROW_CELL = 30  # cells narrower than this show 9 px numbers and one-line heads
HEAT_STEPS = 200  # colours are taken from the ramp in steps of 1/200
HEAT_KEY_STEPS = 4  # the colour key has this many intervals (five swatches)

# --------------------------------------------------------------------------- differences

DIFF_RIGHT = 60
DIFF_ROW = 30
DIFF_BAR = 14
DIFF_STEP = 0.25  # the axis limit is a multiple of this
DIFF_TOP = 6  # without captions; 22 with captions side by side, 36 one under the other
DIFF_CAPTION_TOP = 22
DIFF_CAPTIONS_STACKED_TOP = 36
