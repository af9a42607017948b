"""How every output prints a figure: numbers, differences, shares, p-values and dates.

One implementation for every template, page or print (``template_filters``: the filters
``num``, ``signed``, ``pct``, ``pvalue`` and ``date``, installed once in the app's one
Jinja environment by ``i18n.register_template_helpers``) and for the charts, so that a
figure reads the same wherever it appears. Nothing here needs Flask.

Decisions, each applied everywhere:

* **Rounding: half up, on the decimal a reader sees.** A float is first written as its
  shortest decimal (``repr``: 107/40 is ``2.675``), then rounded with ties away from zero
  (``2.675`` → ``2.68``, ``−2.675`` → ``−2.68``, a share of 1/8 → ``13%``). This is what a
  reader gets rounding the full-precision figure of the results CSV by hand or with a
  spreadsheet's ``ROUND``. Python's ``round`` would give ``2.67`` (the binary double lies
  just below 2.675) and ``12%`` (ties to even). Means of 1–5 answers are fractions
  ``k/n``, so such ties are common, not a corner case.
* **Signs**: a true minus sign (U+2212, not the hyphen Babel's locale data gives), a
  plus only where asked for (differences), and no sign on a figure that rounds to zero
  (never ``−0.00``).
* **Language**: the decimal symbol and the place of the percent sign come from Babel's
  locale data (``3,14`` and ``19%`` in Dutch); no thousands separator, because the
  figures are scores, shares and small counts and the CSV has none either.
* **p-values**: ``p = 0.012`` with three decimals, and ``p < 0.001`` below that, with
  the letter, so that templates never add their own ``p =``.
* **Dates**: day, month name, year in both languages (``1 December 2026``, ``1 december
  2026``): Babel's English "long" format is American (``December 1, 2026``).
* **Missing**: ``None``, NaN or infinity print as an en dash (``–``); a missing date as
  nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel import Locale
from babel.dates import format_date as babel_format_date

__all__ = [
    "MISSING",
    "MINUS",
    "P_FLOOR",
    "format_date",
    "format_number",
    "format_p",
    "format_percent",
    "format_signed",
    "template_filters",
]

#: What a figure that could not be computed (or is missing) prints as.
MISSING = "–"
#: The true minus sign (U+2212): as wide as the plus, and not read as a hyphen.
MINUS = "\u2212"
#: p-values below this print as "p < 0.001".
P_FLOOR = 0.001
#: One date pattern for every language (see the module docstring).
DATE_PATTERN = "d MMMM y"


@functools.lru_cache(maxsize=16)
def _symbols(lang: str) -> tuple[str, str, str]:
    """(decimal symbol, percent prefix, percent suffix) of ``lang`` from Babel's locale data."""
    locale = Locale.parse(lang)
    symbols = locale.number_symbols[locale.default_numbering_system]
    pattern = locale.percent_formats[None]
    sign = symbols["percentSign"]
    return (
        symbols["decimal"],
        pattern.prefix[0].replace("%", sign),
        pattern.suffix[0].replace("%", sign),
    )


@functools.lru_cache(maxsize=16)
def _quantum(digits: int) -> Decimal:
    return Decimal(1).scaleb(-digits)


def _finite(value: Any) -> float | None:
    """``value`` as a float, or None if it is missing, not a number, NaN or infinite."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_number(
    value: float | None, digits: int = 2, lang: str = "en", *, signed: bool = False
) -> str:
    """``value`` with ``digits`` decimals in ``lang``: ``3.256`` → ``"3.26"`` (en), ``"3,26"`` (nl).

    Rounds half up on the shortest decimal of ``value`` (``2.675`` → ``"2.68"``); negative
    figures get a true minus (``"−0.25"``); ``signed`` adds ``"+"`` to positive ones; a
    figure that rounds to zero has no sign. ``None``, NaN or infinity give ``"–"``.

    Examples
    --------
    >>> format_number(2.675)
    '2.68'
    >>> format_number(-0.25, lang="nl", signed=True)
    '−0,25'
    >>> format_number(-0.001)
    '0.00'
    """
    number = _finite(value)
    if number is None:
        return MISSING
    shortest = repr(number)
    point = shortest.find(".")
    if (
        point < 0
        or "e" in shortest
        or (len(shortest) - point - 2 == digits and shortest[-1] == "5")
    ):
        # A tie on the decimal a reader sees (or an exponent): round the decimal itself.
        return _decimal_text(Decimal(shortest), digits, lang, signed)
    # No tie: the float's own rounding gives the same digits, and is several times faster
    # (charts and pages print thousands of figures). test_formatting checks the two agree.
    text = f"{number:.{digits}f}"
    return _signed_text(text, lang, signed)


def _decimal_text(exact: Decimal, digits: int, lang: str, signed: bool) -> str:
    rounded = exact.quantize(_quantum(digits), rounding=ROUND_HALF_UP)
    return _signed_text(f"{rounded:f}", lang, signed)


def _signed_text(text: str, lang: str, signed: bool) -> str:
    """``text`` (a plain decimal, perhaps with "-") with the sign rules and decimal symbol."""
    if text[0] == "-":
        text = text[1:]
        if text.strip("0."):
            text = MINUS + text
    elif signed and text.strip("0."):
        text = "+" + text
    decimal_symbol = _symbols(lang)[0]
    return text if decimal_symbol == "." else text.replace(".", decimal_symbol)


def format_signed(value: float | None, digits: int = 2, lang: str = "en") -> str:
    """A difference: ``+0.25``, ``−0.25``, ``0.00`` (see :func:`format_number`)."""
    return format_number(value, digits, lang, signed=True)


def format_percent(share: float | None, lang: str = "en", digits: int = 0) -> str:
    """A share between 0 and 1 as a percentage: ``0.187`` → ``"19%"``; ``0.125`` → ``"13%"``."""
    number = _finite(share)
    if number is None:
        return MISSING
    _, prefix, suffix = _symbols(lang)
    shortest = repr(number)
    point = shortest.find(".")
    if (
        point < 0
        or "e" in shortest
        or (len(shortest) - point - 4 == digits and shortest[-1] == "5")
    ):
        # A tie: scale the decimal, not the float (0.145 * 100 is 14.499999999999998).
        text = _decimal_text(Decimal(shortest).scaleb(2), digits, lang, False)
    else:
        text = _signed_text(f"{number * 100:.{digits}f}", lang, False)
    return prefix + text + suffix


def format_p(value: float | None, lang: str = "en") -> str:
    """A p-value: ``"p = 0.012"``, or ``"p < 0.001"`` below 0.001; ``"–"`` if there is none."""
    number = _finite(value)
    if number is None:
        return MISSING
    if number < P_FLOOR:
        return "p < " + format_number(P_FLOOR, 3, lang)
    return "p = " + format_number(number, 3, lang)


def format_date(value: dt.date | str | None, lang: str = "en") -> str:
    """A day as ``1 December 2026`` (en) or ``1 december 2026`` (nl); ``""`` if there is none."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    elif isinstance(value, dt.datetime):
        value = value.date()
    return babel_format_date(value, DATE_PATTERN, locale=lang)


def template_filters(lang: Callable[[], str]) -> dict[str, Callable[..., str]]:
    """The report filters for Jinja, printing in the language that ``lang()`` returns.

    ``num(v, digits=2, signed=False)``, ``signed(v, digits=2)``, ``pct(v, digits=0)``,
    ``pvalue(v)``, ``date(v)`` (also ``long_date``, its older name on the set-up pages).
    The app passes Flask-Babel's locale: the request's on a page, the report's in the PDF
    (``pdf.report_html`` forces it).
    """

    def num(value: Any, digits: int = 2, signed: bool = False) -> str:
        return format_number(value, digits, lang(), signed=signed)

    def signed(value: Any, digits: int = 2) -> str:
        return format_number(value, digits, lang(), signed=True)

    def pct(value: Any, digits: int = 0) -> str:
        return format_percent(value, lang(), digits)

    def pvalue(value: Any) -> str:
        return format_p(value, lang())

    def date(value: Any) -> str:
        return format_date(value, lang())

    return {
        "num": num,
        "signed": signed,
        "pct": pct,
        "pvalue": pvalue,
        "date": date,
        "long_date": date,
    }
